//! Helpers for end-to-end tests that drive the real `gateway` binary.
//!
//! The binary is not built by `cargo test -p sandnotes-e2e`: run
//! `cargo build -p gateway` first. [`GatewayProcess`] finds it next to the test
//! executable's folder (`target/<profile>/gateway`), or at
//! `SANDNOTES_GATEWAY_BIN` when that is set.

mod api;
mod gateway;
mod otlp;
mod postgres;

pub use api::{ApiClient, ApiResponse};
pub use gateway::{GatewayOptions, GatewayProcess, StartError, gateway_binary};
pub use otlp::{OtlpReceiver, ReceivedSpan};
pub use postgres::{DEFAULT_POSTGRES_URL, TestDatabase};

/// Which store a gateway under test uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// The embedded SQLite file in the data folder.
    Sqlite,
    /// A fresh PostgreSQL database per test.
    Postgres,
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
                    super::$name($crate::Backend::Sqlite).await;
                }
            )+
        }

        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::Backend::Postgres).await;
                }
            )+
        }
    };
}
