/* bisect.c: automatic bisection of a regression (see bisect.h). */
#include "bisect.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "db.h"
#include "json_util.h"
#include "proc.h"
#include "submit.h"
#include "writes.h"

#define GIT_TIMEOUT_S 60
#define MAX_COMMITS 4096

static const char *str(json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));
	return s ? s : "";
}

/* "sha\tsubject" lines of git log good..bad (oldest first) into p->commits. */
static int list_commits(const char *repo, struct bisect_plan *p)
{
	char path[] = "/tmp/xenrt-bisect-XXXXXX", range[200], e[256];
	int fd = mkstemp(path);
	if (fd < 0) {
		snprintf(p->failed, sizeof p->failed, "cannot make a temporary file");
		return -1;
	}
	close(fd);
	snprintf(range, sizeof range, "%s..%s", p->good, p->bad);
	char *const argv[] = { "git",
			       "-C",
			       (char *)repo,
			       "log",
			       "--reverse",
			       "--ancestry-path",
			       "--format=%H%x09%s",
			       range,
			       NULL };
	int code = -1,
	    rc = proc_run(argv, NULL, NULL, path, GIT_TIMEOUT_S, NULL, NULL, &code, e, sizeof e);
	FILE *f = fopen(path, "r");
	p->commits = json_array();
	char line[1024];
	while (rc == 0 && code == 0 && f && fgets(line, sizeof line, f)) {
		line[strcspn(line, "\n")] = '\0';
		char *tab = strchr(line, '\t');
		if (!tab || tab - line != 40)
			continue;
		*tab = '\0';
		json_array_append_new(p->commits, json_pack("{s:s, s:o}", "sha", line, "subject",
							    json_text(tab + 1, strlen(tab + 1))));
	}
	if (f)
		fclose(f);
	unlink(path);
	size_t n = json_array_size(p->commits);
	if (rc || code)
		snprintf(p->failed, sizeof p->failed, "git log %.180s failed in %.80s", range,
			 repo);
	else if (n == 0 || strcmp(str(json_array_get(p->commits, n - 1), "sha"), p->bad))
		snprintf(p->failed, sizeof p->failed,
			 "%.12s is not a descendant of the baseline's "
			 "%.12s: nothing to bisect",
			 p->bad, p->good);
	else if (n > MAX_COMMITS)
		snprintf(p->failed, sizeof p->failed, "%zu commits: more than %d", n, MAX_COMMITS);
	return p->failed[0] ? -1 : 0;
}

int bisect_plan(sqlite3 *db, json_t *flight, struct bisect_plan *p)
{
	memset(p, 0, sizeof *p);
	const char *kind = str(flight, "kind");
	json_t *regs = json_object_get(json_object_get(flight, "verdict"), "regressions");
	if ((strcmp(kind, "gate") && strcmp(kind, "nightly")) ||
	    !json_is_null(json_object_get(flight, "bisection_id")) || json_array_size(regs) == 0 ||
	    !json_is_integer(json_object_get(flight, "baseline_id")))
		return 0;
	p->flight_id = json_integer_value(json_object_get(flight, "id"));
	p->baseline_id = json_integer_value(json_object_get(flight, "baseline_id"));
	/* "job/step": job names have no '/' (they are suite names). */
	const char *what = json_string_value(json_array_get(regs, 0));
	const char *slash = strchr(what, '/');
	if (!slash || slash - what >= (long)sizeof p->suite)
		return 0;
	snprintf(p->suite, sizeof p->suite, "%.*s", (int)(slash - what), what);
	snprintf(p->step, sizeof p->step, "%s", slash + 1);
	size_t i;
	json_t *job;
	json_array_foreach(json_object_get(flight, "jobs"), i,
			   job) if (!strcmp(str(job, "name"), p->suite))
		snprintf(p->suite, sizeof p->suite, "%s", str(job, "suite"));
	snprintf(p->bad, sizeof p->bad, "%s", str(flight, "revision"));
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(db, "SELECT coalesce(revision, '') FROM flights WHERE id = ?1", -1,
			       &st, NULL) == SQLITE_OK) {
		sqlite3_bind_int64(st, 1, p->baseline_id);
		if (sqlite3_step(st) == SQLITE_ROW)
			snprintf(p->good, sizeof p->good, "%s", sqlite3_column_text(st, 0));
		sqlite3_finalize(st);
	}
	const char *repo = str(flight, "repo");
	if (!p->good[0] || !p->bad[0])
		snprintf(p->failed, sizeof p->failed, "the flight or its baseline has no revision");
	else if (strstr(repo, "://") || !strncmp(repo, "git@", 4))
		snprintf(p->failed, sizeof p->failed,
			 "bisection needs a local repository, not %.200s", repo);
	else if (json_is_string(json_object_get(flight, "patch")))
		snprintf(p->failed, sizeof p->failed, "the flight tested a patch, not commits");
	else
		list_commits(repo, p);
	return 1;
}

int bisect_create(sqlite3 *db, struct bisect_plan *p, int64_t *id, char *err, size_t errlen)
{
	char *commits = json_dumps(p->commits ? p->commits : json_array(), JSON_COMPACT);
	json_decref(p->commits);
	p->commits = NULL;
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(db,
				    "INSERT INTO bisections(flight_id, baseline_id, suite, step, "
				    "good, bad, commits, status, message, created_at, finished_at) "
				    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
				    -1, &st, NULL);
	if (rc == SQLITE_OK && commits) {
		sqlite3_bind_int64(st, 1, p->flight_id);
		sqlite3_bind_int64(st, 2, p->baseline_id);
		sqlite3_bind_text(st, 3, p->suite, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 4, p->step, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 5, p->good, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 6, p->bad, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 7, commits, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 8, p->failed[0] ? "failed" : "running", -1, SQLITE_STATIC);
		if (p->failed[0]) {
			sqlite3_bind_text(st, 9, p->failed, -1, SQLITE_STATIC);
			sqlite3_bind_double(st, 11, db_now());
		}
		sqlite3_bind_double(st, 10, db_now());
		rc = sqlite3_step(st) == SQLITE_DONE ? SQLITE_OK : SQLITE_ERROR;
	}
	sqlite3_finalize(st);
	free(commits);
	if (rc != SQLITE_OK) {
		snprintf(err, errlen, "storing the bisection: %s", sqlite3_errmsg(db));
		return -1;
	}
	*id = sqlite3_last_insert_rowid(db);
	return 0;
}

/* What the probes (and the flight) say about each commit. */
struct obs {
	int pass, fail, pending;
};

struct state {
	int64_t id, flight_id;
	char suite[64], step[512], repo[XENRT_PATH_MAX];
	json_t *commits;
	size_t n;
	struct obs *obs;
};

static long index_of(const struct state *s, const char *sha)
{
	for (size_t i = 0; i < s->n; i++)
		if (!strcmp(str(json_array_get(s->commits, i), "sha"), sha))
			return (long)i;
	return -1;
}

/* Fills s->obs from the probe flights, plus the flight's own failure of
 * the last commit. */
static int observe(sqlite3 *db, struct state *s)
{
	s->obs = calloc(s->n ? s->n : 1, sizeof *s->obs);
	if (!s->obs)
		return -1;
	if (s->n)
		s->obs[s->n - 1].fail = 1;
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(
		    db,
		    "SELECT f.ref, f.status, "
		    "(SELECT sp.status FROM jobs j JOIN steps sp ON sp.job_id = j.id WHERE "
		    " j.flight_id = f.id AND j.suite = ?2 AND j.retest_of IS NULL AND sp.name = ?3 AND "
		    " sp.attempt = j.attempt ORDER BY sp.seq DESC LIMIT 1), "
		    "(SELECT j.status FROM jobs j WHERE j.flight_id = f.id AND j.suite = ?2 AND "
		    " j.retest_of IS NULL) "
		    "FROM flights f WHERE f.bisection_id = ?1",
		    -1, &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_int64(st, 1, s->id);
	sqlite3_bind_text(st, 2, s->suite, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, s->step, -1, SQLITE_STATIC);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *rev = (const char *)sqlite3_column_text(st, 0);
		const char *fs = (const char *)sqlite3_column_text(st, 1);
		const char *step = (const char *)sqlite3_column_text(st, 2);
		const char *job = (const char *)sqlite3_column_text(st, 3);
		/* A probe's ref is its commit (its revision is only known once
		 * its build ran, and a queued probe must count too). */
		long i = rev ? index_of(s, rev) : -1;
		if (i < 0)
			continue;
		struct obs *o = &s->obs[i];
		const char *r = step ? step : job;
		if (!strcmp(fs, "queued") || !strcmp(fs, "running"))
			o->pending++;
		else if (r && !strcmp(r, "pass"))
			o->pass++;
		else if (r && !strcmp(r, "fail"))
			o->fail++;
		/* broken, cancelled, blocked: no answer; the slot is free again */
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

static bool mixed(const struct obs *o)
{
	return o->pass && o->fail;
}

static bool trusted(const struct obs *o, int repeats)
{
	return !mixed(o) && o->pass + o->fail >= repeats;
}

static int end(sqlite3 *db, const struct state *s, const char *status, const char *first_bad,
	       const char *message)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(db,
			       "UPDATE bisections SET status = ?2, first_bad = ?3, message = ?4, "
			       "finished_at = ?5 WHERE id = ?1",
			       -1, &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_int64(st, 1, s->id);
	sqlite3_bind_text(st, 2, status, -1, SQLITE_STATIC);
	if (first_bad)
		sqlite3_bind_text(st, 3, first_bad, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, message, -1, SQLITE_STATIC);
	sqlite3_bind_double(st, 5, db_now());
	int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
	sqlite3_finalize(st);
	/* Probes still running answer nothing any more. */
	if (rc == 0)
		rc = writes_probes_cancel(db, s->id);
	return rc;
}

static int probe(sqlite3 *db, const struct xenrt_config *cfg, const struct state *s, size_t i,
		 char *err, size_t errlen)
{
	char submitter[48];
	snprintf(submitter, sizeof submitter, "bisect:%lld", (long long)s->id);
	const char *suites[1] = { s->suite };
	struct flight_request req = { .kind = "branch",
				      .repo = s->repo,
				      .ref = str(json_array_get(s->commits, i), "sha"),
				      .submitter = submitter,
				      .suites = suites,
				      .nsuites = 1,
				      .bisection_id = s->id };
	int64_t flight;
	return submit_flight(db, cfg, &req, &flight, err, errlen);
}

static int usable_hosts(sqlite3 *db)
{
	sqlite3_stmt *st;
	int n = 1;
	if (sqlite3_prepare_v2(db, "SELECT count(*) FROM hosts WHERE state != 'offline'", -1, &st,
			       NULL) == SQLITE_OK) {
		if (sqlite3_step(st) == SQLITE_ROW)
			n = sqlite3_column_int(st, 0);
		sqlite3_finalize(st);
	}
	return n > 0 ? n : 1;
}

/* Decides or moves one bisection on; returns probes submitted or -1. */
static int advance(sqlite3 *db, const struct xenrt_config *cfg, struct state *s, char *err,
		   size_t errlen)
{
	int R = cfg->bisect_repeats, pending = 0;
	char msg[700];
	for (size_t i = 0; i < s->n; i++) {
		pending += s->obs[i].pending;
		if (mixed(&s->obs[i])) {
			const char *sha = str(json_array_get(s->commits, i), "sha");
			snprintf(msg, sizeof msg,
				 "not reproducible: %.12s passed %d and failed %d "
				 "time(s)%s",
				 sha, s->obs[i].pass, s->obs[i].fail,
				 i == s->n - 1 ? " (the regressed flight's own revision)" : "");
			return end(db, s, "unreproducible", NULL, msg) ? -1 : 0;
		}
	}
	long bad = -1, good = -1;
	for (size_t i = 0; i < s->n && bad < 0; i++)
		if (s->obs[i].fail)
			bad = (long)i;
	for (long i = bad - 1; i >= 0 && good < 0; i--)
		if (s->obs[i].pass)
			good = i;
	if (bad < 0)
		return end(db, s, "failed", NULL, "no failing commit left to bisect") ? -1 : 0;
	struct obs none = { 0 };
	const struct obs *ob = &s->obs[bad], *og = good >= 0 ? &s->obs[good] : &none;
	if (trusted(ob, R) && good == bad - 1 && (good < 0 || trusted(og, R))) {
		json_t *c = json_array_get(s->commits, (size_t)bad);
		snprintf(msg, sizeof msg,
			 "first bad commit %.12s \"%.200s\": %s fails %d time(s) there, "
			 "passes at its parent",
			 str(c, "sha"), str(c, "subject"), s->step, ob->fail);
		return end(db, s, "found", str(c, "sha"), msg) ? -1 : 0;
	}
	/* Next probes, most useful first: confirm the ends of the interval,
	 * then its midpoint, then the midpoints of its halves. */
	long want[5];
	int need[5], k = 0;
	if (!trusted(ob, R))
		want[k] = bad, need[k++] = R - ob->pass - ob->fail - ob->pending;
	if (good >= 0 && !trusted(og, R))
		want[k] = good, need[k++] = R - og->pass - og->fail - og->pending;
	if (bad - good > 1) {
		long mid = (good + bad) / 2;
		long pts[3] = { mid, (good + mid) / 2, (mid + bad) / 2 };
		for (int j = 0; j < 3; j++) {
			const struct obs *o = &s->obs[pts[j]];
			bool dup = false;
			for (int x = 0; x < k; x++)
				dup |= want[x] == pts[j];
			if (pts[j] > good && pts[j] < bad && !dup && !o->pass && !o->fail &&
			    !o->pending)
				want[k] = pts[j], need[k++] = 1;
		}
	}
	int slots = usable_hosts(db) - pending, sent = 0;
	for (int x = 0; x < k && slots > 0; x++)
		for (int y = 0; y < need[x] && slots > 0; y++, slots--, sent++)
			if (probe(db, cfg, s, (size_t)want[x], err, errlen) < 0)
				return -1;
	return sent;
}

static void state_free(struct state *s)
{
	json_decref(s->commits);
	free(s->obs);
}

/* Loads bisection `id`'s state; 0, 404 or -1. */
static int load(sqlite3 *db, int64_t id, struct state *s)
{
	memset(s, 0, sizeof *s);
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(db,
			       "SELECT b.flight_id, b.suite, b.step, b.commits, f.repo FROM "
			       "bisections b JOIN flights f ON f.id = b.flight_id WHERE b.id = ?1",
			       -1, &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		s->id = id;
		s->flight_id = sqlite3_column_int64(st, 0);
		snprintf(s->suite, sizeof s->suite, "%s", sqlite3_column_text(st, 1));
		snprintf(s->step, sizeof s->step, "%s", sqlite3_column_text(st, 2));
		s->commits = json_loads((const char *)sqlite3_column_text(st, 3), 0, NULL);
		snprintf(s->repo, sizeof s->repo, "%s", sqlite3_column_text(st, 4));
	}
	sqlite3_finalize(st);
	if (rc == SQLITE_DONE)
		return 404;
	if (rc != SQLITE_ROW || !json_is_array(s->commits))
		return -1;
	s->n = json_array_size(s->commits);
	return observe(db, s);
}

int bisect_tick(sqlite3 *db, const struct xenrt_config *cfg, char *err, size_t errlen)
{
	sqlite3_stmt *st;
	int64_t ids[32];
	int n = 0, sent = 0;
	if (sqlite3_prepare_v2(db,
			       "SELECT id FROM bisections WHERE status = 'running' ORDER BY id "
			       "LIMIT 32",
			       -1, &st, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "bisections: %s", sqlite3_errmsg(db));
		return -1;
	}
	while (sqlite3_step(st) == SQLITE_ROW)
		ids[n++] = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	for (int i = 0; i < n; i++) {
		if (db_exec(db, "BEGIN IMMEDIATE", err, errlen) != SQLITE_OK)
			return -1;
		struct state s;
		int rc = load(db, ids[i], &s);
		if (rc == 0 && s.n == 0)
			rc = end(db, &s, "failed", NULL, "no commits to bisect");
		else if (rc == 0)
			rc = advance(db, cfg, &s, err, errlen);
		else
			snprintf(err, errlen, "bisection %lld: %s", (long long)ids[i],
				 sqlite3_errmsg(db));
		state_free(&s);
		char ignored[128];
		if (rc < 0 || db_exec(db, "COMMIT", err, errlen) != SQLITE_OK) {
			db_exec(db, "ROLLBACK", ignored, sizeof ignored);
			return -1;
		}
		sent += rc;
	}
	return sent;
}

int bisect_show(sqlite3 *db, int64_t id, json_t **out, char *err, size_t errlen)
{
	json_t *b = NULL;
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(db,
			       "SELECT id, flight_id, baseline_id, suite, step, good, bad, status, "
			       "first_bad, message, created_at, finished_at FROM bisections "
			       "WHERE id = ?1",
			       -1, &st, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "query failed: %s", sqlite3_errmsg(db));
		return 500;
	}
	sqlite3_bind_int64(st, 1, id);
	if (sqlite3_step(st) == SQLITE_ROW)
		b = json_row(st);
	sqlite3_finalize(st);
	if (!b) {
		snprintf(err, errlen, "no bisection %lld", (long long)id);
		return 404;
	}
	struct state s;
	if (load(db, id, &s) != 0) {
		state_free(&s);
		json_decref(b);
		snprintf(err, errlen, "query failed: %s", sqlite3_errmsg(db));
		return 500;
	}
	json_t *commits = json_array();
	for (size_t i = 0; i < s.n; i++) {
		json_t *c = json_deep_copy(json_array_get(s.commits, i));
		json_object_set_new(c, "passed", json_integer(s.obs[i].pass));
		json_object_set_new(c, "failed", json_integer(s.obs[i].fail));
		json_object_set_new(c, "pending", json_integer(s.obs[i].pending));
		json_array_append_new(commits, c);
	}
	json_object_set_new(b, "commits", commits);
	state_free(&s);
	*out = b;
	return 0;
}
