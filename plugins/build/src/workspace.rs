//! Finds the plugin crates of the workspace through `cargo metadata`.

use std::ffi::OsStr;
use std::path::PathBuf;
use std::process::Command;

use anyhow::{Context, Result, bail};
use serde::Deserialize;

/// The parts of `cargo metadata --format-version 1 --no-deps` used here.
#[derive(Deserialize)]
pub(crate) struct Metadata {
    pub(crate) workspace_root: PathBuf,
    pub(crate) target_directory: PathBuf,
    packages: Vec<Package>,
}

#[derive(Deserialize)]
struct Package {
    name: String,
    version: String,
    description: Option<String>,
    manifest_path: PathBuf,
    targets: Vec<Target>,
    #[serde(default)]
    metadata: Option<PackageMetadata>,
}

#[derive(Deserialize)]
struct Target {
    name: String,
    crate_types: Vec<String>,
}

#[derive(Deserialize)]
struct PackageMetadata {
    sandnotes: Option<SandnotesMetadata>,
}

/// The `[package.metadata.sandnotes]` table of a plugin crate.
/// Both fields and the table itself are optional.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SandnotesMetadata {
    /// Plugin name and output file stem; defaults to the package name.
    name: Option<String>,
    /// One-line description; defaults to the package description.
    description: Option<String>,
}

/// One plugin crate to build.
pub(crate) struct PluginCrate {
    /// Cargo package name, passed to `cargo build -p`.
    pub(crate) package: String,
    /// File stem of the core module cargo writes (`-` replaced by `_`).
    pub(crate) lib_name: String,
    /// Plugin name, the stem of `target/plugins/NAME.wasm`.
    pub(crate) name: String,
    pub(crate) version: String,
    pub(crate) description: String,
}

/// Runs `cargo metadata` for the workspace that contains the current
/// directory.
pub(crate) fn load(cargo: &OsStr) -> Result<Metadata> {
    let output = Command::new(cargo)
        .args(["metadata", "--format-version", "1", "--no-deps"])
        .output()
        .context("failed to run cargo metadata")?;
    if !output.status.success() {
        bail!(
            "cargo metadata failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    serde_json::from_slice(&output.stdout).context("failed to parse cargo metadata output")
}

/// Selects the workspace members under `plugins/` that build a `cdylib`
/// (the SDK and this tool do not),
/// restricted to `only` when it is not empty.
pub(crate) fn select_plugins(metadata: &Metadata, only: &[String]) -> Result<Vec<PluginCrate>> {
    let plugins_dir = metadata.workspace_root.join("plugins");
    let mut plugins = Vec::new();

    for package in &metadata.packages {
        if !package.manifest_path.starts_with(&plugins_dir) {
            continue;
        }
        let Some(cdylib) = package
            .targets
            .iter()
            .find(|target| target.crate_types.iter().any(|kind| kind == "cdylib"))
        else {
            continue;
        };
        if !only.is_empty() && !only.contains(&package.name) {
            continue;
        }
        plugins.push(plugin_crate(package, &cdylib.name)?);
    }

    for name in only {
        if !plugins.iter().any(|plugin| &plugin.package == name) {
            bail!("package {name} is not a plugin crate under plugins/ with a cdylib target");
        }
    }
    Ok(plugins)
}

fn plugin_crate(package: &Package, lib_target: &str) -> Result<PluginCrate> {
    let sandnotes = package
        .metadata
        .as_ref()
        .and_then(|metadata| metadata.sandnotes.as_ref());

    let name = sandnotes
        .and_then(|table| table.name.clone())
        .unwrap_or_else(|| package.name.clone());
    let is_valid_name = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if !is_valid_name {
        bail!(
            "plugin name {name:?} of package {} is invalid: use lowercase ASCII letters, digits and '-'",
            package.name
        );
    }

    let description = sandnotes
        .and_then(|table| table.description.clone())
        .or_else(|| package.description.clone())
        .unwrap_or_default();

    Ok(PluginCrate {
        package: package.name.clone(),
        lib_name: lib_target.replace('-', "_"),
        name,
        version: package.version.clone(),
        description,
    })
}
