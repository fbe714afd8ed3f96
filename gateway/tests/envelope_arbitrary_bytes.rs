//! Opening arbitrary bytes as a sealed note field fails and never panics:
//! the seeds below are the ones the `note_envelope` fuzz target starts from
//! (see `fuzz/README.md`), plus truncations and single-bit flips of a real
//! envelope.

use gateway::crypto::envelope::{self, NoteField, SealContext};
use gateway::crypto::keys::{MasterKey, NoteKey};
use gateway::ids::{NoteId, UserId};

fn key() -> NoteKey {
    MasterKey::from_slice(&[7u8; 32])
        .expect("32 bytes make a key")
        .note_key(&[9u8; 32])
}

fn context() -> SealContext {
    SealContext {
        owner: UserId::from_uuid(uuid::Uuid::from_u128(1)),
        note: NoteId::from_uuid(uuid::Uuid::from_u128(2)),
        field: NoteField::Body,
    }
}

/// Deterministic pseudo-random bytes (xorshift64), so failures reproduce.
fn pseudo_random_bytes(seed: u64, length: usize) -> Vec<u8> {
    let mut state = seed.max(1);
    (0..length)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state.to_le_bytes()[0]
        })
        .collect()
}

#[test]
fn fixed_seeds_fail_to_open() {
    let mut right_version = vec![envelope::FORMAT_VERSION, 0, 0, 0, 1];
    right_version.extend(pseudo_random_bytes(4, 64));
    let seeds: Vec<Vec<u8>> = vec![
        Vec::new(),
        vec![envelope::FORMAT_VERSION],
        vec![0; envelope::OVERHEAD],
        right_version,
        pseudo_random_bytes(1, envelope::OVERHEAD - 1),
        pseudo_random_bytes(2, 4096),
    ];
    for (index, seed) in seeds.iter().enumerate() {
        let _ = envelope::read_key_version(seed);
        assert!(
            envelope::open(&key(), &context(), seed).is_err(),
            "seed {index} opened"
        );
    }
}

#[test]
fn altered_envelopes_fail_to_open() {
    let sealed = envelope::seal(&key(), &context(), b"note body").expect("seal");
    assert!(envelope::open(&key(), &context(), &sealed).is_ok());

    for length in 0..sealed.len() {
        assert!(
            envelope::open(&key(), &context(), &sealed[..length]).is_err(),
            "an envelope cut to {length} bytes opened"
        );
    }
    for index in 0..sealed.len() {
        for bit in 0..8 {
            let mut flipped = sealed.clone();
            flipped[index] ^= 1 << bit;
            let _ = envelope::read_key_version(&flipped);
            assert!(
                envelope::open(&key(), &context(), &flipped).is_err(),
                "byte {index} bit {bit} flipped and the envelope still opened"
            );
        }
    }
}
