//! `sandbox-worker --self-check`: applies every confinement layer to this
//! process in the order a run does, then prints the status of each, so an
//! operator sees which layers the host allows.

use std::io::Write;

use anyhow::{Context, Result, anyhow};
use sandbox_protocol::ProcessLimits;

use crate::confine;
use crate::layers::Layer;

/// Applies the layers and prints one line per layer to stdout.
pub(crate) fn run() -> Result<()> {
    let mut layers = confine::isolate()?;

    let rlimits = confine::set_rlimits(&ProcessLimits::default());
    layers.push(Layer::from_result("rlimits", &rlimits));

    let load_filter = confine::install_load_filter();
    layers.push(Layer::from_result("seccomp", &load_filter));
    let run_filter = match load_filter {
        Ok(()) => confine::install_run_filter(),
        Err(_) => Err(anyhow!("the load-time seccomp filter is not installed")),
    };
    layers.push(Layer::from_result("no-executable-mappings", &run_filter));

    // Writing to stdout needs only `write`, which both filters allow.
    let mut stdout = std::io::stdout().lock();
    for layer in &layers {
        writeln!(stdout, "{layer}").context("failed to write the self-check report")?;
    }
    stdout
        .flush()
        .context("failed to flush the self-check report")
}
