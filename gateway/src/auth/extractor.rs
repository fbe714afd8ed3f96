//! The extractor that authenticates a request by its bearer token.

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;

use crate::ids::UserId;
use crate::problem::ApiError;
use crate::state::AppState;

/// The user whose valid access token the request carries.
///
/// Extraction fails with 401 when the `Authorization` header is missing, is
/// not a `Bearer` credential, or carries a token that fails verification. The
/// user id is recorded on the request's span.
#[derive(Clone, Copy, Debug)]
pub struct AuthenticatedUser(pub UserId);

impl FromRequestParts<AppState> for AuthenticatedUser {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let header = parts
            .headers
            .get(AUTHORIZATION)
            .ok_or_else(|| ApiError::unauthorized("missing Authorization header"))?;
        let value = header
            .to_str()
            .map_err(|_| ApiError::unauthorized("Authorization header is not visible ASCII"))?;
        let token = bearer_token(value).ok_or_else(|| {
            ApiError::unauthorized("Authorization header is not a Bearer credential")
        })?;

        let user = state.tokens.verify(token)?;
        tracing::Span::current().record("user_id", tracing::field::display(user));
        Ok(Self(user))
    }
}

/// Returns the token of a `Bearer` credential; the scheme name is
/// case-insensitive (RFC 9110, section 11.1).
fn bearer_token(value: &str) -> Option<&str> {
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_scheme_is_case_insensitive() {
        assert_eq!(bearer_token("bearer abc.def.ghi"), Some("abc.def.ghi"));
    }

    #[test]
    fn basic_credential_is_not_bearer() {
        assert_eq!(bearer_token("Basic dXNlcjpwYXNz"), None);
    }

    #[test]
    fn empty_bearer_token_is_rejected() {
        assert_eq!(bearer_token("Bearer  "), None);
    }
}
