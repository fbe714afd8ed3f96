//! Hostile test plugin: returns 2 MiB of text, twice the default output
//! limit.

use sandnotes_plugin_sdk::{Args, Output, export_plugin};

/// Size of the text this plugin returns.
pub const OUTPUT_BYTES: usize = 2 << 20;

fn run(_args: Args) -> Result<Output, String> {
    Ok(Output::text("x".repeat(OUTPUT_BYTES)))
}

export_plugin!(run);
