//! Hostile test plugin: panics on every run.

use sandnotes_plugin_sdk::{Args, Output, export_plugin};

/// Panic message that tests look for in the run's log.
pub const PANIC_MESSAGE: &str = "hostile-panic plugin panics on purpose";

fn run(_args: Args) -> Result<Output, String> {
    panic!("{PANIC_MESSAGE}");
}

export_plugin!(run);
