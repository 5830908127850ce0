-- 0006_steps_red_index.sql: the failed and broken steps of a job, directly.
--
-- Every flights list now carries each flight's verdict, which only failed
-- and broken steps can change (xenrt/src/verdict.c).  Without this index a
-- page of 50 flights read all of their steps (5,000 in the benchmark's
-- year) to find the hundred red ones; with it, only those.  Partial, so the
-- green majority costs nothing to index.
CREATE INDEX steps_red ON steps(job_id) WHERE status IN ('fail', 'broken');
