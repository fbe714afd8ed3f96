//! The gateway's self-protection, applied to this test process: its own
//! test binary, because the settings last for the life of the process.

use nix::sys::resource::{Resource, getrlimit};

#[test]
fn protect_process_disables_dumps() {
    gateway::hardening::protect_process().expect("protect the process");

    let dumpable = nix::sys::prctl::get_dumpable().expect("read the dumpable flag");
    assert!(!dumpable);
    let (soft, hard) = getrlimit(Resource::RLIMIT_CORE).expect("read the core limit");
    assert_eq!(soft, 0);
    assert_eq!(hard, 0);
}
