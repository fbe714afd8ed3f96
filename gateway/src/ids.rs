//! Typed identifiers, so a user id cannot be passed where a note id belongs.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Identifier of a user account (UUID v4, random).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct UserId(Uuid);

impl UserId {
    /// Creates a fresh random id.
    pub fn new_random() -> Self {
        Self(Uuid::new_v4())
    }

    /// Wraps an id read from storage or a verified token.
    pub const fn from_uuid(uuid: Uuid) -> Self {
        Self(uuid)
    }

    /// Returns the underlying UUID.
    pub const fn as_uuid(&self) -> &Uuid {
        &self.0
    }
}

/// Identifier of a note (UUID v7).
///
/// Version 7 ids start with a millisecond timestamp, so ordering by id orders
/// notes by creation time and keeps pagination by id stable.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct NoteId(Uuid);

impl NoteId {
    /// Creates a fresh time-ordered id.
    pub fn new_time_ordered() -> Self {
        Self(Uuid::now_v7())
    }

    /// Wraps an id read from storage or a request path.
    pub const fn from_uuid(uuid: Uuid) -> Self {
        Self(uuid)
    }

    /// Returns the underlying UUID.
    pub const fn as_uuid(&self) -> &Uuid {
        &self.0
    }
}

/// Identifier of an uploaded plugin (UUID v7, time-ordered like [`NoteId`]).
///
/// Distinct from the plugin's SHA-256 digest: two users who upload the same
/// bytes get two plugins with one digest.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct PluginId(Uuid);

impl PluginId {
    /// Creates a fresh time-ordered id.
    pub fn new_time_ordered() -> Self {
        Self(Uuid::now_v7())
    }

    /// Wraps an id read from storage or a request path.
    pub const fn from_uuid(uuid: Uuid) -> Self {
        Self(uuid)
    }

    /// Returns the underlying UUID.
    pub const fn as_uuid(&self) -> &Uuid {
        &self.0
    }
}

macro_rules! impl_text_forms {
    ($id:ty) => {
        impl fmt::Display for $id {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.hyphenated().fmt(f)
            }
        }

        impl FromStr for $id {
            type Err = uuid::Error;

            fn from_str(text: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(text).map(Self)
            }
        }
    };
}

impl_text_forms!(UserId);
impl_text_forms!(NoteId);
impl_text_forms!(PluginId);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn note_ids_sort_by_creation() {
        let first = NoteId::new_time_ordered();
        let second = NoteId::new_time_ordered();

        assert!(first < second);
    }

    #[test]
    fn note_id_round_trips_through_text() {
        let id = NoteId::new_time_ordered();

        let parsed: NoteId = id.to_string().parse().unwrap();

        assert_eq!(parsed, id);
    }
}
