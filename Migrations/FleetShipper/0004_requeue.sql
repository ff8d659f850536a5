-- A row here while every row of this file is being queued again (FleetOutbox.queueEverything), in
-- transactions of a bounded size so the daemon's writer never waits long: a shipper stopped
-- halfway finds it at its next start and queues everything again before shipping anything.
CREATE TABLE fleet_requeue (
    started_at INTEGER NOT NULL
);
