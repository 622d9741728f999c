-- Every *_at, start, end, until and bucket_start column is INTEGER unix
-- milliseconds UTC (NULL for "never"): see the package comment of store.

-- +goose Up
CREATE TABLE hosts (
    id                     INTEGER PRIMARY KEY,
    name                   TEXT    NOT NULL UNIQUE,
    transport              TEXT    NOT NULL DEFAULT 'ssh',
    docker_enabled         INTEGER NOT NULL DEFAULT 1,
    docker_version         TEXT    NOT NULL DEFAULT '',
    client_version         TEXT    NOT NULL DEFAULT '',
    api_version            TEXT    NOT NULL DEFAULT '',
    docker_status          TEXT    NOT NULL DEFAULT 'unknown',
    last_error             TEXT    NOT NULL DEFAULT '',
    docker_last_collect_at INTEGER,
    last_ok_at             INTEGER
);

CREATE TABLE containers (
    id              INTEGER PRIMARY KEY,
    host_id         INTEGER NOT NULL REFERENCES hosts(id) ON DELETE CASCADE,
    container_id    TEXT    NOT NULL,
    name            TEXT    NOT NULL,
    image           TEXT    NOT NULL DEFAULT '',
    image_id        TEXT    NOT NULL DEFAULT '',
    command         TEXT    NOT NULL DEFAULT '',
    state           TEXT    NOT NULL DEFAULT '',
    status          TEXT    NOT NULL DEFAULT '',
    health          TEXT    NOT NULL DEFAULT '',
    exit_code       INTEGER NOT NULL DEFAULT 0,
    restart_count   INTEGER NOT NULL DEFAULT 0,
    created_at      INTEGER,
    ports           TEXT    NOT NULL DEFAULT '[]' CHECK (json_valid(ports)),
    labels          TEXT    NOT NULL DEFAULT '{}' CHECK (json_valid(labels)),
    compose_project TEXT    NOT NULL DEFAULT '',
    compose_service TEXT    NOT NULL DEFAULT '',
    first_seen_at   INTEGER NOT NULL,
    last_update_at  INTEGER NOT NULL,
    UNIQUE (host_id, container_id)
);
-- Listing order of Containers(host).
CREATE INDEX containers_host_project_name ON containers (host_id, compose_project, name);
-- Prune of containers not seen for a week.
CREATE INDEX containers_last_update ON containers (last_update_at);

CREATE TABLE images (
    id             INTEGER PRIMARY KEY,
    host_id        INTEGER NOT NULL REFERENCES hosts(id) ON DELETE CASCADE,
    image_id       TEXT    NOT NULL,
    repo_tags      TEXT    NOT NULL DEFAULT '[]' CHECK (json_valid(repo_tags)),
    size           INTEGER NOT NULL DEFAULT 0,
    created_at     INTEGER,
    last_update_at INTEGER NOT NULL,
    UNIQUE (host_id, image_id)
);

CREATE TABLE volumes (
    id             INTEGER PRIMARY KEY,
    host_id        INTEGER NOT NULL REFERENCES hosts(id) ON DELETE CASCADE,
    name           TEXT    NOT NULL,
    driver         TEXT    NOT NULL DEFAULT '',
    mountpoint     TEXT    NOT NULL DEFAULT '',
    scope          TEXT    NOT NULL DEFAULT '',
    size           INTEGER NOT NULL DEFAULT -1,
    links          INTEGER NOT NULL DEFAULT -1,
    last_update_at INTEGER NOT NULL,
    UNIQUE (host_id, name)
);

CREATE TABLE alerts (
    id               INTEGER PRIMARY KEY,
    host             TEXT    NOT NULL,
    container_name   TEXT    NOT NULL DEFAULT '',
    kind             TEXT    NOT NULL,
    project          TEXT    NOT NULL DEFAULT '',
    severity         TEXT    NOT NULL DEFAULT '',
    state            TEXT    NOT NULL CHECK (state IN ('pending', 'open', 'acked', 'closed')),
    message          TEXT    NOT NULL DEFAULT '',
    first_seen_at    INTEGER,
    opened_at        INTEGER,
    acked_at         INTEGER,
    acked_by         TEXT    NOT NULL DEFAULT '',
    closed_at        INTEGER,
    last_notified_at INTEGER,
    notifications    INTEGER NOT NULL DEFAULT 0,
    suppressed       INTEGER NOT NULL DEFAULT 0
);
-- One active alert per key: a flapping container reuses its alert instead
-- of opening a second one.
CREATE UNIQUE INDEX alerts_one_active ON alerts (host, container_name, kind) WHERE state != 'closed';
CREATE INDEX alerts_state_host ON alerts (state, host);
-- RecentAlerts (newest first) and the prune of old closed alerts.
CREATE INDEX alerts_first_seen ON alerts (first_seen_at);
CREATE INDEX alerts_closed_at ON alerts (closed_at) WHERE closed_at IS NOT NULL;

CREATE TABLE message_refs (
    alert_id INTEGER NOT NULL REFERENCES alerts(id) ON DELETE CASCADE,
    platform TEXT    NOT NULL,
    ref      TEXT    NOT NULL,
    PRIMARY KEY (alert_id, platform)
);

CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY,
    platform        TEXT    NOT NULL,
    alert_id        INTEGER REFERENCES alerts(id) ON DELETE SET NULL,
    kind            TEXT    NOT NULL,
    payload         TEXT    NOT NULL CHECK (json_valid(payload)),
    ref             TEXT    NOT NULL DEFAULT '',
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    last_error      TEXT    NOT NULL DEFAULT '',
    created_at      INTEGER NOT NULL,
    sent_at         INTEGER,
    dead            INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX outbox_sent_next ON outbox (sent_at, next_attempt_at);
-- DueOutbox: the undelivered rows of one platform, which stay few.
CREATE INDEX outbox_due ON outbox (platform, next_attempt_at) WHERE sent_at IS NULL AND dead = 0;
CREATE INDEX outbox_alert ON outbox (alert_id) WHERE alert_id IS NOT NULL;

CREATE TABLE silences (
    id         INTEGER PRIMARY KEY,
    host       TEXT    NOT NULL DEFAULT '',
    container  TEXT    NOT NULL DEFAULT '',
    project    TEXT    NOT NULL DEFAULT '',
    until      INTEGER NOT NULL,
    by         TEXT    NOT NULL DEFAULT '',
    reason     TEXT    NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL
);
CREATE INDEX silences_until ON silences (until);

CREATE TABLE audit (
    id          INTEGER PRIMARY KEY,
    at          INTEGER NOT NULL,
    platform    TEXT    NOT NULL DEFAULT '',
    user_id     TEXT    NOT NULL DEFAULT '',
    user_name   TEXT    NOT NULL DEFAULT '',
    role        TEXT    NOT NULL DEFAULT 'none',
    action      TEXT    NOT NULL,
    host        TEXT    NOT NULL DEFAULT '',
    target      TEXT    NOT NULL DEFAULT '',
    result      TEXT    NOT NULL DEFAULT '',
    detail      TEXT    NOT NULL DEFAULT '',
    duration_ms INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX audit_at ON audit (at);

CREATE TABLE announcements (
    id         INTEGER PRIMARY KEY,
    title      TEXT    NOT NULL,
    body       TEXT    NOT NULL DEFAULT '',
    by         TEXT    NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL,
    until      INTEGER
);

CREATE TABLE uptime_buckets (
    host         TEXT    NOT NULL,
    container    TEXT    NOT NULL,
    resolution   TEXT    NOT NULL CHECK (resolution IN ('5m', '1h', '1d')),
    bucket_start INTEGER NOT NULL,
    up_ms        INTEGER NOT NULL DEFAULT 0,
    down_ms      INTEGER NOT NULL DEFAULT 0,
    maint_ms     INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (host, container, resolution, bucket_start)
) WITHOUT ROWID;
-- Uptime(resolution, since, until) across every container, and the prune.
CREATE INDEX uptime_buckets_res_start ON uptime_buckets (resolution, bucket_start);

CREATE TABLE outages (
    id        INTEGER PRIMARY KEY,
    host      TEXT    NOT NULL,
    container TEXT    NOT NULL,
    "start"   INTEGER NOT NULL,
    "end"     INTEGER
);
-- At most one ongoing outage per container.
CREATE UNIQUE INDEX outages_one_open ON outages (host, container) WHERE "end" IS NULL;
CREATE INDEX outages_key_start ON outages (host, container, "start");
CREATE INDEX outages_start ON outages ("start");

-- +goose Down
DROP TABLE outages;
DROP TABLE uptime_buckets;
DROP TABLE announcements;
DROP TABLE audit;
DROP TABLE silences;
DROP TABLE outbox;
DROP TABLE message_refs;
DROP TABLE alerts;
DROP TABLE volumes;
DROP TABLE images;
DROP TABLE containers;
DROP TABLE hosts;
