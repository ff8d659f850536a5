-- Custom drivers' counters join the outbox. Their tables are made at run time by definitions
-- (custom_NAME_counts, and custom_NAME_counts_vN when a change of keys or bucket retired one), so
-- no migration can name them: the shipper puts triggers like 0001's on each counter table it
-- finds (FleetOutbox.follow), in the same transaction as a copy of the rows the table holds.
-- One outbox for all of them: a row is keyed by its table, its key values (a JSON array, in the
-- table's key order) and its bucket. Each driver's recorded schema ships too: the fleet's report
-- needs its key names and bucket.

CREATE TABLE fleet_outbox_custom_counts (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    counts_table TEXT NOT NULL,
    key_values   TEXT NOT NULL,
    bucket       INTEGER NOT NULL,
    driver,
    count,
    sum,
    queued_at    INTEGER NOT NULL,
    UNIQUE (counts_table, key_values, bucket)
);

CREATE TABLE fleet_outbox_custom_driver_schemas (
    seq       INTEGER PRIMARY KEY AUTOINCREMENT,
    driver TEXT NOT NULL,
    schema,
    queued_at INTEGER NOT NULL,
    UNIQUE (driver)
);
CREATE TRIGGER fleet_outbox_custom_driver_schemas_insert AFTER INSERT ON custom_driver_schemas BEGIN
    DELETE FROM fleet_outbox_custom_driver_schemas WHERE driver = NEW.driver;
    INSERT INTO fleet_outbox_custom_driver_schemas (driver, schema, queued_at) VALUES (NEW.driver, NEW.schema, CAST(strftime('%s', 'now') AS INTEGER));
END;
CREATE TRIGGER fleet_outbox_custom_driver_schemas_update AFTER UPDATE OF schema ON custom_driver_schemas BEGIN
    DELETE FROM fleet_outbox_custom_driver_schemas WHERE driver = NEW.driver;
    INSERT INTO fleet_outbox_custom_driver_schemas (driver, schema, queued_at) VALUES (NEW.driver, NEW.schema, CAST(strftime('%s', 'now') AS INTEGER));
END;
CREATE TRIGGER fleet_outbox_custom_driver_schemas_delete AFTER DELETE ON custom_driver_schemas BEGIN
    DELETE FROM fleet_outbox_custom_driver_schemas WHERE driver = OLD.driver;
    INSERT INTO fleet_outbox_custom_driver_schemas (driver, schema, queued_at) VALUES (OLD.driver, NULL, CAST(strftime('%s', 'now') AS INTEGER));
END;
INSERT INTO fleet_outbox_custom_driver_schemas (driver, schema, queued_at) SELECT driver, schema, CAST(strftime('%s', 'now') AS INTEGER) FROM custom_driver_schemas;
