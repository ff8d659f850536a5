-- Where each driver is in each file it tails. A row commits in the same transaction as the effects
-- of the lines before `offset`, which is what makes ingestion exactly-once.
-- Identity: device + inode is a hint; the content decides. `head_hash` covers the first
-- `head_length` bytes of the file, `tail_hash` the `tail_length` bytes just before `offset`.
CREATE TABLE checkpoints (
    driver      TEXT    NOT NULL,
    path        TEXT    NOT NULL,
    device      INTEGER NOT NULL,
    inode       INTEGER NOT NULL,
    offset      INTEGER NOT NULL,
    head_length INTEGER NOT NULL,
    head_hash   INTEGER NOT NULL,
    tail_length INTEGER NOT NULL,
    tail_hash   INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,   -- unix seconds
    PRIMARY KEY (driver, path)
) WITHOUT ROWID;

-- Running totals per driver, for `tailwatchd --status=long`; updated with every commit.
CREATE TABLE driver_stats (
    driver          TEXT    NOT NULL PRIMARY KEY,
    lines_read      INTEGER NOT NULL DEFAULT 0,
    events_written  INTEGER NOT NULL DEFAULT 0,
    lines_ignored   INTEGER NOT NULL DEFAULT 0,
    lines_rejected  INTEGER NOT NULL DEFAULT 0,
    last_commit     INTEGER             -- unix seconds
) WITHOUT ROWID;

-- Rejected lines by driver and reason, with the last place one was seen.
CREATE TABLE rejected_lines (
    driver      TEXT    NOT NULL,
    reason      TEXT    NOT NULL,
    count       INTEGER NOT NULL,
    last_path   TEXT    NOT NULL,
    last_offset INTEGER NOT NULL,
    last_seen   INTEGER NOT NULL,
    PRIMARY KEY (driver, reason)
) WITHOUT ROWID;
