-- 0010_retest_and_name_indexes.sql: the automation's reads stay indexed.
--
-- A flight's verdict asks, for each failed step, whether the job's retest
-- passed it (jobs.retest_of); a flight's page asks each step's flake rate
-- over the latest runs of jobs of the same name.  Without these indexes
-- both read every job ever run: a year of results (bench/api.sh) took 30 s
-- for one flight page.
CREATE INDEX jobs_by_retest ON jobs(retest_of) WHERE retest_of IS NOT NULL;
CREATE INDEX jobs_by_name ON jobs(name, id);
