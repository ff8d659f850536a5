-- Relay logins and chkservd's service states and checks, per host, as in 0001: absolute values and
-- the sending server's version. Indexed for the reports: the recent logins (last_login), a
-- service's checks over a range (host, service, time), and every check in a range (time).

CREATE TABLE relay_auth (
    host        TEXT   NOT NULL,
    ip          TEXT   NOT NULL,
    "user"      TEXT   NOT NULL,
    protocol    TEXT   NOT NULL,
    first_login BIGINT NOT NULL,
    last_login  BIGINT NOT NULL,
    logins      BIGINT NOT NULL,
    version     BIGINT NOT NULL,
    PRIMARY KEY (host, ip, "user", protocol)
);
CREATE INDEX relay_auth_last_login ON relay_auth (last_login);

CREATE TABLE service_state (
    host                 TEXT   NOT NULL,
    service              TEXT   NOT NULL,
    status               TEXT   NOT NULL,
    last_check           BIGINT NOT NULL,
    consecutive_failures BIGINT NOT NULL,
    last_restart         BIGINT,
    flapping_since       BIGINT,
    version              BIGINT NOT NULL,
    PRIMARY KEY (host, service)
);

CREATE TABLE service_checks (
    host       TEXT   NOT NULL,
    id         BIGINT NOT NULL,   -- the sending server's rowid
    time       BIGINT NOT NULL,
    service    TEXT   NOT NULL,
    status     TEXT   NOT NULL,
    passed     BIGINT,
    socket     BIGINT,
    process    BIGINT,
    latency_ms BIGINT,
    action     TEXT   NOT NULL,
    detail     TEXT   NOT NULL,
    version    BIGINT NOT NULL,
    PRIMARY KEY (host, id)
);
CREATE INDEX service_checks_service_time ON service_checks (host, service, time);
CREATE INDEX service_checks_time ON service_checks (time);
