-- 0004_job_hosts_ssh_port.sql: where a job's host forwards dom0's SSH.
--
-- A suite with a dom0 reaches it through QEMU's user network: a loopback
-- port of the daemon's machine forwarded to dom0's port 22, picked per
-- host and attempt.  Recorded so an operator (and the API) can reach the
-- dom0 of a running job; NULL for suites without dom0.
ALTER TABLE job_hosts ADD COLUMN ssh_port INTEGER;
