//! A PostgreSQL database created for one test and dropped with it.

use sqlx::Connection;
use sqlx::postgres::PgConnection;

/// The default administrative URL of the test PostgreSQL server; override it
/// with `SANDNOTES_TEST_POSTGRES_URL`.
pub const DEFAULT_POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

/// An empty database named `sandnotes_t_<uuid>`, dropped (with any open
/// connections) when this value is dropped, so tests can run in parallel.
pub struct TestDatabase {
    admin_url: String,
    name: String,
    url: String,
}

impl TestDatabase {
    /// Creates the database.
    ///
    /// # Panics
    ///
    /// Panics with instructions when the server is unreachable: PostgreSQL
    /// tests fail rather than skip.
    pub async fn create() -> Self {
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

        let url = replace_database(&admin_url, &name);
        Self {
            admin_url,
            name,
            url,
        }
    }

    /// Returns the URL of the test database.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Opens a connection to the test database, for raw queries.
    pub async fn connect(&self) -> PgConnection {
        PgConnection::connect(&self.url)
            .await
            .expect("connect to the test database")
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let admin_url = self.admin_url.clone();
        let statement = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name);

        // Drop may run inside the test's runtime, which cannot block on async
        // work, so the statement runs on a thread with its own runtime.
        let dropper = std::thread::spawn(move || {
            let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
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
fn replace_database(admin_url: &str, name: &str) -> String {
    let (without_query, query) = match admin_url.split_once('?') {
        Some((url, query)) => (url, Some(query)),
        None => (admin_url, None),
    };
    let authority_start = without_query.find("://").map_or(0, |index| index + 3);
    let base = match without_query[authority_start..].find('/') {
        Some(slash) => &without_query[..authority_start + slash],
        None => without_query,
    };

    match query {
        Some(query) => format!("{base}/{name}?{query}"),
        None => format!("{base}/{name}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_name_is_replaced() {
        assert_eq!(
            replace_database("postgres://postgres@127.0.0.1:5432/test", "other"),
            "postgres://postgres@127.0.0.1:5432/other"
        );
    }

    #[test]
    fn query_string_is_kept() {
        assert_eq!(
            replace_database("postgres://u@h/test?sslmode=disable", "other"),
            "postgres://u@h/other?sslmode=disable"
        );
    }

    #[test]
    fn url_without_database_gets_one() {
        assert_eq!(
            replace_database("postgres://u@h:5432", "other"),
            "postgres://u@h:5432/other"
        );
    }
}
