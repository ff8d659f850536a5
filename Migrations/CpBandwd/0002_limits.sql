-- Monthly bandwidth limits. A level (80, 90, 100 %) reached by an account in a month is recorded
-- once, in the transaction that counted the bytes that reached it, so a notification never repeats
-- after a restart. Accounts at 100 % are listed in bandwidth_overlimit while they stay over.
CREATE TABLE bandwidth_limit_levels (
    user        TEXT    NOT NULL,
    month       INTEGER NOT NULL,   -- unix seconds at the start of the UTC month
    level       INTEGER NOT NULL,   -- 80, 90 or 100
    reached_at  INTEGER NOT NULL,
    usage       INTEGER NOT NULL,
    limit_bytes INTEGER NOT NULL,
    PRIMARY KEY (user, month, level)
) WITHOUT ROWID;

CREATE TABLE bandwidth_overlimit (
    user        TEXT    NOT NULL PRIMARY KEY,
    month       INTEGER NOT NULL,
    usage       INTEGER NOT NULL,
    limit_bytes INTEGER NOT NULL,
    since       INTEGER NOT NULL
) WITHOUT ROWID;
