//! Compares ways to insert a note into SQLite through sqlx, one at a time.
//! The shapes: the raw baseline's single INSERT, the same INSERT on the
//! gateway's schema (foreign key, owner index), the gateway's transaction
//! (count UPDATE, then INSERT), and one INSERT ... SELECT with a counting
//! trigger.
//!
//! `cargo run --release -p sandnotes-bench --example sqlite_insert_shapes`

use std::str::FromStr;
use std::time::{Duration, Instant};

use anyhow::Result;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions};
use uuid::Uuid;

const SECONDS: f64 = 3.0;

async fn open(folder: &std::path::Path, name: &str) -> Result<SqlitePool> {
    let url = format!("sqlite://{}", folder.join(name).display());
    let options = SqliteConnectOptions::from_str(&url)?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .foreign_keys(true)
        .busy_timeout(Duration::from_secs(5));
    Ok(SqlitePoolOptions::new()
        .max_connections(4)
        .test_before_acquire(false)
        .connect_with(options)
        .await?)
}

const GATEWAY_SCHEMA: [&str; 3] = [
    "CREATE TABLE users (id BLOB NOT NULL PRIMARY KEY, note_count INTEGER NOT NULL DEFAULT 0 \
     CHECK (note_count >= 0)) STRICT",
    "CREATE TABLE notes (id BLOB NOT NULL PRIMARY KEY CHECK (length(id) = 16), \
     owner_id BLOB NOT NULL REFERENCES users (id) ON DELETE CASCADE, \
     title_sealed BLOB NOT NULL, body_sealed BLOB NOT NULL, \
     created_at TEXT NOT NULL, updated_at TEXT NOT NULL) STRICT",
    "CREATE INDEX notes_owner_id_id ON notes (owner_id, id)",
];

#[derive(Clone, Copy, Debug)]
enum Shape {
    RawTable,
    GatewaySchemaInsertOnly,
    GatewayTransaction,
    InsertSelectTrigger,
}

async fn prepare(pool: &SqlitePool, shape: Shape, owner: Uuid) -> Result<()> {
    match shape {
        Shape::RawTable => {
            sqlx::query(
                "CREATE TABLE notes (id BLOB NOT NULL PRIMARY KEY, owner_id BLOB NOT NULL, \
                 title_sealed BLOB NOT NULL, body_sealed BLOB NOT NULL, \
                 created_at TEXT NOT NULL, updated_at TEXT NOT NULL) STRICT",
            )
            .execute(pool)
            .await?;
            return Ok(());
        }
        _ => {
            for statement in GATEWAY_SCHEMA {
                sqlx::query(statement).execute(pool).await?;
            }
        }
    }
    if matches!(shape, Shape::InsertSelectTrigger) {
        sqlx::query(
            "CREATE TRIGGER notes_count_insert AFTER INSERT ON notes BEGIN \
             UPDATE users SET note_count = note_count + 1 WHERE id = NEW.owner_id; END",
        )
        .execute(pool)
        .await?;
    }
    sqlx::query("INSERT INTO users (id) VALUES (?)")
        .bind(owner.as_bytes().as_slice())
        .execute(pool)
        .await?;
    Ok(())
}

async fn insert(pool: &SqlitePool, shape: Shape, owner: Uuid, body: &[u8]) -> Result<()> {
    let id = Uuid::now_v7();
    let now = "2026-12-05T00:00:00Z";
    match shape {
        Shape::RawTable | Shape::GatewaySchemaInsertOnly => {
            sqlx::query("INSERT INTO notes VALUES (?, ?, ?, ?, ?, ?)")
                .bind(id.as_bytes().as_slice())
                .bind(owner.as_bytes().as_slice())
                .bind(&body[..60])
                .bind(body)
                .bind(now)
                .bind(now)
                .execute(pool)
                .await?;
        }
        Shape::GatewayTransaction => {
            let mut transaction = pool.begin().await?;
            let counted = sqlx::query(
                "UPDATE users SET note_count = note_count + 1 WHERE id = ? AND note_count < ?",
            )
            .bind(owner.as_bytes().as_slice())
            .bind(i64::MAX)
            .execute(&mut *transaction)
            .await?;
            anyhow::ensure!(counted.rows_affected() == 1);
            sqlx::query("INSERT INTO notes VALUES (?, ?, ?, ?, ?, ?)")
                .bind(id.as_bytes().as_slice())
                .bind(owner.as_bytes().as_slice())
                .bind(&body[..60])
                .bind(body)
                .bind(now)
                .bind(now)
                .execute(&mut *transaction)
                .await?;
            transaction.commit().await?;
        }
        Shape::InsertSelectTrigger => {
            let inserted = sqlx::query(
                "INSERT INTO notes SELECT ?1, ?2, ?3, ?4, ?5, ?6 \
                 WHERE (SELECT note_count FROM users WHERE id = ?2) < ?7",
            )
            .bind(id.as_bytes().as_slice())
            .bind(owner.as_bytes().as_slice())
            .bind(&body[..60])
            .bind(body)
            .bind(now)
            .bind(now)
            .bind(i64::MAX)
            .execute(pool)
            .await?;
            anyhow::ensure!(inserted.rows_affected() == 1);
        }
    }
    Ok(())
}

#[tokio::main]
async fn main() -> Result<()> {
    let folder = tempfile::tempdir()?;
    let body = vec![0x5a_u8; 4 << 10];
    let shapes = [
        Shape::RawTable,
        Shape::GatewaySchemaInsertOnly,
        Shape::GatewayTransaction,
        Shape::InsertSelectTrigger,
    ];
    let mut pools = Vec::new();
    for (index, shape) in shapes.iter().enumerate() {
        let pool = open(folder.path(), &format!("{index}.db")).await?;
        let owner = Uuid::new_v4();
        prepare(&pool, *shape, owner).await?;
        pools.push((pool, owner));
    }
    // Three rounds, interleaved, so a change in machine speed hits all.
    for round in 0..3 {
        for (shape, (pool, owner)) in shapes.iter().zip(&pools) {
            let started = Instant::now();
            let mut count = 0_u64;
            while started.elapsed().as_secs_f64() < SECONDS {
                insert(pool, *shape, *owner, &body).await?;
                count += 1;
            }
            let rate = count as f64 / started.elapsed().as_secs_f64();
            println!("round {round} {shape:?}: {rate:.0} inserts per second");
        }
    }
    Ok(())
}
