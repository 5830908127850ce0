/* hostpool.c: host states, all-or-nothing reservation, quarantine and
 * health checks (see hostpool.h). */
#include "hostpool.h"

#include <stdio.h>
#include <string.h>

#include "db.h"
#include "writes.h"

static int sqlerr(sqlite3 *db, const char *what, char *err, size_t errlen)
{
	snprintf(err, errlen, "%s: %s", what, sqlite3_errmsg(db));
	return -1;
}

int hostpool_set_state(sqlite3 *db, long long host_id, const char *state, long long job_id,
		       long long reserved_by, const char *reason, char *err, size_t errlen)
{
	if (writes_host_state(db, host_id, state, job_id, reserved_by, reason))
		return sqlerr(db, "host state", err, errlen);
	return 0;
}

static void fill(sqlite3_stmt *st, struct pool_host *h)
{
	h->id = sqlite3_column_int64(st, 0);
	snprintf(h->name, sizeof(h->name), "%s", (const char *)sqlite3_column_text(st, 1));
	snprintf(h->cpu_model, sizeof(h->cpu_model), "%s",
		 (const char *)sqlite3_column_text(st, 2));
	h->vcpus = sqlite3_column_int(st, 3);
	h->memory_mib = sqlite3_column_int(st, 4);
}

int hostpool_reserve_locked(sqlite3 *db, long long job_id, int attempt, int n,
			    struct pool_host *hosts, char *err, size_t errlen)
{
	sqlite3_stmt *st;
	int got = 0, rc;

	if (n < 1 || n > HOSTPOOL_MAX_HOSTS) {
		snprintf(err, errlen, "a job needs 1..%d hosts, not %d", HOSTPOOL_MAX_HOSTS, n);
		return -1;
	}
	rc = sqlite3_prepare_v2(
		db,
		"SELECT id, name, cpu_model, vcpus, memory_mib FROM hosts"
		" WHERE state = 'idle' AND needs_health_check = 0 AND reserved_by IS NULL"
		" AND driver IN " HOSTPOOL_DRIVERS
		/* A retest runs on another host than the failure, unless the pool
         * has no other. */
		" AND (id IS NOT (SELECT avoid_host FROM jobs WHERE id = ?2)"
		"      OR (SELECT count(*) FROM hosts WHERE state != 'offline'"
		"          AND driver IN " HOSTPOOL_DRIVERS ") < 2)"
		" ORDER BY name LIMIT ?1",
		-1, &st, NULL);
	if (rc != SQLITE_OK)
		return sqlerr(db, "host query", err, errlen);
	sqlite3_bind_int(st, 1, n);
	sqlite3_bind_int64(st, 2, job_id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		fill(st, &hosts[got++]);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return sqlerr(db, "host query", err, errlen);
	if (got < n)
		return 1;
	for (int i = 0; i < n; i++) {
		char role[16];

		if (hostpool_set_state(db, hosts[i].id, "reserved", job_id, job_id,
				       "reserved for job", err, errlen))
			return -1;
		rc = sqlite3_prepare_v2(
			db,
			"INSERT OR REPLACE INTO job_hosts (job_id, attempt, host_id, role) VALUES (?1, ?2, ?3, ?4)",
			-1, &st, NULL);
		if (rc != SQLITE_OK)
			return sqlerr(db, "job_hosts", err, errlen);
		snprintf(role, sizeof(role), "host%d", i);
		sqlite3_bind_int64(st, 1, job_id);
		sqlite3_bind_int(st, 2, attempt);
		sqlite3_bind_int64(st, 3, hosts[i].id);
		sqlite3_bind_text(st, 4, role, -1, SQLITE_TRANSIENT);
		rc = sqlite3_step(st);
		sqlite3_finalize(st);
		if (rc != SQLITE_DONE)
			return sqlerr(db, "job_hosts", err, errlen);
	}
	return 0;
}

static int in_transaction(sqlite3 *db, int rc, char *err, size_t errlen)
{
	char e2[128];

	if (rc < 0 || rc == 1) {
		db_exec(db, "ROLLBACK", e2, sizeof(e2));
		return rc;
	}
	if (db_exec(db, "COMMIT", err, errlen) != SQLITE_OK) {
		db_exec(db, "ROLLBACK", e2, sizeof(e2));
		return -1;
	}
	return rc;
}

int hostpool_reserve(sqlite3 *db, long long job_id, int attempt, int n, struct pool_host *hosts,
		     char *err, size_t errlen)
{
	if (db_exec(db, "BEGIN IMMEDIATE", err, errlen) != SQLITE_OK)
		return -1;
	return in_transaction(db,
			      hostpool_reserve_locked(db, job_id, attempt, n, hosts, err, errlen),
			      err, errlen);
}

/* Applies `state` to every host matching the prepared query's rows. */
static int each_host(sqlite3 *db, sqlite3_stmt *st, const char *state, long long job_id,
		     int quarantine, const char *reason, char *err, size_t errlen)
{
	long long ids[64];
	int n = 0, rc;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW && n < 64)
		ids[n++] = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		return sqlerr(db, "host query", err, errlen);
	for (int i = 0; i < n; i++) {
		if (hostpool_set_state(db, ids[i], state, job_id, 0, reason, err, errlen))
			return -1;
		if (quarantine && writes_host_needs_check(db, ids[i], 1))
			return sqlerr(db, "quarantine", err, errlen);
	}
	return n;
}

int hostpool_release(sqlite3 *db, long long job_id, int broken, const char *reason, char *err,
		     size_t errlen)
{
	sqlite3_stmt *st;
	int rc;

	if (db_exec(db, "BEGIN IMMEDIATE", err, errlen) != SQLITE_OK)
		return -1;
	rc = sqlite3_prepare_v2(db, "SELECT id FROM hosts WHERE reserved_by = ?1", -1, &st, NULL);
	if (rc != SQLITE_OK) {
		sqlerr(db, "host query", err, errlen);
		return in_transaction(db, -1, err, errlen);
	}
	sqlite3_bind_int64(st, 1, job_id);
	rc = each_host(db, st, broken ? "broken" : "idle", job_id, broken, reason, err, errlen);
	return in_transaction(db, rc < 0 ? -1 : 0, err, errlen);
}

int hostpool_reset_stale(sqlite3 *db, char *err, size_t errlen)
{
	sqlite3_stmt *st;
	int rc, n;

	if (db_exec(db, "BEGIN IMMEDIATE", err, errlen) != SQLITE_OK)
		return -1;
	/* A host interrupted in a health check is still quarantined. */
	rc = sqlite3_prepare_v2(
		db,
		"SELECT id FROM hosts WHERE state IN ('reserved', 'provisioning', 'running')"
		" AND needs_health_check = 1",
		-1, &st, NULL);
	if (rc != SQLITE_OK) {
		sqlerr(db, "host query", err, errlen);
		return in_transaction(db, -1, err, errlen);
	}
	n = each_host(db, st, "broken", 0, 1, "reset by crash recovery (still quarantined)", err,
		      errlen);
	if (n >= 0) {
		rc = sqlite3_prepare_v2(
			db,
			"SELECT id FROM hosts WHERE state IN ('reserved', 'provisioning', 'running')",
			-1, &st, NULL);
		if (rc != SQLITE_OK) {
			sqlerr(db, "host query", err, errlen);
			return in_transaction(db, -1, err, errlen);
		}
		rc = each_host(db, st, "idle", 0, 0, "reset by crash recovery", err, errlen);
		n = rc < 0 ? -1 : n + rc;
	}
	if (in_transaction(db, n < 0 ? -1 : 0, err, errlen) < 0)
		return -1;
	return n;
}

/* Names log_dir on the event hostpool_set_state just wrote (this
 * connection's last insert, inside the caller's transaction). */
static int event_log_dir(sqlite3 *db, const char *log_dir, char *err, size_t errlen)
{
	if (writes_host_event_log_dir(db, sqlite3_last_insert_rowid(db), log_dir))
		return sqlerr(db, "host event", err, errlen);
	return 0;
}

int hostpool_begin_health_check(sqlite3 *db, double not_before, struct pool_host *h, char *log_dir,
				size_t log_dir_len, char *err, size_t errlen)
{
	sqlite3_stmt *st;
	int rc;

	if (db_exec(db, "BEGIN IMMEDIATE", err, errlen) != SQLITE_OK)
		return -1;
	rc = sqlite3_prepare_v2(
		db,
		"SELECT id, name, cpu_model, vcpus, memory_mib FROM hosts"
		" WHERE needs_health_check = 1 AND state IN ('broken', 'idle') AND reserved_by IS NULL"
		" AND driver IN " HOSTPOOL_DRIVERS
		" AND (updated_at <= ?1 OR coalesce((SELECT e.reason FROM host_events e"
		"      WHERE e.host_id = hosts.id ORDER BY e.id DESC LIMIT 1), '') NOT LIKE 'health check failed%')"
		" ORDER BY updated_at LIMIT 1",
		-1, &st, NULL);
	if (rc != SQLITE_OK) {
		sqlerr(db, "host query", err, errlen);
		return in_transaction(db, -1, err, errlen);
	}
	sqlite3_bind_double(st, 1, not_before);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		fill(st, h);
		rc = 0;
	} else {
		rc = rc == SQLITE_DONE ? 1 : sqlerr(db, "host query", err, errlen);
	}
	sqlite3_finalize(st);
	if (rc == 0)
		rc = hostpool_set_state(db, h->id, "provisioning", 0, 0, "health check", err,
					errlen);
	if (rc == 0) {
		/* The event id makes the name unique however often the host is checked. */
		snprintf(log_dir, log_dir_len, "health/%s-%lld", h->name,
			 (long long)sqlite3_last_insert_rowid(db));
		rc = event_log_dir(db, log_dir, err, errlen);
	}
	return in_transaction(db, rc, err, errlen);
}

int hostpool_end_health_check(sqlite3 *db, long long host_id, const char *log_dir, int pass,
			      int give_up, const char *reason, char *err, size_t errlen)
{
	int rc;

	if (db_exec(db, "BEGIN IMMEDIATE", err, errlen) != SQLITE_OK)
		return -1;
	rc = hostpool_set_state(db, host_id,
				pass      ? "idle"
				: give_up ? "offline"
					  : "broken",
				0, 0, reason, err, errlen);
	if (rc == 0)
		rc = event_log_dir(db, log_dir, err, errlen);
	if (rc == 0 && pass && writes_host_needs_check(db, host_id, 0))
		rc = sqlerr(db, "health check", err, errlen);
	return in_transaction(db, rc, err, errlen);
}

int hostpool_health_failures(sqlite3 *db, long long host_id)
{
	sqlite3_stmt *st;
	int n = -1;

	if (sqlite3_prepare_v2(
		    db,
		    "SELECT count(*) FROM host_events WHERE host_id = ?1 AND reason LIKE 'health check failed%'"
		    " AND id > coalesce((SELECT max(id) FROM host_events WHERE host_id = ?1"
		    " AND (reason LIKE 'health check passed%' OR new_state = 'running')), 0)",
		    -1, &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_int64(st, 1, host_id);
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return n;
}
