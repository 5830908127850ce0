-- 0002_steps_attempt.sql: which attempt of its job a step belongs to.
--
-- A broken job is retried with its earlier steps kept (they are history,
-- and a restarted daemon must never lose a committed step), so a step's log
-- lives in log_dir/<flight>/<job>/<attempt>/ of ITS attempt, not the job's
-- current one.  Existing rows were all written by first attempts.
ALTER TABLE steps ADD COLUMN attempt INTEGER NOT NULL DEFAULT 1;
