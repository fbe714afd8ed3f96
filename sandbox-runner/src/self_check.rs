//! The worker's confinement report from `sandbox-worker --self-check`.

use serde::Serialize;

/// Whether a confinement layer is in force on this host.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum LayerState {
    /// Applied in full.
    Active,
    /// Applied, but the host enforces only part of it.
    Partial,
    /// Not applied on this host.
    Unavailable,
}

/// One confinement layer of the worker.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SandboxLayer {
    /// Stable layer name, such as `seccomp` or `network-namespace`.
    pub name: String,
    pub state: LayerState,
    /// Why the layer is partial or unavailable; `None` when active.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl SandboxLayer {
    /// Whether the layer is applied in full.
    pub fn is_active(&self) -> bool {
        self.state == LayerState::Active
    }
}

/// Every confinement layer of the worker, in the order the worker applies
/// them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct SandboxLayers(pub Vec<SandboxLayer>);

impl SandboxLayers {
    /// Parses the self-check output: one `NAME: active`,
    /// `NAME: partial: REASON` or `NAME: unavailable: REASON` line per
    /// layer. Returns `None` when a line has another form or there are no
    /// lines.
    pub fn parse(output: &str) -> Option<Self> {
        let layers = output
            .lines()
            .filter(|line| !line.trim().is_empty())
            .map(parse_line)
            .collect::<Option<Vec<_>>>()?;
        if layers.is_empty() {
            return None;
        }
        Some(Self(layers))
    }

    /// The layer called `name`, if the worker reported it.
    pub fn get(&self, name: &str) -> Option<&SandboxLayer> {
        self.0.iter().find(|layer| layer.name == name)
    }

    /// Names of the layers that are not fully active.
    pub fn degraded(&self) -> Vec<&str> {
        self.0
            .iter()
            .filter(|layer| !layer.is_active())
            .map(|layer| layer.name.as_str())
            .collect()
    }

    /// Layers as `NAME=STATE` pairs separated by commas, for a log line.
    pub fn summary(&self) -> String {
        self.0
            .iter()
            .map(|layer| {
                let state = match layer.state {
                    LayerState::Active => "active",
                    LayerState::Partial => "partial",
                    LayerState::Unavailable => "unavailable",
                };
                format!("{}={state}", layer.name)
            })
            .collect::<Vec<_>>()
            .join(",")
    }
}

fn parse_line(line: &str) -> Option<SandboxLayer> {
    let (name, rest) = line.split_once(": ")?;
    let (state, reason) = match rest.split_once(": ") {
        Some((state, reason)) => (state, Some(reason.to_owned())),
        None => (rest.trim_end(), None),
    };
    let state = match (state, &reason) {
        ("active", None) => LayerState::Active,
        ("partial", Some(_)) => LayerState::Partial,
        ("unavailable", Some(_)) => LayerState::Unavailable,
        _ => return None,
    };
    let is_name = !name.is_empty()
        && name
            .bytes()
            .all(|byte| byte.is_ascii_lowercase() || byte == b'-');
    if !is_name {
        return None;
    }
    Some(SandboxLayer {
        name: name.to_owned(),
        state,
        reason,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_each_state() {
        let layers = SandboxLayers::parse(
            "no-new-privs: active\n\
             user-namespace: unavailable: unshare failed: Operation not permitted\n\
             landlock: partial: older ABI\n",
        )
        .expect("valid report");

        assert_eq!(layers.0.len(), 3);
        assert_eq!(layers.0[0].state, LayerState::Active);
        assert_eq!(layers.0[0].reason, None);
        assert_eq!(layers.0[1].state, LayerState::Unavailable);
        assert_eq!(
            layers.0[1].reason.as_deref(),
            Some("unshare failed: Operation not permitted")
        );
        assert_eq!(layers.0[2].state, LayerState::Partial);
        assert_eq!(layers.degraded(), ["user-namespace", "landlock"]);
    }

    #[test]
    fn rejects_malformed_reports() {
        for output in [
            "",
            "seccomp",
            "seccomp: maybe",
            "seccomp: unavailable",
            "Seccomp: active",
        ] {
            assert_eq!(SandboxLayers::parse(output), None, "{output:?}");
        }
    }
}
