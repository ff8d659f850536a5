-- Mail sending limits (cPanel's /etc/email_send_limits). mail_hourly gains the count the limits
-- are about: deliveries to remote hosts per sending account, domain and hour. A limit reached by a
-- domain in an hour is recorded once, in the transaction that counted the delivery that reached
-- it, so its log line and notification never repeat after a restart.
ALTER TABLE mail_hourly ADD COLUMN remote_delivered INTEGER NOT NULL DEFAULT 0;

CREATE TABLE send_limit_events (
    domain      TEXT    NOT NULL,
    hour        INTEGER NOT NULL,   -- unix seconds at the start of the (UTC) hour
    kind        TEXT    NOT NULL,   -- max_emails or max_deferfail
    reached_at  INTEGER NOT NULL,
    count       INTEGER NOT NULL,   -- deliveries (max_emails) or defers + failures (max_deferfail)
    threshold   INTEGER NOT NULL,
    PRIMARY KEY (domain, hour, kind)
) WITHOUT ROWID;
CREATE INDEX send_limit_events_hour ON send_limit_events (hour);
