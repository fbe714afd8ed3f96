//! Benchmarks of sandnotes, run side by side so that ratios survive a noisy
//! machine. `scripts/bench.sh` builds everything and runs the
//! `sandnotes-bench` binary, which prints the tables of `BENCHMARKS.md`;
//! `cargo bench -p sandnotes-bench` runs the criterion micro benchmarks.

pub mod bare;
pub mod client;
pub mod database;
pub mod floor;
pub mod http;
pub mod load;
pub mod machine;
pub mod notes;
pub mod process;
pub mod sandbox;
pub mod stats;

use std::path::{Path, PathBuf};

/// The workspace root, which holds `corpus/` and `target/plugins/`.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_owned)
        .unwrap_or_else(|| PathBuf::from("."))
}

/// Reads the component `target/plugins/NAME.wasm` built by
/// `cargo run -p plugin-build`.
pub fn plugin_component(name: &str) -> anyhow::Result<Vec<u8>> {
    let path = workspace_root()
        .join("target")
        .join("plugins")
        .join(format!("{name}.wasm"));
    std::fs::read(&path).map_err(|error| {
        anyhow::anyhow!(
            "failed to read {} ({error}); build the plugins with `cargo run -p plugin-build`",
            path.display()
        )
    })
}
