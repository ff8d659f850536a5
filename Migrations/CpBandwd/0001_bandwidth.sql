-- The cpbandwd driver's rollups: bytes and requests per hosting account, domain, protocol and
-- period, at four resolutions. Each batch's in-memory sums are added to all four in the batch's
-- transaction. `period` is unix seconds (UTC) at the start of the 5 minutes, hour, day or month.
-- `user` is the domain's owner in userdomains, or 'UNKNOWN' (no byte is dropped).

CREATE TABLE bandwidth_5min (
    user     TEXT    NOT NULL,
    domain   TEXT    NOT NULL,
    protocol TEXT    NOT NULL,   -- http, ftp, imap, pop3
    period   INTEGER NOT NULL,
    bytes    INTEGER NOT NULL,
    hits     INTEGER NOT NULL,
    PRIMARY KEY (user, domain, protocol, period)
) WITHOUT ROWID;
CREATE INDEX bandwidth_5min_period ON bandwidth_5min (period);

CREATE TABLE bandwidth_hourly (
    user     TEXT    NOT NULL,
    domain   TEXT    NOT NULL,
    protocol TEXT    NOT NULL,
    period   INTEGER NOT NULL,
    bytes    INTEGER NOT NULL,
    hits     INTEGER NOT NULL,
    PRIMARY KEY (user, domain, protocol, period)
) WITHOUT ROWID;

CREATE TABLE bandwidth_daily (
    user     TEXT    NOT NULL,
    domain   TEXT    NOT NULL,
    protocol TEXT    NOT NULL,
    period   INTEGER NOT NULL,
    bytes    INTEGER NOT NULL,
    hits     INTEGER NOT NULL,
    PRIMARY KEY (user, domain, protocol, period)
) WITHOUT ROWID;

CREATE TABLE bandwidth_monthly (
    user     TEXT    NOT NULL,
    domain   TEXT    NOT NULL,
    protocol TEXT    NOT NULL,
    period   INTEGER NOT NULL,
    bytes    INTEGER NOT NULL,
    hits     INTEGER NOT NULL,
    PRIMARY KEY (user, domain, protocol, period)
) WITHOUT ROWID;
