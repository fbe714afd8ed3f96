-- Users and their sealed notes. Note titles and bodies are sealed envelopes
-- (see gateway/src/crypto/envelope.rs), never plaintext.
CREATE TABLE users (
    id            UUID        NOT NULL PRIMARY KEY,
    username      TEXT        NOT NULL UNIQUE,
    password_hash TEXT        NOT NULL,
    key_salt      BYTEA       NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL
);

CREATE TABLE notes (
    id           UUID        NOT NULL PRIMARY KEY,
    owner_id     UUID        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    title_sealed BYTEA       NOT NULL,
    body_sealed  BYTEA       NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    updated_at   TIMESTAMPTZ NOT NULL
);

-- Serves the per-owner listing, newest id first.
CREATE INDEX notes_owner_id_id ON notes (owner_id, id);
