//! Helpers shared by the sandbox-worker integration tests.
//!
//! The tests spawn the real worker binary through `sandbox-runner` and run
//! plugin components built by `cargo run -p plugin-build`.

#![allow(dead_code, unreachable_pub)]

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use sandbox_runner::{
    GuestLimits, NoteContent, PluginCode, RunReport, RunRequest, Runner, RunnerConfig,
};

/// The worker binary Cargo built for these tests.
pub fn worker_path() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_sandbox-worker"))
}

/// The workspace root.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the worker crate lives inside the workspace")
        .to_owned()
}

/// A runner for the test worker with `config` otherwise.
pub fn runner_with(config: RunnerConfig) -> Runner {
    Runner::new(RunnerConfig {
        worker_path: Some(worker_path()),
        ..config
    })
    .expect("the test worker binary exists")
}

/// A runner with default settings.
pub fn runner() -> Runner {
    runner_with(RunnerConfig::default())
}

/// Reads the component `target/plugins/NAME.wasm`, failing with the command
/// that builds it when it is missing.
pub fn component(name: &str) -> Vec<u8> {
    let path = workspace_root()
        .join("target")
        .join("plugins")
        .join(format!("{name}.wasm"));
    std::fs::read(&path).unwrap_or_else(|error| {
        panic!(
            "plugin component {} is missing ({error}); build the plugins first with `cargo run -p plugin-build`",
            path.display()
        )
    })
}

/// Turns `plugins/hostile-wat/NAME.wat`, a core module, into a component
/// of the plugin world.
pub fn wat_component(name: &str) -> Vec<u8> {
    let root = workspace_root().join("plugins");
    let path = root.join("hostile-wat").join(format!("{name}.wat"));
    let mut module = wat::parse_file(&path)
        .unwrap_or_else(|error| panic!("failed to parse {}: {error}", path.display()));

    let mut resolve = wit_parser::Resolve::default();
    let (package, _) = resolve
        .push_path(root.join("wit"))
        .expect("the plugin WIT parses");
    let world = resolve
        .select_world(&[package], Some("plugin"))
        .expect("the plugin world exists");
    wit_component::embed_component_metadata(
        &mut module,
        &resolve,
        world,
        wit_component::StringEncoding::UTF8,
    )
    .expect("the world's metadata embeds");
    wit_component::ComponentEncoder::default()
        .module(&module)
        .expect("the core module matches the world")
        .validate(true)
        .encode()
        .expect("the component encodes")
}

/// Reads a text from the repository's `corpus/` folder.
pub fn corpus(file_name: &str) -> String {
    let path = workspace_root().join("corpus").join(file_name);
    std::fs::read_to_string(&path)
        .unwrap_or_else(|error| panic!("failed to read {}: {error}", path.display()))
}

/// A run request for the component `name` on a note with `body`.
pub fn request(name: &str, body: &str) -> RunRequest {
    RunRequest {
        plugin: PluginCode::Component(component(name)),
        args: "null".to_owned(),
        note: NoteContent {
            title: "Test note".to_owned(),
            body: body.to_owned(),
        },
        limits: GuestLimits::default(),
    }
}

/// Runs the component `name` on `body` with default limits.
pub async fn run(runner: &Runner, name: &str, body: &str) -> RunReport {
    runner
        .run(request(name, body))
        .await
        .expect("the runner completes the run")
}

/// Waits until process `pid` is blocked in `read` on descriptor 0, as
/// `/proc/PID/syscall` shows it.
pub fn wait_until_reading_stdin(pid: u32) {
    let reading_stdin = format!("{} 0x0 ", nix::libc::SYS_read);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let syscall = std::fs::read_to_string(format!("/proc/{pid}/syscall"))
            .expect("read /proc/PID/syscall of the worker (needs ptrace access to a child)");
        if syscall.starts_with(&reading_stdin) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the worker did not wait on stdin within 10 s; last syscall: {syscall}"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Process ids of the children of `pid`, from the lists of all its
/// threads.
pub fn children_of(pid: u32) -> Vec<u32> {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return Vec::new();
    };
    tasks
        .filter_map(|task| {
            let task = task.ok()?.file_name();
            let path = format!("/proc/{pid}/task/{}/children", task.to_string_lossy());
            std::fs::read_to_string(path).ok()
        })
        .flat_map(|children| {
            children
                .split_whitespace()
                .filter_map(|child| child.parse().ok())
                .collect::<Vec<u32>>()
        })
        .collect()
}

/// Parent process id of `pid`, or `None` once it is gone.
pub fn parent_of(pid: u32) -> Option<u32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name in parentheses may contain spaces, so fields are
    // counted after it: state, then the parent id.
    let after_name = &stat[stat.rfind(')')? + 1..];
    after_name.split_whitespace().nth(1)?.parse().ok()
}

/// Every readable region of process `pid`'s memory, concatenated.
pub fn read_memory(pid: u32) -> Vec<u8> {
    use std::io::{Read, Seek, SeekFrom};

    let maps = std::fs::read_to_string(format!("/proc/{pid}/maps")).expect("read the maps");
    let mut memory = std::fs::File::open(format!("/proc/{pid}/mem")).expect("open the memory");
    let mut contents = Vec::new();
    for line in maps.lines() {
        let mut fields = line.split_whitespace();
        let (Some(range), Some(permissions)) = (fields.next(), fields.next()) else {
            continue;
        };
        if !permissions.starts_with('r') || line.ends_with("[vvar]") {
            continue;
        }
        let Some((start, end)) = range.split_once('-') else {
            continue;
        };
        let start = u64::from_str_radix(start, 16).expect("hex start address");
        let end = u64::from_str_radix(end, 16).expect("hex end address");
        let mut region = vec![0u8; (end - start) as usize];
        if memory.seek(SeekFrom::Start(start)).is_ok() && memory.read_exact(&mut region).is_ok() {
            contents.extend_from_slice(&region);
        }
    }
    contents
}

pub fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle)
}
