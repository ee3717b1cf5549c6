-- 0014: a note's times in note_index are kept from the writes of its row,
-- not from every change logged: the twin of the SQLite migration of the
-- same number, which says why and what each time means.
DROP TRIGGER note_index_logged ON change_log;
DROP FUNCTION dicoso_note_logged();

-- The instant of the change_log entry a note row's seq names.
CREATE FUNCTION dicoso_row_instant(s bigint) RETURNS text
LANGUAGE sql STABLE
RETURN (SELECT dicoso_instant(received_at) FROM change_log WHERE seq = s);

CREATE FUNCTION dicoso_note_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    at text := dicoso_row_instant(NEW.seq);
BEGIN
    IF at IS NULL THEN
        RETURN NULL;
    END IF;
    INSERT INTO note_index (note_id, first_submitted_at, submitted_at, updated_at)
    VALUES (NEW.id,
        CASE WHEN NEW.status IN ('submitted', 'reviewed') THEN at END,
        CASE WHEN NEW.status = 'submitted' THEN at END,
        at)
    ON CONFLICT (note_id) DO UPDATE SET
        first_submitted_at = COALESCE(note_index.first_submitted_at, excluded.first_submitted_at),
        submitted_at = COALESCE(excluded.submitted_at, note_index.submitted_at),
        updated_at = GREATEST(COALESCE(note_index.updated_at, ''), excluded.updated_at);
    RETURN NULL;
END $$;
CREATE TRIGGER note_index_note_inserted AFTER INSERT ON visit_notes
    FOR EACH ROW EXECUTE FUNCTION dicoso_note_inserted();

CREATE FUNCTION dicoso_note_updated() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    at text := dicoso_row_instant(NEW.seq);
BEGIN
    IF at IS NOT NULL THEN
        UPDATE note_index SET updated_at = GREATEST(COALESCE(updated_at, ''), at) WHERE note_id = NEW.id;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER note_index_note_updated AFTER UPDATE ON visit_notes
    FOR EACH ROW EXECUTE FUNCTION dicoso_note_updated();

CREATE FUNCTION dicoso_note_handed_in() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    at text := dicoso_row_instant(NEW.seq);
BEGIN
    IF at IS NOT NULL THEN
        UPDATE note_index SET
            first_submitted_at = COALESCE(first_submitted_at, at),
            submitted_at = CASE WHEN NEW.status = 'submitted' THEN at ELSE submitted_at END
        WHERE note_id = NEW.id;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER note_index_note_handed_in AFTER UPDATE OF status ON visit_notes
    FOR EACH ROW WHEN (NEW.status IN ('submitted', 'reviewed')) EXECUTE FUNCTION dicoso_note_handed_in();
