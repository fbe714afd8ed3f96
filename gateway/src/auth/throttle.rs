//! Login throttling per username, against online password guessing.
//!
//! Each normalized username gets a token bucket (GCRA, from the `governor`
//! crate) that refills at the configured attempts per minute and stores up
//! to that many. Every login attempt for the name takes one token, whether it
//! succeeds or not. The key is the username, not the client address, so guessing one
//! account's password from many addresses is throttled too.
//!
//! Non-goals: an attacker can keep one account's bucket empty and so delay
//! its owner's logins (the usual trade-off of per-account throttling). Buckets
//! live in memory per gateway process, so each replica throttles separately.

use std::num::NonZeroU32;
use std::time::Duration;

use governor::clock::Clock;
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

/// Buckets kept before idle ones are dropped; bounds memory when many
/// different usernames are tried.
const MAX_TRACKED_USERNAMES: usize = 100_000;

/// Per-username login attempt limiter.
pub struct LoginThrottle {
    limiter: DefaultKeyedRateLimiter<String>,
}

impl LoginThrottle {
    /// Creates a throttle allowing `attempts_per_minute` attempts per
    /// username, all of which may come at once.
    pub fn new(attempts_per_minute: NonZeroU32) -> Self {
        Self {
            limiter: RateLimiter::keyed(Quota::per_minute(attempts_per_minute)),
        }
    }

    /// Takes one attempt for `username`; returns how long to wait when the
    /// bucket is empty.
    pub fn check(&self, username: &str) -> Result<(), Duration> {
        if self.limiter.len() > MAX_TRACKED_USERNAMES {
            self.limiter.retain_recent();
        }

        self.limiter
            .check_key(&username.to_owned())
            .map_err(|not_until| not_until.wait_time_from(self.limiter.clock().now()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn throttle(attempts: u32) -> LoginThrottle {
        LoginThrottle::new(NonZeroU32::new(attempts).unwrap())
    }

    #[test]
    fn attempts_within_quota_pass() {
        let throttle = throttle(3);

        for _ in 0..3 {
            assert!(throttle.check("alice").is_ok());
        }
    }

    #[test]
    fn attempt_past_quota_waits() {
        let throttle = throttle(3);
        for _ in 0..3 {
            throttle.check("alice").unwrap();
        }

        let wait = throttle.check("alice").unwrap_err();

        assert!(wait > Duration::ZERO);
        assert!(wait <= Duration::from_secs(20));
    }

    #[test]
    fn usernames_have_separate_buckets() {
        let throttle = throttle(1);
        throttle.check("alice").unwrap();

        assert!(throttle.check("bob").is_ok());
        assert!(throttle.check("alice").is_err());
    }
}
