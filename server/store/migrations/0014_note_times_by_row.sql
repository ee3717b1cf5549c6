-- 0014: a note's times in note_index (0007) are kept from the writes of
-- its row, not from every change logged. The merge (server/syncdb) writes
-- each changed row once per commit, however many changes it took (a note
-- autosaved forty times offline is forty change_log entries and one row
-- write), and sets the row's seq to the change_log entry of the last of
-- them; the trigger on change_log ran for each of the forty and made every
-- change_log insert keep a statement journal, a tenth of the merge's cost.
--
-- The times keep their meaning (0007): received_at instants of the
-- change_log entry the row's seq names, in milliseconds.
--   updated_at          the note's row last changed (a change that lost
--                       every field changes no row, and no longer counts)
--   first_submitted_at  the row was first written as submitted or reviewed
--   submitted_at        the row's status was last written as submitted:
--                       an UPDATE naming status, which the merge writes
--                       only when a change won the field
-- When several changes of one commit write the row, the times are those of
-- the last of them, a few milliseconds at most after the others.
DROP TRIGGER note_index_logged;

CREATE TRIGGER note_index_note_inserted AFTER INSERT ON visit_notes BEGIN
    INSERT INTO note_index (note_id, first_submitted_at, submitted_at, updated_at)
    SELECT new.id,
        CASE WHEN new.status IN ('submitted', 'reviewed') THEN at END,
        CASE WHEN new.status = 'submitted' THEN at END,
        at
    FROM (SELECT strftime('%Y-%m-%dT%H:%M:%fZ', received_at) AS at FROM change_log WHERE seq = new.seq)
    WHERE true
    ON CONFLICT (note_id) DO UPDATE SET
        first_submitted_at = COALESCE(first_submitted_at, excluded.first_submitted_at),
        submitted_at = COALESCE(excluded.submitted_at, submitted_at),
        updated_at = max(COALESCE(updated_at, ''), excluded.updated_at);
END;

CREATE TRIGGER note_index_note_updated AFTER UPDATE ON visit_notes BEGIN
    UPDATE note_index SET updated_at = max(COALESCE(updated_at, ''),
        (SELECT strftime('%Y-%m-%dT%H:%M:%fZ', received_at) FROM change_log WHERE seq = new.seq))
    WHERE note_id = new.id AND EXISTS (SELECT 1 FROM change_log WHERE seq = new.seq);
END;

CREATE TRIGGER note_index_note_handed_in AFTER UPDATE OF status ON visit_notes
WHEN new.status IN ('submitted', 'reviewed') BEGIN
    UPDATE note_index SET
        first_submitted_at = COALESCE(first_submitted_at,
            (SELECT strftime('%Y-%m-%dT%H:%M:%fZ', received_at) FROM change_log WHERE seq = new.seq)),
        submitted_at = CASE WHEN new.status = 'submitted'
            THEN COALESCE((SELECT strftime('%Y-%m-%dT%H:%M:%fZ', received_at) FROM change_log WHERE seq = new.seq), submitted_at)
            ELSE submitted_at END
    WHERE note_id = new.id;
END;
