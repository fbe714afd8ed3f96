//! The spawned worker gets an empty environment, only its three pipes and
//! no secret in its arguments, and the request carries no key material.

mod common;

use std::collections::BTreeSet;
use std::os::unix::fs::PermissionsExt;

use nix::fcntl::{OFlag, open};
use nix::sys::stat::Mode;
use sandbox_protocol::{PluginCode, Request};
use sandbox_runner::RunnerConfig;

#[tokio::test]
async fn worker_environment_is_empty() {
    assert!(
        std::env::vars_os().next().is_some(),
        "the test process should have an environment to withhold"
    );
    let runner = common::runner();

    let mut worker = runner.spawn_idle_worker().unwrap();
    let pid = worker.id().expect("the worker is running");
    let environ = std::fs::read(format!("/proc/{pid}/environ")).unwrap();
    worker.kill().await.unwrap();

    assert!(
        environ.is_empty(),
        "worker environment: {:?}",
        String::from_utf8_lossy(&environ)
    );
}

#[tokio::test]
async fn worker_has_only_three_descriptors() {
    // A descriptor opened without O_CLOEXEC, as a careless library might.
    let leaked = open("/dev/null", OFlag::O_RDONLY, Mode::empty()).unwrap();
    let runner = common::runner();

    let mut worker = runner.spawn_idle_worker().unwrap();
    let pid = worker.id().expect("the worker is running");
    // The dynamic loader and the Rust runtime open and close descriptors
    // while the worker starts; a listing taken then can hold one of them.
    // Inherited descriptors stay open, so list once the worker waits for
    // its request.
    common::wait_until_reading_stdin(pid);
    let descriptors: BTreeSet<String> = std::fs::read_dir(format!("/proc/{pid}/fd"))
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    worker.kill().await.unwrap();
    nix::unistd::close(leaked).unwrap();

    let expected: BTreeSet<String> = ["0", "1", "2"].map(String::from).into();
    assert_eq!(descriptors, expected);
}

#[tokio::test]
async fn worker_arguments_are_limits_only() {
    let runner = common::runner();

    let mut worker = runner.spawn_idle_worker().unwrap();
    let pid = worker.id().expect("the worker is running");
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap();
    worker.kill().await.unwrap();

    let args: Vec<String> = cmdline
        .split(|&byte| byte == 0)
        .filter(|arg| !arg.is_empty())
        .skip(1)
        .map(|arg| String::from_utf8_lossy(arg).into_owned())
        .collect();
    assert_eq!(args.len(), 2, "{args:?}");
    assert_eq!(args[0], "--max-request-bytes");
    assert!(args[1].parse::<usize>().is_ok(), "{args:?}");
}

/// Replaces the worker with a script that saves its stdin and arguments,
/// and checks what the runner sends: one run request with the plugin, the
/// arguments, the note and limits, and nothing else.
#[tokio::test]
async fn request_carries_only_plugin_note_and_limits() {
    let dir = tempfile::tempdir().unwrap();
    let frame_path = dir.path().join("request.bin");
    let args_path = dir.path().join("args.txt");
    let script_path = dir.path().join("capture-worker");
    let script = format!(
        "#!/bin/sh\necho \"$@\" > '{}'\ncat > '{}'\nexit 7\n",
        args_path.display(),
        frame_path.display()
    );
    std::fs::write(&script_path, script).unwrap();
    std::fs::set_permissions(&script_path, std::fs::Permissions::from_mode(0o700)).unwrap();

    let runner = sandbox_runner::Runner::new(RunnerConfig {
        worker_path: Some(script_path),
        ..RunnerConfig::default()
    })
    .unwrap();
    let mut request = common::request("text-analyzer", "the note body");
    request.args = r#"{"mode":"full"}"#.to_owned();
    let report = runner.run(request).await.unwrap();
    assert!(
        matches!(
            report.outcome,
            sandbox_runner::RunOutcome::Crashed { exit_code: 7, .. }
        ),
        "{report:?}"
    );

    let frame = std::fs::read(&frame_path).unwrap();
    let Request::Run(sent) = sandbox_protocol::decode::<Request>(&frame, usize::MAX).unwrap()
    else {
        panic!("the runner sent a compile request");
    };
    assert_eq!(sent.note.body, "the note body");
    assert_eq!(sent.note.title, "Test note");
    assert_eq!(sent.args, r#"{"mode":"full"}"#);
    assert!(matches!(sent.plugin, PluginCode::Component(_)));

    // Re-encoding the decoded request gives the same bytes, so the frame
    // contains these fields and nothing more.
    let reencoded = sandbox_protocol::encode(&Request::Run(sent), usize::MAX).unwrap();
    assert_eq!(frame, *reencoded);

    let args = std::fs::read_to_string(&args_path).unwrap();
    assert!(args.starts_with("--max-request-bytes "), "{args}");
}
