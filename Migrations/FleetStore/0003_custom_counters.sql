-- Custom drivers' counters, per host, as in 0001: every counter table of a server (the current
-- custom_NAME_counts and retired custom_NAME_counts_vN) in one table keyed by the table's name,
-- its key values (a JSON array in the table's key order) and the bucket; and each driver's
-- recorded schema, from which the fleet's report reads the key names and the bucket size.

CREATE TABLE custom_driver_schemas (
    host    TEXT   NOT NULL,
    driver  TEXT   NOT NULL,
    schema  TEXT   NOT NULL,
    version BIGINT NOT NULL,
    PRIMARY KEY (host, driver)
);

CREATE TABLE custom_counts (
    host         TEXT   NOT NULL,
    counts_table TEXT   NOT NULL,
    key_values   TEXT   NOT NULL,
    bucket       BIGINT NOT NULL,
    driver       TEXT   NOT NULL,
    count        BIGINT NOT NULL,
    sum          BIGINT NOT NULL,
    version      BIGINT NOT NULL,
    PRIMARY KEY (host, counts_table, key_values, bucket)
);
CREATE INDEX custom_counts_table_bucket ON custom_counts (counts_table, bucket);
