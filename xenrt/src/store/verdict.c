/* verdict.c: a flight's verdict and the release gate (see verdict.h).
 *
 * Verdict (design.md section 4): a failed step is "flaky" if the same step of
 * the same job passed in another flight of the same revision or in the
 * job's automatic retest (a gate flight's failed job runs once more on
 * another host, executor.c; retests are never judged themselves), a "regression"
 * if it passed in the baseline flight, "known" if the baseline had it failing
 * too, and plain "fail" when there is no baseline to compare with.  broken is
 * infrastructure and never the code's fault.  The flight's verdict is the
 * worst of its steps: regression > fail > broken > known/flaky (tolerable) >
 * pass; "pending" while it runs.  Only the steps of each job's latest attempt
 * count: earlier attempts were broken and retried.
 *
 * Only failed and broken steps can change a verdict, so the query reads just
 * those, through the partial index steps_red (migration 0006), with what the
 * baseline and the revision's other flights say about each: a page of fifty
 * flights costs what their few red steps cost, not what their thousands of
 * green ones would.
 */
#include "verdict.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_util.h"

/* Row: flight id, job name, step name, status ('fail' or 'broken'), the
 * baseline's status of the same job/step (its latest run there, NULL if
 * none), and whether it passed in another flight of the same revision. */
static const char *const red_steps_sql =
	"SELECT f.id, j.name, s.name, s.status, "
	"(SELECT bs.status FROM jobs bj JOIN steps bs ON bs.job_id = bj.id "
	" WHERE bj.flight_id = f.baseline_id AND bj.name = j.name AND bs.name = s.name "
	" ORDER BY bs.seq DESC LIMIT 1), "
	"s.status = 'fail' AND (EXISTS (SELECT 1 FROM flights o JOIN jobs oj ON oj.flight_id = o.id "
	" JOIN steps os ON os.job_id = oj.id WHERE o.revision = f.revision AND o.id != f.id "
	" AND oj.name = j.name AND os.name = s.name AND os.status = 'pass') "
	" OR EXISTS (SELECT 1 FROM jobs rj JOIN steps rs ON rs.job_id = rj.id "
	" WHERE rj.retest_of = j.id AND rs.attempt = rj.attempt AND rs.name = s.name "
	" AND rs.status = 'pass')) "
	"FROM flights f JOIN jobs j ON j.flight_id = f.id JOIN steps s ON s.job_id = j.id "
	"WHERE f.id IN (SELECT value FROM json_each(?1)) AND s.attempt = j.attempt "
	"AND j.retest_of IS NULL AND s.status IN ('fail', 'broken') ORDER BY f.id, j.id, s.seq";

/* Which verdict list a red step belongs to. */
static const char *classify(const char *status, const char *was, int passed_elsewhere)
{
	if (!strcmp(status, "broken"))
		return "broken";
	if (passed_elsewhere)
		return "flaky";
	if (was && !strcmp(was, "pass"))
		return "regressions";
	if (was && !strcmp(was, "fail"))
		return "known";
	return "failures";
}

static size_t count(json_t *lists, const char *name)
{
	return json_array_size(json_object_get(lists, name));
}

static const char *summary_of(const char *status, json_t *lists)
{
	if (!strcmp(status, "queued") || !strcmp(status, "running"))
		return "pending";
	if (!strcmp(status, "cancelled"))
		return "cancelled";
	if (count(lists, "regressions"))
		return "regression";
	/* Also a job that failed without a failing step. */
	if (count(lists, "failures") ||
	    (!strcmp(status, "fail") && !count(lists, "known") && !count(lists, "flaky")))
		return "fail";
	if (count(lists, "broken") || !strcmp(status, "broken"))
		return "broken";
	if (count(lists, "known") || count(lists, "flaky"))
		return "tolerable";
	return "pass";
}

/* Appends ": a, b, c" (the first few names of a verdict list) to buf. */
static void name_list(char *buf, size_t len, json_t *arr)
{
	size_t i, used = strlen(buf);
	json_t *v;
	json_array_foreach(arr, i, v)
	{
		if (i == 5) {
			snprintf(buf + used, len - used, " and %zu more", json_array_size(arr) - 5);
			return;
		}
		snprintf(buf + used, len - used, "%s%s", i ? ", " : ": ", json_string_value(v));
		used = strlen(buf);
	}
}

/* The release gate's answer for a flight of kind gate: may the branch be
 * pushed, and why.  pass and tolerable push; a regression or a failure
 * does not; broken is the farm's fault and cancelled is no answer, so both
 * say rerun.  {push: true|false|null, decision, reason}. */
static json_t *gate(json_t *flight, json_t *lists, const char *summary)
{
	char reason[1024], base[64] = "no baseline";
	json_t *b = json_object_get(flight, "baseline_id");
	if (json_is_integer(b))
		snprintf(base, sizeof base, "baseline flight %" JSON_INTEGER_FORMAT,
			 json_integer_value(b));
	const char *decision;
	json_t *push;
	if (!strcmp(summary, "pass")) {
		decision = "push", push = json_true();
		snprintf(reason, sizeof reason, "every step passed (compared with %s)", base);
	} else if (!strcmp(summary, "tolerable")) {
		decision = "push", push = json_true();
		snprintf(reason, sizeof reason,
			 "no regression against %s; only known or flaky failures", base);
		name_list(reason, sizeof reason, json_object_get(lists, "known"));
		name_list(reason, sizeof reason, json_object_get(lists, "flaky"));
	} else if (!strcmp(summary, "regression")) {
		decision = "no push", push = json_false();
		snprintf(reason, sizeof reason, "regressed against %s (passed there, fails here)",
			 base);
		name_list(reason, sizeof reason, json_object_get(lists, "regressions"));
	} else if (!strcmp(summary, "fail")) {
		decision = "no push", push = json_false();
		if (!count(lists, "failures"))
			snprintf(reason, sizeof reason, "a job failed without a failing step");
		else if (json_is_integer(b))
			snprintf(reason, sizeof reason,
				 "failed, and %s has no result to compare with", base);
		else
			snprintf(reason, sizeof reason,
				 "failed, and there is no baseline to compare with");
		name_list(reason, sizeof reason, json_object_get(lists, "failures"));
	} else if (!strcmp(summary, "broken")) {
		decision = "rerun", push = json_false();
		snprintf(reason, sizeof reason,
			 "the farm broke, the code was not judged; rerun the flight");
		name_list(reason, sizeof reason, json_object_get(lists, "broken"));
	} else if (!strcmp(summary, "cancelled")) {
		decision = "rerun", push = json_false();
		snprintf(reason, sizeof reason,
			 "the flight was cancelled before it could judge the branch");
	} else {
		decision = "wait", push = json_null();
		snprintf(reason, sizeof reason, "the flight is still running");
	}
	/* The farm's own bisection of the regression, once it named a commit. */
	json_t *bis = json_object_get(flight, "bisection");
	const char *first_bad = json_string_value(json_object_get(bis, "first_bad"));
	if (first_bad) {
		size_t used = strlen(reason);
		snprintf(reason + used, sizeof reason - used,
			 "; first bad commit %.12s (bisection %" JSON_INTEGER_FORMAT ")", first_bad,
			 json_integer_value(json_object_get(bis, "id")));
	}
	return json_pack("{s:o, s:s, s:s}", "push", push, "decision", decision, "reason", reason);
}

/* Reads every red step of the flights into by_id ("<flight id>" -> lists). */
static int red_steps(sqlite3 *db, json_t *flights, json_t *by_id, char *err, size_t errlen)
{
	char *idlist = json_ids(flights);
	if (!idlist) {
		snprintf(err, errlen, "out of memory");
		return 500;
	}
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(db, red_steps_sql, -1, &st, NULL);
	if (rc == SQLITE_OK) {
		sqlite3_bind_text(st, 1, idlist, -1, SQLITE_STATIC);
		while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			char key[32], what[512];
			snprintf(key, sizeof key, "%lld", (long long)sqlite3_column_int64(st, 0));
			snprintf(what, sizeof what, "%s/%s",
				 (const char *)sqlite3_column_text(st, 1),
				 (const char *)sqlite3_column_text(st, 2));
			const char *list = classify((const char *)sqlite3_column_text(st, 3),
						    (const char *)sqlite3_column_text(st, 4),
						    sqlite3_column_int(st, 5));
			json_array_append_new(json_object_get(json_object_get(by_id, key), list),
					      json_text(what, strlen(what)));
		}
	}
	if (rc != SQLITE_DONE) {
		snprintf(err, errlen, "query failed: %s", sqlite3_errmsg(db));
		rc = 500;
	} else {
		rc = 0;
	}
	sqlite3_finalize(st);
	free(idlist);
	return rc;
}

/* A flight's key in the id -> lists map. */
static const char *id_key(json_t *flight, char key[32])
{
	snprintf(key, 32, "%" JSON_INTEGER_FORMAT,
		 json_integer_value(json_object_get(flight, "id")));
	return key;
}

/* Each flight's newest bisection, as "bisection" {id, status, first_bad,
 * message, url} (null when none): one query for all of them. */
static int bisections(sqlite3 *db, json_t *flights, char *err, size_t errlen)
{
	size_t i;
	json_t *f;
	json_array_foreach(flights, i, f) json_object_set_new(f, "bisection", json_null());
	char *idlist = json_ids(flights);
	sqlite3_stmt *st = NULL;
	int rc =
		idlist ? sqlite3_prepare_v2(db,
					    "SELECT flight_id, id, status, first_bad, message "
					    "FROM bisections WHERE flight_id IN (SELECT value FROM "
					    "json_each(?1)) ORDER BY id",
					    -1, &st, NULL)
		       : SQLITE_NOMEM;
	if (rc == SQLITE_OK) {
		sqlite3_bind_text(st, 1, idlist, -1, SQLITE_STATIC);
		while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			json_int_t fid = sqlite3_column_int64(st, 0);
			json_t *b = json_row(st);
			char url[64];
			json_object_del(b, "flight_id");
			snprintf(url, sizeof url, "/bisections/%" JSON_INTEGER_FORMAT,
				 json_integer_value(json_object_get(b, "id")));
			json_object_set_new(b, "url", json_string(url));
			json_array_foreach(flights, i,
					   f) if (json_integer_value(json_object_get(f, "id")) ==
						  fid) json_object_set(f, "bisection", b);
			json_decref(b);
		}
	}
	sqlite3_finalize(st);
	free(idlist);
	if (rc != SQLITE_DONE) {
		snprintf(err, errlen, "query failed: %s", sqlite3_errmsg(db));
		return 500;
	}
	return 0;
}

int verdict_attach(sqlite3 *db, json_t *flights, char *err, size_t errlen)
{
	json_t *by_id = json_object();
	size_t i;
	json_t *f;
	char key[32];
	json_array_foreach(flights, i, f)
	{
		json_object_set_new(by_id, id_key(f, key),
				    json_pack("{s:[], s:[], s:[], s:[], s:[]}", "regressions",
					      "failures", "broken", "known", "flaky"));
	}
	int rc = json_array_size(flights) ? red_steps(db, flights, by_id, err, errlen) : 0;
	if (rc == 0 && json_array_size(flights))
		rc = bisections(db, flights, err, errlen);
	json_array_foreach(flights, i, f)
	{
		if (rc)
			break;
		json_t *lists = json_incref(json_object_get(by_id, id_key(f, key)));
		const char *summary =
			summary_of(json_string_value(json_object_get(f, "status")), lists);
		json_object_set_new(lists, "summary", json_string(summary));
		json_object_set_new(f, "verdict", lists);
		json_object_set_new(f, "gate",
				    strcmp(json_string_value(json_object_get(f, "kind")), "gate")
					    ? json_null()
					    : gate(f, lists, summary));
	}
	json_decref(by_id);
	return rc;
}
