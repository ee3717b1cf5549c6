-- 0006 (PostgreSQL, twin of ../0006_refresh_parent.sql): which refresh token each one was issued for, so a refresh retried
-- after a lost answer can be told from a replay of a stolen token.
ALTER TABLE refresh_tokens ADD COLUMN parent_id TEXT;
CREATE INDEX refresh_tokens_parent ON refresh_tokens(parent_id);
