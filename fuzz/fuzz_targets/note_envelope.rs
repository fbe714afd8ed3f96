//! Parses arbitrary bytes as a sealed note field: reads the key version and
//! tries to open it under a fixed key. Neither may panic, and opening
//! fails the target if bytes that were never sealed pass authentication.
#![no_main]

use gateway::crypto::envelope::{self, NoteField, SealContext};
use gateway::crypto::keys::MasterKey;
use gateway::ids::{NoteId, UserId};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|sealed: &[u8]| {
    let _ = envelope::read_key_version(sealed);

    let Ok(master) = MasterKey::from_slice(&[7u8; 32]) else {
        return;
    };
    let key = master.note_key(&[9u8; 32]);
    let context = SealContext {
        owner: UserId::from_uuid(uuid::Uuid::from_u128(1)),
        note: NoteId::from_uuid(uuid::Uuid::from_u128(2)),
        field: NoteField::Body,
    };
    assert!(
        envelope::open(&key, &context, sealed).is_err(),
        "random bytes opened as a sealed note"
    );
});
