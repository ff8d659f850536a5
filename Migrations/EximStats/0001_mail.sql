-- The eximstats driver's tables, in the spirit of cPanel's eximstats database: one row per event,
-- keyed by time and message id, plus an hourly rollup per sending account that the reports read.
-- Times are unix seconds (UTC). Row ids are keyed by time: id = time * 2^20 + a sequence number,
-- so the primary key itself orders rows by time and serves time ranges and retention purges
-- without a second index on `time` (which cost 13% of the ingest rate). `user` is the hosting account the message is attributed to:
-- the owner of the authenticated domain, the authenticated system user, the local user (P=local),
-- '-remote-' for unauthenticated mail from elsewhere, 'UNKNOWN' when the owner cannot be found.

CREATE TABLE sends (
    id          INTEGER PRIMARY KEY,
    time        INTEGER NOT NULL,
    msgid       TEXT    NOT NULL,
    user        TEXT    NOT NULL,
    domain      TEXT    NOT NULL,
    sender      TEXT    NOT NULL,
    size        INTEGER NOT NULL,
    host        TEXT,
    ip          TEXT,
    protocol    TEXT,
    auth        TEXT,
    local_user  TEXT,
    subject     TEXT,
    recipients  TEXT
);
-- Message ids start with their arrival time in base 62, so this index grows at its end.
CREATE INDEX sends_msgid ON sends (msgid);

-- Successful deliveries: kind is '=>' (first address), '->' (further address, same delivery)
-- or '>>' (cutthrough).
CREATE TABLE smtp (
    id          INTEGER PRIMARY KEY,
    time        INTEGER NOT NULL,
    msgid       TEXT    NOT NULL,
    user        TEXT    NOT NULL,
    domain      TEXT    NOT NULL,
    kind        TEXT    NOT NULL,
    recipient   TEXT    NOT NULL,
    router      TEXT,
    transport   TEXT,
    host        TEXT,
    ip          TEXT
);

CREATE TABLE failures (
    id          INTEGER PRIMARY KEY,
    time        INTEGER NOT NULL,
    msgid       TEXT    NOT NULL,
    user        TEXT    NOT NULL,
    domain      TEXT    NOT NULL,
    recipient   TEXT    NOT NULL,
    router      TEXT,
    transport   TEXT,
    host        TEXT,
    ip          TEXT,
    error       TEXT
);

CREATE TABLE defers (
    id          INTEGER PRIMARY KEY,
    time        INTEGER NOT NULL,
    msgid       TEXT    NOT NULL,
    user        TEXT    NOT NULL,
    domain      TEXT    NOT NULL,
    recipient   TEXT    NOT NULL,
    router      TEXT,
    transport   TEXT,
    host        TEXT,
    ip          TEXT,
    error       TEXT
);

-- Recipients refused at RCPT time (no message id exists for them).
CREATE TABLE rejects (
    id          INTEGER PRIMARY KEY,
    time        INTEGER NOT NULL,
    host        TEXT,
    ip          TEXT,
    sender      TEXT,
    recipient   TEXT,
    reason      TEXT
);

-- What `tailwatch-report mail` reads: per sending account, its domain, and clock hour (UTC).
CREATE TABLE mail_hourly (
    user        TEXT    NOT NULL,
    domain      TEXT    NOT NULL,
    hour        INTEGER NOT NULL,   -- unix seconds at the start of the hour
    sent        INTEGER NOT NULL DEFAULT 0,
    sent_bytes  INTEGER NOT NULL DEFAULT 0,
    delivered   INTEGER NOT NULL DEFAULT 0,
    failed      INTEGER NOT NULL DEFAULT 0,
    deferred    INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (user, domain, hour)
) WITHOUT ROWID;
CREATE INDEX mail_hourly_hour ON mail_hourly (hour);
