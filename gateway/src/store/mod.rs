//! Persistence behind one interface, with SQLite and PostgreSQL backends.
//!
//! Handlers see only [`Store`], held as `Arc<dyn Store>`. The trait is split by
//! concept ([`UserStore`], [`NoteStore`]); a new concept gets its own sub-trait
//! and joins the [`Store`] bound. Every note query is scoped by owner, so a note
//! that belongs to someone else reads exactly like a missing one.
//!
//! The store receives and returns only sealed note fields, never plaintext.

mod group_commit;
mod postgres;
mod sqlite;

use std::path::PathBuf;
use std::sync::Arc;

use async_trait::async_trait;
use time::OffsetDateTime;

use crate::ids::{NoteId, PluginId, UserId};

pub use postgres::PostgresStore;
pub use sqlite::SqliteStore;

/// Store backend.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StoreKind {
    /// SQLite, a file in the data folder: the embedded default.
    Sqlite,
    /// PostgreSQL: the deployment store that gateway replicas share.
    Postgres,
}

/// Location of the database.
#[derive(Clone, Debug)]
pub enum StoreTarget {
    /// A SQLite database file, created if missing.
    SqliteFile(PathBuf),
    /// A `sqlite:` URL, as accepted by sqlx.
    SqliteUrl(String),
    /// A `postgres://` or `postgresql://` URL.
    PostgresUrl(String),
}

/// Store failures. Messages carry ids and database errors, never note content.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The username is already registered.
    #[error("the username is already taken")]
    UsernameTaken,
    /// The owner already has a plugin with this name.
    #[error("a plugin with this name already exists")]
    PluginNameTaken,
    /// A query or the connection failed.
    #[error("database operation failed: {0}")]
    Database(#[from] sqlx::Error),
    /// The transaction shared by several queued writes failed. None of
    /// them was stored, unless the failure was in `COMMIT` itself, after
    /// which the outcome is unknown.
    #[error("shared commit failed: {0}")]
    SharedCommit(std::sync::Arc<sqlx::Error>),
    /// The task that commits queued writes has stopped.
    #[error("the database writer task has stopped")]
    WriterStopped,
    /// Applying the schema migrations failed.
    #[error("database migration failed: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
}

/// A user row to insert.
#[derive(Clone, Debug)]
pub struct NewUser {
    /// Fresh random id.
    pub id: UserId,
    /// Normalized (lowercase) username, unique.
    pub username: String,
    /// Argon2id PHC string.
    pub password_hash: String,
    /// Random salt of the user's note key derivation.
    pub key_salt: Vec<u8>,
    /// Creation time.
    pub created_at: OffsetDateTime,
}

/// A stored user.
#[derive(Clone, Debug)]
pub struct UserRecord {
    /// The user's id.
    pub id: UserId,
    /// Normalized username.
    pub username: String,
    /// Argon2id PHC string.
    pub password_hash: String,
    /// Random salt of the user's note key derivation.
    pub key_salt: Vec<u8>,
}

/// A stored note with sealed fields.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NoteRecord {
    /// The note's id.
    pub id: NoteId,
    /// The owning user.
    pub owner: UserId,
    /// Sealed title envelope.
    pub title_sealed: Vec<u8>,
    /// Sealed body envelope.
    pub body_sealed: Vec<u8>,
    /// Creation time.
    pub created_at: OffsetDateTime,
    /// Time of the last replace, or the creation time.
    pub updated_at: OffsetDateTime,
}

/// A note in a listing: everything but the body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NoteSummaryRecord {
    /// The note's id.
    pub id: NoteId,
    /// Sealed title envelope.
    pub title_sealed: Vec<u8>,
    /// Creation time.
    pub created_at: OffsetDateTime,
    /// Time of the last replace, or the creation time.
    pub updated_at: OffsetDateTime,
}

/// New sealed contents for an existing note.
#[derive(Clone, Debug)]
pub struct NoteReplacement {
    /// Sealed title envelope.
    pub title_sealed: Vec<u8>,
    /// Sealed body envelope.
    pub body_sealed: Vec<u8>,
    /// Time of this replace.
    pub updated_at: OffsetDateTime,
}

/// User accounts.
#[async_trait]
pub trait UserStore: Send + Sync {
    /// Inserts a user; [`StoreError::UsernameTaken`] if the name exists.
    async fn create_user(&self, user: &NewUser) -> Result<(), StoreError>;

    /// Looks a user up by normalized username.
    async fn find_user_by_username(&self, username: &str)
    -> Result<Option<UserRecord>, StoreError>;

    /// Looks a user up by id.
    async fn find_user(&self, id: UserId) -> Result<Option<UserRecord>, StoreError>;
}

/// Sealed notes, always scoped to their owner.
#[async_trait]
pub trait NoteStore: Send + Sync {
    /// Inserts a new note unless its owner has `max_notes` notes already;
    /// returns whether it was inserted. The owner's note count changes in
    /// the same transaction, so concurrent inserts cannot pass the limit.
    async fn insert_note(&self, note: &NoteRecord, max_notes: u64) -> Result<bool, StoreError>;

    /// Counts the owner's notes, from the count kept with each insert and
    /// delete.
    async fn count_notes(&self, owner: UserId) -> Result<u64, StoreError>;

    /// Lists up to `limit` of the owner's notes, newest id first, starting
    /// after `before` (exclusive) when given.
    async fn list_notes(
        &self,
        owner: UserId,
        before: Option<NoteId>,
        limit: u32,
    ) -> Result<Vec<NoteSummaryRecord>, StoreError>;

    /// Fetches one of the owner's notes; `None` if missing or not the owner's.
    async fn get_note(&self, owner: UserId, id: NoteId) -> Result<Option<NoteRecord>, StoreError>;

    /// Replaces the sealed fields of one of the owner's notes and returns its
    /// creation time; `None` if missing or not the owner's.
    async fn replace_note(
        &self,
        owner: UserId,
        id: NoteId,
        replacement: &NoteReplacement,
    ) -> Result<Option<OffsetDateTime>, StoreError>;

    /// Deletes one of the owner's notes; `false` if missing or not the owner's.
    async fn delete_note(&self, owner: UserId, id: NoteId) -> Result<bool, StoreError>;
}

/// Who may see and run a plugin.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Visibility {
    /// Only the owner.
    Private,
    /// Every user.
    Public,
}

impl Visibility {
    /// The stored and serialized form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Private => "private",
            Self::Public => "public",
        }
    }

    /// Parses the stored form; anything else is treated as private.
    pub fn from_stored(text: &str) -> Self {
        if text == "public" {
            Self::Public
        } else {
            Self::Private
        }
    }
}

/// An uploaded plugin's metadata (its bytes are fetched separately).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PluginRecord {
    /// The plugin's id.
    pub id: PluginId,
    /// The uploading user.
    pub owner: UserId,
    /// Name, unique per owner.
    pub name: String,
    /// Optional description from the upload.
    pub description: Option<String>,
    /// Optional version label from the upload.
    pub version: Option<String>,
    /// Who may see and run it.
    pub visibility: Visibility,
    /// SHA-256 of the component bytes.
    pub sha256: [u8; 32],
    /// Size of the component in bytes.
    pub size_bytes: u64,
    /// Upload time.
    pub created_at: OffsetDateTime,
}

/// Uploaded plugins and their component bytes.
///
/// Reads are scoped to what the caller may see: their own plugins and public
/// ones. Another user's private plugin reads exactly like a missing one.
#[async_trait]
pub trait PluginStore: Send + Sync {
    /// Inserts a plugin and, unless a plugin with the same digest exists, its
    /// bytes; [`StoreError::PluginNameTaken`] if the owner has the name.
    async fn insert_plugin(&self, plugin: &PluginRecord, bytes: &[u8]) -> Result<(), StoreError>;

    /// Lists up to `limit` plugins visible to `caller` (own and public),
    /// newest id first, starting after `before` (exclusive) when given.
    async fn list_visible_plugins(
        &self,
        caller: UserId,
        before: Option<PluginId>,
        limit: u32,
    ) -> Result<Vec<PluginRecord>, StoreError>;

    /// Fetches a plugin if `caller` owns it or it is public.
    async fn get_visible_plugin(
        &self,
        caller: UserId,
        id: PluginId,
    ) -> Result<Option<PluginRecord>, StoreError>;

    /// Fetches the component bytes of a digest.
    async fn plugin_bytes(&self, sha256: &[u8; 32]) -> Result<Option<Vec<u8>>, StoreError>;

    /// Deletes one of the owner's plugins, and its bytes if no other plugin
    /// uses them; `false` if missing or not the owner's.
    async fn delete_plugin(&self, owner: UserId, id: PluginId) -> Result<bool, StoreError>;
}

/// The whole persistence interface the gateway uses.
#[async_trait]
pub trait Store: UserStore + NoteStore + PluginStore {
    /// Returns the backend in use.
    fn kind(&self) -> StoreKind;

    /// Runs a trivial query to check that the database is reachable.
    async fn ping(&self) -> Result<(), StoreError>;

    /// Closes the connection pool, waiting for open connections to finish.
    async fn close(&self);
}

/// Connects to `target`, applies pending migrations, and returns the store.
pub async fn connect(target: &StoreTarget) -> Result<Arc<dyn Store>, StoreError> {
    let store: Arc<dyn Store> = match target {
        StoreTarget::SqliteFile(path) => Arc::new(SqliteStore::open_file(path).await?),
        StoreTarget::SqliteUrl(url) => Arc::new(SqliteStore::open_url(url).await?),
        StoreTarget::PostgresUrl(url) => Arc::new(PostgresStore::connect(url).await?),
    };
    Ok(store)
}

/// Returns the current UTC time truncated to milliseconds, the finest
/// precision that both backends keep.
pub fn now() -> OffsetDateTime {
    let now = OffsetDateTime::now_utc();
    now.replace_millisecond(now.millisecond()).unwrap_or(now)
}

/// A `plugins` row as both backends select it.
type PluginRow = (
    uuid::Uuid,
    uuid::Uuid,
    String,
    Option<String>,
    Option<String>,
    String,
    Vec<u8>,
    i64,
    OffsetDateTime,
);

fn plugin_from_row(row: PluginRow) -> PluginRecord {
    let (id, owner, name, description, version, visibility, sha256, size_bytes, created_at) = row;
    // The schema checks the length; a short value reads as zeros rather than
    // panicking.
    let mut digest = [0u8; 32];
    if sha256.len() == digest.len() {
        digest.copy_from_slice(&sha256);
    }
    PluginRecord {
        id: PluginId::from_uuid(id),
        owner: UserId::from_uuid(owner),
        name,
        description,
        version,
        visibility: Visibility::from_stored(&visibility),
        sha256: digest,
        size_bytes: u64::try_from(size_bytes).unwrap_or(0),
        created_at,
    }
}

fn is_unique_violation(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(database) if database.is_unique_violation())
}
