-- Triggers keep each user's note count from now on, so a note insert or
-- delete is one statement that changes the note and the count together:
-- SQLite undoes a failed statement with the changes of its triggers. The
-- store inserts with `INSERT ... SELECT ... WHERE note_count < limit`, which
-- checks the per-user limit in that same statement.
CREATE TRIGGER notes_count_after_insert AFTER INSERT ON notes
BEGIN
    UPDATE users SET note_count = note_count + 1 WHERE id = NEW.owner_id;
END;

CREATE TRIGGER notes_count_after_delete AFTER DELETE ON notes
BEGIN
    UPDATE users SET note_count = note_count - 1 WHERE id = OLD.owner_id;
END;
