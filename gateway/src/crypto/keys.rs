//! The master key and the keys derived from it.
//!
//! Every key the gateway uses is HKDF-SHA256 output keyed by the 256-bit master
//! key, with a distinct `info` label per purpose, so no key serves two purposes:
//!
//! | purpose | HKDF salt | HKDF info |
//! | --- | --- | --- |
//! | a user's note key | the user's random 32-byte salt | `sandnotes/v1/note-key/<key version>` |
//! | the HS256 access-token signing key | none | `sandnotes/v1/access-token-hs256` |
//! | the MAC key of cached precompiled plugin artifacts | none | `sandnotes/v1/artifact-mac` |
//!
//! Key bytes live in [`Zeroizing`] buffers and are wiped when dropped. Types
//! here print as `[redacted]` in `Debug` output.

use std::fmt;
use std::fs;
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hkdf::Hkdf;
use rand::RngCore;
use rand::rngs::OsRng;
use sha2::Sha256;
use zeroize::Zeroizing;

/// Length of the master key and of every derived key, in bytes.
pub const KEY_LEN: usize = 32;

/// Length of the random per-user salt of the note key derivation, in bytes.
pub const USER_SALT_LEN: usize = 32;

/// Version of the master key this build loads.
///
/// Sealed notes record the key version they were sealed under, so a later
/// keyring can hold several master keys and rewrap old rows.
// NOTE: only one master key version exists; rotation (a keyring that opens
// old versions and rewraps rows) is not implemented yet.
pub const CURRENT_KEY_VERSION: u32 = 1;

const NOTE_KEY_INFO_PREFIX: &str = "sandnotes/v1/note-key/";
const ACCESS_TOKEN_KEY_INFO: &[u8] = b"sandnotes/v1/access-token-hs256";
const ARTIFACT_MAC_KEY_INFO: &[u8] = b"sandnotes/v1/artifact-mac";

/// Failure to load or store a master key. Messages name paths, never key bytes.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// The key file could not be read.
    #[error("failed to read the master key file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The key file could not be created or written.
    #[error("failed to write the master key file {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The key file does not contain exactly 32 bytes.
    #[error("the master key file {path} must contain exactly 32 bytes, found {found}")]
    FileLength { path: PathBuf, found: usize },
    /// The base64 value is not valid base64.
    #[error("the master key is not valid base64 (standard alphabet, padded)")]
    Base64,
    /// The base64 value does not decode to exactly 32 bytes.
    #[error("the master key must decode to exactly 32 bytes, found {found}")]
    Length { found: usize },
}

/// The deployment's 256-bit master key.
pub struct MasterKey {
    bytes: Zeroizing<[u8; KEY_LEN]>,
}

/// A user's note key for one key version; AES-256-GCM key material.
pub struct NoteKey {
    version: u32,
    bytes: Zeroizing<[u8; KEY_LEN]>,
}

impl MasterKey {
    /// Creates a new key from the operating system's random number generator.
    pub fn generate() -> Self {
        let mut bytes = Zeroizing::new([0u8; KEY_LEN]);
        OsRng.fill_bytes(bytes.as_mut());
        Self { bytes }
    }

    /// Builds a key from exactly 32 bytes.
    pub fn from_slice(bytes: &[u8]) -> Result<Self, KeyError> {
        let array: [u8; KEY_LEN] = bytes
            .try_into()
            .map_err(|_| KeyError::Length { found: bytes.len() })?;
        Ok(Self {
            bytes: Zeroizing::new(array),
        })
    }

    /// Decodes a key from standard padded base64 of exactly 32 bytes.
    pub fn from_base64(text: &str) -> Result<Self, KeyError> {
        let decoded = Zeroizing::new(STANDARD.decode(text.trim()).map_err(|_| KeyError::Base64)?);
        Self::from_slice(&decoded)
    }

    /// Reads a key file of exactly 32 raw bytes.
    ///
    /// A file that other users can read still loads, but logs a warning.
    pub fn read_file(path: &Path) -> Result<Self, KeyError> {
        let read_error = |source| KeyError::Read {
            path: path.to_owned(),
            source,
        };

        let mode = fs::metadata(path).map_err(read_error)?.permissions().mode();
        if mode & 0o077 != 0 {
            tracing::warn!(
                path = %path.display(),
                mode = format_args!("{:o}", mode & 0o777),
                "the master key file is accessible to other users; restrict it to mode 0600"
            );
        }

        let contents = Zeroizing::new(fs::read(path).map_err(read_error)?);
        Self::from_slice(&contents).map_err(|_| KeyError::FileLength {
            path: path.to_owned(),
            found: contents.len(),
        })
    }

    /// Writes the key to a new file with mode 0600; fails if the file exists.
    pub fn write_new_file(&self, path: &Path) -> Result<(), KeyError> {
        let write_error = |source| KeyError::Write {
            path: path.to_owned(),
            source,
        };

        let mut file = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(path)
            .map_err(write_error)?;
        file.write_all(self.bytes.as_ref()).map_err(write_error)?;
        file.sync_all().map_err(write_error)
    }

    /// Derives the note key of the user with the given salt, for the current
    /// key version.
    pub fn note_key(&self, user_salt: &[u8]) -> NoteKey {
        let info = format!("{NOTE_KEY_INFO_PREFIX}{CURRENT_KEY_VERSION}");
        NoteKey {
            version: CURRENT_KEY_VERSION,
            bytes: self.expand(Some(user_salt), info.as_bytes()),
        }
    }

    /// Derives the HMAC-SHA256 key that signs access tokens.
    pub fn access_token_key(&self) -> Zeroizing<[u8; KEY_LEN]> {
        self.expand(None, ACCESS_TOKEN_KEY_INFO)
    }

    /// Derives the MAC key that authenticates cached precompiled plugin
    /// artifacts, so a tampered cache file is detected before it is loaded.
    pub fn artifact_mac_key(&self) -> Zeroizing<[u8; KEY_LEN]> {
        self.expand(None, ARTIFACT_MAC_KEY_INFO)
    }

    fn expand(&self, salt: Option<&[u8]>, info: &[u8]) -> Zeroizing<[u8; KEY_LEN]> {
        let hkdf = Hkdf::<Sha256>::new(salt, self.bytes.as_ref());
        let mut output = Zeroizing::new([0u8; KEY_LEN]);
        hkdf.expand(info, output.as_mut())
            .expect("32 bytes is a valid HKDF-SHA256 output length");
        output
    }
}

impl NoteKey {
    /// Returns the master key version this key was derived from.
    pub const fn version(&self) -> u32 {
        self.version
    }

    /// Returns the raw key bytes.
    pub(crate) fn bytes(&self) -> &[u8; KEY_LEN] {
        &self.bytes
    }
}

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MasterKey([redacted])")
    }
}

impl fmt::Debug for NoteKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "NoteKey(version {}, [redacted])", self.version)
    }
}

/// Creates a new random per-user salt.
pub fn generate_user_salt() -> [u8; USER_SALT_LEN] {
    let mut salt = [0u8; USER_SALT_LEN];
    OsRng.fill_bytes(&mut salt);
    salt
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_purpose_derives_a_distinct_key() {
        let master = MasterKey::generate();

        let note = master.note_key(&[0; USER_SALT_LEN]);
        let token = master.access_token_key();
        let artifact = master.artifact_mac_key();

        assert_ne!(note.bytes(), &*token);
        assert_ne!(note.bytes(), &*artifact);
        assert_ne!(&*token, &*artifact);
    }

    #[test]
    fn note_keys_differ_per_salt() {
        let master = MasterKey::generate();

        let first = master.note_key(&[1; USER_SALT_LEN]);
        let second = master.note_key(&[2; USER_SALT_LEN]);

        assert_ne!(first.bytes(), second.bytes());
    }

    #[test]
    fn derivation_is_deterministic() {
        let master = MasterKey::from_slice(&[9; KEY_LEN]).unwrap();

        let first = master.artifact_mac_key();
        let second = MasterKey::from_slice(&[9; KEY_LEN])
            .unwrap()
            .artifact_mac_key();

        assert_eq!(*first, *second);
    }

    #[test]
    fn base64_key_of_wrong_length_is_rejected() {
        let result = MasterKey::from_base64(&STANDARD.encode([0u8; 16]));

        assert!(matches!(result, Err(KeyError::Length { found: 16 })));
    }

    #[test]
    fn debug_output_hides_key_bytes() {
        let master = MasterKey::from_slice(&[0xAB; KEY_LEN]).unwrap();

        let printed = format!("{master:?}");

        assert_eq!(printed, "MasterKey([redacted])");
    }

    #[test]
    fn written_key_file_reads_back_with_mode_0600() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("master.key");
        let master = MasterKey::generate();

        master.write_new_file(&path).unwrap();
        let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        let loaded = MasterKey::read_file(&path).unwrap();

        assert_eq!(mode, 0o600);
        assert_eq!(*loaded.artifact_mac_key(), *master.artifact_mac_key());
    }
}
