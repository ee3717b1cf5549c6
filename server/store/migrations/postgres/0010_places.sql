-- 0010 (PostgreSQL, twin of ../0010_places.sql): grassroots places proposed from the field (docs/protocol.md, Data):
-- a unit's standing and who proposed it. Every unit so far is the plan's,
-- so confirmed.
ALTER TABLE units ADD COLUMN status TEXT NOT NULL DEFAULT 'confirmed'
    CHECK (status IN ('confirmed','proposed','merged','rejected'));
ALTER TABLE units ADD COLUMN proposed_by TEXT REFERENCES users(id);
CREATE INDEX units_status ON units(status);
