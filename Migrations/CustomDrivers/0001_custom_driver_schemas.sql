-- The schema each custom driver's tables were last brought to, as the definition described it
-- (JSON: columns and their types, counter keys, bucket size). Reports read it to know a custom
-- driver's tables; the daemon compares it with the definition to generate the next migration
-- (recorded in tailwatch_migrations under the module 'custom.NAME').
CREATE TABLE custom_driver_schemas (
    driver      TEXT    PRIMARY KEY,
    definition  TEXT    NOT NULL,   -- the NAME.toml it came from
    description TEXT    NOT NULL,
    schema      TEXT    NOT NULL,
    updated_at  INTEGER NOT NULL
);

-- The files custom drivers read, numbered: a stored line names its file by number (a path on
-- every row cost a third of the insert time).
CREATE TABLE custom_sources (
    id   INTEGER PRIMARY KEY,
    path TEXT    NOT NULL UNIQUE
);
