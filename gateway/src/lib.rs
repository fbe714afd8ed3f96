//! The sandnotes gateway: the HTTP API for accounts and encrypted notes.
//!
//! [`app`] builds the router from an [`AppState`]; [`startup::build_state`]
//! builds that state from a [`config::Config`]. The `gateway` binary only
//! parses the configuration, sets up logging and serves.

pub mod api;
pub mod auth;
pub mod config;
pub mod crypto;
pub mod hardening;
pub mod ids;
pub mod problem;
pub mod runs;
pub mod startup;
pub mod state;
pub mod store;
pub mod telemetry;

pub use state::{AppState, Limits};

/// Builds the HTTP router over `state`.
pub fn app(state: AppState) -> axum::Router {
    api::router(state)
}
