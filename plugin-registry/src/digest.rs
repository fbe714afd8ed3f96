//! A plugin's identity: the SHA-256 digest of its component bytes.

use std::fmt;
use std::str::FromStr;

use sha2::{Digest, Sha256};

/// SHA-256 of a plugin's component bytes. Displayed and parsed as 64
/// lowercase hexadecimal characters.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PluginDigest([u8; 32]);

impl PluginDigest {
    /// Hashes `bytes`.
    pub fn of(bytes: &[u8]) -> Self {
        Self(Sha256::digest(bytes).into())
    }

    /// The raw 32 digest bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// The digest as 64 lowercase hexadecimal characters.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }
}

impl fmt::Display for PluginDigest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for PluginDigest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PluginDigest({self})")
    }
}

/// A string that is not 64 hexadecimal characters.
#[derive(Debug, thiserror::Error)]
#[error("invalid SHA-256 digest: expected 64 hexadecimal characters")]
pub struct InvalidDigest;

impl FromStr for PluginDigest {
    type Err = InvalidDigest;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let mut bytes = [0u8; 32];
        hex::decode_to_slice(text, &mut bytes).map_err(|_| InvalidDigest)?;
        Ok(Self(bytes))
    }
}

impl From<[u8; 32]> for PluginDigest {
    fn from(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digest_of_empty_input_is_the_standard_value() {
        assert_eq!(
            PluginDigest::of(b"").to_hex(),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    #[test]
    fn digest_round_trips_through_hex() {
        let digest = PluginDigest::of(b"plugin");
        let parsed: PluginDigest = digest.to_hex().parse().expect("valid hex");
        assert_eq!(parsed, digest);
    }

    #[test]
    fn short_or_non_hex_digest_is_rejected() {
        assert!("abc".parse::<PluginDigest>().is_err());
        assert!("z".repeat(64).parse::<PluginDigest>().is_err());
    }
}
