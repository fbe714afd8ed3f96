-- Each user's note count, kept by the note store in the same transaction as
-- every note insert and delete, so the per-user note limit is checked in
-- constant time and cannot be passed by concurrent creates.
ALTER TABLE users ADD COLUMN note_count BIGINT NOT NULL DEFAULT 0 CHECK (note_count >= 0);

UPDATE users SET note_count = (SELECT COUNT(*) FROM notes WHERE notes.owner_id = users.id);
