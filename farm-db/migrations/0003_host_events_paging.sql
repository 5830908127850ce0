-- 0003_host_events_paging.sql: page a host's events newest first by id.
--
-- The API and the hosts page list a host's events with "id < ? ORDER BY id
-- DESC LIMIT n".  host_events_by_host (host_id, at) cannot deliver that order,
-- so every page sorted all of the host's events: a year of health checks
-- made it slower every day.  With (host_id, id) a page reads n index entries.
CREATE INDEX host_events_by_host_id ON host_events(host_id, id);
