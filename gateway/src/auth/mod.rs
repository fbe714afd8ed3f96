//! Accounts: password hashing, access tokens, and the extractor that turns a
//! bearer token into the authenticated user.

mod extractor;
pub mod password;
pub mod throttle;
pub mod token;

pub use extractor::AuthenticatedUser;
pub use password::{PasswordError, PasswordHasher, PasswordPool};
pub use throttle::LoginThrottle;
pub use token::{AccessToken, TokenError, TokenService};
