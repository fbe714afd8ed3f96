//! Confinement layers and their status on this host, as printed by
//! `sandbox-worker --self-check`.
//!
//! Output format, one line per layer, in the order the worker applies
//! them: `NAME: active`, `NAME: partial: REASON` or
//! `NAME: unavailable: REASON`. `sandbox-runner` parses these lines.

use std::fmt;

/// Whether a confinement layer is in force.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum LayerStatus {
    /// Applied in full.
    Active,
    /// Applied, but the host enforces only part of it; the text says which.
    Partial(String),
    /// Not applied on this host; the text says why.
    Unavailable(String),
}

/// One confinement layer and its status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Layer {
    /// Stable name, such as `network-namespace` or `seccomp`.
    pub(crate) name: &'static str,
    pub(crate) status: LayerStatus,
}

impl Layer {
    pub(crate) fn new(name: &'static str, status: LayerStatus) -> Self {
        Self { name, status }
    }

    /// A layer whose setup returned `result`.
    pub(crate) fn from_result(name: &'static str, result: &anyhow::Result<()>) -> Self {
        let status = match result {
            Ok(()) => LayerStatus::Active,
            Err(error) => LayerStatus::Unavailable(format!("{error:#}")),
        };
        Self::new(name, status)
    }
}

impl fmt::Display for Layer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Reasons are kept on one line so that each layer is one line.
        match &self.status {
            LayerStatus::Active => write!(f, "{}: active", self.name),
            LayerStatus::Partial(reason) => {
                write!(f, "{}: partial: {}", self.name, one_line(reason))
            }
            LayerStatus::Unavailable(reason) => {
                write!(f, "{}: unavailable: {}", self.name, one_line(reason))
            }
        }
    }
}

fn one_line(text: &str) -> String {
    text.replace(['\n', '\r'], " ")
}
