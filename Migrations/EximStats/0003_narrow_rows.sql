-- Narrow event rows (issue 20): the names that recur from row to row (accounts, domains, routers,
-- transports, the hosts and IPs deliveries go to, protocols, authenticators) are stored once in
-- `mail_names` and the rows hold their integer ids. Addresses, and the client host and IP of an
-- arrival or a rejection, stay text in the row: they are mostly new (every recipient of a spam run
-- is), and a dictionary entry for a name seen once costs more to write than the name itself
-- (docs/BENCHMARKS.md, issue 20). Their domains are ids, for `@domain` searches. The Subject and the
-- arrival's `for` list are no longer kept (the deliveries name every recipient; the arrival keeps
-- how many there were). Error and answer text only where it says something: failures, deferrals
-- and rejections.
--
-- Names compare without regard to ASCII case (a search finds an address however it was typed;
-- the first spelling seen of a name is stored).
--
-- Searching (`tailwatch-report mail trace`) uses no per-row index, which would cost more than the
-- row itself on every insert: rows are grouped in blocks of about a thousand consecutive rows,
-- and `mail_search_blocks` keeps, per block, Bloom filters of the senders, recipients (and their
-- domains), accounts and message ids in it. A search reads the filters and scans only the blocks
-- that may hold a match. The driver writes the filters with the rows, and builds them for rows
-- converted here when it first opens the database.
--
-- The old tables become views of the same names and columns (time = id >> 20), so an operator's
-- SQL against `sends`, `smtp`, `failures`, `defers` and `rejects` still reads the same rows.

CREATE TABLE mail_names (
    id      INTEGER PRIMARY KEY,
    name    TEXT    NOT NULL UNIQUE COLLATE NOCASE
);

-- One row per message accepted (`<=`). Ids are keyed by time as before (TimeKeyedIDs).
CREATE TABLE mail_arrivals (
    id          INTEGER PRIMARY KEY,
    msgid       TEXT    NOT NULL,
    user        INTEGER NOT NULL,
    domain      INTEGER NOT NULL,
    sender      TEXT    NOT NULL,
    size        INTEGER NOT NULL,
    recipients  INTEGER NOT NULL,   -- how many addresses the `for` list named
    host        TEXT,
    ip          TEXT,
    protocol    INTEGER,
    auth        INTEGER
);
CREATE INDEX mail_arrivals_msgid ON mail_arrivals (msgid);

-- One row per delivery attempt: kind 1 '=>', 2 '->', 3 '>>' (delivered), 4 '**' (failed),
-- 5 '==' (deferred). user, domain and sender are those of the message's arrival.
CREATE TABLE mail_deliveries (
    id          INTEGER PRIMARY KEY,
    msgid       TEXT    NOT NULL,
    kind        INTEGER NOT NULL,
    user        INTEGER NOT NULL,
    domain      INTEGER NOT NULL,
    sender      TEXT,               -- NULL when the arrival was never seen
    sender_domain INTEGER,          -- the sender address's domain (after its last '@')
    recipient   TEXT    NOT NULL,
    recipient_domain INTEGER,
    router      INTEGER,
    transport   INTEGER,
    host        INTEGER,
    ip          INTEGER,
    message     TEXT                -- failures and deferrals: the error
);

-- Mail exim refused: at SMTP time (no message id) or after DATA (with the id it had given).
CREATE TABLE mail_rejects (
    id          INTEGER PRIMARY KEY,
    msgid       TEXT,
    temporary   INTEGER NOT NULL,   -- 1 for a 4xx ("temporarily rejected")
    host        TEXT,
    ip          TEXT,
    sender      TEXT,
    sender_domain INTEGER,
    recipient   TEXT,
    recipient_domain INTEGER,
    message     TEXT
);

-- Per block of rows of one table (0 mail_deliveries, 1 mail_rejects): the range of row ids it
-- holds and a Bloom filter per searchable field (see SearchBlocks). Blocks may overlap in ids when
-- lines come out of time order; each row lies within its own block's range.
CREATE TABLE mail_search_blocks (
    id          INTEGER PRIMARY KEY,
    tbl         INTEGER NOT NULL,
    min_id      INTEGER NOT NULL,
    max_id      INTEGER NOT NULL,
    rows        INTEGER NOT NULL,
    senders     BLOB    NOT NULL,   -- sender and sender-domain ids
    recipients  BLOB    NOT NULL,   -- recipient and recipient-domain ids
    users       BLOB    NOT NULL,
    msgids      BLOB    NOT NULL
);
CREATE INDEX mail_search_blocks_newest ON mail_search_blocks (max_id);

-- The names of an existing database, then its rows.
INSERT OR IGNORE INTO mail_names (name)
    SELECT n FROM (
        SELECT user AS n FROM sends UNION ALL SELECT domain FROM sends UNION ALL SELECT protocol FROM sends UNION ALL SELECT auth FROM sends
        UNION ALL SELECT user FROM smtp UNION ALL SELECT domain FROM smtp UNION ALL SELECT router FROM smtp
        UNION ALL SELECT transport FROM smtp UNION ALL SELECT host FROM smtp UNION ALL SELECT ip FROM smtp
        UNION ALL SELECT user FROM failures UNION ALL SELECT domain FROM failures UNION ALL SELECT router FROM failures
        UNION ALL SELECT transport FROM failures UNION ALL SELECT host FROM failures UNION ALL SELECT ip FROM failures
        UNION ALL SELECT user FROM defers UNION ALL SELECT domain FROM defers UNION ALL SELECT router FROM defers
        UNION ALL SELECT transport FROM defers UNION ALL SELECT host FROM defers UNION ALL SELECT ip FROM defers
    ) WHERE n IS NOT NULL;

-- The domain of an address: the text after its last '@' (rtrim strips everything but '@' from
-- the end, leaving the part up to the last '@'); NULL without one.
CREATE TEMP TABLE address_domains (address TEXT PRIMARY KEY, domain_name TEXT, domain INTEGER) WITHOUT ROWID;
INSERT OR IGNORE INTO address_domains (address)
    SELECT sender FROM sends UNION SELECT recipient FROM smtp UNION SELECT recipient FROM failures UNION SELECT recipient FROM defers
    UNION SELECT sender FROM rejects WHERE sender IS NOT NULL UNION SELECT recipient FROM rejects WHERE recipient IS NOT NULL;
UPDATE address_domains SET domain_name = substr(address, length(rtrim(address, replace(address, '@', ''))) + 1)
    WHERE instr(address, '@') > 0;
INSERT OR IGNORE INTO mail_names (name) SELECT DISTINCT domain_name FROM address_domains WHERE domain_name <> '';
UPDATE address_domains SET domain = (SELECT id FROM mail_names WHERE name = domain_name) WHERE domain_name <> '';

INSERT INTO mail_arrivals (id, msgid, user, domain, sender, size, recipients, host, ip, protocol, auth)
    SELECT s.id, s.msgid,
        (SELECT id FROM mail_names WHERE name = s.user), (SELECT id FROM mail_names WHERE name = s.domain), s.sender, s.size,
        CASE WHEN s.recipients IS NULL OR s.recipients = '' THEN 0
             ELSE length(s.recipients) - length(replace(s.recipients, ' ', '')) + 1 END,
        s.host, s.ip, (SELECT id FROM mail_names WHERE name = s.protocol), (SELECT id FROM mail_names WHERE name = s.auth)
    FROM sends s ORDER BY s.id;

-- Deliveries take their sender from their message's latest arrival, as the driver does.
INSERT INTO mail_deliveries (id, msgid, kind, user, domain, sender, sender_domain, recipient, recipient_domain,
                             router, transport, host, ip, message)
    SELECT x.id, x.msgid, x.kind, x.user, x.domain,
        x.sender, (SELECT domain FROM address_domains WHERE address = x.sender),
        x.recipient, (SELECT domain FROM address_domains WHERE address = x.recipient),
        x.router, x.transport, x.host, x.ip, x.message
    FROM (
        SELECT d.id, d.msgid, d.kind,
            (SELECT id FROM mail_names WHERE name = d.user) AS user, (SELECT id FROM mail_names WHERE name = d.domain) AS domain,
            (SELECT a.sender FROM mail_arrivals a WHERE a.msgid = d.msgid ORDER BY a.id DESC LIMIT 1) AS sender,
            d.recipient,
            (SELECT id FROM mail_names WHERE name = d.router) AS router, (SELECT id FROM mail_names WHERE name = d.transport) AS transport,
            (SELECT id FROM mail_names WHERE name = d.host) AS host, (SELECT id FROM mail_names WHERE name = d.ip) AS ip, d.message
        FROM (
            SELECT id, msgid, CASE kind WHEN '=>' THEN 1 WHEN '->' THEN 2 ELSE 3 END AS kind, user, domain, recipient,
                   router, transport, host, ip, NULL AS message FROM smtp
            UNION ALL SELECT id, msgid, 4, user, domain, recipient, router, transport, host, ip, error FROM failures
            UNION ALL SELECT id, msgid, 5, user, domain, recipient, router, transport, host, ip, error FROM defers
        ) d
    ) x ORDER BY x.id;

INSERT INTO mail_rejects (id, msgid, temporary, host, ip, sender, sender_domain, recipient, recipient_domain, message)
    SELECT r.id, NULL, 0, r.host, r.ip,
        r.sender, (SELECT domain FROM address_domains WHERE address = r.sender),
        r.recipient, (SELECT domain FROM address_domains WHERE address = r.recipient), r.reason
    FROM rejects r ORDER BY r.id;
DROP TABLE address_domains;

DROP TABLE sends;
DROP TABLE smtp;
DROP TABLE failures;
DROP TABLE defers;
DROP TABLE rejects;

-- The old tables' names and columns, for SQL written against them.
CREATE VIEW sends AS
    SELECT a.id, a.id >> 20 AS time, a.msgid,
        (SELECT name FROM mail_names WHERE id = a.user) AS user, (SELECT name FROM mail_names WHERE id = a.domain) AS domain,
        a.sender, a.size, a.host, a.ip,
        (SELECT name FROM mail_names WHERE id = a.protocol) AS protocol, (SELECT name FROM mail_names WHERE id = a.auth) AS auth,
        a.recipients
    FROM mail_arrivals a;

CREATE VIEW mail_delivery_rows AS
    SELECT d.id, d.id >> 20 AS time, d.msgid, d.kind,
        (SELECT name FROM mail_names WHERE id = d.user) AS user, (SELECT name FROM mail_names WHERE id = d.domain) AS domain,
        d.sender, d.recipient,
        (SELECT name FROM mail_names WHERE id = d.router) AS router, (SELECT name FROM mail_names WHERE id = d.transport) AS transport,
        (SELECT name FROM mail_names WHERE id = d.host) AS host, (SELECT name FROM mail_names WHERE id = d.ip) AS ip,
        d.message
    FROM mail_deliveries d;

CREATE VIEW smtp AS
    SELECT id, time, msgid, user, domain, CASE kind WHEN 1 THEN '=>' WHEN 2 THEN '->' ELSE '>>' END AS kind,
        recipient, router, transport, host, ip
    FROM mail_delivery_rows WHERE kind <= 3;
CREATE VIEW failures AS
    SELECT id, time, msgid, user, domain, recipient, router, transport, host, ip, message AS error
    FROM mail_delivery_rows WHERE kind = 4;
CREATE VIEW defers AS
    SELECT id, time, msgid, user, domain, recipient, router, transport, host, ip, message AS error
    FROM mail_delivery_rows WHERE kind = 5;
CREATE VIEW rejects AS
    SELECT r.id, r.id >> 20 AS time, r.msgid, r.temporary, r.host, r.ip, r.sender, r.recipient, r.message AS reason
    FROM mail_rejects r;
