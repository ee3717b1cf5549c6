-- 0005: the field a refusal is about, so a replayed refusal answers the same.
ALTER TABLE rejected_changes ADD COLUMN field TEXT NOT NULL DEFAULT '';
