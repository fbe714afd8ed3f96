//! `POST /v1/auth/signup` and `POST /v1/auth/login`.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use super::ApiJson;
use crate::crypto::keys::generate_user_salt;
use crate::ids::UserId;
use crate::problem::ApiError;
use crate::state::AppState;
use crate::store::{self, NewUser, StoreError};

/// Usernames are 3 to 64 characters from `a-z`, `0-9`, `.`, `_` and `-`,
/// compared after ASCII lowercasing.
const USERNAME_LENGTHS: std::ops::RangeInclusive<usize> = 3..=64;

/// Passwords are 8 to 1,024 bytes. The upper bound caps the hashing input.
const PASSWORD_LENGTHS: std::ops::RangeInclusive<usize> = 8..=1024;

/// Body of signup and login.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Credentials {
    username: String,
    password: Zeroizing<String>,
}

/// Response to a signup.
#[derive(Serialize)]
pub(super) struct SignupResponse {
    id: UserId,
    username: String,
}

/// Response to a login.
#[derive(Serialize)]
pub(super) struct LoginResponse {
    access_token: String,
    token_type: &'static str,
    expires_in: u64,
}

/// Creates an account. 201 with the user id; 409 if the username is taken.
pub(super) async fn signup(
    State(state): State<AppState>,
    ApiJson(credentials): ApiJson<Credentials>,
) -> Result<(StatusCode, Json<SignupResponse>), ApiError> {
    let username = normalize_username(&credentials.username)?;
    check_password(&credentials.password)?;

    let password_hash = state.passwords.hash(credentials.password).await?;

    let user = NewUser {
        id: UserId::new_random(),
        username,
        password_hash,
        key_salt: generate_user_salt().to_vec(),
        created_at: store::now(),
    };
    match state.store.create_user(&user).await {
        Ok(()) => {}
        Err(StoreError::UsernameTaken) => {
            return Err(ApiError::Conflict("the username is already taken".into()));
        }
        Err(error) => return Err(error.into()),
    }

    tracing::info!(user_id = %user.id, "user signed up");
    let response = SignupResponse {
        id: user.id,
        username: user.username,
    };
    Ok((StatusCode::CREATED, Json(response)))
}

/// Exchanges a username and password for an access token.
///
/// An unknown username and a wrong password get the same 401 response, and
/// both run one Argon2 verification, so neither the response nor its
/// timing distinguishes them. Attempts past the per-username budget get 429
/// with `Retry-After`, for unknown usernames too.
pub(super) async fn login(
    State(state): State<AppState>,
    ApiJson(credentials): ApiJson<Credentials>,
) -> Result<Json<LoginResponse>, ApiError> {
    let username = normalize_username(&credentials.username).ok();
    if let Some(username) = &username {
        throttle_login(&state, username)?;
    }
    let user = match &username {
        Some(username) => state.store.find_user_by_username(username).await?,
        None => None,
    };

    let stored_hash = user.as_ref().map(|user| user.password_hash.clone());
    let verified = state
        .passwords
        .verify(credentials.password, stored_hash)
        .await?;

    let Some(user) = user else {
        return Err(ApiError::unauthorized("login failed: unknown username"));
    };
    if !verified {
        tracing::Span::current().record("user_id", tracing::field::display(user.id));
        return Err(ApiError::unauthorized("login failed: wrong password"));
    }

    let token = state.tokens.issue(user.id)?;
    tracing::info!(user_id = %user.id, "user logged in");
    Ok(Json(LoginResponse {
        access_token: token.token,
        token_type: "Bearer",
        expires_in: token.expires_in,
    }))
}

/// Rejects the attempt with 429 when the username's attempt budget is spent.
fn throttle_login(state: &AppState, username: &str) -> Result<(), ApiError> {
    state.login_throttle.check(username).map_err(|wait| {
        // Round up, so a client that waits exactly this long is let through.
        let retry_after_seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
        ApiError::TooManyRequests {
            retry_after_seconds,
        }
    })
}

fn normalize_username(username: &str) -> Result<String, ApiError> {
    if !USERNAME_LENGTHS.contains(&username.len()) {
        return Err(ApiError::validation(
            "username must be 3 to 64 characters long",
        ));
    }
    let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-');
    if !username.chars().all(allowed) {
        return Err(ApiError::validation(
            "username may contain only letters a-z, digits, '.', '_' and '-'",
        ));
    }
    Ok(username.to_ascii_lowercase())
}

fn check_password(password: &str) -> Result<(), ApiError> {
    if PASSWORD_LENGTHS.contains(&password.len()) {
        Ok(())
    } else {
        Err(ApiError::validation(
            "password must be 8 to 1024 bytes long",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn username_is_lowercased() {
        assert_eq!(normalize_username("Alice.B").unwrap(), "alice.b");
    }

    #[test]
    fn username_with_space_is_rejected() {
        assert!(normalize_username("alice b").is_err());
    }

    #[test]
    fn non_ascii_username_is_rejected() {
        assert!(normalize_username("аlice").is_err());
    }

    #[test]
    fn short_password_is_rejected() {
        assert!(check_password("1234567").is_err());
    }
}
