//! The sealed-note envelope: how one encrypted note field is stored.
//!
//! Format version 1, all integers big-endian:
//!
//! | offset | length | content |
//! | --- | --- | --- |
//! | 0 | 1 | format version, `0x01` |
//! | 1 | 4 | key version: the master key version the note key was derived from |
//! | 5 | 12 | nonce, random per seal |
//! | 17 | n + 16 | AES-256-GCM ciphertext of the n plaintext bytes, then the 16-byte tag |
//!
//! The associated data is not stored. It is rebuilt on open from the row being
//! read, so a ciphertext copied to another row, note, user or field fails the tag
//! check. It is the concatenation of:
//!
//! | length | content |
//! | --- | --- |
//! | 17 | the ASCII label `sandnotes/note/v1` |
//! | 1 | format version |
//! | 4 | key version |
//! | 16 | owner's user id (UUID bytes) |
//! | 16 | note id (UUID bytes) |
//! | 1 | field: `1` title, `2` body |
//!
//! Every part has a fixed length, so two different contexts never produce the
//! same associated data. Random 96-bit nonces keep the probability of a nonce
//! collision under 2^-32 up to 2^32 seals per user key (NIST SP 800-38D, 8.3).
//!
//! Non-goals: the envelope hides content, not length; a field's ciphertext is
//! exactly 33 bytes longer than its plaintext.

use std::fmt;

use aes_gcm::aead::{AeadInPlace, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce};
use rand::RngCore;
use rand::rngs::OsRng;
use zeroize::Zeroizing;

use super::keys::NoteKey;
use crate::ids::{NoteId, UserId};

/// The envelope format this build writes.
pub const FORMAT_VERSION: u8 = 1;

const NONCE_LEN: usize = 12;
const TAG_LEN: usize = 16;
const HEADER_LEN: usize = 1 + 4 + NONCE_LEN;
const AAD_LABEL: &[u8; 17] = b"sandnotes/note/v1";
const AAD_LEN: usize = AAD_LABEL.len() + 1 + 4 + 16 + 16 + 1;

/// Bytes an envelope adds to its plaintext: header and tag.
pub const OVERHEAD: usize = HEADER_LEN + TAG_LEN;

/// The note field an envelope belongs to; part of the associated data.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NoteField {
    /// The note's title.
    Title,
    /// The note's body.
    Body,
}

/// The row an envelope belongs to: owner, note and field.
#[derive(Clone, Copy, Debug)]
pub struct SealContext {
    /// The user who owns the note.
    pub owner: UserId,
    /// The note the field belongs to.
    pub note: NoteId,
    /// Field of the note that the envelope contains.
    pub field: NoteField,
}

/// Reasons an envelope fails to seal or open. None of them carries key or
/// plaintext bytes.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum EnvelopeError {
    /// Shorter than a header and a tag.
    #[error("envelope is truncated: {length} bytes, at least {OVERHEAD} expected")]
    Truncated { length: usize },
    /// Written in a format this build does not read.
    #[error("envelope format version {found} is not supported (expected {FORMAT_VERSION})")]
    UnsupportedFormat { found: u8 },
    /// Sealed under a key version other than the key offered to open it.
    #[error(
        "envelope was sealed under key version {found}, but key version {expected} was offered"
    )]
    KeyVersionMismatch { found: u32, expected: u32 },
    /// The tag does not verify: wrong key, wrong row, or altered bytes.
    #[error("envelope authentication failed")]
    Authentication,
    /// The plaintext exceeds what AES-GCM can encrypt under one nonce.
    #[error("plaintext is too long to seal")]
    TooLong,
}

impl NoteField {
    const fn code(self) -> u8 {
        match self {
            Self::Title => 1,
            Self::Body => 2,
        }
    }
}

impl fmt::Display for NoteField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Title => "title",
            Self::Body => "body",
        })
    }
}

/// Seals `plaintext` for `context` under `key` with a fresh random nonce.
pub fn seal(
    key: &NoteKey,
    context: &SealContext,
    plaintext: &[u8],
) -> Result<Vec<u8>, EnvelopeError> {
    let mut nonce = [0u8; NONCE_LEN];
    OsRng.fill_bytes(&mut nonce);

    let mut sealed = Vec::with_capacity(HEADER_LEN + plaintext.len() + TAG_LEN);
    sealed.push(FORMAT_VERSION);
    sealed.extend_from_slice(&key.version().to_be_bytes());
    sealed.extend_from_slice(&nonce);

    // Encrypt in a buffer sized for the tag, so no reallocation leaves a
    // plaintext copy behind in freed memory.
    let mut buffer = Zeroizing::new(Vec::with_capacity(plaintext.len() + TAG_LEN));
    buffer.extend_from_slice(plaintext);
    let aad = associated_data(key.version(), context);
    cipher(key)
        .encrypt_in_place(Nonce::from_slice(&nonce), &aad, &mut *buffer)
        .map_err(|_| EnvelopeError::TooLong)?;

    sealed.extend_from_slice(&buffer);
    Ok(sealed)
}

/// Opens an envelope sealed for `context` under `key`.
pub fn open(
    key: &NoteKey,
    context: &SealContext,
    sealed: &[u8],
) -> Result<Zeroizing<Vec<u8>>, EnvelopeError> {
    let key_version = read_key_version(sealed)?;
    if key_version != key.version() {
        return Err(EnvelopeError::KeyVersionMismatch {
            found: key_version,
            expected: key.version(),
        });
    }

    let nonce = Nonce::from_slice(&sealed[5..HEADER_LEN]);
    let mut buffer = Zeroizing::new(sealed[HEADER_LEN..].to_vec());
    let aad = associated_data(key_version, context);
    cipher(key)
        .decrypt_in_place(nonce, &aad, &mut *buffer)
        .map_err(|_| EnvelopeError::Authentication)?;

    Ok(buffer)
}

/// Reads the key version from an envelope's header without opening it.
pub fn read_key_version(sealed: &[u8]) -> Result<u32, EnvelopeError> {
    if sealed.len() < OVERHEAD {
        return Err(EnvelopeError::Truncated {
            length: sealed.len(),
        });
    }
    if sealed[0] != FORMAT_VERSION {
        return Err(EnvelopeError::UnsupportedFormat { found: sealed[0] });
    }

    let mut version = [0u8; 4];
    version.copy_from_slice(&sealed[1..5]);
    Ok(u32::from_be_bytes(version))
}

fn cipher(key: &NoteKey) -> Aes256Gcm {
    Aes256Gcm::new(key.bytes().into())
}

fn associated_data(key_version: u32, context: &SealContext) -> [u8; AAD_LEN] {
    let mut aad = [0u8; AAD_LEN];
    let parts: [&[u8]; 6] = [
        AAD_LABEL,
        &[FORMAT_VERSION],
        &key_version.to_be_bytes(),
        context.owner.as_uuid().as_bytes(),
        context.note.as_uuid().as_bytes(),
        &[context.field.code()],
    ];

    let mut offset = 0;
    for part in parts {
        aad[offset..offset + part.len()].copy_from_slice(part);
        offset += part.len();
    }
    aad
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::keys::{MasterKey, USER_SALT_LEN};

    fn context() -> SealContext {
        SealContext {
            owner: UserId::new_random(),
            note: NoteId::new_time_ordered(),
            field: NoteField::Body,
        }
    }

    fn note_key() -> NoteKey {
        MasterKey::generate().note_key(&[3; USER_SALT_LEN])
    }

    #[test]
    fn envelope_layout_matches_documentation() {
        let key = note_key();

        let sealed = seal(&key, &context(), b"hello").unwrap();

        assert_eq!(sealed.len(), 5 + OVERHEAD);
        assert_eq!(sealed[0], FORMAT_VERSION);
        assert_eq!(sealed[1..5], key.version().to_be_bytes());
    }

    #[test]
    fn two_seals_of_same_plaintext_differ() {
        let key = note_key();
        let context = context();

        let first = seal(&key, &context, b"same").unwrap();
        let second = seal(&key, &context, b"same").unwrap();

        assert_ne!(first, second);
    }

    #[test]
    fn flipped_ciphertext_bit_fails_authentication() {
        let key = note_key();
        let context = context();
        let mut sealed = seal(&key, &context, b"hello").unwrap();
        sealed[HEADER_LEN] ^= 1;

        assert_eq!(
            open(&key, &context, &sealed),
            Err(EnvelopeError::Authentication)
        );
    }

    #[test]
    fn altered_key_version_is_rejected() {
        let key = note_key();
        let context = context();
        let mut sealed = seal(&key, &context, b"hello").unwrap();
        sealed[4] ^= 0x02;

        let result = open(&key, &context, &sealed);

        assert!(matches!(
            result,
            Err(EnvelopeError::KeyVersionMismatch { .. })
        ));
    }

    #[test]
    fn unknown_format_version_is_rejected() {
        let key = note_key();
        let context = context();
        let mut sealed = seal(&key, &context, b"hello").unwrap();
        sealed[0] = 9;

        assert_eq!(
            open(&key, &context, &sealed),
            Err(EnvelopeError::UnsupportedFormat { found: 9 })
        );
    }

    #[test]
    fn truncated_envelope_is_rejected() {
        let key = note_key();

        let result = open(&key, &context(), &[FORMAT_VERSION, 0, 0]);

        assert_eq!(result, Err(EnvelopeError::Truncated { length: 3 }));
    }

    #[test]
    fn empty_plaintext_round_trips() {
        let key = note_key();
        let context = context();

        let sealed = seal(&key, &context, b"").unwrap();

        assert!(open(&key, &context, &sealed).unwrap().is_empty());
    }
}
