//! Key derivation and authenticated encryption of note fields.
//!
//! [`keys`] contains the deployment's master key and derives every other key from
//! it with HKDF-SHA256, one `info` label per purpose. [`envelope`] defines the
//! byte format of a sealed note field. [`UserNoteKey`] ties the two together for
//! the handlers: it seals and opens the fields of one user's notes.

pub mod envelope;
pub mod keys;

use zeroize::Zeroizing;

use crate::ids::{NoteId, UserId};

pub use envelope::{EnvelopeError, NoteField};
pub use keys::{KeyError, MasterKey, NoteKey, USER_SALT_LEN};

/// A user's note key, bound to that user's id.
pub struct UserNoteKey {
    owner: UserId,
    key: NoteKey,
}

/// Failure to seal or open one field of a note; carries the ids for the log.
#[derive(Debug, thiserror::Error)]
pub enum NoteCryptoError {
    /// Encryption failed (only possible for inputs larger than AES-GCM allows).
    #[error("sealing the {field} of note {note} failed: {source}")]
    Seal {
        note: NoteId,
        field: NoteField,
        source: EnvelopeError,
    },
    /// The stored value is not a valid envelope for this owner, note and field:
    /// it was corrupted, tampered with, or copied from another row.
    #[error("the {field} of note {note} failed the integrity check: {source}")]
    Integrity {
        note: NoteId,
        field: NoteField,
        source: EnvelopeError,
    },
    /// The field opened but is not UTF-8; only a bug can store such a value.
    #[error("the {field} of note {note} is not valid UTF-8 after opening")]
    NotUtf8 { note: NoteId, field: NoteField },
}

impl UserNoteKey {
    /// Derives the current note key of `owner` from the master key and the
    /// user's stored salt.
    pub fn derive(master: &MasterKey, owner: UserId, salt: &[u8]) -> Self {
        Self {
            owner,
            key: master.note_key(salt),
        }
    }

    /// Seals one field of a note under a fresh random nonce.
    pub fn seal(
        &self,
        note: NoteId,
        field: NoteField,
        plaintext: &str,
    ) -> Result<Vec<u8>, NoteCryptoError> {
        let context = envelope::SealContext {
            owner: self.owner,
            note,
            field,
        };

        envelope::seal(&self.key, &context, plaintext.as_bytes()).map_err(|source| {
            NoteCryptoError::Seal {
                note,
                field,
                source,
            }
        })
    }

    /// Opens one sealed field of a note into a zeroizing string.
    pub fn open(
        &self,
        note: NoteId,
        field: NoteField,
        sealed: &[u8],
    ) -> Result<Zeroizing<String>, NoteCryptoError> {
        let context = envelope::SealContext {
            owner: self.owner,
            note,
            field,
        };

        let mut bytes = envelope::open(&self.key, &context, sealed).map_err(|source| {
            NoteCryptoError::Integrity {
                note,
                field,
                source,
            }
        })?;

        match String::from_utf8(std::mem::take(&mut *bytes)) {
            Ok(text) => Ok(Zeroizing::new(text)),
            Err(error) => {
                drop(Zeroizing::new(error.into_bytes()));
                Err(NoteCryptoError::NotUtf8 { note, field })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key_for(master: &MasterKey, owner: UserId) -> UserNoteKey {
        UserNoteKey::derive(master, owner, &[7; USER_SALT_LEN])
    }

    #[test]
    fn sealed_field_round_trips() {
        let master = MasterKey::generate();
        let owner = UserId::new_random();
        let note = NoteId::new_time_ordered();
        let key = key_for(&master, owner);

        let sealed = key.seal(note, NoteField::Body, "groceries: eggs").unwrap();
        let opened = key.open(note, NoteField::Body, &sealed).unwrap();

        assert_eq!(opened.as_str(), "groceries: eggs");
    }

    #[test]
    fn field_fails_for_other_note() {
        let master = MasterKey::generate();
        let owner = UserId::new_random();
        let key = key_for(&master, owner);
        let sealed = key
            .seal(NoteId::new_time_ordered(), NoteField::Body, "secret")
            .unwrap();

        let result = key.open(NoteId::new_time_ordered(), NoteField::Body, &sealed);

        assert!(matches!(result, Err(NoteCryptoError::Integrity { .. })));
    }

    #[test]
    fn field_fails_for_other_owner() {
        let master = MasterKey::generate();
        let note = NoteId::new_time_ordered();
        let sealed = key_for(&master, UserId::new_random())
            .seal(note, NoteField::Body, "secret")
            .unwrap();

        let result = key_for(&master, UserId::new_random()).open(note, NoteField::Body, &sealed);

        assert!(matches!(result, Err(NoteCryptoError::Integrity { .. })));
    }

    #[test]
    fn title_fails_to_open_as_body() {
        let master = MasterKey::generate();
        let owner = UserId::new_random();
        let note = NoteId::new_time_ordered();
        let key = key_for(&master, owner);
        let sealed = key.seal(note, NoteField::Title, "title").unwrap();

        let result = key.open(note, NoteField::Body, &sealed);

        assert!(matches!(result, Err(NoteCryptoError::Integrity { .. })));
    }

    #[test]
    fn field_fails_under_other_master_key() {
        let owner = UserId::new_random();
        let note = NoteId::new_time_ordered();
        let sealed = key_for(&MasterKey::generate(), owner)
            .seal(note, NoteField::Body, "secret")
            .unwrap();

        let result = key_for(&MasterKey::generate(), owner).open(note, NoteField::Body, &sealed);

        assert!(matches!(result, Err(NoteCryptoError::Integrity { .. })));
    }
}
