//! Builds every plugin crate under `plugins/` into a WebAssembly component.
//!
//! ```text
//! cargo run -p plugin-build              # all plugins
//! cargo run -p plugin-build -- -p text-analyzer
//! ```
//!
//! A plugin crate is a workspace member under `plugins/` with a `cdylib`
//! target; its optional `[package.metadata.sandnotes]` table sets `name`
//! (default: the package name) and `description` (default: the package
//! description). Each one is built for
//! `wasm32-unknown-unknown` in release mode, turned into a component with
//! `wit_component::ComponentEncoder`, checked to import only
//! `sandnotes:plugin/host@0.1.0` and to export only `run`, and written to
//! `TARGET_DIR/plugins/NAME.wasm` beside a `NAME.json` manifest (name,
//! version, description, SHA-256, size). `TARGET_DIR` is the workspace's
//! target directory, `target/` by default.

mod componentize;
mod workspace;

use std::path::Path;
use std::process::Command;

use anyhow::{Context, Result, bail, ensure};
use clap::Parser;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::workspace::PluginCrate;

/// The Rust target that plugins are compiled for.
const WASM_TARGET: &str = "wasm32-unknown-unknown";

#[derive(Parser)]
#[command(about = "Build every sandnotes plugin into target/plugins/NAME.wasm")]
struct Cli {
    /// Build only this plugin package (repeatable). Default: every plugin.
    #[arg(short, long = "package", value_name = "NAME")]
    packages: Vec<String>,
}

/// Manifest written beside each component.
#[derive(Serialize)]
struct ComponentManifest<'a> {
    name: &'a str,
    version: &'a str,
    description: &'a str,
    /// Lowercase hex SHA-256 of the component bytes, the plugin's identity.
    sha256: String,
    size_bytes: usize,
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());

    let workspace = workspace::load(&cargo)?;
    let plugins = workspace::select_plugins(&workspace, &cli.packages)?;
    ensure!(!plugins.is_empty(), "no plugin crates found under plugins/");

    ensure_wasm_target()?;
    compile_core_modules(&cargo, &plugins)?;

    let out_dir = workspace.target_directory.join("plugins");
    std::fs::create_dir_all(&out_dir)
        .with_context(|| format!("failed to create {}", out_dir.display()))?;

    let core_dir = workspace.target_directory.join(WASM_TARGET).join("release");
    let mut failures = 0;
    for plugin in &plugins {
        if let Err(error) = write_component(plugin, &core_dir, &out_dir) {
            eprintln!("error: {error:#}");
            failures += 1;
        }
    }
    ensure!(
        failures == 0,
        "{failures} of {} plugins failed",
        plugins.len()
    );
    Ok(())
}

/// Installs the wasm target with rustup when it is missing.
fn ensure_wasm_target() -> Result<()> {
    let installed = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .output()
        .context("failed to run `rustup target list --installed`; is rustup installed?")?;
    let installed = String::from_utf8_lossy(&installed.stdout);
    if installed.lines().any(|line| line.trim() == WASM_TARGET) {
        return Ok(());
    }

    eprintln!("installing the {WASM_TARGET} target with rustup");
    let status = Command::new("rustup")
        .args(["target", "add", WASM_TARGET])
        .status()
        .context("failed to run `rustup target add`")?;
    ensure!(
        status.success(),
        "`rustup target add {WASM_TARGET}` failed: {status}"
    );
    Ok(())
}

/// Builds all selected plugins' core modules in one cargo invocation.
fn compile_core_modules(cargo: &std::ffi::OsStr, plugins: &[PluginCrate]) -> Result<()> {
    let mut command = Command::new(cargo);
    command.args(["build", "--release", "--target", WASM_TARGET]);
    for plugin in plugins {
        command.args(["-p", &plugin.package]);
    }

    let status = command.status().context("failed to run cargo build")?;
    if !status.success() {
        bail!("cargo build of the plugins failed: {status}");
    }
    Ok(())
}

/// Encodes one core module as a component and writes it with its manifest.
fn write_component(plugin: &PluginCrate, core_dir: &Path, out_dir: &Path) -> Result<()> {
    let core_path = core_dir.join(format!("{}.wasm", plugin.lib_name));
    let core = std::fs::read(&core_path)
        .with_context(|| format!("failed to read the core module {}", core_path.display()))?;

    let component = componentize::encode(&core)
        .with_context(|| format!("failed to make a component of plugin {}", plugin.name))?;
    componentize::check_world(&component)
        .with_context(|| format!("plugin {} does not fit the plugin world", plugin.name))?;

    let component_path = out_dir.join(format!("{}.wasm", plugin.name));
    std::fs::write(&component_path, &component)
        .with_context(|| format!("failed to write {}", component_path.display()))?;

    let manifest = ComponentManifest {
        name: &plugin.name,
        version: &plugin.version,
        description: &plugin.description,
        sha256: hex_sha256(&component),
        size_bytes: component.len(),
    };
    let manifest_path = out_dir.join(format!("{}.json", plugin.name));
    let manifest_json = serde_json::to_string_pretty(&manifest)?;
    std::fs::write(&manifest_path, manifest_json + "\n")
        .with_context(|| format!("failed to write {}", manifest_path.display()))?;

    eprintln!(
        "wrote {} ({} bytes)",
        component_path.display(),
        component.len()
    );
    Ok(())
}

fn hex_sha256(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}
