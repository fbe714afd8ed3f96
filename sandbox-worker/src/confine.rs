//! Process confinement: `no_new_privs`, namespaces, Landlock, rlimits and
//! seccomp-bpf filters.
//!
//! [`isolate`] comes first. It sets `no_new_privs`, moves the process into
//! new user, network, IPC, UTS and mount namespaces, and applies a Landlock
//! ruleset that denies all file system access, TCP bind and connect,
//! signals to processes outside the worker and abstract Unix sockets, as
//! far as the running kernel supports them. The seccomp filters then forbid
//! the system calls themselves.
//!
//! Each step is a separate function so that any process that runs a plugin
//! (a freshly executed worker, or a child forked per run) applies the same
//! steps in the same order.
//!
//! Two filters stack (the kernel applies the strictest verdict):
//!
//! - the load filter, before the plugin is compiled or loaded, allows what
//!   wasmtime needs to map code: memory management including executable
//!   mappings, signal setup, arming the epoch alarm, thread
//!   synchronization, sleeping, `write` and exit;
//! - the run filter, before any guest code runs, drops signal handler
//!   changes, timers and `getrandom` and allows `mmap` and `mprotect` only
//!   without `PROT_EXEC`, so an escape cannot create new native code.
//!
//! Anything else kills the whole process with SIGSYS: no `open`, no
//! `socket`, no `clone`, no `execve`, and no `read`, because the request
//! was read before the first filter.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use anyhow::{Context, Result};
use landlock::{ABI, Access, AccessFs, AccessNet, Ruleset, RulesetAttr, RulesetStatus, Scope};
use nix::libc;
use nix::sched::CloneFlags;
use nix::sys::resource::{Resource, setrlimit};
use sandbox_protocol::ProcessLimits;
use seccompiler::{
    BpfProgram, SeccompAction, SeccompCmpArgLen, SeccompCmpOp, SeccompCondition, SeccompFilter,
    SeccompRule, TargetArch,
};

use crate::layers::{Layer, LayerStatus};

/// Namespaces the worker moves into, in order, with their layer names. The
/// user namespace comes first: inside it an unprivileged process holds the
/// capabilities that creating the others needs.
const NAMESPACES: [(&str, CloneFlags); 5] = [
    ("user-namespace", CloneFlags::CLONE_NEWUSER),
    ("network-namespace", CloneFlags::CLONE_NEWNET),
    ("ipc-namespace", CloneFlags::CLONE_NEWIPC),
    ("uts-namespace", CloneFlags::CLONE_NEWUTS),
    ("mount-namespace", CloneFlags::CLONE_NEWNS),
];

/// Applies the layers that do not depend on the request: `no_new_privs`,
/// then each namespace, then Landlock. Returns the status of each.
///
/// `no_new_privs` is required, so failing to set it is an error. A
/// namespace or Landlock that the host does not allow (for example in a
/// container without `CLONE_NEWUSER`, or on a kernel without Landlock) is
/// skipped and returned as [`LayerStatus::Unavailable`] with the reason;
/// `sandbox-worker --self-check` prints these statuses.
///
/// Must run while the process has one thread, because the kernel rejects
/// `unshare(CLONE_NEWUSER)` in a multithreaded process.
pub(crate) fn isolate() -> Result<Vec<Layer>> {
    set_no_new_privs()?;
    let mut layers = vec![Layer::new("no-new-privs", LayerStatus::Active)];
    layers.extend(enter_namespaces());
    layers.push(deny_file_system_and_network()?);
    Ok(layers)
}

/// Sets `no_new_privs`, so no later `execve` can gain privileges through
/// set-user-ID bits or file capabilities. Landlock and seccomp also need it
/// in a process without `CAP_SYS_ADMIN`.
pub(crate) fn set_no_new_privs() -> Result<()> {
    nix::sys::prctl::set_no_new_privs().context("failed to set no_new_privs")
}

/// Moves the process into each namespace of [`NAMESPACES`] with one
/// `unshare` call per namespace, so that one the host forbids does not
/// prevent the others. The new network namespace has only a loopback
/// interface, which is down.
pub(crate) fn enter_namespaces() -> Vec<Layer> {
    NAMESPACES
        .iter()
        .map(|&(name, flag)| match nix::sched::unshare(flag) {
            Ok(()) => Layer::new(name, LayerStatus::Active),
            Err(errno) => Layer::new(
                name,
                LayerStatus::Unavailable(format!("unshare failed: {}", errno.desc())),
            ),
        })
        .collect()
}

/// Newest Landlock ABI whose rights the worker requests. Older kernels
/// enforce the subset they know.
const LANDLOCK_ABI: ABI = ABI::V6;

/// Restricts the process with an empty Landlock ruleset, so every handled
/// access is denied, and returns how much of it the kernel enforces. Runs
/// before `RLIMIT_NOFILE`, because creating the ruleset needs a descriptor.
///
/// On a kernel without Landlock this restricts nothing and returns
/// [`LayerStatus::Unavailable`]; the seccomp filters still forbid opening
/// files and sockets.
pub(crate) fn deny_file_system_and_network() -> Result<Layer> {
    let status = Ruleset::default()
        .handle_access(AccessFs::from_all(LANDLOCK_ABI))?
        .handle_access(AccessNet::from_all(LANDLOCK_ABI))?
        .scope(Scope::from_all(LANDLOCK_ABI))?
        .create()?
        .restrict_self()
        .context("failed to enforce the Landlock ruleset")?;

    let status = match status.ruleset {
        RulesetStatus::FullyEnforced => LayerStatus::Active,
        RulesetStatus::PartiallyEnforced => LayerStatus::Partial(format!(
            "the kernel enforces an older Landlock ABI than {LANDLOCK_ABI:?}: {:?}",
            status.landlock
        )),
        RulesetStatus::NotEnforced => LayerStatus::Unavailable(format!(
            "the kernel does not enforce Landlock: {:?}",
            status.landlock
        )),
    };
    Ok(Layer::new("landlock", status))
}

/// `RLIMIT_NOFILE`: descriptors 0 to 2 stay usable, no new one can be
/// created.
const OPEN_FILES: u64 = 3;

/// Sets the rlimits of the worker process from `limits` and the fixed ones:
/// no core dumps, no file writes (`RLIMIT_FSIZE` 0), no new descriptors.
/// Soft and hard limits are equal, and the seccomp filters forbid
/// `setrlimit` and `prlimit64`, so untrusted code cannot raise them.
pub(crate) fn set_rlimits(limits: &ProcessLimits) -> Result<()> {
    set_rlimit(Resource::RLIMIT_CORE, 0)?;
    set_rlimit(Resource::RLIMIT_FSIZE, 0)?;
    set_rlimit(Resource::RLIMIT_NOFILE, OPEN_FILES)?;
    set_rlimit(Resource::RLIMIT_CPU, limits.cpu_seconds)?;
    set_rlimit(Resource::RLIMIT_AS, limits.address_space_bytes)?;
    Ok(())
}

/// Sets `RLIMIT_NPROC` to 0 so the process can create no more processes or
/// threads.
///
/// NOTE: the kernel does not apply `RLIMIT_NPROC` to root; the seccomp
/// filters are what stop `clone` there.
pub(crate) fn forbid_new_processes() -> Result<()> {
    set_rlimit(Resource::RLIMIT_NPROC, 0)
}

fn set_rlimit(resource: Resource, value: u64) -> Result<()> {
    setrlimit(resource, value, value)
        .with_context(|| format!("failed to set {resource:?} to {value}"))
}

/// Installs the load filter on all threads.
pub(crate) fn install_load_filter() -> Result<()> {
    let mut rules = common_rules();
    for syscall in [
        libc::SYS_mmap,
        libc::SYS_mprotect,
        libc::SYS_rt_sigaction,
        libc::SYS_getrandom,
        // Arming the epoch alarm after the code is loaded.
        libc::SYS_setitimer,
        // Installing the run filter: `seccomp` can only add restrictions.
        libc::SYS_seccomp,
    ] {
        rules.insert(syscall, Vec::new());
    }
    rules.insert(libc::SYS_prctl, vec![only_set_no_new_privs()?]);
    install(rules).context("failed to install the load-time seccomp filter")
}

/// Installs the run filter on all threads.
pub(crate) fn install_run_filter() -> Result<()> {
    let program = match RUN_FILTER.get() {
        Some(program) => program,
        None => &compile_run_filter()?,
    };
    seccompiler::apply_filter_all_threads(program)
        .context("failed to install the run-time seccomp filter")
}

/// Installs, in a zygote, a filter that allows every system call after
/// loading one of its arguments, so the kernel cannot tell its result from
/// the system call number alone.
///
/// When a filter is attached, the kernel (5.11 and later on x86-64) records which
/// system calls the whole stack always allows, emulating the new filter
/// for each number that the filters below always allow. With no filter
/// below, that is every number, and the run filter's rule list is walked
/// for each of them, with interrupts off, in every zygote child. Above this
/// filter no number is always allowed, so children attach the run filter
/// without that walk, and each of their system calls runs every filter,
/// as native code where the kernel's BPF JIT is on.
pub(crate) fn install_base_filter() -> Result<()> {
    let argument = u32::try_from(std::mem::offset_of!(libc::seccomp_data, args))
        .context("the offset of the system call arguments does not fit BPF")?;
    let program: BpfProgram = vec![
        seccompiler::sock_filter {
            code: (libc::BPF_LD | libc::BPF_W | libc::BPF_ABS) as u16,
            jt: 0,
            jf: 0,
            k: argument,
        },
        seccompiler::sock_filter {
            code: (libc::BPF_RET | libc::BPF_K) as u16,
            jt: 0,
            jf: 0,
            k: libc::SECCOMP_RET_ALLOW,
        },
    ];
    seccompiler::apply_filter_all_threads(&program)
        .context("failed to install the zygote's base seccomp filter")
}

/// The run filter, compiled once by a zygote before it forks, so that its
/// children only install it.
static RUN_FILTER: OnceLock<BpfProgram> = OnceLock::new();

/// Compiles the run filter for [`install_run_filter`] in this process and
/// in every child forked after this call.
pub(crate) fn prepare_run_filter() -> Result<()> {
    let program = compile_run_filter()?;
    // A second call keeps the first program, which is the same.
    let _ = RUN_FILTER.set(program);
    Ok(())
}

fn compile_run_filter() -> Result<BpfProgram> {
    let mut rules = common_rules();
    for syscall in [libc::SYS_mmap, libc::SYS_mprotect] {
        rules.insert(syscall, vec![without_prot_exec()?]);
    }
    compile(rules).context("failed to compile the run-time seccomp filter")
}

/// System calls both filters allow without conditions.
fn common_rules() -> BTreeMap<i64, Vec<SeccompRule>> {
    [
        // Response output, closing it, and exit.
        libc::SYS_write,
        libc::SYS_close,
        libc::SYS_exit,
        libc::SYS_exit_group,
        // Memory management by the allocator and wasmtime.
        libc::SYS_munmap,
        libc::SYS_mremap,
        libc::SYS_madvise,
        libc::SYS_brk,
        // Trap handling: wasm traps arrive as signals.
        libc::SYS_sigaltstack,
        libc::SYS_rt_sigreturn,
        libc::SYS_rt_sigprocmask,
        // Locks and sleeping.
        libc::SYS_futex,
        libc::SYS_sched_yield,
        libc::SYS_clock_nanosleep,
        libc::SYS_nanosleep,
        libc::SYS_clock_gettime,
    ]
    .into_iter()
    .map(|syscall| (syscall, Vec::new()))
    .collect()
}

/// Matches `mmap` and `mprotect` calls whose protection argument (the
/// third for both) lacks `PROT_EXEC`.
fn without_prot_exec() -> Result<SeccompRule> {
    let condition = SeccompCondition::new(
        2,
        SeccompCmpArgLen::Dword,
        SeccompCmpOp::MaskedEq(libc::PROT_EXEC as u64),
        0,
    )?;
    Ok(SeccompRule::new(vec![condition])?)
}

/// Matches `prctl(PR_SET_NO_NEW_PRIVS, ...)`, which seccompiler calls
/// before installing a filter.
fn only_set_no_new_privs() -> Result<SeccompRule> {
    let condition = SeccompCondition::new(
        0,
        SeccompCmpArgLen::Dword,
        SeccompCmpOp::Eq,
        libc::PR_SET_NO_NEW_PRIVS as u64,
    )?;
    Ok(SeccompRule::new(vec![condition])?)
}

fn install(rules: BTreeMap<i64, Vec<SeccompRule>>) -> Result<()> {
    let program = compile(rules)?;
    seccompiler::apply_filter_all_threads(&program)?;
    Ok(())
}

fn compile(rules: BTreeMap<i64, Vec<SeccompRule>>) -> Result<BpfProgram> {
    let arch = TargetArch::try_from(std::env::consts::ARCH).map_err(|error| {
        anyhow::anyhow!("seccomp does not support this architecture: {error:?}")
    })?;
    let filter = SeccompFilter::new(
        rules,
        SeccompAction::KillProcess,
        SeccompAction::Allow,
        arch,
    )?;
    Ok(filter.try_into()?)
}
