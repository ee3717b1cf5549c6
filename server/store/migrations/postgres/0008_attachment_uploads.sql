-- 0008 (PostgreSQL, twin of ../0008_attachment_uploads.sql): everyone who uploaded each blob, not only the first. A push may
-- name a blob (a check-in's photo, a note's attachments) only if its author
-- uploaded those bytes or may already read them; someone who uploads bytes
-- another user uploaded first has them all the same.
CREATE TABLE attachment_uploads (
    sha256      TEXT NOT NULL,
    user_id     TEXT NOT NULL,
    uploaded_at TEXT NOT NULL,
    PRIMARY KEY (sha256, user_id)
);
INSERT INTO attachment_uploads (sha256, user_id, uploaded_at)
    SELECT sha256, uploaded_by, created_at FROM attachments WHERE uploaded_by IS NOT NULL;
