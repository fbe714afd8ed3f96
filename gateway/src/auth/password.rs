//! Password hashing with Argon2id.
//!
//! Parameters are at least the OWASP Password Storage Cheat Sheet minimum for
//! Argon2id: 19 MiB of memory, 2 iterations, 1 lane. Hashes are stored as PHC
//! strings, so verification reads the parameters a hash was made with and
//! stronger parameters can be introduced without rehashing at once.
//!
//! Hashing takes tens of milliseconds of CPU and 19 MiB of memory, so async
//! callers go through [`PasswordPool`], which runs it on the blocking pool and
//! bounds how many hashes run at once (and so the memory they use).

use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier as _, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use std::sync::Arc;

use rand::rngs::OsRng;
use tokio::sync::Semaphore;
use zeroize::Zeroizing;

/// Memory cost in KiB (19 MiB).
pub const MEMORY_KIB: u32 = 19 * 1024;
/// Number of passes over memory.
pub const ITERATIONS: u32 = 2;
/// Degree of parallelism.
pub const LANES: u32 = 1;

/// Failure of the hashing machinery. A wrong password is not an error but
/// `Ok(false)` from [`PasswordHasher::verify`].
#[derive(Debug, thiserror::Error)]
pub enum PasswordError {
    /// The Argon2 parameters are invalid.
    #[error("invalid Argon2 parameters: {0}")]
    Params(argon2::Error),
    /// Argon2 rejected its input.
    #[error("password hashing failed: {0}")]
    Hash(argon2::password_hash::Error),
    /// A stored hash is not a valid PHC string.
    #[error("stored password hash is malformed: {0}")]
    MalformedHash(argon2::password_hash::Error),
    /// The pool's semaphore was closed; the pool never closes it.
    #[error("password hashing pool is closed")]
    PoolClosed,
    /// The blocking task running the hash panicked or was cancelled.
    #[error("password hashing task failed: {0}")]
    Task(#[from] tokio::task::JoinError),
}

/// Argon2id hasher with fixed parameters, plus a decoy hash so that logins for
/// unknown users cost as much as logins for known ones.
pub struct PasswordHasher {
    argon2: Argon2<'static>,
    decoy_hash: String,
}

impl PasswordHasher {
    /// Creates a hasher with the parameters above; hashes one decoy password.
    pub fn new() -> Result<Self, PasswordError> {
        let params =
            Params::new(MEMORY_KIB, ITERATIONS, LANES, None).map_err(PasswordError::Params)?;
        let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);

        let decoy_salt = SaltString::generate(&mut OsRng);
        let decoy_hash = argon2
            .hash_password(b"decoy password for unknown users", &decoy_salt)
            .map_err(PasswordError::Hash)?
            .to_string();

        Ok(Self { argon2, decoy_hash })
    }

    /// Hashes a password with a fresh random salt into a PHC string.
    pub fn hash(&self, password: &[u8]) -> Result<String, PasswordError> {
        let salt = SaltString::generate(&mut OsRng);
        let hash = self
            .argon2
            .hash_password(password, &salt)
            .map_err(PasswordError::Hash)?;
        Ok(hash.to_string())
    }

    /// Checks a password against a stored PHC string.
    pub fn verify(&self, password: &[u8], stored_hash: &str) -> Result<bool, PasswordError> {
        let parsed = PasswordHash::new(stored_hash).map_err(PasswordError::MalformedHash)?;

        match self.argon2.verify_password(password, &parsed) {
            Ok(()) => Ok(true),
            Err(argon2::password_hash::Error::Password) => Ok(false),
            Err(error) => Err(PasswordError::Hash(error)),
        }
    }

    /// Spends the same work as [`verify`](Self::verify) and returns nothing;
    /// for logins naming an unknown user.
    pub fn verify_decoy(&self, password: &[u8]) {
        let _ = self.verify(password, &self.decoy_hash);
    }
}

/// Runs [`PasswordHasher`] work on the blocking thread pool, at most
/// `max_concurrent` at a time; further requests wait for a free slot. Memory
/// for hashing is bounded by `max_concurrent` × 19 MiB.
pub struct PasswordPool {
    hasher: Arc<PasswordHasher>,
    permits: Semaphore,
}

impl PasswordPool {
    /// Creates a pool that runs at most `max_concurrent` hashes at once
    /// (at least one).
    pub fn new(hasher: PasswordHasher, max_concurrent: usize) -> Self {
        Self {
            hasher: Arc::new(hasher),
            permits: Semaphore::new(max_concurrent.max(1)),
        }
    }

    /// Hashes a password with a fresh random salt into a PHC string.
    pub async fn hash(&self, password: Zeroizing<String>) -> Result<String, PasswordError> {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|_| PasswordError::PoolClosed)?;
        let hasher = Arc::clone(&self.hasher);

        tokio::task::spawn_blocking(move || hasher.hash(password.as_bytes())).await?
    }

    /// Checks a password against a stored PHC string. With no stored hash
    /// (an unknown user), it spends the same work on the decoy hash and
    /// returns `false`.
    pub async fn verify(
        &self,
        password: Zeroizing<String>,
        stored_hash: Option<String>,
    ) -> Result<bool, PasswordError> {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|_| PasswordError::PoolClosed)?;
        let hasher = Arc::clone(&self.hasher);

        tokio::task::spawn_blocking(move || match stored_hash {
            Some(hash) => hasher.verify(password.as_bytes(), &hash),
            None => {
                hasher.verify_decoy(password.as_bytes());
                Ok(false)
            }
        })
        .await?
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn correct_password_verifies() {
        let hasher = PasswordHasher::new().unwrap();
        let hash = hasher.hash(b"correct horse battery staple").unwrap();

        assert!(
            hasher
                .verify(b"correct horse battery staple", &hash)
                .unwrap()
        );
    }

    #[test]
    fn wrong_password_does_not_verify() {
        let hasher = PasswordHasher::new().unwrap();
        let hash = hasher.hash(b"correct horse battery staple").unwrap();

        assert!(!hasher.verify(b"Tr0ub4dor&3", &hash).unwrap());
    }

    #[test]
    fn hash_records_argon2id_at_owasp_minimum() {
        let hasher = PasswordHasher::new().unwrap();

        let hash = hasher.hash(b"password").unwrap();

        assert!(
            hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{hash}"
        );
    }

    #[tokio::test]
    async fn pool_verifies_through_blocking_tasks() {
        let pool = PasswordPool::new(PasswordHasher::new().unwrap(), 1);
        let password = || Zeroizing::new("correct horse battery staple".to_owned());

        let hash = pool.hash(password()).await.unwrap();

        assert!(pool.verify(password(), Some(hash)).await.unwrap());
        assert!(!pool.verify(password(), None).await.unwrap());
    }

    #[test]
    fn malformed_stored_hash_is_an_error() {
        let hasher = PasswordHasher::new().unwrap();

        let result = hasher.verify(b"password", "not a phc string");

        assert!(matches!(result, Err(PasswordError::MalformedHash(_))));
    }
}
