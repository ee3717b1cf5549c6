-- 0012 (PostgreSQL, twin of ../0012_briefings.sql): cluster briefings (giao ban cụm) and the recommendations raised at
-- them, which are findings naming the briefing (docs/protocol.md, Data).
CREATE TABLE briefings (
    id                 TEXT PRIMARY KEY,
    cluster_id         TEXT,
    campaign_id        TEXT,
    held_on            TEXT,
    place              TEXT NOT NULL DEFAULT '',
    host_unit_id       TEXT,
    lead_secretary_id  TEXT,
    lead_department_id TEXT,
    unit_ids           TEXT NOT NULL DEFAULT '[]',
    minutes            TEXT NOT NULL DEFAULT '',
    deleted            BIGINT NOT NULL DEFAULT 0,
    version            TEXT NOT NULL DEFAULT '',
    clocks             TEXT NOT NULL DEFAULT '{}',
    seq                BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX briefings_cluster ON briefings(cluster_id);
CREATE INDEX briefings_seq ON briefings(seq);

ALTER TABLE findings ADD COLUMN briefing_id TEXT;
CREATE INDEX findings_briefing ON findings(briefing_id);
