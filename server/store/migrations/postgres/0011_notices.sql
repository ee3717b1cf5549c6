-- 0011 (PostgreSQL, twin of ../0011_notices.sql): inspection teams' schedules and the notices that announce them
-- (docs/protocol.md, Data).
CREATE TABLE team_visits (
    id        TEXT PRIMARY KEY,
    team_id   TEXT,
    unit_id   TEXT,
    starts_on TEXT,
    ends_on   TEXT,
    place     TEXT NOT NULL DEFAULT '',
    contact   TEXT NOT NULL DEFAULT '',
    deleted   BIGINT NOT NULL DEFAULT 0,
    version   TEXT NOT NULL DEFAULT '',
    clocks    TEXT NOT NULL DEFAULT '{}',
    seq       BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX team_visits_team ON team_visits(team_id);
CREATE INDEX team_visits_unit ON team_visits(unit_id);
CREATE INDEX team_visits_seq ON team_visits(seq);

CREATE TABLE notices (
    id          TEXT PRIMARY KEY,
    campaign_id TEXT,
    team_id     TEXT,
    number      TEXT NOT NULL DEFAULT '',
    revision    BIGINT,
    revises_id  TEXT,
    title       TEXT NOT NULL DEFAULT '',
    content     TEXT NOT NULL DEFAULT '',
    preparation TEXT NOT NULL DEFAULT '',
    recipients  TEXT NOT NULL DEFAULT '',
    signed_on   TEXT,
    status      TEXT NOT NULL DEFAULT 'draft',
    deleted     BIGINT NOT NULL DEFAULT 0,
    version     TEXT NOT NULL DEFAULT '',
    clocks      TEXT NOT NULL DEFAULT '{}',
    seq         BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX notices_campaign ON notices(campaign_id);
CREATE INDEX notices_seq ON notices(seq);
