-- Successful POP3/IMAP logins that let their client relay mail (POP-before-SMTP). One row per
-- client address, login name and protocol; rows whose last login left the window are pruned.
-- Addresses are canonical text (IPv4 dotted, IPv6 per RFC 5952, IPv4-mapped IPv6 as IPv4).
CREATE TABLE relay_auth (
    ip          TEXT    NOT NULL,
    user        TEXT    NOT NULL COLLATE NOCASE,
    protocol    TEXT    NOT NULL,   -- imap or pop3
    first_login INTEGER NOT NULL,   -- unix seconds
    last_login  INTEGER NOT NULL,
    logins      INTEGER NOT NULL,
    PRIMARY KEY (ip, user, protocol)
) WITHOUT ROWID;

CREATE INDEX relay_auth_last_login ON relay_auth (last_login);
