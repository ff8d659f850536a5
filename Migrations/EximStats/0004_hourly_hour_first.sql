-- The hourly rollup keyed by hour first: (hour, user, domain) instead of (user, domain, hour).
--
-- Why: each commit writes the current hours of every sending account. Keyed by account first,
-- those rows go in at one place per account and domain, spread over the whole table, so nearly
-- every page of it was rewritten at every commit of a catch-up (10 M mainlog lines: 430,000 rows
-- over 650 pages, 27 commits). Keyed by hour, they go in at the table's end. What reads the table
-- reads by hour too: the reports' ranges, the sending limits and the outbreak report (one hour),
-- the retention purge (old hours). A report for one account reads the hours of its range and
-- keeps that account's rows (docs/BENCHMARKS.md, stop 36, times it).
--
-- The separate index on hour is no longer needed (the key leads with it). Mail filed under
-- UNKNOWN (a domain with no owner yet) is found through a partial index: those rows are few, and
-- looked for whenever /etc/userdomains changes.
--
-- Triggers other modules put on the table (the fleet's outbox) are put back by the migrator once
-- the table is rebuilt.
CREATE TABLE mail_hourly_by_hour (
    user        TEXT    NOT NULL,
    domain      TEXT    NOT NULL,
    hour        INTEGER NOT NULL,   -- unix seconds at the start of the hour
    sent        INTEGER NOT NULL DEFAULT 0,
    sent_bytes  INTEGER NOT NULL DEFAULT 0,
    delivered   INTEGER NOT NULL DEFAULT 0,
    failed      INTEGER NOT NULL DEFAULT 0,
    deferred    INTEGER NOT NULL DEFAULT 0,
    remote_delivered INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (hour, user, domain)
) WITHOUT ROWID;

INSERT INTO mail_hourly_by_hour (user, domain, hour, sent, sent_bytes, delivered, failed, deferred, remote_delivered)
    SELECT user, domain, hour, sent, sent_bytes, delivered, failed, deferred, remote_delivered
    FROM mail_hourly ORDER BY hour, user, domain;

-- Legacy renaming: otherwise SQLite checks every view as it renames, and an operator's own view
-- of mail_hourly names a table that, between these two statements, does not exist (the upgrade
-- would fail). The view reads the new table by its name afterwards.
DROP TABLE mail_hourly;
PRAGMA legacy_alter_table = ON;
ALTER TABLE mail_hourly_by_hour RENAME TO mail_hourly;
PRAGMA legacy_alter_table = OFF;

CREATE INDEX mail_hourly_unknown ON mail_hourly (domain) WHERE user = 'UNKNOWN';
