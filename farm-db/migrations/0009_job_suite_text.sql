-- 0009_job_suite_text.sql: a job runs the suite it was submitted with.
--
-- A submission stores each job's suite file text and its SHA-256 (hex);
-- the executor, the build and the boot script parse that text, never the
-- file again, so editing or removing a suite file changes no flight that
-- is already queued.  Jobs from before this migration have NULL and are
-- still read from the file.
ALTER TABLE jobs ADD COLUMN suite_text TEXT;
ALTER TABLE jobs ADD COLUMN suite_sha256 TEXT
    CHECK (suite_sha256 IS NULL OR length(suite_sha256) = 64);
