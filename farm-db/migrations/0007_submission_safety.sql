-- 0007_submission_safety.sql: retrying a submission, and who may cancel.
--
-- A client whose submission's answer was lost must be able to send it again
-- without queueing the flight twice: it names the attempt with an
-- Idempotency-Key header, kept per token (the submitter) with the SHA-256 of
-- the request body, so the same key and body give back the same flight and
-- the same key with another body is refused.  The partial unique index makes
-- two concurrent retries of one key land on one flight.
--
-- Only the submitter's token or an admin token may cancel a flight; admin
-- is granted on the local database (`xenrt token create NAME --admin`).
ALTER TABLE flights ADD COLUMN idempotency_key TEXT;
ALTER TABLE flights ADD COLUMN idempotency_sha256 TEXT;
CREATE UNIQUE INDEX flights_idempotency ON flights(submitter, idempotency_key)
    WHERE idempotency_key IS NOT NULL;
-- The per-token limit on queued flights counts them by submitter.
CREATE INDEX flights_by_submitter_status ON flights(submitter, status);
ALTER TABLE api_tokens ADD COLUMN admin INTEGER NOT NULL DEFAULT 0;
