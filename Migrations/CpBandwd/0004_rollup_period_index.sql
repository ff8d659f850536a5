-- Ranges across every account. The hourly and daily rollups are keyed by account first, which
-- answers "bob's days" from one part of the key; "every account's last seven days" (the web
-- overview, the WHM-style month table, `bandwidth --since 7d`) would otherwise read the whole
-- table. A row's period never changes after its insert (upserts only add to bytes and hits), so
-- this index costs one entry per new account-hour or account-day, not one per batch.
CREATE INDEX bandwidth_hourly_period ON bandwidth_hourly (period);
CREATE INDEX bandwidth_daily_period ON bandwidth_daily (period);
