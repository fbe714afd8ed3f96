//! Note routes: create, list, get, replace, delete.
//!
//! Every route is scoped to the authenticated user. A note id that is
//! malformed, unknown, or another user's gets the same 404.
//!
//! Title and body are sealed before they reach the store and opened only to
//! build a response; the plaintext lives in zeroizing buffers.
// NOTE: serde_json's parse scratch space, the request body bytes and the
// serialized response body are ordinary buffers, so plaintext copies there are
// freed without being wiped.

use std::sync::Arc;

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;
use zeroize::Zeroizing;

use super::ApiJson;
use crate::auth::AuthenticatedUser;
use crate::crypto::{NoteField, UserNoteKey};
use crate::ids::{NoteId, UserId};
use crate::problem::ApiError;
use crate::state::{AppState, Limits};
use crate::store::{self, NoteRecord, NoteReplacement};

/// Body of create and replace.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct NoteInput {
    title: Zeroizing<String>,
    body: Zeroizing<String>,
}

/// Query of the list route.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ListQuery {
    /// Page size, 1 to the configured maximum.
    limit: Option<u32>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
}

/// A note's id and timestamps.
#[derive(Serialize)]
pub(super) struct NoteMetadata {
    id: NoteId,
    #[serde(with = "time::serde::rfc3339")]
    created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    updated_at: OffsetDateTime,
}

/// A note in a listing.
#[derive(Serialize)]
pub(super) struct NoteSummary {
    id: NoteId,
    title: Zeroizing<String>,
    #[serde(with = "time::serde::rfc3339")]
    created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    updated_at: OffsetDateTime,
}

/// One page of a listing.
#[derive(Serialize)]
pub(super) struct NotePage {
    notes: Vec<NoteSummary>,
    /// Pass as `cursor` to get the next page; `null` on the last page.
    next_cursor: Option<String>,
}

/// A whole note.
#[derive(Serialize)]
pub(super) struct Note {
    id: NoteId,
    title: Zeroizing<String>,
    body: Zeroizing<String>,
    #[serde(with = "time::serde::rfc3339")]
    created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    updated_at: OffsetDateTime,
}

/// `POST /v1/notes`: 201 with the new note's metadata and a `Location`.
pub(super) async fn create(
    State(state): State<AppState>,
    AuthenticatedUser(owner): AuthenticatedUser,
    ApiJson(input): ApiJson<NoteInput>,
) -> Result<Response, ApiError> {
    check_limits(&input, &state.limits)?;
    let key = user_note_key(&state, owner).await?;

    let id = NoteId::new_time_ordered();
    record_note_id(id);
    let now = store::now();
    let note = NoteRecord {
        id,
        owner,
        title_sealed: key.seal(id, NoteField::Title, &input.title)?,
        body_sealed: key.seal(id, NoteField::Body, &input.body)?,
        created_at: now,
        updated_at: now,
    };
    let max_notes = state.limits.max_notes_per_user;
    if !state.store.insert_note(&note, max_notes).await? {
        return Err(ApiError::Conflict(
            format!("note limit of {max_notes} reached; delete notes to create new ones").into(),
        ));
    }

    tracing::debug!(note_id = %id, "note created");
    let metadata = NoteMetadata {
        id,
        created_at: now,
        updated_at: now,
    };
    let location = [(header::LOCATION, format!("/v1/notes/{id}"))];
    Ok((StatusCode::CREATED, location, Json(metadata)).into_response())
}

/// `GET /v1/notes`: the caller's notes, newest first, with titles.
///
/// A title that fails to open fails the whole page with a 500, and the log
/// names the note, so a damaged row is noticed instead of silently skipped.
pub(super) async fn list(
    State(state): State<AppState>,
    AuthenticatedUser(owner): AuthenticatedUser,
    query: Result<Query<ListQuery>, QueryRejection>,
) -> Result<Json<NotePage>, ApiError> {
    let Query(query) = query.map_err(|_| {
        ApiError::validation("query parameters must be `limit` (an integer) and `cursor`")
    })?;
    let limit = page_size(query.limit, &state.limits)?;
    let before = query.cursor.as_deref().map(decode_cursor).transpose()?;
    let key = user_note_key(&state, owner).await?;

    // Fetching one extra row shows whether another page follows.
    let mut rows = state.store.list_notes(owner, before, limit + 1).await?;
    let has_more = rows.len() > limit as usize;
    rows.truncate(limit as usize);

    let next_cursor = if has_more {
        rows.last().map(|row| encode_cursor(row.id))
    } else {
        None
    };
    let notes = rows
        .into_iter()
        .map(|row| {
            Ok(NoteSummary {
                id: row.id,
                title: key.open(row.id, NoteField::Title, &row.title_sealed)?,
                created_at: row.created_at,
                updated_at: row.updated_at,
            })
        })
        .collect::<Result<Vec<_>, ApiError>>()?;

    Ok(Json(NotePage { notes, next_cursor }))
}

/// `GET /v1/notes/{id}`: one note with its body.
pub(super) async fn get(
    State(state): State<AppState>,
    AuthenticatedUser(owner): AuthenticatedUser,
    Path(id): Path<String>,
) -> Result<Json<Note>, ApiError> {
    let id = parse_note_id(&id)?;
    let note = state
        .store
        .get_note(owner, id)
        .await?
        .ok_or(ApiError::NotFound)?;
    let key = user_note_key(&state, owner).await?;

    Ok(Json(Note {
        id,
        title: key.open(id, NoteField::Title, &note.title_sealed)?,
        body: key.open(id, NoteField::Body, &note.body_sealed)?,
        created_at: note.created_at,
        updated_at: note.updated_at,
    }))
}

/// `PUT /v1/notes/{id}`: replaces title and body; 200 with the metadata.
pub(super) async fn replace(
    State(state): State<AppState>,
    AuthenticatedUser(owner): AuthenticatedUser,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<NoteInput>,
) -> Result<Json<NoteMetadata>, ApiError> {
    let id = parse_note_id(&id)?;
    check_limits(&input, &state.limits)?;
    let key = user_note_key(&state, owner).await?;

    let replacement = NoteReplacement {
        title_sealed: key.seal(id, NoteField::Title, &input.title)?,
        body_sealed: key.seal(id, NoteField::Body, &input.body)?,
        updated_at: store::now(),
    };
    let created_at = state
        .store
        .replace_note(owner, id, &replacement)
        .await?
        .ok_or(ApiError::NotFound)?;

    tracing::debug!(note_id = %id, "note replaced");
    Ok(Json(NoteMetadata {
        id,
        created_at,
        updated_at: replacement.updated_at,
    }))
}

/// `DELETE /v1/notes/{id}`: 204 once deleted.
pub(super) async fn delete(
    State(state): State<AppState>,
    AuthenticatedUser(owner): AuthenticatedUser,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let id = parse_note_id(&id)?;

    if !state.store.delete_note(owner, id).await? {
        return Err(ApiError::NotFound);
    }

    tracing::debug!(note_id = %id, "note deleted");
    Ok(StatusCode::NO_CONTENT)
}

/// Derives the caller's note key. A valid token for a user that no longer
/// exists is unauthorized.
pub(super) async fn user_note_key(
    state: &AppState,
    owner: UserId,
) -> Result<UserNoteKey, ApiError> {
    let salt = state
        .key_salts
        .get_or_insert_async(&owner, async {
            let user = state.store.find_user(owner).await?.ok_or_else(|| {
                ApiError::unauthorized("access token names a user that does not exist")
            })?;
            Ok::<_, ApiError>(Arc::<[u8]>::from(user.key_salt))
        })
        .await?;
    Ok(UserNoteKey::derive(&state.master_key, owner, &salt))
}

/// Parses a path segment as a note id; anything else is a missing note.
pub(super) fn parse_note_id(text: &str) -> Result<NoteId, ApiError> {
    let id: NoteId = text.parse().map_err(|_| ApiError::NotFound)?;
    record_note_id(id);
    Ok(id)
}

fn record_note_id(id: NoteId) {
    tracing::Span::current().record("note_id", tracing::field::display(id));
}

fn check_limits(input: &NoteInput, limits: &Limits) -> Result<(), ApiError> {
    if input.title.len() > limits.max_title_bytes {
        return Err(ApiError::PayloadTooLarge(
            format!(
                "note title is larger than the limit of {} bytes",
                limits.max_title_bytes
            )
            .into(),
        ));
    }
    if input.body.len() > limits.max_note_body_bytes {
        return Err(ApiError::PayloadTooLarge(
            format!(
                "note body is larger than the limit of {} bytes",
                limits.max_note_body_bytes
            )
            .into(),
        ));
    }
    Ok(())
}

/// Rejects a new note when the owner already has the maximum number.
// NOTE: the count and the insert are separate statements, so concurrent
// creates by one user can pass the maximum by up to the number in flight.
fn page_size(requested: Option<u32>, limits: &Limits) -> Result<u32, ApiError> {
    let size = requested.unwrap_or(limits.default_page_size);
    if size == 0 || size > limits.max_page_size {
        return Err(ApiError::validation(format!(
            "limit must be between 1 and {}",
            limits.max_page_size
        )));
    }
    Ok(size)
}

/// Encodes the last id of a page as an opaque cursor (base64url of the UUID).
fn encode_cursor(id: NoteId) -> String {
    URL_SAFE_NO_PAD.encode(id.as_uuid().as_bytes())
}

fn decode_cursor(cursor: &str) -> Result<NoteId, ApiError> {
    let invalid =
        || ApiError::validation("cursor is invalid; pass `next_cursor` from a previous page");
    let bytes = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| invalid())?;
    let uuid = Uuid::from_slice(&bytes).map_err(|_| invalid())?;
    Ok(NoteId::from_uuid(uuid))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_round_trips() {
        let id = NoteId::new_time_ordered();

        assert_eq!(decode_cursor(&encode_cursor(id)).unwrap(), id);
    }

    #[test]
    fn garbage_cursor_is_a_validation_error() {
        assert!(matches!(
            decode_cursor("not a cursor!"),
            Err(ApiError::Validation(_))
        ));
    }

    #[test]
    fn page_size_above_maximum_is_rejected() {
        assert!(page_size(Some(101), &Limits::DEFAULT).is_err());
    }

    #[test]
    fn page_size_zero_is_rejected() {
        assert!(page_size(Some(0), &Limits::DEFAULT).is_err());
    }
}
