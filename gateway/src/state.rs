//! Shared state handed to every request handler.

use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use crate::auth::{LoginThrottle, PasswordError, PasswordHasher, PasswordPool, TokenService};
use crate::crypto::MasterKey;
use crate::ids::UserId;
use crate::problem::ApiError;
use crate::runs::PluginRuntime;
use crate::store::Store;

/// Size limits on what a caller sends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Maximum request body, in bytes. Default 2 MiB, which leaves room for a
    /// maximum-size note body with JSON escaping.
    pub max_request_bytes: usize,
    /// Maximum note title, in bytes of UTF-8. Default 1,024.
    pub max_title_bytes: usize,
    /// Maximum note body, in bytes of UTF-8. Default 1 MiB.
    pub max_note_body_bytes: usize,
    /// Maximum notes per list page. Default 100.
    pub max_page_size: u32,
    /// Notes per list page when the request gives no `limit`. Default 50.
    pub default_page_size: u32,
    /// Argon2id hashes computed at once; each uses 19 MiB. Default 4.
    pub max_concurrent_password_hashes: usize,
    /// Maximum notes one user may keep. Default 10,000.
    pub max_notes_per_user: u64,
    /// Login attempts per username per minute, all usable at once.
    /// Default 10.
    pub login_attempts_per_minute: NonZeroU32,
}

impl Limits {
    /// The defaults listed on each field.
    pub const DEFAULT: Self = Self {
        max_request_bytes: 2 * 1024 * 1024,
        max_title_bytes: 1024,
        max_note_body_bytes: 1024 * 1024,
        max_page_size: 100,
        default_page_size: 50,
        max_concurrent_password_hashes: 4,
        max_notes_per_user: 10_000,
        login_attempts_per_minute: NonZeroU32::new(10).expect("10 is not zero"),
    };
}

impl Default for Limits {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// Everything a handler needs; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    /// The store.
    pub store: Arc<dyn Store>,
    /// The deployment's master key, for deriving per-user note keys.
    pub master_key: Arc<MasterKey>,
    /// Access-token issuer and verifier.
    pub tokens: Arc<TokenService>,
    /// Argon2id password hashing, bounded in concurrency.
    pub passwords: Arc<PasswordPool>,
    /// Per-username login attempt limiter.
    pub login_throttle: Arc<LoginThrottle>,
    /// Request and field limits.
    pub limits: Limits,
    /// Note key salts of recently active users, so that a request derives
    /// its note key without reading the user's row.
    pub key_salts: Arc<KeySalts>,
    /// The sandbox: plugin compilation and runs. `None` in router tests that
    /// need no plugins; plugin routes then return 503.
    pub runtime: Option<Arc<PluginRuntime>>,
}

/// Users whose note key salt is kept in memory: about 100 bytes each, so
/// about 10 MB at most.
const KEY_SALT_CACHE_USERS: usize = 100_000;

/// Note key salts by user. A salt is not secret, and it never changes
/// while the user exists.
///
/// NOTE: no user is ever deleted. Deleting users would need this cache
/// to drop their entries on every replica.
pub type KeySalts = quick_cache::sync::Cache<UserId, Arc<[u8]>>;

impl AppState {
    /// Builds the state; hashes one decoy password, which takes tens of
    /// milliseconds.
    pub fn new(
        store: Arc<dyn Store>,
        master_key: MasterKey,
        token_lifetime: Duration,
        limits: Limits,
    ) -> Result<Self, PasswordError> {
        let tokens = TokenService::new(&master_key, token_lifetime);

        Ok(Self {
            store,
            master_key: Arc::new(master_key),
            tokens: Arc::new(tokens),
            passwords: Arc::new(PasswordPool::new(
                PasswordHasher::new()?,
                limits.max_concurrent_password_hashes,
            )),
            login_throttle: Arc::new(LoginThrottle::new(limits.login_attempts_per_minute)),
            limits,
            key_salts: Arc::new(KeySalts::new(KEY_SALT_CACHE_USERS)),
            runtime: None,
        })
    }

    /// Adds the plugin runtime.
    #[must_use]
    pub fn with_runtime(mut self, runtime: PluginRuntime) -> Self {
        self.runtime = Some(Arc::new(runtime));
        self
    }

    /// The plugin runtime, or 503 when this state was built without one.
    pub fn runtime(&self) -> Result<&PluginRuntime, ApiError> {
        self.runtime.as_deref().ok_or_else(|| {
            ApiError::Unavailable("plugin runs are not configured on this server".into())
        })
    }
}
