-- Uploaded plugins. Component bytes are stored once per SHA-256 digest in
-- plugin_blobs; each upload is a row in plugins that names its owner,
-- visibility and digest. A blob is deleted with the last plugin row using it.
CREATE TABLE plugin_blobs (
    sha256     BLOB    NOT NULL PRIMARY KEY CHECK (length(sha256) = 32),
    bytes      BLOB    NOT NULL,
    created_at TEXT    NOT NULL
) STRICT;

CREATE TABLE plugins (
    id          BLOB    NOT NULL PRIMARY KEY CHECK (length(id) = 16),
    owner_id    BLOB    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name        TEXT    NOT NULL,
    description TEXT,
    version     TEXT,
    visibility  TEXT    NOT NULL CHECK (visibility IN ('private', 'public')),
    sha256      BLOB    NOT NULL REFERENCES plugin_blobs (sha256),
    size_bytes  INTEGER NOT NULL,
    created_at  TEXT    NOT NULL,
    UNIQUE (owner_id, name)
) STRICT;

CREATE INDEX plugins_visibility_id ON plugins (visibility, id);
CREATE INDEX plugins_sha256 ON plugins (sha256);
