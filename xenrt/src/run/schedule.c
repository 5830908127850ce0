/* schedule.c: recurring flights (see schedule.h). */
#include "schedule.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "db.h"
#include "json_util.h"
#include "submit.h"
#include "suite.h"

double schedule_next(const char *at, int every_s, double now)
{
	if (every_s > 0)
		return now + every_s;
	unsigned hh = 0, mm = 0;
	sscanf(at, "%2u:%2u", &hh, &mm);
	time_t t = (time_t)now;
	struct tm tm;
	gmtime_r(&t, &tm);
	tm.tm_hour = (int)hh, tm.tm_min = (int)mm, tm.tm_sec = 0;
	double next = (double)timegm(&tm);
	while (next <= now)
		next += 86400;
	return next;
}

static int sqlerr(sqlite3 *db, const char *what, char *err, size_t errlen)
{
	snprintf(err, errlen, "%s: %s", what, sqlite3_errmsg(db));
	return -1;
}

/* The decl's suites as a JSON array text (malloc'd). */
static char *suites_json(const struct xenrt_schedule_decl *d)
{
	json_t *a = json_array();
	for (int i = 0; i < d->nsuites; i++)
		json_array_append_new(a, json_string(d->suites[i]));
	char *text = json_dumps(a, JSON_COMPACT);
	json_decref(a);
	return text;
}

/* Inserts or updates the row of `d`; a new row, or one whose timing
 * changed, gets next_run from now. */
static int upsert(sqlite3 *db, const struct xenrt_schedule_decl *d, const char *source, char *err,
		  size_t errlen)
{
	char *suites = suites_json(d);
	if (!suites) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(
		db,
		"INSERT INTO schedules(name, source, repo, ref, kind, suites, runvars, at_time, "
		"every_s, next_run) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) "
		"ON CONFLICT(name) DO UPDATE SET source = excluded.source, repo = excluded.repo, "
		"ref = excluded.ref, kind = excluded.kind, suites = excluded.suites, "
		"runvars = excluded.runvars, "
		"next_run = CASE WHEN at_time IS excluded.at_time AND every_s IS excluded.every_s "
		"THEN next_run ELSE excluded.next_run END, "
		"at_time = excluded.at_time, every_s = excluded.every_s",
		-1, &st, NULL);
	if (rc == SQLITE_OK) {
		sqlite3_bind_text(st, 1, d->name, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, source, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, d->repo, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 4, d->ref, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 5, d->kind, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 6, suites, -1, SQLITE_STATIC);
		if (d->runvars[0])
			sqlite3_bind_text(st, 7, d->runvars, -1, SQLITE_STATIC);
		if (d->at[0])
			sqlite3_bind_text(st, 8, d->at, -1, SQLITE_STATIC);
		else
			sqlite3_bind_int(st, 9, d->every_s);
		sqlite3_bind_double(st, 10, schedule_next(d->at, d->every_s, db_now()));
		rc = sqlite3_step(st) == SQLITE_DONE ? SQLITE_OK : SQLITE_ERROR;
		sqlite3_finalize(st);
	}
	free(suites);
	return rc == SQLITE_OK ? 0 : sqlerr(db, "storing the schedule", err, errlen);
}

int schedule_sync(sqlite3 *db, const struct xenrt_config *cfg, char *err, size_t errlen)
{
	if (db_exec(db, "BEGIN IMMEDIATE", err, errlen) != SQLITE_OK)
		return -1;
	int rc = 0;
	json_t *names = json_array();
	for (size_t i = 0; i < cfg->nschedules && rc == 0; i++) {
		rc = upsert(db, &cfg->schedules[i], "config", err, errlen);
		json_array_append_new(names, json_string(cfg->schedules[i].name));
	}
	char *list = json_dumps(names, JSON_COMPACT);
	json_decref(names);
	sqlite3_stmt *st;
	if (rc == 0 && list &&
	    sqlite3_prepare_v2(db,
			       "DELETE FROM schedules WHERE source = 'config' AND name NOT IN "
			       "(SELECT value FROM json_each(?1))",
			       -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_text(st, 1, list, -1, SQLITE_STATIC);
		if (sqlite3_step(st) != SQLITE_DONE)
			rc = sqlerr(db, "removing old schedules", err, errlen);
		sqlite3_finalize(st);
	} else if (rc == 0) {
		rc = sqlerr(db, "removing old schedules", err, errlen);
	}
	free(list);
	char ignored[128];
	if (rc == 0 && db_exec(db, "COMMIT", err, errlen) == SQLITE_OK)
		return 0;
	db_exec(db, "ROLLBACK", ignored, sizeof ignored);
	return -1;
}

/* Starts one due schedule's flight and moves its next_run, in one
 * transaction.  1 started, 0 none due, -1 error. */
static int run_one(sqlite3 *db, const struct xenrt_config *cfg, char *err, size_t errlen)
{
	if (db_exec(db, "BEGIN IMMEDIATE", err, errlen) != SQLITE_OK)
		return -1;
	sqlite3_stmt *st;
	double now = db_now();
	int rc = -1;
	if (sqlite3_prepare_v2(db,
			       "SELECT id, name, repo, ref, kind, suites, runvars, "
			       "coalesce(at_time, ''), coalesce(every_s, 0) FROM schedules "
			       "WHERE next_run <= ?1 ORDER BY next_run LIMIT 1",
			       -1, &st, NULL) != SQLITE_OK) {
		sqlerr(db, "schedules", err, errlen);
		goto out;
	}
	sqlite3_bind_double(st, 1, now);
	int s = sqlite3_step(st);
	if (s != SQLITE_ROW) {
		sqlite3_finalize(st);
		rc = s == SQLITE_DONE ? 0 : sqlerr(db, "schedules", err, errlen);
		goto out;
	}
	int64_t id = sqlite3_column_int64(st, 0);
	char name[64], submitter[80], at[8];
	snprintf(name, sizeof name, "%s", (const char *)sqlite3_column_text(st, 1));
	snprintf(submitter, sizeof submitter, "schedule:%s", name);
	snprintf(at, sizeof at, "%s", (const char *)sqlite3_column_text(st, 7));
	int every = sqlite3_column_int(st, 8);
	char *repo = strdup((const char *)sqlite3_column_text(st, 2));
	char *ref = strdup((const char *)sqlite3_column_text(st, 3));
	char *kind = strdup((const char *)sqlite3_column_text(st, 4));
	json_t *suites = json_loads((const char *)sqlite3_column_text(st, 5), 0, NULL);
	json_t *runvars = sqlite3_column_type(st, 6) == SQLITE_NULL
				  ? NULL
				  : json_loads((const char *)sqlite3_column_text(st, 6), 0, NULL);
	sqlite3_finalize(st);
	const char *names[XENRT_MAX_SUITES];
	size_t n = 0, i;
	json_t *v;
	json_array_foreach(suites, i, v) if (n < XENRT_MAX_SUITES && json_is_string(v)) names[n++] =
		json_string_value(v);
	struct flight_request req = { .kind = kind,
				      .repo = repo,
				      .ref = ref,
				      .submitter = submitter,
				      .suites = names,
				      .nsuites = n,
				      .runvars = runvars,
				      .schedule_id = id };
	int64_t flight = 0;
	char why[512] = "";
	/* A schedule whose flight cannot be made (a suite removed since) is
	 * reported and waits for its next time: it must not fire every tick. */
	if (repo && ref && kind && submit_flight(db, cfg, &req, &flight, why, sizeof why) < 0) {
		fprintf(stderr, "xenrt schedule %s: %s\n", name, why);
		flight = 0;
	}
	if (sqlite3_prepare_v2(db,
			       "UPDATE schedules SET last_run = ?2, next_run = ?3, "
			       "last_flight = coalesce(?4, last_flight) WHERE id = ?1",
			       -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_int64(st, 1, id);
		sqlite3_bind_double(st, 2, now);
		sqlite3_bind_double(st, 3, schedule_next(at, every, now));
		if (flight)
			sqlite3_bind_int64(st, 4, flight);
		rc = sqlite3_step(st) == SQLITE_DONE ? 1 : sqlerr(db, "schedule", err, errlen);
		sqlite3_finalize(st);
	} else {
		sqlerr(db, "schedule", err, errlen);
	}
	free(repo);
	free(ref);
	free(kind);
	json_decref(suites);
	json_decref(runvars);
out:;
	char ignored[128];
	if (rc >= 0 && db_exec(db, "COMMIT", err, errlen) == SQLITE_OK)
		return rc;
	db_exec(db, "ROLLBACK", ignored, sizeof ignored);
	return -1;
}

int schedule_run_due(sqlite3 *db, const struct xenrt_config *cfg, char *err, size_t errlen)
{
	int started = 0, rc;
	while (started < 64 && (rc = run_one(db, cfg, err, errlen)) == 1)
		started++;
	return rc < 0 ? -1 : started;
}

int schedule_add(sqlite3 *db, const struct xenrt_config *cfg, const struct xenrt_schedule_decl *d,
		 char *err, size_t errlen)
{
	for (int i = 0; i < d->nsuites; i++) {
		struct suite *s;
		char why[400];
		if (suite_load(cfg->suites_dir, d->suites[i], &s, why, sizeof why) < 0) {
			snprintf(err, errlen, "suite '%s': %s", d->suites[i], why);
			return -1;
		}
		suite_free(s);
	}
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(db, "SELECT source FROM schedules WHERE name = ?1", -1, &st, NULL) !=
	    SQLITE_OK)
		return sqlerr(db, "schedules", err, errlen);
	sqlite3_bind_text(st, 1, d->name, -1, SQLITE_STATIC);
	int exists = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_finalize(st);
	if (exists) {
		snprintf(err, errlen, "a schedule named '%s' exists (remove it first)", d->name);
		return -1;
	}
	return upsert(db, d, "cli", err, errlen);
}

int schedule_remove(sqlite3 *db, const char *name, char *err, size_t errlen)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(db, "DELETE FROM schedules WHERE name = ?1 AND source = 'cli'", -1,
			       &st, NULL) != SQLITE_OK)
		return sqlerr(db, "schedules", err, errlen);
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return sqlerr(db, "removing the schedule", err, errlen);
	if (sqlite3_changes(db) == 0) {
		snprintf(err, errlen,
			 "no schedule '%s' added with 'xenrt schedule add' (schedules of "
			 "the config go when the config drops them)",
			 name);
		return -1;
	}
	return 0;
}

int schedule_list(sqlite3 *db, json_t **out, char *err, size_t errlen)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(
		    db,
		    "SELECT name, source, repo, ref, kind, suites, runvars, at_time, "
		    "every_s, next_run, last_run, last_flight FROM schedules ORDER BY name",
		    -1, &st, NULL) != SQLITE_OK)
		return sqlerr(db, "schedules", err, errlen);
	json_t *list = json_array();
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		json_t *row = json_row(st);
		/* suites and runvars are stored as JSON: give them as JSON. */
		json_t *s = json_loads((const char *)sqlite3_column_text(st, 5), 0, NULL);
		json_object_set_new(row, "suites", s ? s : json_array());
		if (sqlite3_column_type(st, 6) != SQLITE_NULL) {
			json_t *r = json_loads((const char *)sqlite3_column_text(st, 6), 0, NULL);
			json_object_set_new(row, "runvars", r ? r : json_object());
		}
		json_array_append_new(list, row);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		json_decref(list);
		return sqlerr(db, "schedules", err, errlen);
	}
	*out = json_pack("{s:o}", "schedules", list);
	return 0;
}
