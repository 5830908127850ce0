-- 0005_host_events_log_dir.sql: where a health check's logs are.
--
-- A quarantined host is health-checked by booting it like a job, but the
-- check belongs to no job, so its console log had no row to hang from and
-- an operator could not see why a host stayed broken.  The events that
-- start and end a check name its log directory (relative to the daemon's
-- log root, like jobs.log_dir); NULL for every other event.
ALTER TABLE host_events ADD COLUMN log_dir TEXT;
