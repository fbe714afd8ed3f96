//! Turning a [`Config`] into a ready [`AppState`]: data folder, master key,
//! store connection and migrations.

use std::fs::DirBuilder;
use std::os::unix::fs::DirBuilderExt;
use std::path::PathBuf;

use crate::auth::PasswordError;
use crate::config::{Config, ConfigError, DEV_MASTER_KEY_FILE_NAME};
use crate::crypto::{KeyError, MasterKey};
use crate::runs::{PluginRuntime, RuntimeStartError};
use crate::state::AppState;
use crate::store::{self, StoreError, StoreTarget};
use crate::telemetry::metrics;
use crate::telemetry::store::TracedStore;

/// Failures that stop the gateway from starting.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    /// The settings are inconsistent.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The data folder could not be created.
    #[error("failed to create the data folder {path}: {source}")]
    DataDir {
        path: PathBuf,
        source: std::io::Error,
    },
    /// PostgreSQL is configured without a master key. A generated key would
    /// differ between replicas and be lost with the container, so the gateway
    /// refuses to start.
    #[error(
        "no master key configured: set SANDNOTES_MASTER_KEY_FILE or SANDNOTES_MASTER_KEY \
         (32 random bytes) when using PostgreSQL"
    )]
    MissingMasterKey,
    /// The master key could not be loaded or generated.
    #[error(transparent)]
    Key(#[from] KeyError),
    /// The store could not be opened or migrated.
    #[error("failed to open the store: {0}")]
    Store(#[from] StoreError),
    /// The sandbox worker or the precompiled-code cache is unusable.
    #[error("failed to start the plugin runtime: {0}")]
    Runtime(#[from] RuntimeStartError),
    /// The password hasher could not be set up.
    #[error(transparent)]
    Password(#[from] PasswordError),
}

/// Prepares the data folder, loads the master key, opens and migrates the
/// store, and builds the handler state. Store calls are traced, and the run
/// slots are observed by the in-flight and queued run gauges.
pub async fn build_state(config: &Config) -> Result<AppState, StartupError> {
    let target = config.store_target()?;
    create_data_dir(config)?;

    let master_key = load_master_key(config, &target)?;
    let store = TracedStore::wrap(store::connect(&target).await?);

    let runtime_config = config.runtime.runtime_config(&config.data_dir);
    let runtime = PluginRuntime::start(runtime_config, &master_key).await?;
    metrics::observe_run_slots(&runtime.slots);

    let state = AppState::new(store, master_key, config.token_lifetime(), config.limits())?
        .with_runtime(runtime);
    Ok(state)
}

fn create_data_dir(config: &Config) -> Result<(), StartupError> {
    DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(&config.data_dir)
        .map_err(|source| StartupError::DataDir {
            path: config.data_dir.clone(),
            source,
        })
}

/// Loads the configured master key. With none configured, the embedded store
/// uses (and on first start generates) a development key in the data folder;
/// PostgreSQL fails closed.
fn load_master_key(config: &Config, target: &StoreTarget) -> Result<MasterKey, StartupError> {
    if let Some(path) = &config.master_key_file {
        tracing::info!(source = "file", path = %path.display(), "loading the master key");
        return Ok(MasterKey::read_file(path)?);
    }
    if let Some(encoded) = &config.master_key {
        tracing::info!(source = "environment", "loading the master key");
        return Ok(MasterKey::from_base64(encoded.expose())?);
    }
    if matches!(target, StoreTarget::PostgresUrl(_)) {
        return Err(StartupError::MissingMasterKey);
    }

    let path = config.data_dir.join(DEV_MASTER_KEY_FILE_NAME);
    let key = if path.exists() {
        MasterKey::read_file(&path)?
    } else {
        let key = MasterKey::generate();
        key.write_new_file(&path)?;
        key
    };
    tracing::warn!(
        path = %path.display(),
        "using a development master key from the data folder; configure \
         SANDNOTES_MASTER_KEY_FILE or SANDNOTES_MASTER_KEY for production"
    );
    Ok(key)
}
