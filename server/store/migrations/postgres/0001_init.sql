-- 0001 (PostgreSQL): the whole schema of design §3, shaped for sync (design §4).
-- The twin of ../0001_init.sql, column for column: whole numbers and flags
-- BIGINT (SQLite's INTEGER, read back as int64 by both drivers), numbers
-- DOUBLE PRECISION, everything else TEXT (JSON lists included, cast to
-- jsonb where a query reads into them). References between reference
-- tables that SQLite lets a table name before it exists are added at the
-- end, once every table is there.
--
-- Every synced table (reference data and field data alike) carries four
-- columns the sync engine owns:
--   deleted  tombstone; merges like any other field
--   version  the highest HLC of any field of the row
--   clocks   JSON object: field name -> HLC of the write that set it
--   seq      change_log.seq of the last change applied to the row; pull pages
--            over it, so the order is the server's, never a device's clock
-- List-valued fields (roles, unit_ids, member_ids, flags, attachments) are
-- JSON arrays of strings, read in SQL with jsonb_array_elements_text.

-- Usernames compare without case, as SQLite's COLLATE NOCASE: an ICU
-- collation at strength 2 (case-insensitive, accent-sensitive).
CREATE COLLATION nocase (provider = icu, locale = 'und-u-ks-level2', deterministic = false);

CREATE TABLE departments (
    id      TEXT PRIMARY KEY,
    name    TEXT NOT NULL DEFAULT '',
    duties  TEXT NOT NULL DEFAULT '',
    deleted BIGINT NOT NULL DEFAULT 0,
    version TEXT NOT NULL DEFAULT '',
    clocks  TEXT NOT NULL DEFAULT '{}',
    seq     BIGINT NOT NULL DEFAULT 0
);

CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    username      TEXT COLLATE nocase NOT NULL UNIQUE,
    full_name     TEXT NOT NULL DEFAULT '',
    title         TEXT NOT NULL DEFAULT '',
    roles         TEXT NOT NULL DEFAULT '[]',
    department_id TEXT REFERENCES departments(id),
    unit_id       TEXT,
    -- private: never leaves the server
    password_hash TEXT NOT NULL DEFAULT '',
    disabled      BIGINT NOT NULL DEFAULT 0,
    created_at    TEXT NOT NULL DEFAULT (to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')),
    deleted       BIGINT NOT NULL DEFAULT 0,
    version       TEXT NOT NULL DEFAULT '',
    clocks        TEXT NOT NULL DEFAULT '{}',
    seq           BIGINT NOT NULL DEFAULT 0
);

CREATE TABLE clusters (
    id                 TEXT PRIMARY KEY,
    name               TEXT NOT NULL DEFAULT '',
    lead_secretary_id  TEXT,
    lead_department_id TEXT REFERENCES departments(id),
    deleted            BIGINT NOT NULL DEFAULT 0,
    version            TEXT NOT NULL DEFAULT '',
    clocks             TEXT NOT NULL DEFAULT '{}',
    seq                BIGINT NOT NULL DEFAULT 0
);

-- Units carry their history: a 2021 province stays valid until the 2025
-- merger sets valid_to and replaced_by_id, so 2021 data keeps reading right.
CREATE TABLE units (
    id             TEXT PRIMARY KEY,
    code           TEXT NOT NULL DEFAULT '',
    name           TEXT NOT NULL DEFAULT '',
    kind           TEXT NOT NULL DEFAULT 'province'
                   CHECK (kind IN ('province','central_affiliated','district','grassroots')),
    parent_id      TEXT,
    cluster_id     TEXT,
    lat            DOUBLE PRECISION,
    lng            DOUBLE PRECISION,
    valid_from     TEXT,
    valid_to       TEXT,
    replaced_by_id TEXT,
    source         TEXT NOT NULL DEFAULT '',
    deleted        BIGINT NOT NULL DEFAULT 0,
    version        TEXT NOT NULL DEFAULT '',
    clocks         TEXT NOT NULL DEFAULT '{}',
    seq            BIGINT NOT NULL DEFAULT 0
);

CREATE TABLE plans (
    id             TEXT PRIMARY KEY,
    year           BIGINT NOT NULL DEFAULT 0,
    number         TEXT NOT NULL DEFAULT '',
    issued_on      TEXT,
    title          TEXT NOT NULL DEFAULT '',
    min_field_days BIGINT NOT NULL DEFAULT 0,
    deleted        BIGINT NOT NULL DEFAULT 0,
    version        TEXT NOT NULL DEFAULT '',
    clocks         TEXT NOT NULL DEFAULT '{}',
    seq            BIGINT NOT NULL DEFAULT 0
);

CREATE TABLE campaigns (
    id        TEXT PRIMARY KEY,
    plan_id   TEXT REFERENCES plans(id),
    kind      TEXT NOT NULL DEFAULT 'periodic' CHECK (kind IN ('periodic','thematic','special')),
    name      TEXT NOT NULL DEFAULT '',
    content   TEXT NOT NULL DEFAULT '',
    starts_on TEXT,
    ends_on   TEXT,
    unit_ids  TEXT NOT NULL DEFAULT '[]',
    deleted   BIGINT NOT NULL DEFAULT 0,
    version   TEXT NOT NULL DEFAULT '',
    clocks    TEXT NOT NULL DEFAULT '{}',
    seq       BIGINT NOT NULL DEFAULT 0
);

CREATE TABLE special_periods (
    id        TEXT PRIMARY KEY,
    plan_id   TEXT REFERENCES plans(id),
    name      TEXT NOT NULL DEFAULT '',
    starts_on TEXT,
    ends_on   TEXT,
    deleted   BIGINT NOT NULL DEFAULT 0,
    version   TEXT NOT NULL DEFAULT '',
    clocks    TEXT NOT NULL DEFAULT '{}',
    seq       BIGINT NOT NULL DEFAULT 0
);

CREATE TABLE teams (
    id          TEXT PRIMARY KEY,
    campaign_id TEXT REFERENCES campaigns(id),
    name        TEXT NOT NULL DEFAULT '',
    leader_id   TEXT REFERENCES users(id),
    member_ids  TEXT NOT NULL DEFAULT '[]',
    unit_ids    TEXT NOT NULL DEFAULT '[]',
    deleted     BIGINT NOT NULL DEFAULT 0,
    version     TEXT NOT NULL DEFAULT '',
    clocks      TEXT NOT NULL DEFAULT '{}',
    seq         BIGINT NOT NULL DEFAULT 0
);

-- Field data: written on devices, merged by sync. References between field
-- rows are checked by the sync engine (a change naming an unknown row is
-- rejected), not by foreign keys, so one bad change never aborts a batch.

CREATE TABLE trips (
    id          TEXT PRIMARY KEY,
    user_id     TEXT,
    title       TEXT NOT NULL DEFAULT '',
    purpose     TEXT NOT NULL DEFAULT '',
    campaign_id TEXT,
    unit_ids    TEXT NOT NULL DEFAULT '[]',
    starts_on   TEXT,
    ends_on     TEXT,
    status      TEXT NOT NULL DEFAULT 'planned',
    notes       TEXT NOT NULL DEFAULT '',
    deleted     BIGINT NOT NULL DEFAULT 0,
    version     TEXT NOT NULL DEFAULT '',
    clocks      TEXT NOT NULL DEFAULT '{}',
    seq         BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX trips_user ON trips(user_id);

CREATE TABLE trip_days (
    id       TEXT PRIMARY KEY,
    trip_id  TEXT,
    user_id  TEXT,
    day      TEXT,
    unit_id  TEXT,
    activity TEXT NOT NULL DEFAULT '',
    deleted  BIGINT NOT NULL DEFAULT 0,
    version  TEXT NOT NULL DEFAULT '',
    clocks   TEXT NOT NULL DEFAULT '{}',
    seq      BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX trip_days_user_day ON trip_days(user_id, day);
CREATE INDEX trip_days_trip ON trip_days(trip_id);

CREATE TABLE checkins (
    id          TEXT PRIMARY KEY,
    user_id     TEXT,
    unit_id     TEXT,
    trip_id     TEXT,
    at          TEXT,
    lat         DOUBLE PRECISION,
    lng         DOUBLE PRECISION,
    accuracy_m  DOUBLE PRECISION,
    photo       TEXT NOT NULL DEFAULT '',
    note        TEXT NOT NULL DEFAULT '',
    voided      BIGINT NOT NULL DEFAULT 0,
    void_reason TEXT NOT NULL DEFAULT '',
    -- computed by the server on receipt
    received_at TEXT,
    distance_m  DOUBLE PRECISION,
    flags       TEXT NOT NULL DEFAULT '[]',
    deleted     BIGINT NOT NULL DEFAULT 0,
    version     TEXT NOT NULL DEFAULT '',
    clocks      TEXT NOT NULL DEFAULT '{}',
    seq         BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX checkins_user_at ON checkins(user_id, at);
CREATE INDEX checkins_unit ON checkins(unit_id);

CREATE TABLE visit_notes (
    id              TEXT PRIMARY KEY,
    author_id       TEXT,
    unit_id         TEXT,
    trip_id         TEXT,
    campaign_id     TEXT,
    kind            TEXT NOT NULL DEFAULT '',
    title           TEXT NOT NULL DEFAULT '',
    results         TEXT NOT NULL DEFAULT '',
    models          TEXT NOT NULL DEFAULT '',
    shortcomings    TEXT NOT NULL DEFAULT '',
    aspirations     TEXT NOT NULL DEFAULT '',
    recommendations TEXT NOT NULL DEFAULT '',
    conclusions     TEXT NOT NULL DEFAULT '',
    status          TEXT NOT NULL DEFAULT 'draft',
    reviewed_by     TEXT,
    review_comment  TEXT NOT NULL DEFAULT '',
    attachments     TEXT NOT NULL DEFAULT '[]',
    deleted         BIGINT NOT NULL DEFAULT 0,
    version         TEXT NOT NULL DEFAULT '',
    clocks          TEXT NOT NULL DEFAULT '{}',
    seq             BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX visit_notes_author ON visit_notes(author_id);
CREATE INDEX visit_notes_unit ON visit_notes(unit_id);
CREATE INDEX visit_notes_campaign ON visit_notes(campaign_id);

-- author_id and answer extend design §3: findings need an owner for the
-- "own field data" scope, and the Office's recommendations register needs
-- the answer it proposes (plan III.1).
CREATE TABLE findings (
    id            TEXT PRIMARY KEY,
    note_id       TEXT,
    author_id     TEXT,
    unit_id       TEXT,
    campaign_id   TEXT,
    category      TEXT NOT NULL DEFAULT '',
    text          TEXT NOT NULL DEFAULT '',
    department_id TEXT,
    status        TEXT NOT NULL DEFAULT 'open',
    due_on        TEXT,
    answer        TEXT NOT NULL DEFAULT '',
    deleted       BIGINT NOT NULL DEFAULT 0,
    version       TEXT NOT NULL DEFAULT '',
    clocks        TEXT NOT NULL DEFAULT '{}',
    seq           BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX findings_note ON findings(note_id);
CREATE INDEX findings_department ON findings(department_id);
CREATE INDEX findings_unit ON findings(unit_id);

CREATE TABLE follow_ups (
    id         TEXT PRIMARY KEY,
    finding_id TEXT,
    author_id  TEXT,
    at         TEXT,
    text       TEXT NOT NULL DEFAULT '',
    status_to  TEXT,
    deleted    BIGINT NOT NULL DEFAULT 0,
    version    TEXT NOT NULL DEFAULT '',
    clocks     TEXT NOT NULL DEFAULT '{}',
    seq        BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX follow_ups_finding ON follow_ups(finding_id);

CREATE INDEX departments_seq ON departments(seq);
CREATE INDEX users_seq ON users(seq);
CREATE INDEX clusters_seq ON clusters(seq);
CREATE INDEX units_seq ON units(seq);
CREATE INDEX plans_seq ON plans(seq);
CREATE INDEX campaigns_seq ON campaigns(seq);
CREATE INDEX special_periods_seq ON special_periods(seq);
CREATE INDEX teams_seq ON teams(seq);
CREATE INDEX trips_seq ON trips(seq);
CREATE INDEX trip_days_seq ON trip_days(seq);
CREATE INDEX checkins_seq ON checkins(seq);
CREATE INDEX visit_notes_seq ON visit_notes(seq);
CREATE INDEX findings_seq ON findings(seq);
CREATE INDEX follow_ups_seq ON follow_ups(seq);

-- Every applied change, in server order. seq is the pull cursor's unit.
-- applied: the field values this change set; previous: the values they
-- overwrote; lost: fields of this change that an already newer clock beat.
-- Together they give any row's full, auditable history.
CREATE TABLE change_log (
    seq         BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    change_id   TEXT NOT NULL UNIQUE,
    tbl         TEXT NOT NULL,
    row_id      TEXT NOT NULL,
    op          TEXT NOT NULL,
    hlc         TEXT NOT NULL,
    user_id     TEXT,
    device_id   TEXT NOT NULL,
    received_at TEXT NOT NULL,
    applied     TEXT NOT NULL DEFAULT '{}',
    previous    TEXT NOT NULL DEFAULT '{}',
    lost        TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX change_log_row ON change_log(tbl, row_id, seq);

-- Concurrent writes of one field by different devices, for review.
CREATE TABLE conflicts (
    id            BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    tbl           TEXT NOT NULL,
    row_id        TEXT NOT NULL,
    field         TEXT NOT NULL,
    winner_value  TEXT,
    winner_hlc    TEXT NOT NULL,
    winner_user   TEXT,
    winner_device TEXT,
    loser_value   TEXT,
    loser_hlc     TEXT NOT NULL,
    loser_user    TEXT,
    loser_device  TEXT,
    detected_at   TEXT NOT NULL,
    resolved_at   TEXT,
    resolved_by   TEXT
);
CREATE INDEX conflicts_row ON conflicts(tbl, row_id);

-- Changes the server refused, kept for audit (the device keeps its own copy).
CREATE TABLE rejected_changes (
    change_id   TEXT PRIMARY KEY,
    tbl         TEXT NOT NULL,
    row_id      TEXT NOT NULL,
    user_id     TEXT,
    device_id   TEXT NOT NULL,
    code        TEXT NOT NULL,
    message     TEXT NOT NULL,
    body        TEXT NOT NULL,
    received_at TEXT NOT NULL
);

CREATE TABLE devices (
    id         TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users(id),
    name       TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    last_seen  TEXT
);

-- Refresh tokens rotate; each belongs to a family (one login on one device).
-- Presenting a used token revokes the family (reuse detection).
CREATE TABLE refresh_tokens (
    id          TEXT PRIMARY KEY,
    token_hash  TEXT NOT NULL UNIQUE,
    family_id   TEXT NOT NULL,
    user_id     TEXT NOT NULL REFERENCES users(id),
    device_id   TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    expires_at  TEXT NOT NULL,
    used_at     TEXT,
    revoked_at  TEXT
);
CREATE INDEX refresh_tokens_family ON refresh_tokens(family_id);

-- Content-addressed attachment blobs; the bytes live in the data directory.
CREATE TABLE attachments (
    sha256      TEXT PRIMARY KEY,
    size        BIGINT NOT NULL,
    mime        TEXT NOT NULL,
    uploaded_by TEXT,
    created_at  TEXT NOT NULL
);

-- Seed files already loaded, by name and content hash.
CREATE TABLE seed_loads (
    name      TEXT PRIMARY KEY,
    sha256    TEXT NOT NULL,
    loaded_at TEXT NOT NULL
);

-- The references SQLite's schema names before their table exists.
ALTER TABLE users ADD FOREIGN KEY (unit_id) REFERENCES units(id);
ALTER TABLE clusters ADD FOREIGN KEY (lead_secretary_id) REFERENCES users(id);
ALTER TABLE units ADD FOREIGN KEY (cluster_id) REFERENCES clusters(id);
ALTER TABLE units ADD FOREIGN KEY (parent_id) REFERENCES units(id);
ALTER TABLE units ADD FOREIGN KEY (replaced_by_id) REFERENCES units(id);
