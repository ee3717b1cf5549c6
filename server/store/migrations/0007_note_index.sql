-- 0007: what the console's notes list (GET /api/v1/reports/notes) reads
-- beside visit_notes: when each note reached the server and a full-text
-- index of each note with its findings.
--
-- Both are kept by triggers, in the same transaction as the write that
-- changes them. Every write into visit_notes, findings, units and users
-- goes through the sync engine (server/syncdb), which writes plain INSERTs
-- and UPDATEs of the changed columns and logs each change in change_log, so
-- no write can skip them; a backup or restore carries them along.

-- note_index: one row per note id. doc is the note's rowid in note_search
-- (an INTEGER PRIMARY KEY, so VACUUM keeps it). The times are change_log
-- received_at instants normalised to milliseconds
-- ("YYYY-MM-DDTHH:MM:SS.SSSZ"), so that they sort as text:
--   first_submitted_at  the note first reached the server as submitted or
--                       reviewed (what coverage calls inspected)
--   submitted_at        the note last reached the server as submitted: its
--                       place in the review queue
--   updated_at          the note's row last changed
-- touched is bumped whenever the note's indexed text may have changed; the
-- trigger on it rebuilds the note's search entry.
CREATE TABLE note_index (
    doc                INTEGER PRIMARY KEY,
    note_id            TEXT NOT NULL UNIQUE,
    first_submitted_at TEXT,
    submitted_at       TEXT,
    updated_at         TEXT,
    touched            INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX note_index_submitted ON note_index(submitted_at);

-- note_search: the words of a note (title, its six sections, its unit's
-- name, its author's name) and of its live findings. unicode61 with
-- remove_diacritics 2 folds case and the diacritics Unicode decomposes
-- ("Châu" is "chau"), but not "đ", which is a letter of its own: the text is
-- indexed with đ/Đ replaced by d/D, and queries are folded the same way
-- (server/report/search.go). Contentless: the text lives in visit_notes and
-- findings; this holds only the index.
CREATE VIRTUAL TABLE note_search USING fts5(
    body,
    content = '',
    contentless_delete = 1,
    tokenize = 'unicode61 remove_diacritics 2'
);

-- note_search_text is what note_search indexes for a note.
CREATE VIEW note_search_text AS
SELECT n.id AS note_id,
    replace(replace(concat_ws(' ',
        n.title, n.results, n.models, n.shortcomings, n.aspirations, n.recommendations, n.conclusions,
        (SELECT u.name FROM units u WHERE u.id = n.unit_id),
        (SELECT a.full_name FROM users a WHERE a.id = n.author_id),
        (SELECT group_concat(f.text, ' ') FROM findings f WHERE f.note_id = n.id AND f.deleted = 0)
    ), 'đ', 'd'), 'Đ', 'D') AS body
FROM visit_notes n;

CREATE TRIGGER note_index_added AFTER INSERT ON note_index BEGIN
    INSERT INTO note_search (rowid, body)
    SELECT new.doc, body FROM note_search_text WHERE note_id = new.note_id;
END;

CREATE TRIGGER note_index_touched AFTER UPDATE OF touched ON note_index BEGIN
    DELETE FROM note_search WHERE rowid = new.doc;
    INSERT INTO note_search (rowid, body)
    SELECT new.doc, body FROM note_search_text WHERE note_id = new.note_id;
END;

-- The notes already stored.
INSERT INTO note_index (note_id, first_submitted_at, submitted_at, updated_at)
SELECT n.id,
    (SELECT MIN(strftime('%Y-%m-%dT%H:%M:%fZ', c.received_at)) FROM change_log c
        WHERE c.tbl = 'visit_notes' AND c.row_id = n.id
        AND json_extract(c.applied, '$.status') IN ('submitted', 'reviewed')),
    (SELECT MAX(strftime('%Y-%m-%dT%H:%M:%fZ', c.received_at)) FROM change_log c
        WHERE c.tbl = 'visit_notes' AND c.row_id = n.id
        AND json_extract(c.applied, '$.status') = 'submitted'),
    (SELECT MAX(strftime('%Y-%m-%dT%H:%M:%fZ', c.received_at)) FROM change_log c
        WHERE c.tbl = 'visit_notes' AND c.row_id = n.id)
FROM visit_notes n;

-- The times, from the change log: applied holds the values a change set
-- (after the merge), so a status that lost to a later one is not counted.
CREATE TRIGGER note_index_logged AFTER INSERT ON change_log WHEN new.tbl = 'visit_notes' BEGIN
    INSERT INTO note_index (note_id, first_submitted_at, submitted_at, updated_at)
    VALUES (new.row_id,
        CASE WHEN json_extract(new.applied, '$.status') IN ('submitted', 'reviewed')
            THEN strftime('%Y-%m-%dT%H:%M:%fZ', new.received_at) END,
        CASE WHEN json_extract(new.applied, '$.status') = 'submitted'
            THEN strftime('%Y-%m-%dT%H:%M:%fZ', new.received_at) END,
        strftime('%Y-%m-%dT%H:%M:%fZ', new.received_at))
    ON CONFLICT (note_id) DO UPDATE SET
        first_submitted_at = COALESCE(first_submitted_at, excluded.first_submitted_at),
        submitted_at = COALESCE(excluded.submitted_at, submitted_at),
        updated_at = max(COALESCE(updated_at, ''), excluded.updated_at);
END;

-- The text: a note's own words, its findings', its unit's and author's names.
CREATE TRIGGER note_search_note_added AFTER INSERT ON visit_notes BEGIN
    INSERT INTO note_index (note_id) VALUES (new.id)
    ON CONFLICT (note_id) DO UPDATE SET touched = touched + 1;
END;

CREATE TRIGGER note_search_note_changed
AFTER UPDATE OF title, results, models, shortcomings, aspirations, recommendations, conclusions, unit_id, author_id
ON visit_notes BEGIN
    INSERT INTO note_index (note_id) VALUES (new.id)
    ON CONFLICT (note_id) DO UPDATE SET touched = touched + 1;
END;

CREATE TRIGGER note_search_finding_added AFTER INSERT ON findings WHEN new.note_id IS NOT NULL BEGIN
    INSERT INTO note_index (note_id) VALUES (new.note_id)
    ON CONFLICT (note_id) DO UPDATE SET touched = touched + 1;
END;

CREATE TRIGGER note_search_finding_changed AFTER UPDATE OF text, note_id, deleted ON findings BEGIN
    UPDATE note_index SET touched = touched + 1 WHERE note_id IN (new.note_id, old.note_id);
END;

CREATE TRIGGER note_search_unit_renamed AFTER UPDATE OF name ON units BEGIN
    UPDATE note_index SET touched = touched + 1
    WHERE note_id IN (SELECT id FROM visit_notes WHERE unit_id = new.id);
END;

CREATE TRIGGER note_search_author_renamed AFTER UPDATE OF full_name ON users BEGIN
    UPDATE note_index SET touched = touched + 1
    WHERE note_id IN (SELECT id FROM visit_notes WHERE author_id = new.id);
END;
