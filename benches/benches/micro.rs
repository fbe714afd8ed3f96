//! Criterion micro benchmarks: note encryption, key derivation, the worker
//! protocol, the in-process floor and one sandboxed run per worker mode.
//!
//! Run with `cargo bench -p sandnotes-bench --bench micro`; the sandboxed
//! cases need `cargo build --release -p sandbox-worker` and
//! `cargo run -p plugin-build` first (`scripts/bench.sh` does both).

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use gateway::crypto::envelope::NoteField;
use gateway::crypto::{MasterKey, UserNoteKey};
use gateway::ids::{NoteId, UserId};
use sandbox_protocol::{GuestLimits, NoteContent, PluginCode, ProcessLimits, Request, RunRequest};
use sandbox_runner::{RunnerConfig, WorkerMode};
use sandnotes_bench::floor::InProcessPlugin;
use sandnotes_bench::notes::{Corpus, TITLE};
use sandnotes_bench::sandbox::{self, SandboxBench};

const CIPHER_SIZES: [usize; 3] = [1 << 10, 64 << 10, 1 << 20];

/// `sandbox-worker` of this build profile: the bench executable lives in
/// `target/<profile>/deps/`.
fn worker_path() -> std::path::PathBuf {
    let exe = std::env::current_exe().unwrap();
    let profile_dir = exe.parent().and_then(std::path::Path::parent).unwrap();
    profile_dir.join("sandbox-worker")
}

fn corpus() -> Corpus {
    Corpus::read(&sandnotes_bench::workspace_root()).expect("the corpus folder is readable")
}

fn note_encryption(c: &mut Criterion) {
    let master = MasterKey::generate();
    let key = UserNoteKey::derive(&master, UserId::new_random(), &[7; 16]);
    let note = NoteId::new_time_ordered();
    let corpus = corpus();

    let mut group = c.benchmark_group("aes_gcm");
    for size in CIPHER_SIZES {
        let body = corpus.body(size);
        let sealed = key.seal(note, NoteField::Body, &body).unwrap();
        group.throughput(Throughput::Bytes(size as u64));
        group.bench_with_input(BenchmarkId::new("seal", size), &body, |b, body| {
            b.iter(|| key.seal(note, NoteField::Body, black_box(body)).unwrap());
        });
        group.bench_with_input(BenchmarkId::new("open", size), &sealed, |b, sealed| {
            b.iter(|| key.open(note, NoteField::Body, black_box(sealed)).unwrap());
        });
    }
    group.finish();

    c.bench_function("hkdf_note_key", |b| {
        b.iter(|| master.note_key(black_box(&[7; 16])));
    });
}

fn protocol(c: &mut Criterion) {
    let body = corpus().body(4 << 10);
    let message = Request::Run(RunRequest {
        process: ProcessLimits::default(),
        guest: GuestLimits::default(),
        plugin: PluginCode::Precompiled(vec![0x5a; 512 << 10]),
        args: "null".to_owned(),
        note: NoteContent {
            title: TITLE.to_owned(),
            body,
        },
    });
    let frame = sandbox_protocol::encode(&message, usize::MAX).unwrap();

    let mut group = c.benchmark_group("protocol_4k_note_512k_code");
    group.bench_function("encode", |b| {
        b.iter(|| sandbox_protocol::encode(black_box(&message), usize::MAX).unwrap());
    });
    group.bench_function("decode", |b| {
        b.iter(|| sandbox_protocol::decode::<Request>(black_box(&frame), usize::MAX).unwrap());
    });
    group.finish();
}

fn plugin_runs(c: &mut Criterion) {
    let component = sandnotes_bench::plugin_component("text-analyzer").unwrap();
    let body = corpus().body(4 << 10);
    let floor = InProcessPlugin::compile(&component).unwrap();

    let mut group = c.benchmark_group("text_analyzer_4k_note");
    group.bench_function("in_process_floor", |b| {
        b.iter(|| floor.run(TITLE, black_box(&body)).unwrap());
    });

    let runtime = tokio::runtime::Runtime::new().unwrap();
    let worker = worker_path();
    for (name, mode) in [("zygote", WorkerMode::Zygote), ("spawn", WorkerMode::Spawn)] {
        let config = RunnerConfig {
            worker_mode: mode,
            ..RunnerConfig::default()
        };
        let runner = sandbox::runner(&worker, config).unwrap();
        let bench = runtime
            .block_on(SandboxBench::new(&component, &runner))
            .unwrap();
        group.bench_function(format!("sandboxed_{name}"), |b| {
            b.iter(|| runtime.block_on(bench.run_once(&runner, &body)).unwrap());
        });
    }
    group.finish();
}

criterion_group!(benches, note_encryption, protocol, plugin_runs);
criterion_main!(benches);
