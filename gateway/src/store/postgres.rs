//! The PostgreSQL backend: the deployment store that gateway replicas share.

use async_trait::async_trait;
use sqlx::postgres::{PgPool, PgPoolOptions};
use time::OffsetDateTime;
use uuid::Uuid;

use super::{
    NewUser, NoteRecord, NoteReplacement, NoteStore, NoteSummaryRecord, PluginRecord, PluginRow,
    PluginStore, Store, StoreError, StoreKind, UserRecord, UserStore, is_unique_violation,
    plugin_from_row,
};
use crate::ids::{NoteId, PluginId, UserId};

/// Connections in the pool of one gateway process.
const MAX_CONNECTIONS: u32 = 10;

/// A store on a PostgreSQL database.
pub struct PostgresStore {
    pool: PgPool,
}

type UserRow = (Uuid, String, String, Vec<u8>);
type NoteRow = (Uuid, Uuid, Vec<u8>, Vec<u8>, OffsetDateTime, OffsetDateTime);
type NoteSummaryRow = (Uuid, Vec<u8>, OffsetDateTime, OffsetDateTime);

impl PostgresStore {
    /// Connects to the database at `url` and applies pending migrations.
    ///
    /// Replicas starting together are safe: sqlx serializes migrations with
    /// an advisory lock.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let pool = PgPoolOptions::new()
            .max_connections(MAX_CONNECTIONS)
            .connect(url)
            .await?;
        sqlx::migrate!("./migrations/postgres").run(&pool).await?;

        Ok(Self { pool })
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
impl UserStore for PostgresStore {
    async fn create_user(&self, user: &NewUser) -> Result<(), StoreError> {
        let result = sqlx::query(
            "INSERT INTO users (id, username, password_hash, key_salt, created_at) \
             VALUES ($1, $2, $3, $4, $5)",
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
            "SELECT id, username, password_hash, key_salt FROM users WHERE username = $1",
        )
        .bind(username)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(user_from_row))
    }

    async fn find_user(&self, id: UserId) -> Result<Option<UserRecord>, StoreError> {
        let row: Option<UserRow> =
            sqlx::query_as("SELECT id, username, password_hash, key_salt FROM users WHERE id = $1")
                .bind(id.as_uuid())
                .fetch_optional(&self.pool)
                .await?;
        Ok(row.map(user_from_row))
    }
}

#[async_trait]
impl NoteStore for PostgresStore {
    async fn insert_note(&self, note: &NoteRecord, max_notes: u64) -> Result<bool, StoreError> {
        let max_notes = i64::try_from(max_notes).unwrap_or(i64::MAX);
        // One statement, so one round trip that holds the owner's row lock
        // only while it runs. The UPDATE locks the owner's row, and a
        // concurrent create waits for that lock and then rechecks
        // `note_count < $7` against the committed count, so the limit stays
        // exact. The INSERT reads only the UPDATE's RETURNING rows, so no
        // row is inserted when the limit is reached or the owner is gone. A
        // failed INSERT rolls the count back with the statement.
        let inserted = sqlx::query(
            "WITH counted AS ( \
                 UPDATE users SET note_count = note_count + 1 \
                 WHERE id = $2 AND note_count < $7 RETURNING id \
             ) \
             INSERT INTO notes (id, owner_id, title_sealed, body_sealed, created_at, updated_at) \
             SELECT $1, id, $3, $4, $5, $6 FROM counted",
        )
        .bind(note.id.as_uuid())
        .bind(note.owner.as_uuid())
        .bind(&note.title_sealed)
        .bind(&note.body_sealed)
        .bind(note.created_at)
        .bind(note.updated_at)
        .bind(max_notes)
        .execute(&self.pool)
        .await?;
        Ok(inserted.rows_affected() == 1)
    }

    async fn count_notes(&self, owner: UserId) -> Result<u64, StoreError> {
        let count: Option<(i64,)> = sqlx::query_as("SELECT note_count FROM users WHERE id = $1")
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
             WHERE owner_id = $1 AND ($2::uuid IS NULL OR id < $2) \
             ORDER BY id DESC LIMIT $3",
        )
        .bind(owner.as_uuid())
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
             WHERE id = $1 AND owner_id = $2",
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
            "UPDATE notes SET title_sealed = $1, body_sealed = $2, updated_at = $3 \
             WHERE id = $4 AND owner_id = $5 RETURNING created_at",
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
        // One statement: the count drops only for a row this DELETE removed,
        // and both changes commit together.
        let deleted: Option<(Uuid,)> = sqlx::query_as(
            "WITH deleted AS ( \
                 DELETE FROM notes WHERE id = $1 AND owner_id = $2 RETURNING owner_id \
             ) \
             UPDATE users SET note_count = note_count - 1 \
             WHERE id = (SELECT owner_id FROM deleted) \
             RETURNING id",
        )
        .bind(id.as_uuid())
        .bind(owner.as_uuid())
        .fetch_optional(&self.pool)
        .await?;
        Ok(deleted.is_some())
    }
}

#[async_trait]
impl PluginStore for PostgresStore {
    async fn insert_plugin(&self, plugin: &PluginRecord, bytes: &[u8]) -> Result<(), StoreError> {
        let mut transaction = self.pool.begin().await?;
        sqlx::query(
            "INSERT INTO plugin_blobs (sha256, bytes, created_at) VALUES ($1, $2, $3) \
             ON CONFLICT (sha256) DO NOTHING",
        )
        .bind(plugin.sha256.as_slice())
        .bind(bytes)
        .bind(plugin.created_at)
        .execute(&mut *transaction)
        .await?;

        let inserted = sqlx::query(
            "INSERT INTO plugins (id, owner_id, name, description, version, visibility, sha256, \
             size_bytes, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
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
             WHERE (owner_id = $1 OR visibility = 'public') AND ($2 IS NULL OR id < $3) \
             ORDER BY id DESC LIMIT $4",
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
             WHERE id = $1 AND (owner_id = $2 OR visibility = 'public')",
        )
        .bind(id.as_uuid())
        .bind(caller.as_uuid())
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(plugin_from_row))
    }

    async fn plugin_bytes(&self, sha256: &[u8; 32]) -> Result<Option<Vec<u8>>, StoreError> {
        let row: Option<(Vec<u8>,)> =
            sqlx::query_as("SELECT bytes FROM plugin_blobs WHERE sha256 = $1")
                .bind(sha256.as_slice())
                .fetch_optional(&self.pool)
                .await?;
        Ok(row.map(|(bytes,)| bytes))
    }

    async fn delete_plugin(&self, owner: UserId, id: PluginId) -> Result<bool, StoreError> {
        let mut transaction = self.pool.begin().await?;
        let deleted: Option<(Vec<u8>,)> =
            sqlx::query_as("DELETE FROM plugins WHERE id = $1 AND owner_id = $2 RETURNING sha256")
                .bind(id.as_uuid())
                .bind(owner.as_uuid())
                .fetch_optional(&mut *transaction)
                .await?;

        let Some((sha256,)) = deleted else {
            return Ok(false);
        };
        sqlx::query(
            "DELETE FROM plugin_blobs WHERE sha256 = $1 \
             AND NOT EXISTS (SELECT 1 FROM plugins WHERE sha256 = $2)",
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
impl Store for PostgresStore {
    fn kind(&self) -> StoreKind {
        StoreKind::Postgres
    }

    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    async fn close(&self) {
        self.pool.close().await;
    }
}
