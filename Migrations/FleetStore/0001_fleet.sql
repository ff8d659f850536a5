-- The fleet's PostgreSQL store: every server's committed rollups, keyed by (host, natural key).
-- Each row carries its absolute value and `version`, the sending server's outbox sequence for
-- that row: an upsert only replaces an older version, so a batch sent twice changes nothing.
-- Indexed for the fleet's questions: one account over time ("user", period), everybody over a
-- range (period), and one server (the key starts with host).

CREATE TABLE fleet_hosts (
    host          TEXT PRIMARY KEY,
    database_id   TEXT NOT NULL,          -- the sending SQLite file's identity: a rebuilt file resets its rows
    registered_at BIGINT NOT NULL,        -- unix seconds, PostgreSQL's clock
    shipped_at    BIGINT                  -- last commit of a batch, PostgreSQL's clock
);

-- Per host and table, the highest version PostgreSQL committed: compared at each connection with
-- the server's own record, so a database restored on either side is noticed and re-shipped.
CREATE TABLE fleet_marks (
    host          TEXT   NOT NULL,
    shipped_table TEXT   NOT NULL,
    version       BIGINT NOT NULL,
    PRIMARY KEY (host, shipped_table)
);

CREATE TABLE bandwidth_hourly (
    host     TEXT   NOT NULL,
    "user"   TEXT   NOT NULL,
    domain   TEXT   NOT NULL,
    protocol TEXT   NOT NULL,
    period   BIGINT NOT NULL,
    bytes    BIGINT NOT NULL,
    hits     BIGINT NOT NULL,
    version  BIGINT NOT NULL,
    PRIMARY KEY (host, "user", domain, protocol, period)
);
CREATE INDEX bandwidth_hourly_period ON bandwidth_hourly (period);
CREATE INDEX bandwidth_hourly_user ON bandwidth_hourly ("user", period);

CREATE TABLE bandwidth_daily (LIKE bandwidth_hourly INCLUDING ALL);
CREATE TABLE bandwidth_monthly (LIKE bandwidth_hourly INCLUDING ALL);

CREATE TABLE mail_hourly (
    host             TEXT   NOT NULL,
    "user"           TEXT   NOT NULL,
    domain           TEXT   NOT NULL,
    hour             BIGINT NOT NULL,
    sent             BIGINT NOT NULL,
    sent_bytes       BIGINT NOT NULL,
    delivered        BIGINT NOT NULL,
    failed           BIGINT NOT NULL,
    deferred         BIGINT NOT NULL,
    remote_delivered BIGINT NOT NULL,
    version          BIGINT NOT NULL,
    PRIMARY KEY (host, "user", domain, hour)
);
CREATE INDEX mail_hourly_hour ON mail_hourly (hour);
CREATE INDEX mail_hourly_user ON mail_hourly ("user", hour);
