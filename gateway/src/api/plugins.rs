//! Plugin routes: upload, list, get, delete.
//!
//! An upload is validated in the gateway with parsers only (see
//! `plugin_registry::validate`), compiled in a sandboxed worker, and stored
//! only once both succeed. Reads show the caller's own plugins and public
//! ones; another user's private plugin is a 404 like a missing one.

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use plugin_registry::{PluginDigest, Rule};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::auth::AuthenticatedUser;
use crate::ids::{PluginId, UserId};
use crate::problem::ApiError;
use crate::runs::{ArtifactError, PluginRuntime};
use crate::state::AppState;
use crate::store::{self, PluginRecord, StoreError, Visibility};

/// Maximum plugin name length, in bytes.
const MAX_NAME_BYTES: usize = 64;
/// Maximum description length, in bytes.
const MAX_DESCRIPTION_BYTES: usize = 1024;
/// Maximum version label length, in bytes.
const MAX_VERSION_BYTES: usize = 64;
/// Plugins per list page when the request gives no `limit`, and the maximum.
const DEFAULT_PAGE_SIZE: u32 = 50;
const MAX_PAGE_SIZE: u32 = 100;

/// Query of the upload route.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct UploadQuery {
    name: String,
    visibility: Option<Visibility>,
    description: Option<String>,
    version: Option<String>,
}

/// Query of the list route.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ListQuery {
    limit: Option<u32>,
    cursor: Option<String>,
}

/// A plugin's metadata as the API returns it.
#[derive(Serialize)]
pub(super) struct PluginBody {
    id: PluginId,
    name: String,
    sha256: String,
    size_bytes: u64,
    visibility: Visibility,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    version: Option<String>,
    /// Whether the caller uploaded it (and so may delete it).
    owned: bool,
    #[serde(with = "time::serde::rfc3339")]
    created_at: OffsetDateTime,
}

impl PluginBody {
    fn new(record: PluginRecord, caller: UserId) -> Self {
        Self {
            id: record.id,
            name: record.name,
            sha256: PluginDigest::from(record.sha256).to_hex(),
            size_bytes: record.size_bytes,
            visibility: record.visibility,
            description: record.description,
            version: record.version,
            owned: record.owner == caller,
            created_at: record.created_at,
        }
    }
}

/// One page of the plugin list.
#[derive(Serialize)]
pub(super) struct PluginPage {
    plugins: Vec<PluginBody>,
    /// Pass as `cursor` to get the next page; `null` on the last page.
    next_cursor: Option<String>,
}

/// `POST /v1/plugins?name=NAME&visibility=private|public`: uploads a
/// component sent as an `application/wasm` body; 201 with its metadata.
pub(super) async fn upload(
    State(state): State<AppState>,
    AuthenticatedUser(owner): AuthenticatedUser,
    query: Result<Query<UploadQuery>, QueryRejection>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let runtime = state.runtime()?;
    let Query(query) = query.map_err(|_| {
        ApiError::validation(
            "the query must have `name` and may have `visibility` (private or public), \
             `description` and `version`",
        )
    })?;
    check_upload_query(&query)?;
    check_wasm_content_type(&headers)?;
    let bytes = body.map_err(|rejection| body_problem(&rejection, runtime))?;

    let limits = runtime.upload.clone();
    let component = bytes.to_vec();
    let validated = tokio::task::spawn_blocking(move || {
        plugin_registry::validate(&component, &limits).map(|validated| (validated, component))
    })
    .await?;
    let (validated, component) = validated.map_err(|rejection| ApiError::PluginRejected {
        rule: rejection.rule.as_str(),
        message: rejection.message,
    })?;

    match runtime
        .compile_upload(validated.digest, component.clone())
        .await
    {
        Ok(()) => {}
        Err(ArtifactError::Invalid(message)) => {
            return Err(ApiError::PluginRejected {
                rule: "compile",
                message: format!("the component does not compile: {message}"),
            });
        }
        Err(error) => return Err(ApiError::internal(error)),
    }

    let record = PluginRecord {
        id: PluginId::new_time_ordered(),
        owner,
        name: query.name,
        description: query.description,
        version: query.version,
        visibility: query.visibility.unwrap_or(Visibility::Private),
        sha256: *validated.digest.as_bytes(),
        size_bytes: validated.size_bytes as u64,
        created_at: store::now(),
    };
    match state.store.insert_plugin(&record, &component).await {
        Ok(()) => {}
        Err(StoreError::PluginNameTaken) => {
            return Err(ApiError::Conflict(
                "you already have a plugin with this name; delete it or choose another name".into(),
            ));
        }
        Err(error) => return Err(error.into()),
    }

    tracing::info!(
        plugin_id = %record.id,
        plugin_sha256 = %validated.digest,
        size_bytes = record.size_bytes,
        visibility = record.visibility.as_str(),
        "plugin uploaded"
    );
    let location = format!("/v1/plugins/{}", record.id);
    let body = PluginBody::new(record, owner);
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, location)],
        Json(body),
    )
        .into_response())
}

/// `GET /v1/plugins`: the caller's own and public plugins, newest first.
pub(super) async fn list(
    State(state): State<AppState>,
    AuthenticatedUser(caller): AuthenticatedUser,
    query: Result<Query<ListQuery>, QueryRejection>,
) -> Result<Json<PluginPage>, ApiError> {
    let Query(query) =
        query.map_err(|_| ApiError::validation("the query may have only `limit` and `cursor`"))?;
    let limit = query.limit.unwrap_or(DEFAULT_PAGE_SIZE);
    if !(1..=MAX_PAGE_SIZE).contains(&limit) {
        return Err(ApiError::validation(format!(
            "`limit` must be between 1 and {MAX_PAGE_SIZE}"
        )));
    }
    let before = match &query.cursor {
        Some(cursor) => Some(
            cursor
                .parse::<PluginId>()
                .map_err(|_| ApiError::validation("`cursor` is not a value this API returned"))?,
        ),
        None => None,
    };

    let records = state
        .store
        .list_visible_plugins(caller, before, limit)
        .await?;
    let next_cursor = if records.len() == limit as usize {
        records.last().map(|record| record.id.to_string())
    } else {
        None
    };
    let plugins = records
        .into_iter()
        .map(|record| PluginBody::new(record, caller))
        .collect();
    Ok(Json(PluginPage {
        plugins,
        next_cursor,
    }))
}

/// `GET /v1/plugins/{id}`: one plugin the caller owns or that is public.
pub(super) async fn get(
    State(state): State<AppState>,
    AuthenticatedUser(caller): AuthenticatedUser,
    Path(id): Path<String>,
) -> Result<Json<PluginBody>, ApiError> {
    let id = parse_plugin_id(&id)?;
    let record = state
        .store
        .get_visible_plugin(caller, id)
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(Json(PluginBody::new(record, caller)))
}

/// `DELETE /v1/plugins/{id}`: 204 once deleted; only the owner may delete.
pub(super) async fn delete(
    State(state): State<AppState>,
    AuthenticatedUser(owner): AuthenticatedUser,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let id = parse_plugin_id(&id)?;
    if !state.store.delete_plugin(owner, id).await? {
        return Err(ApiError::NotFound);
    }
    tracing::info!(plugin_id = %id, "plugin deleted");
    Ok(StatusCode::NO_CONTENT)
}

/// Parses a plugin id from a path; a malformed id is a 404 like an unknown one.
pub(super) fn parse_plugin_id(text: &str) -> Result<PluginId, ApiError> {
    text.parse().map_err(|_| ApiError::NotFound)
}

fn check_upload_query(query: &UploadQuery) -> Result<(), ApiError> {
    let name_is_valid = !query.name.is_empty()
        && query.name.len() <= MAX_NAME_BYTES
        && query
            .name
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.'));
    if !name_is_valid {
        return Err(ApiError::validation(format!(
            "`name` must be 1 to {MAX_NAME_BYTES} characters of letters, digits, `-`, `_` or `.`"
        )));
    }
    if query
        .description
        .as_ref()
        .is_some_and(|description| description.len() > MAX_DESCRIPTION_BYTES)
    {
        return Err(ApiError::validation(format!(
            "`description` must be at most {MAX_DESCRIPTION_BYTES} bytes"
        )));
    }
    if query
        .version
        .as_ref()
        .is_some_and(|version| version.len() > MAX_VERSION_BYTES)
    {
        return Err(ApiError::validation(format!(
            "`version` must be at most {MAX_VERSION_BYTES} bytes"
        )));
    }
    Ok(())
}

fn check_wasm_content_type(headers: &HeaderMap) -> Result<(), ApiError> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default();
    let media_type = content_type.split(';').next().unwrap_or_default().trim();
    if media_type.eq_ignore_ascii_case("application/wasm") {
        Ok(())
    } else {
        Err(ApiError::PluginRejected {
            rule: "content_type",
            message: "the plugin must be sent with Content-Type: application/wasm".to_owned(),
        })
    }
}

fn body_problem(rejection: &BytesRejection, runtime: &PluginRuntime) -> ApiError {
    if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::PluginRejected {
            rule: Rule::TooLarge.as_str(),
            message: format!(
                "the plugin is larger than the limit of {} bytes",
                runtime.upload.max_bytes
            ),
        }
    } else {
        ApiError::validation("the request body could not be read")
    }
}
