/* api_model.c: read queries behind the API and the status pages.  Flights
 * get their verdict from verdict.c, the one place it is computed. */
#include <dirent.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "api.h"
#include "api_model.h"
#include "json_util.h"
#include "verdict.h"

static sqlite3_stmt *prep(sqlite3 *db, const char *sql, char *err, size_t errlen)
{
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "query failed: %s", sqlite3_errmsg(db));
		return NULL;
	}
	return st;
}

/* The end of a stepping loop: 0 when it ran to SQLITE_DONE, else 500 with
 * SQLite's message. */
static int query_end(sqlite3 *db, int rc, char *err, size_t errlen)
{
	if (rc == SQLITE_DONE)
		return 0;
	snprintf(err, errlen, "query failed: %s", sqlite3_errmsg(db));
	return 500;
}

/* Steps a statement to the end, appending every row (as an object) to arr.
 * Returns 0 or 500. */
static int rows_into(sqlite3 *db, sqlite3_stmt *st, json_t *arr, char *err, size_t errlen)
{
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		if (json_array_append_new(arr, json_row(st)) < 0)
			break;
	return query_end(db, rc, err, errlen);
}

/* Runs `sql` with ?1 bound to id and appends every row to arr.  Returns 0
 * or 500. */
static int rows_by_id(sqlite3 *db, const char *sql, int64_t id, json_t *arr, char *err,
		      size_t errlen)
{
	sqlite3_stmt *st = prep(db, sql, err, errlen);
	if (!st)
		return 500;
	sqlite3_bind_int64(st, 1, id);
	int rc = rows_into(db, st, arr, err, errlen);
	sqlite3_finalize(st);
	return rc;
}

/* Looks up the object in `arr` whose integer field `key` equals id; arrays are
 * a page at most, and rows arrive grouped, so callers pass the last hit as a
 * hint and the scan is usually one comparison. */
static json_t *find_by(json_t *arr, const char *key, json_int_t id, size_t *hint)
{
	size_t n = json_array_size(arr);
	for (size_t k = 0; k < n; k++) {
		size_t i = (*hint + k) % n;
		json_t *o = json_array_get(arr, i);
		if (json_integer_value(json_object_get(o, key)) == id) {
			*hint = i;
			return o;
		}
	}
	return NULL;
}

static json_t *next_before(json_t *arr, int64_t limit)
{
	size_t n = json_array_size(arr);
	if (n == 0 || (int64_t)n < limit)
		return json_null();
	return json_incref(json_object_get(json_array_get(arr, n - 1), "id"));
}

int model_kind_valid(const char *kind)
{
	return !strcmp(kind, "patch") || !strcmp(kind, "branch") || !strcmp(kind, "nightly") ||
	       !strcmp(kind, "gate");
}

int model_flights(sqlite3 *db, const char *kind, int64_t before, int64_t limit, json_t **out,
		  char *err, size_t errlen)
{
	json_t *flights = json_array();
	/* Newest first along the primary key; a kind filter skips the other
	 * kinds on the way, which stays cheap because every kind is common. */
	sqlite3_stmt *st = prep(
		db,
		"SELECT id, kind, repo, ref, revision, baseline_id, submitter, created_at, "
		"started_at, finished_at, status, cancel_requested, patch IS NOT NULL AS has_patch "
		"FROM flights WHERE id < ?1 AND (?3 IS NULL OR kind = ?3) ORDER BY id DESC LIMIT ?2",
		err, errlen);
	int rc = st ? 0 : 500;
	if (st) {
		sqlite3_bind_int64(st, 1, before);
		sqlite3_bind_int64(st, 2, limit);
		if (kind)
			sqlite3_bind_text(st, 3, kind, -1, SQLITE_STATIC);
		rc = rows_into(db, st, flights, err, errlen);
		sqlite3_finalize(st);
	}
	size_t n = json_array_size(flights);
	for (size_t i = 0; i < n; i++)
		json_object_set_new(json_array_get(flights, i), "jobs", json_object());
	if (rc == 0 && n > 0) {
		/* One aggregate for the whole page: job counts per flight and status,
		 * for exactly the page's flights (their ids as one JSON parameter). */
		char *idlist = json_ids(flights);
		st = idlist ? prep(db,
				   "SELECT flight_id, status, count(*) FROM jobs WHERE flight_id IN "
				   "(SELECT value FROM json_each(?1)) GROUP BY flight_id, status",
				   err, errlen)
			    : NULL;
		rc = st ? 0 : 500;
		if (st) {
			sqlite3_bind_text(st, 1, idlist, -1, SQLITE_STATIC);
			size_t hint = 0;
			while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
				json_t *f =
					find_by(flights, "id", sqlite3_column_int64(st, 0), &hint);
				if (f)
					json_object_set_new(
						json_object_get(f, "jobs"),
						(const char *)sqlite3_column_text(st, 1),
						json_integer(sqlite3_column_int64(st, 2)));
			}
			rc = query_end(db, rc, err, errlen);
			sqlite3_finalize(st);
		}
		if (!idlist)
			snprintf(err, errlen, "out of memory");
		free(idlist);
	}
	if (rc == 0)
		rc = verdict_attach(db, flights, err, errlen);
	if (rc) {
		json_decref(flights);
		return rc;
	}
	*out = json_pack("{s:o, s:o}", "flights", flights, "next_before",
			 next_before(flights, limit));
	return 0;
}

/* Fetches one row by id as an object; 404 when absent. */
static int one_row(sqlite3 *db, const char *sql, int64_t id, json_t **out, char *err, size_t errlen)
{
	sqlite3_stmt *st = prep(db, sql, err, errlen);
	if (!st)
		return 500;
	sqlite3_bind_int64(st, 1, id);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*out = json_row(st);
		rc = 0;
	} else if (rc == SQLITE_DONE) {
		snprintf(err, errlen, "no such object: %" PRId64, id);
		rc = 404;
	} else {
		snprintf(err, errlen, "query failed: %s", sqlite3_errmsg(db));
		rc = 500;
	}
	sqlite3_finalize(st);
	return rc;
}

static void set_log_url(json_t *step, json_int_t job_id, json_int_t attempt)
{
	const char *log = json_string_value(json_object_get(step, "log"));
	if (!log) {
		json_object_set_new(step, "log_url", json_null());
		return;
	}
	char url[512];
	snprintf(url, sizeof url, "/logs/%" JSON_INTEGER_FORMAT "/%" JSON_INTEGER_FORMAT "/%s",
		 job_id, attempt, log);
	json_object_set_new(step, "log_url", json_text(url, strlen(url)));
}

/* Runs `sql` with ?1 bound to id; its first column is the id of an object
 * in `owners`, and add() attaches the row to that object (rows of unknown
 * owners are skipped).  One query for all the owners. */
static int attach_rows(sqlite3 *db, const char *sql, int64_t id, json_t *owners,
		       void (*add)(json_t *owner, sqlite3_stmt *st), char *err, size_t errlen)
{
	sqlite3_stmt *st = prep(db, sql, err, errlen);
	if (!st)
		return 500;
	sqlite3_bind_int64(st, 1, id);
	int rc;
	size_t hint = 0;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		json_t *owner = find_by(owners, "id", sqlite3_column_int64(st, 0), &hint);
		if (owner)
			add(owner, st);
	}
	sqlite3_finalize(st);
	return query_end(db, rc, err, errlen);
}

/* Row: job_id, then the step's columns (attempt third). */
static void add_step(json_t *job, sqlite3_stmt *st)
{
	json_t *step = json_row(st);
	json_object_del(step, "job_id");
	set_log_url(step, sqlite3_column_int64(st, 0), sqlite3_column_int64(st, 2));
	json_array_append_new(json_object_get(job, "steps"), step);
}

/* Row: job_id, name, value. */
static void add_runvar(json_t *job, sqlite3_stmt *st)
{
	json_object_set_new(json_object_get(job, "runvars"),
			    (const char *)sqlite3_column_text(st, 1), json_column(st, 2));
}

/* Row: step_id, then the metric's columns. */
static void add_metric(json_t *step, sqlite3_stmt *st)
{
	json_t *m = json_row(st);
	json_object_del(m, "step_id");
	json_array_append_new(json_object_get(step, "metrics"), m);
}

/* Every job of the flight gets "flake_rates" {step: {runs, flaky}}: over
 * the latest MODEL_FLAKE_RUNS jobs of the same name (retests aside), how
 * often the step ran and how often it failed and then passed in the
 * automatic retest.  Bounded, and indexed (migration 0010), so a year of
 * results costs what those runs cost. */
static int flake_rates(sqlite3 *db, int64_t flight, json_t *jobs, char *err, size_t errlen)
{
	size_t i;
	json_t *job;
	json_array_foreach(jobs, i, job) json_object_set_new(job, "flake_rates", json_object());
	sqlite3_stmt *st = prep(
		db,
		"WITH recent AS (SELECT id, name, attempt FROM (SELECT id, name, attempt, "
		" row_number() OVER (PARTITION BY name ORDER BY id DESC) AS n FROM jobs "
		" WHERE retest_of IS NULL AND name IN (SELECT name FROM jobs WHERE flight_id = ?1 "
		" AND suite != 'build' AND retest_of IS NULL)) WHERE n <= " MODEL_FLAKE_RUNS_SQL
		") "
		"SELECT j.name, s.name, count(*), sum(CASE WHEN s.status = 'fail' THEN EXISTS ("
		" SELECT 1 FROM jobs r JOIN steps rs ON rs.job_id = r.id WHERE r.retest_of = j.id "
		" AND rs.attempt = r.attempt AND rs.name = s.name AND rs.status = 'pass') ELSE 0 END) "
		"FROM recent j JOIN steps s ON s.job_id = j.id AND s.attempt = j.attempt "
		"GROUP BY j.name, s.name",
		err, errlen);
	if (!st)
		return 500;
	sqlite3_bind_int64(st, 1, flight);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(st, 0);
		json_array_foreach(jobs, i, job)
		{
			if (strcmp(json_string_value(json_object_get(job, "name")), name))
				continue;
			json_object_set_new(json_object_get(job, "flake_rates"),
					    (const char *)sqlite3_column_text(st, 1),
					    json_pack("{s:I, s:I}", "runs",
						      (json_int_t)sqlite3_column_int64(st, 2),
						      "flaky",
						      (json_int_t)sqlite3_column_int64(st, 3)));
		}
	}
	sqlite3_finalize(st);
	return query_end(db, rc, err, errlen);
}

int model_flight(sqlite3 *db, int64_t id, json_t **out, char *err, size_t errlen)
{
	json_t *flight = NULL;
	int rc = one_row(db, "SELECT * FROM flights WHERE id = ?1", id, &flight, err, errlen);
	if (rc == 404)
		snprintf(err, errlen, "no flight %" PRId64, id);
	if (rc)
		return rc;
	json_t *jobs = json_array();
	json_object_set_new(flight, "jobs", jobs);
	rc = rows_by_id(db,
			"SELECT id, name, suite, depends_on, hosts_needed, status, attempt, "
			"max_attempts, started_at, finished_at, log_dir, retest_of FROM jobs "
			"WHERE flight_id = ?1 ORDER BY id",
			id, jobs, err, errlen);
	size_t i;
	json_t *job;
	json_array_foreach(jobs, i, job)
	{
		json_object_set_new(job, "steps", json_array());
		json_object_set_new(job, "runvars", json_object());
	}
	if (rc == 0)
		rc = attach_rows(db,
				 "SELECT s.job_id, s.id, s.attempt, s.seq, s.name, s.status, "
				 "s.started_at, s.finished_at, s.log, s.message FROM steps s "
				 "JOIN jobs j ON s.job_id = j.id WHERE j.flight_id = ?1 "
				 "ORDER BY s.job_id, s.seq",
				 id, jobs, add_step, err, errlen);
	if (rc == 0)
		rc = attach_rows(db,
				 "SELECT r.job_id, r.name, r.value FROM runvars r "
				 "JOIN jobs j ON r.job_id = j.id WHERE j.flight_id = ?1",
				 id, jobs, add_runvar, err, errlen);
	json_t *arts = json_object();
	json_object_set_new(flight, "artifacts", arts);
	if (rc == 0) {
		sqlite3_stmt *st =
			prep(db, "SELECT role, sha256 FROM flight_artifacts WHERE flight_id = ?1",
			     err, errlen);
		rc = st ? 0 : 500;
		if (st) {
			sqlite3_bind_int64(st, 1, id);
			int s;
			while ((s = sqlite3_step(st)) == SQLITE_ROW)
				json_object_set_new(arts, (const char *)sqlite3_column_text(st, 0),
						    json_column(st, 1));
			rc = query_end(db, s, err, errlen);
			sqlite3_finalize(st);
		}
	}
	if (rc == 0) {
		json_t *pushes = json_array();
		json_object_set_new(flight, "tested_pushes", pushes);
		rc = rows_by_id(db,
				"SELECT ref, revision, ok, message, at FROM tested_pushes "
				"WHERE flight_id = ?1 ORDER BY id",
				id, pushes, err, errlen);
	}
	if (rc == 0)
		rc = flake_rates(db, id, jobs, err, errlen);
	if (rc == 0) {
		json_t *one = json_pack("[O]", flight);
		rc = verdict_attach(db, one, err, errlen);
		json_decref(one);
	}
	if (rc) {
		json_decref(flight);
		return rc;
	}
	*out = flight;
	return 0;
}

/* Appends {name, size, url} for every regular file in dir (read from the
 * disk: console logs are files the executor writes, not rows), sorted by
 * name; url is url_prefix + name.  A missing dir adds nothing. */
static void dir_logs(const char *dir, const char *url_prefix, json_t *logs)
{
	DIR *d = opendir(dir);
	if (!d)
		return;
	struct dirent *e;
	json_t *names = json_array();
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			json_array_append_new(names, json_text(e->d_name, strlen(e->d_name)));
	closedir(d);
	/* readdir order is arbitrary; a stable order reads better. */
	size_t n = json_array_size(names);
	for (size_t x = 1; x < n; x++)
		for (size_t y = x; y > 0 && strcmp(json_string_value(json_array_get(names, y - 1)),
						   json_string_value(json_array_get(names, y))) > 0;
		     y--) {
			json_t *t = json_incref(json_array_get(names, y));
			json_array_set(names, y, json_array_get(names, y - 1));
			json_array_set_new(names, y - 1, t);
		}
	size_t k;
	json_t *nm;
	json_array_foreach(names, k, nm)
	{
		char path[XENRT_PATH_MAX + 512], url[512];
		struct stat sb;
		snprintf(path, sizeof path, "%s/%s", dir, json_string_value(nm));
		if (lstat(path, &sb) != 0 || !S_ISREG(sb.st_mode))
			continue;
		snprintf(url, sizeof url, "%s%s", url_prefix, json_string_value(nm));
		json_array_append_new(logs, json_pack("{s:O, s:I, s:s}", "name", nm, "size",
						      (json_int_t)sb.st_size, "url", url));
	}
	json_decref(names);
}

/* Lists log files of every attempt of a job. */
static void job_logs(const struct xenrt_config *cfg, json_t *job)
{
	json_t *logs = json_array();
	json_object_set_new(job, "logs", logs);
	json_int_t id = json_integer_value(json_object_get(job, "id"));
	json_int_t flight = json_integer_value(json_object_get(job, "flight_id"));
	json_int_t attempts = json_integer_value(json_object_get(job, "attempt"));
	for (json_int_t a = 1; a <= attempts && a <= 100; a++) {
		char dir[XENRT_PATH_MAX + 96], prefix[128];
		snprintf(dir, sizeof dir,
			 "%s/%" JSON_INTEGER_FORMAT "/%" JSON_INTEGER_FORMAT
			 "/%" JSON_INTEGER_FORMAT,
			 cfg->log_dir, flight, id, a);
		snprintf(prefix, sizeof prefix,
			 "/logs/%" JSON_INTEGER_FORMAT "/%" JSON_INTEGER_FORMAT "/", id, a);
		size_t from = json_array_size(logs);
		dir_logs(dir, prefix, logs);
		for (size_t k = from; k < json_array_size(logs); k++)
			json_object_set_new(json_array_get(logs, k), "attempt", json_integer(a));
	}
}

/* A health check's events carry its log directory: list its files, served
 * by /logs/events/<event>/<file>.  Other events get an empty list. */
static void event_logs(const struct xenrt_config *cfg, json_t *event)
{
	json_t *logs = json_array();
	const char *rel = json_string_value(json_object_get(event, "log_dir"));
	/* The same check /logs/events/ applies: a damaged row names nothing. */
	if (rel && http_safe_rel_dir(rel)) {
		char dir[XENRT_PATH_MAX + 256], prefix[64];
		snprintf(dir, sizeof dir, "%s/%s", cfg->log_dir, rel);
		snprintf(prefix, sizeof prefix, "/logs/events/%" JSON_INTEGER_FORMAT "/",
			 json_integer_value(json_object_get(event, "id")));
		dir_logs(dir, prefix, logs);
	}
	json_object_set_new(event, "logs", logs);
}

int model_job(sqlite3 *db, const struct xenrt_config *cfg, int64_t id, json_t **out, char *err,
	      size_t errlen)
{
	json_t *job = NULL;
	int rc = one_row(db, "SELECT * FROM jobs WHERE id = ?1", id, &job, err, errlen);
	if (rc == 404)
		snprintf(err, errlen, "no job %" PRId64, id);
	if (rc)
		return rc;
	json_t *steps = json_array(), *hosts = json_array();
	json_object_set_new(job, "steps", steps);
	json_object_set_new(job, "runvars", json_object());
	json_object_set_new(job, "hosts", hosts);
	rc = rows_by_id(db,
			"SELECT id, attempt, seq, name, status, started_at, finished_at, log, "
			"message FROM steps WHERE job_id = ?1 ORDER BY seq",
			id, steps, err, errlen);
	size_t i;
	json_t *step;
	json_array_foreach(steps, i, step)
	{
		json_object_set_new(step, "metrics", json_array());
		set_log_url(step, id, json_integer_value(json_object_get(step, "attempt")));
	}
	if (rc == 0)
		rc = attach_rows(
			db,
			"SELECT m.step_id, m.name, m.value, m.unit FROM metrics m "
			"JOIN steps s ON m.step_id = s.id WHERE s.job_id = ?1 ORDER BY m.id",
			id, steps, add_metric, err, errlen);
	if (rc == 0) {
		json_t *one = json_pack("[O]", job);
		rc = attach_rows(db, "SELECT job_id, name, value FROM runvars WHERE job_id = ?1",
				 id, one, add_runvar, err, errlen);
		json_decref(one);
	}
	if (rc == 0)
		rc = rows_by_id(
			db,
			"SELECT jh.attempt, jh.role, h.id AS host_id, h.name, jh.ssh_port "
			"FROM job_hosts jh JOIN hosts h ON jh.host_id = h.id WHERE jh.job_id = ?1 "
			"ORDER BY jh.attempt, jh.role",
			id, hosts, err, errlen);
	if (rc) {
		json_decref(job);
		return rc;
	}
	job_logs(cfg, job);
	*out = job;
	return 0;
}

int model_hosts(sqlite3 *db, json_t **out, char *err, size_t errlen)
{
	json_t *hosts = json_array();
	sqlite3_stmt *st = prep(db, "SELECT * FROM hosts ORDER BY name", err, errlen);
	int rc = st ? 0 : 500;
	if (st) {
		rc = rows_into(db, st, hosts, err, errlen);
		sqlite3_finalize(st);
	}
	if (rc) {
		json_decref(hosts);
		return rc;
	}
	*out = json_pack("{s:o}", "hosts", hosts);
	return 0;
}

int model_host_events(sqlite3 *db, const struct xenrt_config *cfg, int64_t host_id, int64_t before,
		      int64_t limit, json_t **out, char *err, size_t errlen)
{
	json_t *host = NULL;
	if (host_id) {
		int rc = one_row(db, "SELECT * FROM hosts WHERE id = ?1", host_id, &host, err,
				 errlen);
		if (rc == 404)
			snprintf(err, errlen, "no host %" PRId64, host_id);
		if (rc)
			return rc;
	}
	json_t *events = json_array();
	sqlite3_stmt *st = prep(
		db,
		host_id ? "SELECT e.id, e.host_id, h.name AS host, e.at, e.old_state, e.new_state, e.job_id, "
			  "e.reason, e.log_dir FROM host_events e JOIN hosts h ON e.host_id = h.id "
			  "WHERE e.host_id = ?1 AND e.id < ?2 ORDER BY e.id DESC LIMIT ?3"
			: "SELECT e.id, e.host_id, h.name AS host, e.at, e.old_state, e.new_state, e.job_id, "
			  "e.reason, e.log_dir FROM host_events e JOIN hosts h ON e.host_id = h.id "
			  "WHERE ?1 = 0 AND e.id < ?2 ORDER BY e.id DESC LIMIT ?3",
		err, errlen);
	int rc = st ? 0 : 500;
	if (st) {
		sqlite3_bind_int64(st, 1, host_id);
		sqlite3_bind_int64(st, 2, before);
		sqlite3_bind_int64(st, 3, limit);
		rc = rows_into(db, st, events, err, errlen);
		sqlite3_finalize(st);
	}
	if (rc) {
		json_decref(host);
		json_decref(events);
		return rc;
	}
	size_t i;
	json_t *e;
	json_array_foreach(events, i, e) event_logs(cfg, e);
	*out = json_pack("{s:o, s:o, s:o}", "host", host ? host : json_null(), "events", events,
			 "next_before", next_before(events, limit));
	return 0;
}

int model_metrics(sqlite3 *db, const char *name, int64_t limit, json_t **out, char *err,
		  size_t errlen)
{
	json_t *rows = json_array();
	/* Every finished flight's submission-to-verdict time: derived from its
	 * own timestamps, one series per kind (the gate's latency is what a
	 * developer waits for). */
	bool latency = name && !strcmp(name, MODEL_LATENCY_METRIC);
	/* Distinct names by hopping through metrics_by_name: one seek per name
	 * instead of reading every metric ever recorded. */
	sqlite3_stmt *st = prep(
		db,
		latency ? "SELECT id AS flight_id, created_at, revision, NULL AS job_id, kind AS job, "
			  "'submission-to-verdict' AS step, finished_at - created_at AS value, 's' AS unit "
			  "FROM flights WHERE finished_at IS NOT NULL AND status != 'cancelled' AND "
			  "bisection_id IS NULL AND ?1 = ?1 ORDER BY id DESC LIMIT ?2"
		: name ? "SELECT f.id AS flight_id, f.created_at, f.revision, j.id AS job_id, "
			 "j.name AS job, s.name AS step, m.value, m.unit FROM metrics m "
			 "JOIN steps s ON m.step_id = s.id JOIN jobs j ON s.job_id = j.id "
			 "JOIN flights f ON j.flight_id = f.id WHERE m.name = ?1 ORDER BY m.id DESC LIMIT ?2"
		       : "WITH RECURSIVE n(x) AS (SELECT min(name) FROM metrics UNION ALL "
			 "SELECT (SELECT min(name) FROM metrics WHERE name > x) FROM n WHERE x IS NOT NULL "
			 "LIMIT ?2) SELECT x AS name FROM n WHERE x IS NOT NULL",
		err, errlen);
	int rc = st ? 0 : 500;
	if (st) {
		if (name)
			sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, limit);
		rc = rows_into(db, st, rows, err, errlen);
		sqlite3_finalize(st);
	}
	if (rc) {
		json_decref(rows);
		return rc;
	}
	if (!name) {
		json_t *names = json_array();
		size_t i;
		json_t *r;
		json_array_foreach(rows, i, r) json_array_append(names, json_object_get(r, "name"));
		json_array_append_new(names, json_string(MODEL_LATENCY_METRIC));
		json_decref(rows);
		*out = json_pack("{s:o}", "metrics", names);
	} else {
		*out = json_pack("{s:o, s:o}", "metric", json_text(name, strlen(name)), "points",
				 rows);
	}
	return 0;
}
