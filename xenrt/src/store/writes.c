/* writes.c: the write model of flights, jobs, runvars, steps and metrics
 * (see writes.h). */
#include "writes.h"

#include <stdio.h>
#include <string.h>

#include "db.h"

static void log_err(const char *what, const char *err)
{
	fprintf(stderr, "xenrt writes: %s: %s\n", what, err);
}

/* Runs one statement with ?1 = a, ?2 = b, ?3 = text and ?4 = now (each only
 * if the statement uses it); failures are logged and returned. */
static int exec_sql(sqlite3 *db, const char *sql, long long a, long long b, const char *text)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		log_err(sql, sqlite3_errmsg(db));
		return -1;
	}
	/* Statements use the parameters they need; ?4 is always "now". */
	int n = sqlite3_bind_parameter_count(st);
	if (n >= 1)
		sqlite3_bind_int64(st, 1, a);
	if (n >= 2)
		sqlite3_bind_int64(st, 2, b);
	if (n >= 3 && text)
		sqlite3_bind_text(st, 3, text, -1, SQLITE_TRANSIENT);
	if (n >= 4)
		sqlite3_bind_double(st, 4, db_now());
	rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
	if (rc)
		log_err(sql, sqlite3_errmsg(db));
	sqlite3_finalize(st);
	return rc;
}

/* Runs a prepared insert or update to its end; 0 or -1 (logged). */
static int done(sqlite3 *db, sqlite3_stmt *st, const char *what)
{
	int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
	if (rc)
		log_err(what, sqlite3_errmsg(db));
	sqlite3_finalize(st);
	return rc;
}

static sqlite3_stmt *prep(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		log_err(sql, sqlite3_errmsg(db));
		return NULL;
	}
	return st;
}

static void bind_text_or_null(sqlite3_stmt *st, int i, const char *s)
{
	if (s)
		sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(st, i);
}

static void bind_id_or_null(sqlite3_stmt *st, int i, int64_t id)
{
	if (id)
		sqlite3_bind_int64(st, i, id);
	else
		sqlite3_bind_null(st, i);
}

int writes_flight(sqlite3 *db, const struct flight_insert *f, int64_t *id)
{
	sqlite3_stmt *st = prep(db, "INSERT INTO flights(kind, repo, ref, patch, baseline_id, "
				    "submitter, created_at, idempotency_key, idempotency_sha256, "
				    "schedule_id, bisection_id) "
				    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)");
	if (!st)
		return -1;
	sqlite3_bind_text(st, 1, f->kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, f->repo, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, f->ref, -1, SQLITE_STATIC);
	bind_text_or_null(st, 4, f->patch);
	bind_id_or_null(st, 5, f->baseline);
	sqlite3_bind_text(st, 6, f->submitter, -1, SQLITE_STATIC);
	sqlite3_bind_double(st, 7, db_now());
	bind_text_or_null(st, 8, f->idempotency_key);
	bind_text_or_null(st, 9, f->idempotency_key ? f->idempotency_sha256 : NULL);
	bind_id_or_null(st, 10, f->schedule_id);
	bind_id_or_null(st, 11, f->bisection_id);
	if (done(db, st, "storing the flight"))
		return -1;
	*id = sqlite3_last_insert_rowid(db);
	return 0;
}

int writes_flight_revision(sqlite3 *db, int64_t flight, const char *revision)
{
	sqlite3_stmt *st = prep(db, "UPDATE flights SET revision = ?2 WHERE id = ?1");
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, flight);
	sqlite3_bind_text(st, 2, revision, -1, SQLITE_STATIC);
	return done(db, st, "recording the revision");
}

int writes_flight_cancel(sqlite3 *db, int64_t flight)
{
	sqlite3_stmt *st = prep(db, "UPDATE flights SET cancel_requested = 1 WHERE id = ?1 "
				    "AND status IN ('queued', 'running')");
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, flight);
	if (done(db, st, "cancelling the flight"))
		return -1;
	return sqlite3_changes(db) > 0;
}

int writes_probes_cancel(sqlite3 *db, int64_t bisection)
{
	return exec_sql(db,
			"UPDATE flights SET cancel_requested = 1 WHERE bisection_id = ?1 "
			"AND status IN ('queued', 'running')",
			bisection, 0, NULL);
}

int writes_flight_steward_done(sqlite3 *db, int64_t flight)
{
	return exec_sql(db, "UPDATE flights SET steward_done = 1 WHERE id = ?1", flight, 0, NULL);
}

int writes_job(sqlite3 *db, int64_t flight, const char *name, int64_t depends_on, int hosts,
	       const char *text, const char *sha, int64_t *id)
{
	sqlite3_stmt *st = prep(db, "INSERT INTO jobs(flight_id, name, suite, depends_on, "
				    "hosts_needed, suite_text, suite_sha256) "
				    "VALUES (?1, ?2, ?2, ?3, ?4, ?5, ?6)");
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, flight);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
	bind_id_or_null(st, 3, depends_on);
	sqlite3_bind_int(st, 4, hosts);
	bind_text_or_null(st, 5, text);
	bind_text_or_null(st, 6, text ? sha : NULL);
	if (done(db, st, "storing a job"))
		return -1;
	*id = sqlite3_last_insert_rowid(db);
	return 0;
}

int writes_runvars(sqlite3 *db, int64_t job, json_t *runvars)
{
	const char *k;
	json_t *v;
	json_object_foreach(runvars, k, v)
	{
		sqlite3_stmt *st = prep(db, "INSERT INTO runvars(job_id, name, value) "
					    "VALUES (?1, ?2, ?3)");
		if (!st)
			return -1;
		sqlite3_bind_int64(st, 1, job);
		sqlite3_bind_text(st, 2, k, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, json_string_value(v), -1, SQLITE_STATIC);
		if (done(db, st, "storing a runvar"))
			return -1;
	}
	return 0;
}

int writes_job_claimed(sqlite3 *db, int64_t job, int64_t flight, const char *log_rel)
{
	return exec_sql(db,
			"UPDATE jobs SET status = 'running', started_at = ?4, finished_at = NULL,"
			" log_dir = ?3 WHERE id = ?1",
			job, 0, log_rel) ||
	       exec_sql(
		       db,
		       "UPDATE flights SET status = 'running', started_at = coalesce(started_at, ?4)"
		       " WHERE id = ?1 AND status = 'queued'",
		       flight, 0, NULL);
}

int writes_job_ended(sqlite3 *db, int64_t job, const char *status)
{
	if (strcmp(status, "broken") == 0)
		return exec_sql(
			db,
			"UPDATE jobs SET status = CASE WHEN attempt < max_attempts THEN 'queued' ELSE 'broken' END,"
			" finished_at = CASE WHEN attempt < max_attempts THEN NULL ELSE ?4 END,"
			" attempt = CASE WHEN attempt < max_attempts THEN attempt + 1 ELSE attempt END"
			" WHERE id = ?1",
			job, 0, NULL);
	return exec_sql(db, "UPDATE jobs SET status = ?3, finished_at = ?4 WHERE id = ?1", job, 0,
			status);
}

int writes_job_impossible(sqlite3 *db, int64_t job, int attempt, const char *why)
{
	return exec_sql(
		       db,
		       "INSERT INTO steps (job_id, seq, name, status, started_at, finished_at, message, attempt)"
		       " VALUES (?1, (SELECT coalesce(max(seq), 0) + 1 FROM steps WHERE job_id = ?1),"
		       " 'hosts-allocate', 'broken', ?4, ?4, ?3, ?2)",
		       job, attempt, why) ||
	       exec_sql(db, "UPDATE jobs SET status = 'broken', finished_at = ?4 WHERE id = ?1",
			job, 0, NULL);
}

/* The retest runs on another host if the pool has one (jobs.avoid_host): a
 * step that passes there is flaky, not a regression (verdict.c).  Part of
 * the transaction ending the failed attempt, so the flight is not decided
 * before its retest ran. */
int writes_job_retest(sqlite3 *db, int64_t job_id)
{
	if (exec_sql(
		    db,
		    "INSERT INTO jobs (flight_id, name, suite, depends_on, hosts_needed,"
		    " suite_text, suite_sha256, retest_of, avoid_host)"
		    " SELECT j.flight_id, j.name || '~retest', j.suite, j.depends_on, j.hosts_needed,"
		    " j.suite_text, j.suite_sha256, j.id, (SELECT jh.host_id FROM job_hosts jh WHERE jh.job_id = j.id"
		    "        AND jh.attempt = j.attempt ORDER BY jh.host_id LIMIT 1)"
		    " FROM jobs j JOIN flights f ON f.id = j.flight_id"
		    " WHERE j.id = ?1 AND f.kind = 'gate' AND f.cancel_requested = 0"
		    " AND j.retest_of IS NULL AND j.suite != 'build' AND j.hosts_needed > 0",
		    job_id, 0, NULL))
		return -1;
	if (sqlite3_changes(db) == 0)
		return 0;
	return exec_sql(db,
			"INSERT INTO runvars (job_id, name, value)"
			" SELECT (SELECT id FROM jobs WHERE retest_of = ?1), name, value"
			" FROM runvars WHERE job_id = ?1",
			job_id, 0, NULL);
}

int writes_recover(sqlite3 *db)
{
	return exec_sql(db,
			"UPDATE steps SET status = 'broken', finished_at = ?4,"
			" message = 'the daemon died during this step' WHERE status = 'running'",
			0, 0, NULL) ||
	       exec_sql(
		       db,
		       "UPDATE jobs SET status = CASE WHEN attempt < max_attempts THEN 'queued' ELSE 'broken' END,"
		       " finished_at = CASE WHEN attempt < max_attempts THEN NULL ELSE ?4 END,"
		       " attempt = CASE WHEN attempt < max_attempts THEN attempt + 1 ELSE attempt END"
		       " WHERE status = 'running'",
		       0, 0, NULL);
}

/* Queued jobs of cancelled flights are cancelled; queued jobs whose
 * dependency ended badly are blocked, with a step saying why. */
static int settle_queue(sqlite3 *db)
{
	sqlite3_stmt *st;
	long long ids[64], deps[64];
	char dep_status[64][16];
	int n = 0, rc = 0;

	if (exec_sql(
		    db,
		    "UPDATE jobs SET status = 'cancelled', finished_at = ?4 WHERE status = 'queued'"
		    " AND flight_id IN (SELECT id FROM flights WHERE cancel_requested = 1)"
		    "",
		    0, 0, NULL))
		return -1;
	if (sqlite3_prepare_v2(
		    db,
		    "SELECT j.id, d.id, d.status FROM jobs j JOIN jobs d ON d.id = j.depends_on"
		    " WHERE j.status = 'queued' AND d.status IN ('fail', 'broken', 'blocked', 'cancelled')"
		    " LIMIT 64",
		    -1, &st, NULL) != SQLITE_OK)
		return -1;
	while (sqlite3_step(st) == SQLITE_ROW) {
		ids[n] = sqlite3_column_int64(st, 0);
		deps[n] = sqlite3_column_int64(st, 1);
		snprintf(dep_status[n], 16, "%s", (const char *)sqlite3_column_text(st, 2));
		n++;
	}
	sqlite3_finalize(st);
	for (int i = 0; i < n && rc == 0; i++) {
		char msg[128];
		snprintf(msg, sizeof(msg), "job %lld, which this job depends on, ended %.15s",
			 deps[i], dep_status[i]);
		rc = exec_sql(
			db,
			"INSERT INTO steps (job_id, seq, name, status, started_at, finished_at, message)"
			" VALUES (?1, (SELECT coalesce(max(seq), 0) + 1 FROM steps WHERE job_id = ?1),"
			" 'blocked', 'blocked', ?4, ?4, ?3)",
			ids[i], 0, msg);
		if (rc == 0)
			rc = exec_sql(
				db,
				"UPDATE jobs SET status = 'blocked', finished_at = ?4 WHERE id = ?1"
				"",
				ids[i], 0, NULL);
	}
	return rc;
}

/* Decides every flight with no queued or running job left. */
static int settle_flights(sqlite3 *db)
{
	return exec_sql(
		db,
		"UPDATE flights SET finished_at = ?4, status = CASE"
		"  WHEN cancel_requested = 1 THEN 'cancelled'"
		"  WHEN EXISTS (SELECT 1 FROM jobs j WHERE j.flight_id = flights.id AND j.status = 'fail') THEN 'fail'"
		"  WHEN EXISTS (SELECT 1 FROM jobs j WHERE j.flight_id = flights.id AND j.status = 'broken') THEN 'broken'"
		"  WHEN EXISTS (SELECT 1 FROM jobs j WHERE j.flight_id = flights.id AND j.status != 'pass') THEN 'cancelled'"
		"  ELSE 'pass' END"
		" WHERE status IN ('queued', 'running')"
		" AND EXISTS (SELECT 1 FROM jobs j WHERE j.flight_id = flights.id)"
		" AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.flight_id = flights.id"
		"                 AND j.status IN ('queued', 'running'))",
		0, 0, NULL);
}

int writes_settle(sqlite3 *db)
{
	return settle_queue(db) || settle_flights(db);
}

int64_t writes_step(sqlite3 *db, int64_t job, int attempt, int seq, const char *name,
		    const char *status, const char *message, const char *log, int finished)
{
	sqlite3_stmt *st = prep(db, "INSERT INTO steps (job_id, seq, name, status, started_at, "
				    "finished_at, log, message, attempt) "
				    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)");
	double now = db_now();
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, job);
	sqlite3_bind_int(st, 2, seq);
	sqlite3_bind_text(st, 3, name, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 4, status, -1, SQLITE_STATIC);
	sqlite3_bind_double(st, 5, now);
	if (finished)
		sqlite3_bind_double(st, 6, now);
	else
		sqlite3_bind_null(st, 6);
	bind_text_or_null(st, 7, log);
	bind_text_or_null(st, 8, message);
	sqlite3_bind_int(st, 9, attempt);
	if (done(db, st, "recording a step"))
		return -1;
	return sqlite3_last_insert_rowid(db);
}

int writes_step_end(sqlite3 *db, int64_t step, const char *status, const char *message)
{
	sqlite3_stmt *st = prep(
		db, "UPDATE steps SET status = ?2, finished_at = ?3, message = ?4 WHERE id = ?1");
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, step);
	sqlite3_bind_text(st, 2, status, -1, SQLITE_STATIC);
	sqlite3_bind_double(st, 3, db_now());
	bind_text_or_null(st, 4, message);
	return done(db, st, "ending a step");
}

int writes_metric(sqlite3 *db, int64_t step, const char *name, double value, const char *unit)
{
	sqlite3_stmt *st = prep(
		db, "INSERT INTO metrics (step_id, name, value, unit) VALUES (?1, ?2, ?3, ?4)");
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, step);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_TRANSIENT);
	sqlite3_bind_double(st, 3, value);
	sqlite3_bind_text(st, 4, unit, -1, SQLITE_TRANSIENT);
	return done(db, st, "recording a metric");
}
