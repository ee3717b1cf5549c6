-- 0004 (PostgreSQL, twin of ../0004_scope_moves.sql): rows that may have left someone's read scope. When a change moves a
-- row (a finding to another department, a note back to needs_revision, a
-- note to another unit), the readers who lose it must still hear of it so
-- their devices drop it. before holds the row's fields as they were, so the
-- pull can tell who could read it then.
CREATE TABLE scope_moves (
    seq    BIGINT PRIMARY KEY, -- change_log.seq of the moving change
    tbl    TEXT NOT NULL,
    row_id TEXT NOT NULL,
    before TEXT NOT NULL
);
CREATE INDEX scope_moves_tbl_seq ON scope_moves(tbl, seq);
