//! The kernel's view of a worker in the middle of a run: seccomp in filter
//! mode, `no_new_privs` set, and namespaces of its own.
//!
//! In its own test binary, so that the only worker this process spawns is
//! the one under inspection.

mod common;

use std::time::Duration;

use sandbox_runner::{GuestLimits, RunOutcome};

/// Fuel and epoch deadline that keep the looping plugin running for about
/// a second, long enough to read the worker's `/proc` entries.
fn long_run() -> GuestLimits {
    GuestLimits {
        fuel: u64::MAX / 2,
        epoch_deadline_ms: 1_000,
        ..GuestLimits::default()
    }
}

/// Process ids of this process's children.
fn children() -> Vec<u32> {
    let me = std::process::id();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| common::parent_of(*pid) == Some(me))
        .collect()
}

fn status_field(status: &str, field: &str) -> Option<String> {
    status.lines().find_map(|line| {
        let (name, value) = line.split_once(':')?;
        (name == field).then(|| value.trim().to_owned())
    })
}

/// What a running worker looked like once its run filter was in place.
struct Observation {
    status: String,
    namespaces: Vec<(&'static str, String, String)>,
}

/// Polls this process's children until one shows seccomp filter mode
/// (`Seccomp: 2`) with the run filter's second filter stacked, and reads
/// its status and namespace links.
async fn observe_confined_worker() -> Option<Observation> {
    for _ in 0..2_000 {
        for pid in children() {
            let Ok(status) = std::fs::read_to_string(format!("/proc/{pid}/status")) else {
                continue;
            };
            let filters = status_field(&status, "Seccomp_filters").unwrap_or_default();
            if status_field(&status, "Seccomp").as_deref() != Some("2") || filters != "2" {
                continue;
            }
            let namespaces = ["net", "ipc", "uts", "mnt", "user"]
                .into_iter()
                .map(|kind| {
                    let link = |path: String| {
                        std::fs::read_link(path)
                            .map(|target| target.display().to_string())
                            .unwrap_or_default()
                    };
                    (
                        kind,
                        link(format!("/proc/{pid}/ns/{kind}")),
                        link(format!("/proc/self/ns/{kind}")),
                    )
                })
                .collect();
            return Some(Observation { status, namespaces });
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    None
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn running_worker_is_confined() {
    let runner = common::runner();
    let mut request = common::request("hostile-infinite-loop", "note");
    request.limits = long_run();

    let (report, observation) = tokio::join!(runner.run(request), observe_confined_worker());

    let report = report.expect("the runner completes the run");
    assert!(
        !matches!(
            report.outcome,
            RunOutcome::Ok { .. } | RunOutcome::KilledBySignal { .. } | RunOutcome::Crashed { .. }
        ),
        "the looping plugin ended as {:?}",
        report.outcome
    );
    let observation = observation.expect("a worker with both seccomp filters was seen");
    assert_eq!(
        status_field(&observation.status, "NoNewPrivs").as_deref(),
        Some("1")
    );
    assert_eq!(
        status_field(&observation.status, "Seccomp").as_deref(),
        Some("2")
    );
    for (kind, worker, own) in &observation.namespaces {
        assert!(
            !worker.is_empty(),
            "{kind} namespace of the worker unreadable"
        );
        assert_ne!(worker, own, "the worker shares the {kind} namespace");
    }
}
