-- Relay logins and chkservd's service states and checks join the outbox, as in 0001: one row per
-- changed key, a tombstone (NULL values) for a deleted one, seeded with the rows there are now.
-- service_checks has no natural key of its own (two checks of one service may share a second):
-- its rowid is the key, shipped as `id`. Value columns are nullable here because some are in the
-- source (a check not run has no `passed`); the first value of each is NOT NULL there, so a NULL
-- in it marks a tombstone. relay_auth's user compares exactly here (NOCASE in its source): a
-- login as "bob" after "Bob" was pruned must not replace Bob's tombstone, since PostgreSQL keeps
-- the two apart.

CREATE TABLE fleet_outbox_relay_auth (
    seq       INTEGER PRIMARY KEY AUTOINCREMENT,
    ip TEXT NOT NULL,
    user TEXT NOT NULL,
    protocol TEXT NOT NULL,
    first_login,
    last_login,
    logins,
    queued_at INTEGER NOT NULL,
    UNIQUE (ip, user, protocol)
);
CREATE TRIGGER fleet_outbox_relay_auth_insert AFTER INSERT ON relay_auth BEGIN
    DELETE FROM fleet_outbox_relay_auth WHERE ip = NEW.ip AND user = NEW.user AND protocol = NEW.protocol;
    INSERT INTO fleet_outbox_relay_auth (ip, user, protocol, first_login, last_login, logins, queued_at) VALUES (NEW.ip, NEW.user, NEW.protocol, NEW.first_login, NEW.last_login, NEW.logins, CAST(strftime('%s', 'now') AS INTEGER));
END;
CREATE TRIGGER fleet_outbox_relay_auth_update AFTER UPDATE ON relay_auth BEGIN
    DELETE FROM fleet_outbox_relay_auth WHERE ip = NEW.ip AND user = NEW.user AND protocol = NEW.protocol;
    INSERT INTO fleet_outbox_relay_auth (ip, user, protocol, first_login, last_login, logins, queued_at) VALUES (NEW.ip, NEW.user, NEW.protocol, NEW.first_login, NEW.last_login, NEW.logins, CAST(strftime('%s', 'now') AS INTEGER));
END;
CREATE TRIGGER fleet_outbox_relay_auth_delete AFTER DELETE ON relay_auth BEGIN
    DELETE FROM fleet_outbox_relay_auth WHERE ip = OLD.ip AND user = OLD.user AND protocol = OLD.protocol;
    INSERT INTO fleet_outbox_relay_auth (ip, user, protocol, first_login, last_login, logins, queued_at) VALUES (OLD.ip, OLD.user, OLD.protocol, NULL, NULL, NULL, CAST(strftime('%s', 'now') AS INTEGER));
END;
INSERT INTO fleet_outbox_relay_auth (ip, user, protocol, first_login, last_login, logins, queued_at) SELECT ip, user, protocol, first_login, last_login, logins, CAST(strftime('%s', 'now') AS INTEGER) FROM relay_auth;

CREATE TABLE fleet_outbox_service_state (
    seq       INTEGER PRIMARY KEY AUTOINCREMENT,
    service TEXT NOT NULL,
    status,
    last_check,
    consecutive_failures,
    last_restart,
    flapping_since,
    queued_at INTEGER NOT NULL,
    UNIQUE (service)
);
CREATE TRIGGER fleet_outbox_service_state_insert AFTER INSERT ON service_state BEGIN
    DELETE FROM fleet_outbox_service_state WHERE service = NEW.service;
    INSERT INTO fleet_outbox_service_state (service, status, last_check, consecutive_failures, last_restart, flapping_since, queued_at) VALUES (NEW.service, NEW.status, NEW.last_check, NEW.consecutive_failures, NEW.last_restart, NEW.flapping_since, CAST(strftime('%s', 'now') AS INTEGER));
END;
CREATE TRIGGER fleet_outbox_service_state_update AFTER UPDATE ON service_state BEGIN
    DELETE FROM fleet_outbox_service_state WHERE service = NEW.service;
    INSERT INTO fleet_outbox_service_state (service, status, last_check, consecutive_failures, last_restart, flapping_since, queued_at) VALUES (NEW.service, NEW.status, NEW.last_check, NEW.consecutive_failures, NEW.last_restart, NEW.flapping_since, CAST(strftime('%s', 'now') AS INTEGER));
END;
CREATE TRIGGER fleet_outbox_service_state_delete AFTER DELETE ON service_state BEGIN
    DELETE FROM fleet_outbox_service_state WHERE service = OLD.service;
    INSERT INTO fleet_outbox_service_state (service, status, last_check, consecutive_failures, last_restart, flapping_since, queued_at) VALUES (OLD.service, NULL, NULL, NULL, NULL, NULL, CAST(strftime('%s', 'now') AS INTEGER));
END;
INSERT INTO fleet_outbox_service_state (service, status, last_check, consecutive_failures, last_restart, flapping_since, queued_at) SELECT service, status, last_check, consecutive_failures, last_restart, flapping_since, CAST(strftime('%s', 'now') AS INTEGER) FROM service_state;

CREATE TABLE fleet_outbox_service_checks (
    seq       INTEGER PRIMARY KEY AUTOINCREMENT,
    id INTEGER NOT NULL,
    time,
    service,
    status,
    passed,
    socket,
    process,
    latency_ms,
    action,
    detail,
    queued_at INTEGER NOT NULL,
    UNIQUE (id)
);
CREATE TRIGGER fleet_outbox_service_checks_insert AFTER INSERT ON service_checks BEGIN
    DELETE FROM fleet_outbox_service_checks WHERE id = NEW.rowid;
    INSERT INTO fleet_outbox_service_checks (id, time, service, status, passed, socket, process, latency_ms, action, detail, queued_at) VALUES (NEW.rowid, NEW.time, NEW.service, NEW.status, NEW.passed, NEW.socket, NEW.process, NEW.latency_ms, NEW.action, NEW.detail, CAST(strftime('%s', 'now') AS INTEGER));
END;
CREATE TRIGGER fleet_outbox_service_checks_update AFTER UPDATE ON service_checks BEGIN
    DELETE FROM fleet_outbox_service_checks WHERE id = NEW.rowid;
    INSERT INTO fleet_outbox_service_checks (id, time, service, status, passed, socket, process, latency_ms, action, detail, queued_at) VALUES (NEW.rowid, NEW.time, NEW.service, NEW.status, NEW.passed, NEW.socket, NEW.process, NEW.latency_ms, NEW.action, NEW.detail, CAST(strftime('%s', 'now') AS INTEGER));
END;
CREATE TRIGGER fleet_outbox_service_checks_delete AFTER DELETE ON service_checks BEGIN
    DELETE FROM fleet_outbox_service_checks WHERE id = OLD.rowid;
    INSERT INTO fleet_outbox_service_checks (id, time, service, status, passed, socket, process, latency_ms, action, detail, queued_at) VALUES (OLD.rowid, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, CAST(strftime('%s', 'now') AS INTEGER));
END;
INSERT INTO fleet_outbox_service_checks (id, time, service, status, passed, socket, process, latency_ms, action, detail, queued_at) SELECT rowid, time, service, status, passed, socket, process, latency_ms, action, detail, CAST(strftime('%s', 'now') AS INTEGER) FROM service_checks;
