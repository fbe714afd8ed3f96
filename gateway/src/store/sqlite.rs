//! The SQLite backend: the embedded default, one file in the data folder.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions};
use time::OffsetDateTime;
use uuid::Uuid;

use super::group_commit::NoteInserter;
use super::{
    NewUser, NoteRecord, NoteReplacement, NoteStore, NoteSummaryRecord, PluginRecord, PluginRow,
    PluginStore, Store, StoreError, StoreKind, UserRecord, UserStore, is_unique_violation,
    plugin_from_row,
};
use crate::ids::{NoteId, PluginId, UserId};

/// Connections in the pool. SQLite allows one writer at a time; readers run in
/// parallel in WAL mode. The note writer keeps one of them (see
/// `group_commit`), which leaves four to all other queries.
const MAX_CONNECTIONS: u32 = 5;

/// How long a writer waits for the database lock before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// A store on a SQLite database.
pub struct SqliteStore {
    pool: SqlitePool,
    /// Note inserts go through one writer task that shares commits.
    note_inserter: NoteInserter,
}

type UserRow = (Uuid, String, String, Vec<u8>);
type NoteRow = (Uuid, Uuid, Vec<u8>, Vec<u8>, OffsetDateTime, OffsetDateTime);
type NoteSummaryRow = (Uuid, Vec<u8>, OffsetDateTime, OffsetDateTime);

impl SqliteStore {
    /// Opens (creating if missing) the database file at `path` and migrates it.
    pub async fn open_file(path: &Path) -> Result<Self, StoreError> {
        Self::open(SqliteConnectOptions::new().filename(path)).await
    }

    /// Opens the database named by a `sqlite:` URL and migrates it.
    pub async fn open_url(url: &str) -> Result<Self, StoreError> {
        Self::open(SqliteConnectOptions::from_str(url)?).await
    }

    async fn open(options: SqliteConnectOptions) -> Result<Self, StoreError> {
        let options = options
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .foreign_keys(true)
            .busy_timeout(BUSY_TIMEOUT);

        // A connection to a local file does not go stale, so the ping that
        // sqlx sends on every acquire by default, one more round trip to
        // the connection's thread per query, buys nothing.
        let pool = SqlitePoolOptions::new()
            .max_connections(MAX_CONNECTIONS)
            .test_before_acquire(false)
            .connect_with(options)
            .await?;
        sqlx::migrate!("./migrations/sqlite").run(&pool).await?;

        let note_inserter = NoteInserter::start(pool.clone());
        Ok(Self {
            pool,
            note_inserter,
        })
    }
}

fn user_from_row((id, username, password_hash, key_salt): UserRow) -> UserRecord {
    UserRecord {
        id: UserId::from_uuid(id),
        username,
        password_hash,
        key_salt,
    }
}

#[async_trait]
impl UserStore for SqliteStore {
    async fn create_user(&self, user: &NewUser) -> Result<(), StoreError> {
        let result = sqlx::query(
            "INSERT INTO users (id, username, password_hash, key_salt, created_at) \
             VALUES (?, ?, ?, ?, ?)",
        )
        .bind(user.id.as_uuid())
        .bind(&user.username)
        .bind(&user.password_hash)
        .bind(&user.key_salt)
        .bind(user.created_at)
        .execute(&self.pool)
        .await;

        match result {
            Ok(_) => Ok(()),
            Err(error) if is_unique_violation(&error) => Err(StoreError::UsernameTaken),
            Err(error) => Err(error.into()),
        }
    }

    async fn find_user_by_username(
        &self,
        username: &str,
    ) -> Result<Option<UserRecord>, StoreError> {
        let row: Option<UserRow> = sqlx::query_as(
            "SELECT id, username, password_hash, key_salt FROM users WHERE username = ?",
        )
        .bind(username)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(user_from_row))
    }

    async fn find_user(&self, id: UserId) -> Result<Option<UserRecord>, StoreError> {
        let row: Option<UserRow> =
            sqlx::query_as("SELECT id, username, password_hash, key_salt FROM users WHERE id = ?")
                .bind(id.as_uuid())
                .fetch_optional(&self.pool)
                .await?;
        Ok(row.map(user_from_row))
    }
}

#[async_trait]
impl NoteStore for SqliteStore {
    async fn insert_note(&self, note: &NoteRecord, max_notes: u64) -> Result<bool, StoreError> {
        let max_notes = i64::try_from(max_notes).unwrap_or(i64::MAX);
        self.note_inserter.insert(note, max_notes).await
    }

    async fn count_notes(&self, owner: UserId) -> Result<u64, StoreError> {
        let count: Option<(i64,)> = sqlx::query_as("SELECT note_count FROM users WHERE id = ?")
            .bind(owner.as_uuid())
            .fetch_optional(&self.pool)
            .await?;
        Ok(count.map_or(0, |(count,)| u64::try_from(count).unwrap_or_default()))
    }

    async fn list_notes(
        &self,
        owner: UserId,
        before: Option<NoteId>,
        limit: u32,
    ) -> Result<Vec<NoteSummaryRecord>, StoreError> {
        let rows: Vec<NoteSummaryRow> = sqlx::query_as(
            "SELECT id, title_sealed, created_at, updated_at FROM notes \
             WHERE owner_id = ? AND (? IS NULL OR id < ?) \
             ORDER BY id DESC LIMIT ?",
        )
        .bind(owner.as_uuid())
        .bind(before.map(|id| *id.as_uuid()))
        .bind(before.map(|id| *id.as_uuid()))
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;

        let notes = rows
            .into_iter()
            .map(
                |(id, title_sealed, created_at, updated_at)| NoteSummaryRecord {
                    id: NoteId::from_uuid(id),
                    title_sealed,
                    created_at,
                    updated_at,
                },
            )
            .collect();
        Ok(notes)
    }

    async fn get_note(&self, owner: UserId, id: NoteId) -> Result<Option<NoteRecord>, StoreError> {
        let row: Option<NoteRow> = sqlx::query_as(
            "SELECT id, owner_id, title_sealed, body_sealed, created_at, updated_at FROM notes \
             WHERE id = ? AND owner_id = ?",
        )
        .bind(id.as_uuid())
        .bind(owner.as_uuid())
        .fetch_optional(&self.pool)
        .await?;

        Ok(row.map(
            |(id, owner, title_sealed, body_sealed, created_at, updated_at)| NoteRecord {
                id: NoteId::from_uuid(id),
                owner: UserId::from_uuid(owner),
                title_sealed,
                body_sealed,
                created_at,
                updated_at,
            },
        ))
    }

    async fn replace_note(
        &self,
        owner: UserId,
        id: NoteId,
        replacement: &NoteReplacement,
    ) -> Result<Option<OffsetDateTime>, StoreError> {
        let created_at: Option<(OffsetDateTime,)> = sqlx::query_as(
            "UPDATE notes SET title_sealed = ?, body_sealed = ?, updated_at = ? \
             WHERE id = ? AND owner_id = ? RETURNING created_at",
        )
        .bind(&replacement.title_sealed)
        .bind(&replacement.body_sealed)
        .bind(replacement.updated_at)
        .bind(id.as_uuid())
        .bind(owner.as_uuid())
        .fetch_optional(&self.pool)
        .await?;
        Ok(created_at.map(|(created_at,)| created_at))
    }

    async fn delete_note(&self, owner: UserId, id: NoteId) -> Result<bool, StoreError> {
        // A trigger lowers the owner's note count in the same statement.
        let result = sqlx::query("DELETE FROM notes WHERE id = ? AND owner_id = ?")
            .bind(id.as_uuid())
            .bind(owner.as_uuid())
            .execute(&self.pool)
            .await?;
        Ok(result.rows_affected() == 1)
    }
}

#[async_trait]
impl PluginStore for SqliteStore {
    async fn insert_plugin(&self, plugin: &PluginRecord, bytes: &[u8]) -> Result<(), StoreError> {
        let mut transaction = self.pool.begin().await?;
        sqlx::query(
            "INSERT INTO plugin_blobs (sha256, bytes, created_at) VALUES (?, ?, ?) \
             ON CONFLICT (sha256) DO NOTHING",
        )
        .bind(plugin.sha256.as_slice())
        .bind(bytes)
        .bind(plugin.created_at)
        .execute(&mut *transaction)
        .await?;

        let inserted = sqlx::query(
            "INSERT INTO plugins (id, owner_id, name, description, version, visibility, sha256, \
             size_bytes, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(plugin.id.as_uuid())
        .bind(plugin.owner.as_uuid())
        .bind(&plugin.name)
        .bind(&plugin.description)
        .bind(&plugin.version)
        .bind(plugin.visibility.as_str())
        .bind(plugin.sha256.as_slice())
        .bind(i64::try_from(plugin.size_bytes).unwrap_or(i64::MAX))
        .bind(plugin.created_at)
        .execute(&mut *transaction)
        .await;

        match inserted {
            Ok(_) => {}
            Err(error) if is_unique_violation(&error) => return Err(StoreError::PluginNameTaken),
            Err(error) => return Err(error.into()),
        }
        transaction.commit().await?;
        Ok(())
    }

    async fn list_visible_plugins(
        &self,
        caller: UserId,
        before: Option<PluginId>,
        limit: u32,
    ) -> Result<Vec<PluginRecord>, StoreError> {
        let rows: Vec<PluginRow> = sqlx::query_as(
            "SELECT id, owner_id, name, description, version, visibility, sha256, size_bytes, \
             created_at FROM plugins \
             WHERE (owner_id = ? OR visibility = 'public') AND (? IS NULL OR id < ?) \
             ORDER BY id DESC LIMIT ?",
        )
        .bind(caller.as_uuid())
        .bind(before.map(|id| *id.as_uuid()))
        .bind(before.map(|id| *id.as_uuid()))
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(plugin_from_row).collect())
    }

    async fn get_visible_plugin(
        &self,
        caller: UserId,
        id: PluginId,
    ) -> Result<Option<PluginRecord>, StoreError> {
        let row: Option<PluginRow> = sqlx::query_as(
            "SELECT id, owner_id, name, description, version, visibility, sha256, size_bytes, \
             created_at FROM plugins \
             WHERE id = ? AND (owner_id = ? OR visibility = 'public')",
        )
        .bind(id.as_uuid())
        .bind(caller.as_uuid())
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(plugin_from_row))
    }

    async fn plugin_bytes(&self, sha256: &[u8; 32]) -> Result<Option<Vec<u8>>, StoreError> {
        let row: Option<(Vec<u8>,)> =
            sqlx::query_as("SELECT bytes FROM plugin_blobs WHERE sha256 = ?")
                .bind(sha256.as_slice())
                .fetch_optional(&self.pool)
                .await?;
        Ok(row.map(|(bytes,)| bytes))
    }

    async fn delete_plugin(&self, owner: UserId, id: PluginId) -> Result<bool, StoreError> {
        let mut transaction = self.pool.begin().await?;
        let deleted: Option<(Vec<u8>,)> =
            sqlx::query_as("DELETE FROM plugins WHERE id = ? AND owner_id = ? RETURNING sha256")
                .bind(id.as_uuid())
                .bind(owner.as_uuid())
                .fetch_optional(&mut *transaction)
                .await?;

        let Some((sha256,)) = deleted else {
            return Ok(false);
        };
        sqlx::query(
            "DELETE FROM plugin_blobs WHERE sha256 = ? \
             AND NOT EXISTS (SELECT 1 FROM plugins WHERE sha256 = ?)",
        )
        .bind(&sha256)
        .bind(&sha256)
        .execute(&mut *transaction)
        .await?;
        transaction.commit().await?;
        Ok(true)
    }
}

#[async_trait]
impl Store for SqliteStore {
    fn kind(&self) -> StoreKind {
        StoreKind::Sqlite
    }

    async fn ping(&self) -> Result<(), StoreError> {
        // A store whose note writer has stopped cannot create notes, so it
        // is not ready.
        if self.note_inserter.is_stopped() {
            return Err(StoreError::WriterStopped);
        }
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    async fn close(&self) {
        self.pool.close().await;
    }
}
