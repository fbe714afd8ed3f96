-- Users and their sealed notes. Ids are 16-byte UUIDs; note titles and bodies
-- are sealed envelopes (see gateway/src/crypto/envelope.rs), never plaintext.
CREATE TABLE users (
    id            BLOB    NOT NULL PRIMARY KEY CHECK (length(id) = 16),
    username      TEXT    NOT NULL UNIQUE,
    password_hash TEXT    NOT NULL,
    key_salt      BLOB    NOT NULL,
    created_at    TEXT    NOT NULL
) STRICT;

CREATE TABLE notes (
    id           BLOB NOT NULL PRIMARY KEY CHECK (length(id) = 16),
    owner_id     BLOB NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    title_sealed BLOB NOT NULL,
    body_sealed  BLOB NOT NULL,
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL
) STRICT;

-- Serves the per-owner listing, newest id first.
CREATE INDEX notes_owner_id_id ON notes (owner_id, id);
