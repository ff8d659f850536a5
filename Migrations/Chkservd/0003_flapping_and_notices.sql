-- Flap protection and de-duplicated notifications (issue 18): the last state change announced
-- ('' none, 'failed', 'flapping', 'blocked'; it replaces failure_notified, kept for older readers
-- and written as notified <> ''), since when restarts are held, and from when restarts count
-- towards flapping again.
ALTER TABLE service_state ADD COLUMN notified TEXT NOT NULL DEFAULT '';
UPDATE service_state SET notified = 'failed' WHERE failure_notified = 1;
ALTER TABLE service_state ADD COLUMN flapping_since INTEGER;
ALTER TABLE service_state ADD COLUMN flap_count_from INTEGER;
