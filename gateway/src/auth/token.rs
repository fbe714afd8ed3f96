//! Access tokens: HS256 JWTs with pinned algorithm, issuer, audience and expiry.
//!
//! The signing key is derived from the master key under its own HKDF label, so
//! every gateway replica that shares the master key accepts the same tokens.
//! A token carries only the user id (`sub`); it grants access to that user's
//! notes until `exp`.
//!
//! Non-goals: tokens cannot be revoked before they expire, which is why their
//! lifetime is short (15 minutes by default). There are no refresh tokens.

use std::time::Duration;

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::crypto::MasterKey;
use crate::ids::UserId;

/// The `iss` claim this gateway writes and requires.
pub const ISSUER: &str = "sandnotes-gateway";
/// The `aud` claim this gateway writes and requires.
pub const AUDIENCE: &str = "sandnotes-api";
/// Allowed clock difference between replicas when checking `exp`, in seconds.
pub const LEEWAY_SECONDS: u64 = 30;

const ALGORITHM: Algorithm = Algorithm::HS256;

/// Reason a presented token was rejected. The token itself is never included.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// The signature, algorithm, a claim, or the encoding is invalid, or the
    /// token has expired.
    #[error("access token rejected: {0:?}")]
    Invalid(jsonwebtoken::errors::ErrorKind),
    /// Signing failed; only possible if the claims cannot be serialized.
    #[error("access token signing failed: {0:?}")]
    Sign(jsonwebtoken::errors::ErrorKind),
}

/// A freshly issued token and its lifetime.
pub struct AccessToken {
    /// The compact JWT.
    pub token: String,
    /// Seconds until the token expires.
    pub expires_in: u64,
}

#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    sub: Uuid,
    iss: String,
    aud: String,
    iat: u64,
    exp: u64,
}

/// Issues and verifies access tokens.
pub struct TokenService {
    encoding_key: EncodingKey,
    decoding_key: DecodingKey,
    validation: Validation,
    lifetime: Duration,
}

impl TokenService {
    /// Creates the service with the signing key derived from `master`.
    ///
    /// `lifetime` is how long an issued token stays valid.
    // NOTE: jsonwebtoken 9 does not zeroize the key copies inside
    // `EncodingKey` and `DecodingKey`. The service lives for the whole
    // process, so the copies are freed only at exit.
    pub fn new(master: &MasterKey, lifetime: Duration) -> Self {
        let key = master.access_token_key();

        let mut validation = Validation::new(ALGORITHM);
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[AUDIENCE]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.leeway = LEEWAY_SECONDS;

        Self {
            encoding_key: EncodingKey::from_secret(key.as_ref()),
            decoding_key: DecodingKey::from_secret(key.as_ref()),
            validation,
            lifetime,
        }
    }

    /// Issues a token for `user` that expires after the configured lifetime.
    pub fn issue(&self, user: UserId) -> Result<AccessToken, TokenError> {
        let now = jsonwebtoken::get_current_timestamp();
        let claims = Claims {
            sub: *user.as_uuid(),
            iss: ISSUER.to_owned(),
            aud: AUDIENCE.to_owned(),
            iat: now,
            exp: now.saturating_add(self.lifetime.as_secs()),
        };

        let token = jsonwebtoken::encode(&Header::new(ALGORITHM), &claims, &self.encoding_key)
            .map_err(|error| TokenError::Sign(error.into_kind()))?;

        Ok(AccessToken {
            token,
            expires_in: self.lifetime.as_secs(),
        })
    }

    /// Verifies a compact JWT and returns the user it was issued to.
    pub fn verify(&self, token: &str) -> Result<UserId, TokenError> {
        let data = jsonwebtoken::decode::<Claims>(token, &self.decoding_key, &self.validation)
            .map_err(|error| TokenError::Invalid(error.into_kind()))?;
        Ok(UserId::from_uuid(data.claims.sub))
    }
}

#[cfg(test)]
mod tests {
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use jsonwebtoken::errors::ErrorKind;

    use super::*;

    fn service(master: &MasterKey) -> TokenService {
        TokenService::new(master, Duration::from_secs(900))
    }

    fn claims_for(user: UserId, exp: u64) -> Claims {
        Claims {
            sub: *user.as_uuid(),
            iss: ISSUER.to_owned(),
            aud: AUDIENCE.to_owned(),
            iat: 0,
            exp,
        }
    }

    fn sign_with_service_key(master: &MasterKey, header: &Header, claims: &Claims) -> String {
        let key = EncodingKey::from_secret(master.access_token_key().as_ref());
        jsonwebtoken::encode(header, claims, &key).unwrap()
    }

    #[test]
    fn issued_token_verifies_as_its_user() {
        let master = MasterKey::generate();
        let service = service(&master);
        let user = UserId::new_random();

        let token = service.issue(user).unwrap();

        assert_eq!(service.verify(&token.token).unwrap(), user);
        assert_eq!(token.expires_in, 900);
    }

    #[test]
    fn token_from_another_master_key_is_rejected() {
        let token = service(&MasterKey::generate())
            .issue(UserId::new_random())
            .unwrap();

        let result = service(&MasterKey::generate()).verify(&token.token);

        assert!(matches!(
            result,
            Err(TokenError::Invalid(ErrorKind::InvalidSignature))
        ));
    }

    #[test]
    fn expired_token_is_rejected() {
        let master = MasterKey::generate();
        let expired = jsonwebtoken::get_current_timestamp() - 3600;
        let token = sign_with_service_key(
            &master,
            &Header::new(ALGORITHM),
            &claims_for(UserId::new_random(), expired),
        );

        let result = service(&master).verify(&token);

        assert!(matches!(
            result,
            Err(TokenError::Invalid(ErrorKind::ExpiredSignature))
        ));
    }

    #[test]
    fn token_with_wrong_audience_is_rejected() {
        let master = MasterKey::generate();
        let mut claims = claims_for(
            UserId::new_random(),
            jsonwebtoken::get_current_timestamp() + 600,
        );
        claims.aud = "another-service".to_owned();
        let token = sign_with_service_key(&master, &Header::new(ALGORITHM), &claims);

        let result = service(&master).verify(&token);

        assert!(matches!(
            result,
            Err(TokenError::Invalid(ErrorKind::InvalidAudience))
        ));
    }

    #[test]
    fn token_with_wrong_issuer_is_rejected() {
        let master = MasterKey::generate();
        let mut claims = claims_for(
            UserId::new_random(),
            jsonwebtoken::get_current_timestamp() + 600,
        );
        claims.iss = "someone-else".to_owned();
        let token = sign_with_service_key(&master, &Header::new(ALGORITHM), &claims);

        let result = service(&master).verify(&token);

        assert!(matches!(
            result,
            Err(TokenError::Invalid(ErrorKind::InvalidIssuer))
        ));
    }

    #[test]
    fn hs512_token_is_rejected() {
        let master = MasterKey::generate();
        let claims = claims_for(
            UserId::new_random(),
            jsonwebtoken::get_current_timestamp() + 600,
        );
        let token = sign_with_service_key(&master, &Header::new(Algorithm::HS512), &claims);

        let result = service(&master).verify(&token);

        assert!(matches!(
            result,
            Err(TokenError::Invalid(ErrorKind::InvalidAlgorithm))
        ));
    }

    #[test]
    fn unsigned_alg_none_token_is_rejected() {
        let master = MasterKey::generate();
        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
        let claims = serde_json::to_vec(&claims_for(
            UserId::new_random(),
            jsonwebtoken::get_current_timestamp() + 600,
        ))
        .unwrap();
        let token = format!("{header}.{}.", URL_SAFE_NO_PAD.encode(claims));

        let result = service(&master).verify(&token);

        assert!(result.is_err());
    }
}
