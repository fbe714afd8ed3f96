//! Shared set-up for the gateway's integration tests: a fresh store per test,
//! on SQLite (a temporary folder) or PostgreSQL (a temporary database).
//!
//! PostgreSQL tests connect to `SANDNOTES_TEST_POSTGRES_URL`, by default
//! `postgres://postgres@127.0.0.1:5432/test`, create `sandnotes_t_<uuid>` and
//! drop it afterwards. When PostgreSQL is unreachable they fail; they never skip.

// Each test binary uses a different part of this module.
#![allow(dead_code)]

use std::sync::Arc;

use gateway::store::{self, Store, StoreTarget};
use sqlx::Connection;
use sqlx::postgres::PgConnection;
use tempfile::TempDir;

/// The default administrative URL of the test PostgreSQL server.
pub(crate) const DEFAULT_POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

/// Which store backend a test runs against.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Backend {
    Sqlite,
    Postgres,
}

/// A fresh, migrated store and the resources behind it; dropping it removes
/// the temporary folder or database.
pub(crate) struct TestStore {
    pub(crate) store: Arc<dyn Store>,
    pub(crate) target: StoreTarget,
    _cleanup: Cleanup,
}

enum Cleanup {
    Folder(TempDir),
    Database(PostgresDatabase),
}

impl TestStore {
    /// Creates an empty store on `backend`.
    pub(crate) async fn new(backend: Backend) -> Self {
        match backend {
            Backend::Sqlite => {
                let folder = tempfile::tempdir().expect("create a temporary folder");
                let target = StoreTarget::SqliteFile(folder.path().join("sandnotes.db"));
                let store = store::connect(&target)
                    .await
                    .expect("open the SQLite store");
                Self {
                    store,
                    target,
                    _cleanup: Cleanup::Folder(folder),
                }
            }
            Backend::Postgres => {
                let database = PostgresDatabase::create().await;
                let target = StoreTarget::PostgresUrl(database.url.clone());
                let store = store::connect(&target)
                    .await
                    .expect("connect to the test PostgreSQL database");
                Self {
                    store,
                    target,
                    _cleanup: Cleanup::Database(database),
                }
            }
        }
    }
}

/// A PostgreSQL database created for one test and dropped with it.
pub(crate) struct PostgresDatabase {
    admin_url: String,
    name: String,
    /// URL of the new database.
    pub(crate) url: String,
}

impl PostgresDatabase {
    /// Creates an empty database; panics with instructions when the server is
    /// unreachable.
    pub(crate) async fn create() -> Self {
        let admin_url = std::env::var("SANDNOTES_TEST_POSTGRES_URL")
            .unwrap_or_else(|_| DEFAULT_POSTGRES_URL.to_owned());
        let name = format!("sandnotes_t_{}", uuid::Uuid::new_v4().simple());

        let mut admin = PgConnection::connect(&admin_url)
            .await
            .unwrap_or_else(|error| {
                panic!(
                    "PostgreSQL is not reachable at {admin_url}: {error}. Start it, or point \
                 SANDNOTES_TEST_POSTGRES_URL at a server where this user may create databases"
                )
            });
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut admin)
            .await
            .expect("create the test database");
        let _ = admin.close().await;

        let url = database_url(&admin_url, &name);
        Self {
            admin_url,
            name,
            url,
        }
    }
}

impl Drop for PostgresDatabase {
    fn drop(&mut self) {
        let admin_url = self.admin_url.clone();
        let statement = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name);

        // Drop runs inside the test's runtime, which cannot block on async
        // work, so the statement runs on a thread with its own runtime.
        let dropper = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("build a runtime to drop the test database");
            runtime.block_on(async move {
                if let Ok(mut admin) = PgConnection::connect(&admin_url).await {
                    let _ = sqlx::query(&statement).execute(&mut admin).await;
                    let _ = admin.close().await;
                }
            });
        });
        let _ = dropper.join();
    }
}

/// Replaces the database name (the last path segment) of a PostgreSQL URL.
fn database_url(admin_url: &str, name: &str) -> String {
    let (without_query, query) = match admin_url.split_once('?') {
        Some((url, query)) => (url, Some(query)),
        None => (admin_url, None),
    };
    let authority_end = without_query.find("://").map_or(0, |index| index + 3);
    let base = match without_query[authority_end..].find('/') {
        Some(slash) => &without_query[..authority_end + slash],
        None => without_query,
    };

    match query {
        Some(query) => format!("{base}/{name}?{query}"),
        None => format!("{base}/{name}"),
    }
}

/// Instantiates `async fn name(backend: Backend)` test bodies once per store,
/// as `sqlite::name` and `postgres::name`.
#[macro_export]
macro_rules! on_both_stores {
    ($($name:ident),+ $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(super::support::Backend::Sqlite).await;
                }
            )+
        }

        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(super::support::Backend::Postgres).await;
                }
            )+
        }
    };
}
