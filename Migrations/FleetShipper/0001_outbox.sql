-- The fleet's outbox: installed when [fleet] is first configured, kept afterwards (a shipper that
-- was off finds every change made meanwhile). For each shipped rollup, triggers copy a changed
-- row's key and absolute values here, one row per key (a newer change deletes the older one and
-- takes a new, higher seq; a plain DELETE and INSERT, since the writer's upsert would override a
-- trigger's OR REPLACE); a deleted row leaves its key with NULL values (a tombstone). The
-- shipper sends rows in seq order and deletes them here only after PostgreSQL committed them, so
-- the outbox is the high-water mark: what is in it has not been shipped for sure. The triggers
-- run in the writer's transaction, so a change and its outbox row commit together.
-- The seq doubles as the row's version in PostgreSQL (AUTOINCREMENT: never reused).

CREATE TABLE fleet_identity (
    database_id TEXT NOT NULL   -- this SQLite file's identity in the fleet (a rebuilt file has another)
);
INSERT INTO fleet_identity (database_id) VALUES (lower(hex(randomblob(16))));

-- Per outbox, the highest seq PostgreSQL is known to have committed (written with the delete of
-- the shipped rows). Against PostgreSQL's own marks it tells a restored file or a restored fleet
-- database from a crash between the two commits.
CREATE TABLE fleet_marks (
    shipped_table TEXT PRIMARY KEY,
    version       INTEGER NOT NULL
);

CREATE TABLE fleet_outbox_bandwidth_hourly (
    seq       INTEGER PRIMARY KEY AUTOINCREMENT,
    user TEXT NOT NULL,
    domain TEXT NOT NULL,
    protocol TEXT NOT NULL,
    period INTEGER NOT NULL,
    bytes INTEGER,
    hits INTEGER,
    queued_at INTEGER NOT NULL,
    UNIQUE (user, domain, protocol, period)
);
CREATE TRIGGER fleet_outbox_bandwidth_hourly_insert AFTER INSERT ON bandwidth_hourly BEGIN
    DELETE FROM fleet_outbox_bandwidth_hourly WHERE user = NEW.user AND domain = NEW.domain AND protocol = NEW.protocol AND period = NEW.period;
    INSERT INTO fleet_outbox_bandwidth_hourly (user, domain, protocol, period, bytes, hits, queued_at) VALUES (NEW.user, NEW.domain, NEW.protocol, NEW.period, NEW.bytes, NEW.hits, CAST(strftime('%s', 'now') AS INTEGER));
END;
CREATE TRIGGER fleet_outbox_bandwidth_hourly_update AFTER UPDATE ON bandwidth_hourly BEGIN
    DELETE FROM fleet_outbox_bandwidth_hourly WHERE user = NEW.user AND domain = NEW.domain AND protocol = NEW.protocol AND period = NEW.period;
    INSERT INTO fleet_outbox_bandwidth_hourly (user, domain, protocol, period, bytes, hits, queued_at) VALUES (NEW.user, NEW.domain, NEW.protocol, NEW.period, NEW.bytes, NEW.hits, CAST(strftime('%s', 'now') AS INTEGER));
END;
CREATE TRIGGER fleet_outbox_bandwidth_hourly_delete AFTER DELETE ON bandwidth_hourly BEGIN
    DELETE FROM fleet_outbox_bandwidth_hourly WHERE user = OLD.user AND domain = OLD.domain AND protocol = OLD.protocol AND period = OLD.period;
    INSERT INTO fleet_outbox_bandwidth_hourly (user, domain, protocol, period, bytes, hits, queued_at) VALUES (OLD.user, OLD.domain, OLD.protocol, OLD.period, NULL, NULL, CAST(strftime('%s', 'now') AS INTEGER));
END;
INSERT INTO fleet_outbox_bandwidth_hourly (user, domain, protocol, period, bytes, hits, queued_at) SELECT user, domain, protocol, period, bytes, hits, CAST(strftime('%s', 'now') AS INTEGER) FROM bandwidth_hourly;

CREATE TABLE fleet_outbox_bandwidth_daily (
    seq       INTEGER PRIMARY KEY AUTOINCREMENT,
    user TEXT NOT NULL,
    domain TEXT NOT NULL,
    protocol TEXT NOT NULL,
    period INTEGER NOT NULL,
    bytes INTEGER,
    hits INTEGER,
    queued_at INTEGER NOT NULL,
    UNIQUE (user, domain, protocol, period)
);
CREATE TRIGGER fleet_outbox_bandwidth_daily_insert AFTER INSERT ON bandwidth_daily BEGIN
    DELETE FROM fleet_outbox_bandwidth_daily WHERE user = NEW.user AND domain = NEW.domain AND protocol = NEW.protocol AND period = NEW.period;
    INSERT INTO fleet_outbox_bandwidth_daily (user, domain, protocol, period, bytes, hits, queued_at) VALUES (NEW.user, NEW.domain, NEW.protocol, NEW.period, NEW.bytes, NEW.hits, CAST(strftime('%s', 'now') AS INTEGER));
END;
CREATE TRIGGER fleet_outbox_bandwidth_daily_update AFTER UPDATE ON bandwidth_daily BEGIN
    DELETE FROM fleet_outbox_bandwidth_daily WHERE user = NEW.user AND domain = NEW.domain AND protocol = NEW.protocol AND period = NEW.period;
    INSERT INTO fleet_outbox_bandwidth_daily (user, domain, protocol, period, bytes, hits, queued_at) VALUES (NEW.user, NEW.domain, NEW.protocol, NEW.period, NEW.bytes, NEW.hits, CAST(strftime('%s', 'now') AS INTEGER));
END;
CREATE TRIGGER fleet_outbox_bandwidth_daily_delete AFTER DELETE ON bandwidth_daily BEGIN
    DELETE FROM fleet_outbox_bandwidth_daily WHERE user = OLD.user AND domain = OLD.domain AND protocol = OLD.protocol AND period = OLD.period;
    INSERT INTO fleet_outbox_bandwidth_daily (user, domain, protocol, period, bytes, hits, queued_at) VALUES (OLD.user, OLD.domain, OLD.protocol, OLD.period, NULL, NULL, CAST(strftime('%s', 'now') AS INTEGER));
END;
INSERT INTO fleet_outbox_bandwidth_daily (user, domain, protocol, period, bytes, hits, queued_at) SELECT user, domain, protocol, period, bytes, hits, CAST(strftime('%s', 'now') AS INTEGER) FROM bandwidth_daily;

CREATE TABLE fleet_outbox_bandwidth_monthly (
    seq       INTEGER PRIMARY KEY AUTOINCREMENT,
    user TEXT NOT NULL,
    domain TEXT NOT NULL,
    protocol TEXT NOT NULL,
    period INTEGER NOT NULL,
    bytes INTEGER,
    hits INTEGER,
    queued_at INTEGER NOT NULL,
    UNIQUE (user, domain, protocol, period)
);
CREATE TRIGGER fleet_outbox_bandwidth_monthly_insert AFTER INSERT ON bandwidth_monthly BEGIN
    DELETE FROM fleet_outbox_bandwidth_monthly WHERE user = NEW.user AND domain = NEW.domain AND protocol = NEW.protocol AND period = NEW.period;
    INSERT INTO fleet_outbox_bandwidth_monthly (user, domain, protocol, period, bytes, hits, queued_at) VALUES (NEW.user, NEW.domain, NEW.protocol, NEW.period, NEW.bytes, NEW.hits, CAST(strftime('%s', 'now') AS INTEGER));
END;
CREATE TRIGGER fleet_outbox_bandwidth_monthly_update AFTER UPDATE ON bandwidth_monthly BEGIN
    DELETE FROM fleet_outbox_bandwidth_monthly WHERE user = NEW.user AND domain = NEW.domain AND protocol = NEW.protocol AND period = NEW.period;
    INSERT INTO fleet_outbox_bandwidth_monthly (user, domain, protocol, period, bytes, hits, queued_at) VALUES (NEW.user, NEW.domain, NEW.protocol, NEW.period, NEW.bytes, NEW.hits, CAST(strftime('%s', 'now') AS INTEGER));
END;
CREATE TRIGGER fleet_outbox_bandwidth_monthly_delete AFTER DELETE ON bandwidth_monthly BEGIN
    DELETE FROM fleet_outbox_bandwidth_monthly WHERE user = OLD.user AND domain = OLD.domain AND protocol = OLD.protocol AND period = OLD.period;
    INSERT INTO fleet_outbox_bandwidth_monthly (user, domain, protocol, period, bytes, hits, queued_at) VALUES (OLD.user, OLD.domain, OLD.protocol, OLD.period, NULL, NULL, CAST(strftime('%s', 'now') AS INTEGER));
END;
INSERT INTO fleet_outbox_bandwidth_monthly (user, domain, protocol, period, bytes, hits, queued_at) SELECT user, domain, protocol, period, bytes, hits, CAST(strftime('%s', 'now') AS INTEGER) FROM bandwidth_monthly;

CREATE TABLE fleet_outbox_mail_hourly (
    seq       INTEGER PRIMARY KEY AUTOINCREMENT,
    user TEXT NOT NULL,
    domain TEXT NOT NULL,
    hour INTEGER NOT NULL,
    sent INTEGER,
    sent_bytes INTEGER,
    delivered INTEGER,
    failed INTEGER,
    deferred INTEGER,
    remote_delivered INTEGER,
    queued_at INTEGER NOT NULL,
    UNIQUE (user, domain, hour)
);
CREATE TRIGGER fleet_outbox_mail_hourly_insert AFTER INSERT ON mail_hourly BEGIN
    DELETE FROM fleet_outbox_mail_hourly WHERE user = NEW.user AND domain = NEW.domain AND hour = NEW.hour;
    INSERT INTO fleet_outbox_mail_hourly (user, domain, hour, sent, sent_bytes, delivered, failed, deferred, remote_delivered, queued_at) VALUES (NEW.user, NEW.domain, NEW.hour, NEW.sent, NEW.sent_bytes, NEW.delivered, NEW.failed, NEW.deferred, NEW.remote_delivered, CAST(strftime('%s', 'now') AS INTEGER));
END;
CREATE TRIGGER fleet_outbox_mail_hourly_update AFTER UPDATE ON mail_hourly BEGIN
    DELETE FROM fleet_outbox_mail_hourly WHERE user = NEW.user AND domain = NEW.domain AND hour = NEW.hour;
    INSERT INTO fleet_outbox_mail_hourly (user, domain, hour, sent, sent_bytes, delivered, failed, deferred, remote_delivered, queued_at) VALUES (NEW.user, NEW.domain, NEW.hour, NEW.sent, NEW.sent_bytes, NEW.delivered, NEW.failed, NEW.deferred, NEW.remote_delivered, CAST(strftime('%s', 'now') AS INTEGER));
END;
CREATE TRIGGER fleet_outbox_mail_hourly_delete AFTER DELETE ON mail_hourly BEGIN
    DELETE FROM fleet_outbox_mail_hourly WHERE user = OLD.user AND domain = OLD.domain AND hour = OLD.hour;
    INSERT INTO fleet_outbox_mail_hourly (user, domain, hour, sent, sent_bytes, delivered, failed, deferred, remote_delivered, queued_at) VALUES (OLD.user, OLD.domain, OLD.hour, NULL, NULL, NULL, NULL, NULL, NULL, CAST(strftime('%s', 'now') AS INTEGER));
END;
INSERT INTO fleet_outbox_mail_hourly (user, domain, hour, sent, sent_bytes, delivered, failed, deferred, remote_delivered, queued_at) SELECT user, domain, hour, sent, sent_bytes, delivered, failed, deferred, remote_delivered, CAST(strftime('%s', 'now') AS INTEGER) FROM mail_hourly;
