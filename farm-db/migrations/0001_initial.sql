-- 0001_initial.sql: the farm's data model, after osstest (flights, jobs, steps,
-- runvars) with LAVA's host health states.
--
-- Migrations are applied in file-name order inside one transaction each; the
-- applied version is recorded in PRAGMA user_version and in schema_migrations
-- (with the time it was applied, for operators).  Times are Unix seconds as
-- REAL (sub-second steps matter for a fast farm).  Every status column is
-- constrained, so a bug can never store a status the status page cannot show.

CREATE TABLE schema_migrations (
    version     INTEGER PRIMARY KEY,
    name        TEXT NOT NULL,
    applied_at  REAL NOT NULL
);

-- A flight is one farm run of one tree at one revision.
CREATE TABLE flights (
    id          INTEGER PRIMARY KEY,
    kind        TEXT NOT NULL CHECK (kind IN ('patch', 'branch', 'nightly', 'gate')),
    repo        TEXT NOT NULL,           -- git repository path or URL
    ref         TEXT NOT NULL,           -- branch, tag or commit as submitted
    revision    TEXT,                    -- commit id resolved by the build job
    patch       TEXT,                    -- optional patch applied on top of ref
    baseline_id INTEGER REFERENCES flights(id), -- flight to compare against
    submitter   TEXT NOT NULL,
    created_at  REAL NOT NULL,
    started_at  REAL,
    finished_at REAL,
    status      TEXT NOT NULL DEFAULT 'queued'
                CHECK (status IN ('queued', 'running', 'pass', 'fail', 'broken', 'cancelled')),
    cancel_requested INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX flights_by_created ON flights(created_at DESC);
CREATE INDEX flights_by_revision ON flights(revision);

-- A job runs one suite (or the build) of a flight on one or more hosts.
CREATE TABLE jobs (
    id          INTEGER PRIMARY KEY,
    flight_id   INTEGER NOT NULL REFERENCES flights(id) ON DELETE CASCADE,
    name        TEXT NOT NULL,           -- e.g. "build", "smoke-qemu-amd"
    suite       TEXT NOT NULL,           -- testsuites/<suite>.suite, or "build"
    depends_on  INTEGER REFERENCES jobs(id), -- test jobs wait for the build job
    hosts_needed INTEGER NOT NULL DEFAULT 1 CHECK (hosts_needed >= 0),
    status      TEXT NOT NULL DEFAULT 'queued'
                CHECK (status IN ('queued', 'running', 'pass', 'fail', 'broken',
                                  'blocked', 'cancelled')),
    attempt     INTEGER NOT NULL DEFAULT 1, -- retries after broken runs
    max_attempts INTEGER NOT NULL DEFAULT 3,
    started_at  REAL,
    finished_at REAL,
    log_dir     TEXT,                    -- relative to the daemon's log root
    UNIQUE (flight_id, name)
);
CREATE INDEX jobs_by_flight ON jobs(flight_id);
CREATE INDEX jobs_by_status ON jobs(status);

-- Runvars: osstest's per-job key/value parameters (cpu model, memory, ...).
CREATE TABLE runvars (
    job_id      INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    value       TEXT NOT NULL,
    PRIMARY KEY (job_id, name)
);

-- Steps are ordered within a job; `broken` means the farm failed, not the code.
CREATE TABLE steps (
    id          INTEGER PRIMARY KEY,
    job_id      INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
    seq         INTEGER NOT NULL,
    name        TEXT NOT NULL,
    status      TEXT NOT NULL DEFAULT 'running'
                CHECK (status IN ('running', 'pass', 'fail', 'broken', 'blocked', 'skip')),
    started_at  REAL NOT NULL,
    finished_at REAL,
    log         TEXT,                    -- file name inside the job's log_dir
    message     TEXT,                    -- one-line reason for fail/broken/skip
    UNIQUE (job_id, seq)
);
CREATE INDEX steps_by_job ON steps(job_id, seq);

CREATE TABLE metrics (
    id          INTEGER PRIMARY KEY,
    step_id     INTEGER NOT NULL REFERENCES steps(id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    value       REAL NOT NULL,
    unit        TEXT NOT NULL DEFAULT ''
);
CREATE INDEX metrics_by_step ON metrics(step_id);
CREATE INDEX metrics_by_name ON metrics(name);

-- Build outputs, stored once by content hash and shared by every job that
-- boots them.
CREATE TABLE artifacts (
    sha256      TEXT PRIMARY KEY CHECK (length(sha256) = 64),
    size        INTEGER NOT NULL,
    created_at  REAL NOT NULL
);
CREATE TABLE flight_artifacts (
    flight_id   INTEGER NOT NULL REFERENCES flights(id) ON DELETE CASCADE,
    role        TEXT NOT NULL,           -- "hypervisor", "test-guests", "dom0-kernel", ...
    sha256      TEXT NOT NULL REFERENCES artifacts(sha256),
    PRIMARY KEY (flight_id, role)
);

-- The host pool.  `reserved_by` ties a host to the job holding it, so a
-- restarted daemon can find and reset every host a dead run left behind.
CREATE TABLE hosts (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    driver      TEXT NOT NULL CHECK (driver IN ('qemu', 'bochs', 'physical')),
    cpu_vendor  TEXT NOT NULL DEFAULT '',
    cpu_model   TEXT NOT NULL DEFAULT '',
    vcpus       INTEGER NOT NULL DEFAULT 1,
    memory_mib  INTEGER NOT NULL DEFAULT 1024,
    flags       TEXT NOT NULL DEFAULT '',  -- space-separated, e.g. "svm npt"
    state       TEXT NOT NULL DEFAULT 'idle'
                CHECK (state IN ('idle', 'reserved', 'provisioning', 'running',
                                 'broken', 'offline')),
    reserved_by INTEGER REFERENCES jobs(id) ON DELETE SET NULL,
    needs_health_check INTEGER NOT NULL DEFAULT 0,
    updated_at  REAL NOT NULL
);

-- Which hosts ran which attempt of a job (history; reserved_by is the present).
CREATE TABLE job_hosts (
    job_id      INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
    attempt     INTEGER NOT NULL,
    host_id     INTEGER NOT NULL REFERENCES hosts(id),
    role        TEXT NOT NULL DEFAULT 'host0',  -- "src"/"dst" for migration
    PRIMARY KEY (job_id, attempt, host_id)
);

CREATE TABLE host_events (
    id          INTEGER PRIMARY KEY,
    host_id     INTEGER NOT NULL REFERENCES hosts(id) ON DELETE CASCADE,
    at          REAL NOT NULL,
    old_state   TEXT,
    new_state   TEXT NOT NULL,
    job_id      INTEGER REFERENCES jobs(id) ON DELETE SET NULL,
    reason      TEXT NOT NULL
);
CREATE INDEX host_events_by_host ON host_events(host_id, at);

-- API tokens: only a hash is stored, so a leaked database leaks no token.
CREATE TABLE api_tokens (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    token_sha256 TEXT NOT NULL UNIQUE,
    created_at  REAL NOT NULL,
    revoked_at  REAL
);
