-- 0005 (PostgreSQL, twin of ../0005_rejected_field.sql): the field a refusal is about, so a replayed refusal answers the same.
ALTER TABLE rejected_changes ADD COLUMN field TEXT NOT NULL DEFAULT '';
