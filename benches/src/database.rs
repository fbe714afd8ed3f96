//! Baselines: raw sqlx INSERT and SELECT of rows shaped like a stored
//! note, on SQLite and PostgreSQL, with the gateway's pool settings.
//!
//! A row has a 16-byte id, an owner id, a sealed title and a sealed body
//! (the plaintext size plus the 33-byte envelope overhead of random bytes)
//! and two timestamps. The tables have no foreign key and no secondary
//! index, which makes the baseline slightly cheaper than the gateway's
//! `notes` table.

use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Result;
use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions};
use uuid::Uuid;

use crate::load;
use crate::stats::Samples;

/// Bytes a sealed field adds to its plaintext: version, key version and
/// nonce in front, the AES-GCM tag behind.
const ENVELOPE_OVERHEAD: usize = gateway::crypto::envelope::OVERHEAD;

/// Rows inserted before the SELECT benchmark, cycled through by id.
const SELECT_ROWS: usize = 1_000;

/// A database under test.
#[derive(Clone)]
pub enum Database {
    /// Pool options of the gateway's SQLite store: WAL, 4 connections.
    Sqlite(SqlitePool),
    /// Pool options of the gateway's PostgreSQL store: 10 connections.
    Postgres(PgPool),
}

impl Database {
    /// Opens a new SQLite file in `folder`.
    pub async fn sqlite(folder: &Path) -> Result<Self> {
        let url = format!("sqlite://{}", folder.join("baseline.db").display());
        let options = SqliteConnectOptions::from_str(&url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(5));
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .test_before_acquire(false)
            .connect_with(options)
            .await?;
        sqlx::query(
            "CREATE TABLE raw_notes (id BLOB NOT NULL PRIMARY KEY, owner_id BLOB NOT NULL, \
             title_sealed BLOB NOT NULL, body_sealed BLOB NOT NULL, \
             created_at TEXT NOT NULL, updated_at TEXT NOT NULL) STRICT",
        )
        .execute(&pool)
        .await?;
        Ok(Self::Sqlite(pool))
    }

    /// Connects to the empty PostgreSQL database at `url`.
    pub async fn postgres(url: &str) -> Result<Self> {
        let pool = PgPoolOptions::new()
            .max_connections(10)
            .connect(url)
            .await?;
        sqlx::query(
            "CREATE TABLE raw_notes (id UUID NOT NULL PRIMARY KEY, owner_id UUID NOT NULL, \
             title_sealed BYTEA NOT NULL, body_sealed BYTEA NOT NULL, \
             created_at TIMESTAMPTZ NOT NULL, updated_at TIMESTAMPTZ NOT NULL)",
        )
        .execute(&pool)
        .await?;
        Ok(Self::Postgres(pool))
    }

    async fn insert(&self, id: Uuid, row: &Row) -> Result<()> {
        match self {
            Self::Sqlite(pool) => {
                let now = time_text();
                sqlx::query("INSERT INTO raw_notes VALUES (?, ?, ?, ?, ?, ?)")
                    .bind(id.as_bytes().as_slice())
                    .bind(row.owner.as_bytes().as_slice())
                    .bind(row.title.as_slice())
                    .bind(row.body.as_slice())
                    .bind(&now)
                    .bind(&now)
                    .execute(pool)
                    .await?;
            }
            Self::Postgres(pool) => {
                sqlx::query("INSERT INTO raw_notes VALUES ($1, $2, $3, $4, now(), now())")
                    .bind(id)
                    .bind(row.owner)
                    .bind(row.title.as_slice())
                    .bind(row.body.as_slice())
                    .execute(pool)
                    .await?;
            }
        }
        Ok(())
    }

    async fn select(&self, id: Uuid) -> Result<usize> {
        let (title, body): (Vec<u8>, Vec<u8>) = match self {
            Self::Sqlite(pool) => {
                sqlx::query_as("SELECT title_sealed, body_sealed FROM raw_notes WHERE id = ?")
                    .bind(id.as_bytes().as_slice())
                    .fetch_one(pool)
                    .await?
            }
            Self::Postgres(pool) => {
                sqlx::query_as("SELECT title_sealed, body_sealed FROM raw_notes WHERE id = $1")
                    .bind(id)
                    .fetch_one(pool)
                    .await?
            }
        };
        Ok(title.len() + body.len())
    }
}

/// The columns of one row, shared by every insert.
struct Row {
    owner: Uuid,
    title: Vec<u8>,
    body: Vec<u8>,
}

impl Row {
    fn sealed_like(title_len: usize, body_len: usize) -> Self {
        Self {
            owner: Uuid::new_v4(),
            title: pseudo_random_bytes(title_len + ENVELOPE_OVERHEAD),
            body: pseudo_random_bytes(body_len + ENVELOPE_OVERHEAD),
        }
    }
}

/// INSERT throughput and latency of rows with a `body_len`-byte body.
pub async fn measure_insert(
    database: &Database,
    title_len: usize,
    body_len: usize,
    concurrency: usize,
    duration: Duration,
) -> Result<Samples> {
    let row = Arc::new(Row::sealed_like(title_len, body_len));
    let database = database.clone();
    load::drive(concurrency, duration, move |_| {
        let database = database.clone();
        let row = Arc::clone(&row);
        async move { database.insert(Uuid::now_v7(), &row).await }
    })
    .await
}

/// SELECT-by-id throughput and latency over a table of fresh rows with a
/// `body_len`-byte body.
pub async fn measure_select(
    database: &Database,
    title_len: usize,
    body_len: usize,
    concurrency: usize,
    duration: Duration,
) -> Result<Samples> {
    let row = Row::sealed_like(title_len, body_len);
    let mut ids = Vec::with_capacity(SELECT_ROWS);
    for _ in 0..SELECT_ROWS {
        let id = Uuid::now_v7();
        database.insert(id, &row).await?;
        ids.push(id);
    }

    let ids = Arc::new(ids);
    let database = database.clone();
    load::drive(concurrency, duration, move |number| {
        let database = database.clone();
        let id = ids[number as usize % ids.len()];
        async move {
            std::hint::black_box(database.select(id).await?);
            Ok(())
        }
    })
    .await
}

/// A timestamp of the length the gateway stores as text in SQLite.
fn time_text() -> String {
    "2026-01-01T00:00:00.000000000Z".to_owned()
}

/// Incompressible filler, like ciphertext; not cryptographic.
fn pseudo_random_bytes(len: usize) -> Vec<u8> {
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect()
}
