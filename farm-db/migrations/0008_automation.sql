-- 0008_automation.sql: the farm runs itself (xenrt/src/steward.c,
-- webhook.c, schedule.c, tested.c, bisect.c).
--
-- steward_done marks a finished flight whose consequences were drawn
-- (webhooks queued, tested ref pushed, bisection started), so a daemon that
-- dies in between draws them after its restart, once.  Flights finished
-- before this migration are history: marked done, they notify nobody.
ALTER TABLE flights ADD COLUMN steward_done INTEGER NOT NULL DEFAULT 0;
UPDATE flights SET steward_done = 1 WHERE status NOT IN ('queued', 'running');
CREATE INDEX flights_steward ON flights(id) WHERE steward_done = 0;
-- Where a flight came from: a schedule's run, a bisection's probe.
ALTER TABLE flights ADD COLUMN schedule_id INTEGER REFERENCES schedules(id);
ALTER TABLE flights ADD COLUMN bisection_id INTEGER REFERENCES bisections(id);

-- A failed job of a gate flight is run once more on another host: a step
-- that passes there is flaky, not a regression.  retest_of names the
-- failed job; avoid_host the host it failed on.
ALTER TABLE jobs ADD COLUMN retest_of INTEGER REFERENCES jobs(id);
ALTER TABLE jobs ADD COLUMN avoid_host INTEGER REFERENCES hosts(id);

-- One row per webhook delivery: queued by the steward in the same
-- transaction that marks its flight done, sent by a thread per URL,
-- retried with back-off; what happened stays for operators.
CREATE TABLE webhook_deliveries (
    id          INTEGER PRIMARY KEY,
    url         TEXT NOT NULL,
    event       TEXT NOT NULL CHECK (event IN ('flight-finished', 'regression',
                                               'tested-ref-pushed', 'host-offline')),
    payload     TEXT NOT NULL,
    status      TEXT NOT NULL DEFAULT 'pending'
                CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts    INTEGER NOT NULL DEFAULT 0,
    next_at     REAL NOT NULL,
    http_status INTEGER,
    last_error  TEXT,
    created_at  REAL NOT NULL,
    delivered_at REAL
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries(url, next_at) WHERE status = 'pending';

-- Recurring flights: from the config (source 'config', replaced on every
-- start) or `xenrt schedule add` ('cli').  next_run is when it is due; a
-- daemon that was down at that time starts it once when it comes back.
CREATE TABLE schedules (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    source      TEXT NOT NULL CHECK (source IN ('config', 'cli')),
    repo        TEXT NOT NULL,
    ref         TEXT NOT NULL,
    kind        TEXT NOT NULL CHECK (kind IN ('branch', 'nightly', 'gate')),
    suites      TEXT NOT NULL,           -- JSON array of suite names
    runvars     TEXT,                    -- JSON object, or NULL
    at_time     TEXT,                    -- "HH:MM" UTC, daily
    every_s     INTEGER,                 -- or an interval
    next_run    REAL NOT NULL,
    last_run    REAL,
    last_flight INTEGER REFERENCES flights(id) ON DELETE SET NULL,
    CHECK ((at_time IS NULL) != (every_s IS NULL))
);

-- Tested refs: every push (or failed push) of a gate flight's revision.
CREATE TABLE tested_pushes (
    id          INTEGER PRIMARY KEY,
    flight_id   INTEGER NOT NULL REFERENCES flights(id) ON DELETE CASCADE,
    repo        TEXT NOT NULL,
    branch      TEXT NOT NULL,
    ref         TEXT NOT NULL,
    revision    TEXT NOT NULL,
    ok          INTEGER NOT NULL,
    message     TEXT NOT NULL,
    at          REAL NOT NULL
);
CREATE INDEX tested_pushes_by_branch ON tested_pushes(repo, branch, id);

-- Automatic bisection of a regression of a gate or nightly flight against
-- its baseline, for one job (suite) and step.  Each probe is a flight of
-- that suite alone at one revision (flights.bisection_id); a revision's
-- verdict counts once `bisect_repeats` probes agree.
CREATE TABLE bisections (
    id          INTEGER PRIMARY KEY,
    flight_id   INTEGER NOT NULL REFERENCES flights(id) ON DELETE CASCADE,
    baseline_id INTEGER NOT NULL REFERENCES flights(id),
    suite       TEXT NOT NULL,
    step        TEXT NOT NULL,
    good        TEXT NOT NULL,           -- the baseline's revision
    bad         TEXT NOT NULL,           -- the flight's revision
    commits     TEXT NOT NULL,           -- JSON array, oldest first, ending with bad
    status      TEXT NOT NULL DEFAULT 'running'
                CHECK (status IN ('running', 'found', 'unreproducible', 'failed')),
    first_bad   TEXT,
    message     TEXT,
    created_at  REAL NOT NULL,
    finished_at REAL
);
CREATE INDEX bisections_by_flight ON bisections(flight_id);

-- Small facts the steward keeps between runs: host_offline_seen is the
-- last host event it looked at for host-offline webhooks (history before
-- this migration notifies nobody).
CREATE TABLE farm_state (
    key         TEXT PRIMARY KEY,
    value       TEXT NOT NULL
);
INSERT INTO farm_state(key, value)
    SELECT 'host_offline_seen', coalesce(max(id), 0) FROM host_events;
