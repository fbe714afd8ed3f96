//! Hostile test plugin: recurses without end, so the wasm stack overflows.

use sandnotes_plugin_sdk::{Args, Output, export_plugin};

/// Recurses forever; the addition after the call keeps the compiler from
/// turning the recursion into a loop.
#[allow(
    unconditional_recursion,
    reason = "the plugin exists to overflow the stack"
)]
fn descend(depth: u64) -> u64 {
    std::hint::black_box(descend(depth + 1)).wrapping_add(depth)
}

fn run(_args: Args) -> Result<Output, String> {
    Ok(Output::text(descend(0).to_string()))
}

export_plugin!(run);
