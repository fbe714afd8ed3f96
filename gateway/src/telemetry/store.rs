//! A [`Store`] wrapper that puts each store call in a client span.
//!
//! Span attributes follow the database semantic conventions as far as a
//! store method allows: `db.system.name` (`postgresql` or `sqlite`) and
//! `db.operation.name` (the store method, such as `get_note`, which may run
//! more than one SQL statement). No query text, parameter or row content
//! becomes an attribute, so sealed notes and password hashes stay out of
//! traces.

use std::sync::Arc;

use async_trait::async_trait;
use time::OffsetDateTime;
use tracing::Instrument as _;

use crate::ids::{NoteId, PluginId, UserId};
use crate::store::{
    NewUser, NoteRecord, NoteReplacement, NoteStore, NoteSummaryRecord, PluginRecord, PluginStore,
    Store, StoreError, StoreKind, UserRecord, UserStore,
};

/// Wraps a store so that every call gets a `store` span.
pub struct TracedStore {
    inner: Arc<dyn Store>,
    system: &'static str,
}

impl TracedStore {
    /// Wraps `inner`.
    pub fn wrap(inner: Arc<dyn Store>) -> Arc<dyn Store> {
        let system = match inner.kind() {
            StoreKind::Postgres => "postgresql",
            StoreKind::Sqlite => "sqlite",
        };
        Arc::new(Self { inner, system })
    }

    fn span(&self, operation: &'static str) -> tracing::Span {
        tracing::info_span!(
            "store",
            otel.name = operation,
            otel.kind = "client",
            db.system.name = self.system,
            db.operation.name = operation,
        )
    }
}

#[async_trait]
impl UserStore for TracedStore {
    async fn create_user(&self, user: &NewUser) -> Result<(), StoreError> {
        let span = self.span("create_user");
        self.inner.create_user(user).instrument(span).await
    }

    async fn find_user_by_username(
        &self,
        username: &str,
    ) -> Result<Option<UserRecord>, StoreError> {
        let span = self.span("find_user_by_username");
        self.inner
            .find_user_by_username(username)
            .instrument(span)
            .await
    }

    async fn find_user(&self, id: UserId) -> Result<Option<UserRecord>, StoreError> {
        let span = self.span("find_user");
        self.inner.find_user(id).instrument(span).await
    }
}

#[async_trait]
impl NoteStore for TracedStore {
    async fn insert_note(&self, note: &NoteRecord, max_notes: u64) -> Result<bool, StoreError> {
        let span = self.span("insert_note");
        self.inner
            .insert_note(note, max_notes)
            .instrument(span)
            .await
    }

    async fn count_notes(&self, owner: UserId) -> Result<u64, StoreError> {
        let span = self.span("count_notes");
        self.inner.count_notes(owner).instrument(span).await
    }

    async fn list_notes(
        &self,
        owner: UserId,
        before: Option<NoteId>,
        limit: u32,
    ) -> Result<Vec<NoteSummaryRecord>, StoreError> {
        let span = self.span("list_notes");
        self.inner
            .list_notes(owner, before, limit)
            .instrument(span)
            .await
    }

    async fn get_note(&self, owner: UserId, id: NoteId) -> Result<Option<NoteRecord>, StoreError> {
        let span = self.span("get_note");
        self.inner.get_note(owner, id).instrument(span).await
    }

    async fn replace_note(
        &self,
        owner: UserId,
        id: NoteId,
        replacement: &NoteReplacement,
    ) -> Result<Option<OffsetDateTime>, StoreError> {
        let span = self.span("replace_note");
        self.inner
            .replace_note(owner, id, replacement)
            .instrument(span)
            .await
    }

    async fn delete_note(&self, owner: UserId, id: NoteId) -> Result<bool, StoreError> {
        let span = self.span("delete_note");
        self.inner.delete_note(owner, id).instrument(span).await
    }
}

#[async_trait]
impl PluginStore for TracedStore {
    async fn insert_plugin(&self, plugin: &PluginRecord, bytes: &[u8]) -> Result<(), StoreError> {
        let span = self.span("insert_plugin");
        self.inner
            .insert_plugin(plugin, bytes)
            .instrument(span)
            .await
    }

    async fn list_visible_plugins(
        &self,
        caller: UserId,
        before: Option<PluginId>,
        limit: u32,
    ) -> Result<Vec<PluginRecord>, StoreError> {
        let span = self.span("list_visible_plugins");
        self.inner
            .list_visible_plugins(caller, before, limit)
            .instrument(span)
            .await
    }

    async fn get_visible_plugin(
        &self,
        caller: UserId,
        id: PluginId,
    ) -> Result<Option<PluginRecord>, StoreError> {
        let span = self.span("get_visible_plugin");
        self.inner
            .get_visible_plugin(caller, id)
            .instrument(span)
            .await
    }

    async fn plugin_bytes(&self, sha256: &[u8; 32]) -> Result<Option<Vec<u8>>, StoreError> {
        let span = self.span("plugin_bytes");
        self.inner.plugin_bytes(sha256).instrument(span).await
    }

    async fn delete_plugin(&self, owner: UserId, id: PluginId) -> Result<bool, StoreError> {
        let span = self.span("delete_plugin");
        self.inner.delete_plugin(owner, id).instrument(span).await
    }
}

#[async_trait]
impl Store for TracedStore {
    fn kind(&self) -> StoreKind {
        self.inner.kind()
    }

    // Readiness probes run every few seconds; a span each would bury the
    // request traces, so `ping` is not traced.
    async fn ping(&self) -> Result<(), StoreError> {
        self.inner.ping().await
    }

    async fn close(&self) {
        self.inner.close().await;
    }
}
