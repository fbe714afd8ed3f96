//! Hostile test plugin: requests 65,535 more pages (4 GiB) of linear
//! memory in one `memory.grow`. The host's memory limiter must stop it
//! without reserving the memory.

use sandnotes_plugin_sdk::{Args, Output, export_plugin};

/// Pages requested: the whole 32-bit address space minus the first page.
const PAGES: usize = 65_535;

fn run(_args: Args) -> Result<Output, String> {
    #[cfg(target_arch = "wasm32")]
    let previous = core::arch::wasm32::memory_grow(0, PAGES);
    #[cfg(not(target_arch = "wasm32"))]
    let previous = usize::MAX;

    if previous == usize::MAX {
        return Err(format!("memory.grow by {PAGES} pages failed"));
    }
    Ok(Output::text(format!(
        "memory.grow by {PAGES} pages succeeded from page {previous}"
    )))
}

export_plugin!(run);
