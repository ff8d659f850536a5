-- chkservd: one row per service per round, and what chkservd remembers between rounds (and
-- restarts of the daemon): the failure count towards the restart threshold, the last restart (for
-- the grace period) and whether a 'failed' notification awaits its 'recovered'.
CREATE TABLE service_checks (
    time        INTEGER NOT NULL,   -- unix seconds, start of the check
    service     TEXT    NOT NULL,
    status      TEXT    NOT NULL,   -- up, down or unknown: after this round (after a restart, if any)
    passed      INTEGER,            -- 1/0: the round's first check passed; NULL: not checked (grace, hung)
    socket      INTEGER,            -- 1/0: socket check result; NULL: none configured or not checked
    process     INTEGER,            -- 1/0: process check result; NULL: none configured or not checked
    latency_ms  INTEGER,            -- connect and exchange
    action      TEXT    NOT NULL,   -- none, restart, grace or hung
    detail      TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX service_checks_service_time ON service_checks (service, time);

CREATE TABLE service_state (
    service              TEXT    NOT NULL PRIMARY KEY,
    status               TEXT    NOT NULL,
    consecutive_failures INTEGER NOT NULL,
    last_restart         INTEGER,
    failure_notified     INTEGER NOT NULL,
    last_check           INTEGER NOT NULL
) WITHOUT ROWID;
