-- Retention (keep_days) deletes the oldest rows of service_checks in slices; without an index on
-- time, each hourly look would scan the whole table inside a write transaction.
CREATE INDEX service_checks_time ON service_checks (time);
