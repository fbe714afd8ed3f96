//! Local disk cache of precompiled plugin code, authenticated with a MAC.
//!
//! Precompiled code is native machine code that a worker maps and runs
//! without validation, so an attacker who can change a cached file gets native code
//! execution in the next worker. Every artifact therefore carries an
//! HMAC-SHA256 tag under a key derived for this purpose only, and the gateway
//! checks the tag before it hands the artifact to a worker. A file whose tag
//! does not verify is deleted and reported as [`Lookup::Tampered`], so the
//! caller recompiles.
//!
//! # Layout and format
//!
//! `DIR/<engine>/<digest>.cwasm`, where `<engine>` is the SHA-256 of the
//! engine fingerprint (wasmtime version and configuration) and `<digest>` the
//! plugin's SHA-256, both in hex. A changed engine therefore never sees
//! artifacts it cannot load. Each file is:
//!
//! | bytes | content |
//! | --- | --- |
//! | 8 | magic `SNCWASM1` |
//! | 32 | HMAC-SHA256 tag |
//! | rest | the precompiled artifact |
//!
//! The tag covers the magic, the engine fingerprint (length-prefixed), the
//! plugin digest and the artifact, so a valid file cannot be moved to another
//! plugin's or engine's name. Files are written to a temporary name and
//! renamed, so a reader never sees half a file. All calls block on file I/O.

use std::fs;
use std::io::{self, Read, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::digest::PluginDigest;

const MAGIC: &[u8; 8] = b"SNCWASM1";
const TAG_LEN: usize = 32;
const HEADER_LEN: usize = MAGIC.len() + TAG_LEN;

/// Default bound on a cached artifact's size: 256 MiB.
const DEFAULT_MAX_ARTIFACT_BYTES: u64 = 256 * 1024 * 1024;

type HmacSha256 = Hmac<Sha256>;

/// The 256-bit key that authenticates cached artifacts. Zeroed on drop.
pub struct ArtifactMacKey(Zeroizing<[u8; 32]>);

impl ArtifactMacKey {
    /// Wraps key bytes derived for artifact authentication only.
    pub fn new(bytes: Zeroizing<[u8; 32]>) -> Self {
        Self(bytes)
    }
}

impl std::fmt::Debug for ArtifactMacKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ArtifactMacKey(..)")
    }
}

/// Errors of the cache itself. A missing or tampered entry is not an error
/// but a [`Lookup`] result.
#[derive(Debug, thiserror::Error)]
pub enum ArtifactCacheError {
    /// The cache folder or a file in it could not be read or written.
    #[error("artifact cache I/O failed at {path}: {source}")]
    Io {
        /// The file or folder involved.
        path: PathBuf,
        /// The underlying error.
        source: io::Error,
    },
    /// An artifact to store is larger than the cache accepts.
    #[error("artifact of {size} bytes is above the cache limit of {limit} bytes")]
    TooLarge {
        /// Size of the artifact.
        size: u64,
        /// The configured limit.
        limit: u64,
    },
}

/// Result of looking up a plugin's artifact.
#[derive(Debug)]
pub enum Lookup {
    /// An authentic artifact for this plugin and engine.
    Hit(Vec<u8>),
    /// No artifact is cached.
    Miss,
    /// A file was present but failed authentication; it has been deleted.
    Tampered,
}

/// Precompiled-code cache for one engine fingerprint.
#[derive(Debug)]
pub struct ArtifactCache {
    dir: PathBuf,
    engine_fingerprint: String,
    key: ArtifactMacKey,
    max_artifact_bytes: u64,
}

impl ArtifactCache {
    /// Opens (creating with mode 0700 if needed) the cache under `root` for
    /// artifacts of the engine identified by `engine_fingerprint`.
    ///
    /// # Errors
    ///
    /// [`ArtifactCacheError::Io`] if the folder cannot be created.
    pub fn open(
        root: &Path,
        engine_fingerprint: &str,
        key: ArtifactMacKey,
    ) -> Result<Self, ArtifactCacheError> {
        let engine_dir = hex::encode(Sha256::digest(engine_fingerprint.as_bytes()));
        let cache = Self {
            dir: root.join(engine_dir),
            engine_fingerprint: engine_fingerprint.to_owned(),
            key,
            max_artifact_bytes: DEFAULT_MAX_ARTIFACT_BYTES,
        };
        cache.create_dir()?;
        Ok(cache)
    }

    fn create_dir(&self) -> Result<(), ArtifactCacheError> {
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&self.dir)
            .map_err(|source| ArtifactCacheError::Io {
                path: self.dir.clone(),
                source,
            })
    }

    /// Sets the largest artifact the cache stores or reads. Default 256 MiB.
    pub fn with_max_artifact_bytes(mut self, limit: u64) -> Self {
        self.max_artifact_bytes = limit;
        self
    }

    /// The path of a plugin's cached artifact.
    pub fn path_of(&self, digest: &PluginDigest) -> PathBuf {
        self.dir.join(format!("{digest}.cwasm"))
    }

    /// Looks up the artifact of `digest`, verifying its tag.
    ///
    /// A file that is truncated, too large or fails verification is deleted
    /// and reported as [`Lookup::Tampered`], with a warning in the log.
    ///
    /// # Errors
    ///
    /// [`ArtifactCacheError::Io`] if the file exists but cannot be read.
    pub fn get(&self, digest: &PluginDigest) -> Result<Lookup, ArtifactCacheError> {
        let path = self.path_of(digest);
        let io_error = |source| ArtifactCacheError::Io {
            path: path.clone(),
            source,
        };

        let file = match fs::File::open(&path) {
            Ok(file) => file,
            Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(Lookup::Miss),
            Err(error) => return Err(io_error(error)),
        };

        // Read at most one byte past the limit, so an oversized file is
        // detected without reading it whole.
        let limit = self.max_artifact_bytes + HEADER_LEN as u64;
        let mut contents = Vec::new();
        file.take(limit + 1)
            .read_to_end(&mut contents)
            .map_err(io_error)?;

        if self.verify(digest, &contents).is_some() {
            contents.drain(..HEADER_LEN);
            return Ok(Lookup::Hit(contents));
        }

        tracing::warn!(
            plugin_sha256 = %digest,
            path = %path.display(),
            "cached precompiled artifact failed authentication; deleting it"
        );
        match fs::remove_file(&path) {
            Ok(()) => {}
            Err(error) if error.kind() == io::ErrorKind::NotFound => {}
            Err(error) => return Err(io_error(error)),
        }
        Ok(Lookup::Tampered)
    }

    /// Stores `artifact` as the precompiled code of `digest`.
    ///
    /// # Errors
    ///
    /// [`ArtifactCacheError::TooLarge`] above the size limit, or
    /// [`ArtifactCacheError::Io`] if the file cannot be written.
    pub fn put(&self, digest: &PluginDigest, artifact: &[u8]) -> Result<(), ArtifactCacheError> {
        let size = artifact.len() as u64;
        if size > self.max_artifact_bytes {
            return Err(ArtifactCacheError::TooLarge {
                size,
                limit: self.max_artifact_bytes,
            });
        }

        let path = self.path_of(digest);
        let temporary = self
            .dir
            .join(format!(".{digest}.{}.tmp", std::process::id()));
        let io_error = |source| ArtifactCacheError::Io {
            path: temporary.clone(),
            source,
        };

        // The folder may have been removed since `open`, for example by an
        // operator clearing the cache; recreate it rather than fail the run.
        self.create_dir()?;

        let tag = self.tag(digest, artifact);
        let mut file = fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&temporary)
            .map_err(io_error)?;
        file.write_all(MAGIC).map_err(io_error)?;
        file.write_all(&tag).map_err(io_error)?;
        file.write_all(artifact).map_err(io_error)?;
        file.sync_all().map_err(io_error)?;
        drop(file);

        fs::rename(&temporary, &path).map_err(|source| ArtifactCacheError::Io {
            path: path.clone(),
            source,
        })
    }

    /// Returns `Some(())` when `contents` is a well-formed file whose tag
    /// verifies for `digest` under this engine.
    fn verify(&self, digest: &PluginDigest, contents: &[u8]) -> Option<()> {
        if contents.len() < HEADER_LEN
            || contents.len() as u64 > self.max_artifact_bytes + HEADER_LEN as u64
        {
            return None;
        }
        let (magic, rest) = contents.split_at(MAGIC.len());
        let (tag, artifact) = rest.split_at(TAG_LEN);
        if magic != MAGIC {
            return None;
        }

        // `verify_slice` compares in constant time.
        self.mac(digest, artifact).verify_slice(tag).ok()
    }

    fn tag(&self, digest: &PluginDigest, artifact: &[u8]) -> [u8; TAG_LEN] {
        self.mac(digest, artifact).finalize().into_bytes().into()
    }

    fn mac(&self, digest: &PluginDigest, artifact: &[u8]) -> HmacSha256 {
        let mut mac = HmacSha256::new_from_slice(self.key.0.as_slice())
            .expect("HMAC accepts keys of any length");
        mac.update(MAGIC);
        mac.update(&(self.engine_fingerprint.len() as u64).to_be_bytes());
        mac.update(self.engine_fingerprint.as_bytes());
        mac.update(digest.as_bytes());
        mac.update(artifact);
        mac
    }
}
