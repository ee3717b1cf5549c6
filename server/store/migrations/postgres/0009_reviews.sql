-- 0009 (PostgreSQL, twin of ../0009_reviews.sql): every review round of a visit note (docs/protocol.md, Data).
CREATE TABLE reviews (
    id          TEXT PRIMARY KEY,
    note_id     TEXT,
    reviewer_id TEXT,
    decision    TEXT,
    comment     TEXT NOT NULL DEFAULT '',
    at          TEXT,
    deleted     BIGINT NOT NULL DEFAULT 0,
    version     TEXT NOT NULL DEFAULT '',
    clocks      TEXT NOT NULL DEFAULT '{}',
    seq         BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX reviews_note ON reviews(note_id);
CREATE INDEX reviews_seq ON reviews(seq);
CREATE INDEX reviews_reviewer_seq ON reviews(reviewer_id, seq);
