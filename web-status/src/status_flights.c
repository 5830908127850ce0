/* status_flights.c: the flights list (/) and a flight's grid (/flights/<id>).
 *
 * The grid's columns are the step names of all the flight's jobs in order of
 * first appearance, so the same step lines up across jobs and a red column
 * stands out.  Each page is rendered from one read-model call (a handful of
 * queries, see api_model.c) however many jobs and steps there are.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_model.h"
#include "schedule.h"
#include "status.h"
#include "status_util.h"

static void flight_link(struct html *h, json_t *f)
{
	html_fmt(h, "<a href=\"/flights/%" JSON_INTEGER_FORMAT "\">%" JSON_INTEGER_FORMAT "</a>",
		 json_integer_value(json_object_get(f, "id")),
		 json_integer_value(json_object_get(f, "id")));
}

static void short_rev(struct html *h, json_t *f)
{
	const char *rev = json_string_value(json_object_get(f, "revision"));
	if (rev)
		html_textn(h, rev, strnlen(rev, 12));
	else
		html_raw(h, "-");
}

/* The recurring flights and when each runs next (none: nothing shown). */
static void schedules_block(struct html *h, sqlite3 *db)
{
	json_t *doc = NULL;
	char err[256];
	if (schedule_list(db, &doc, err, sizeof err) ||
	    !json_array_size(json_object_get(doc, "schedules"))) {
		json_decref(doc);
		return;
	}
	html_raw(
		h,
		"<table class=\"list schedules\"><thead><tr><th>schedule</th><th>kind</th>"
		"<th>repository</th><th>ref</th><th>suites</th><th>when</th><th>next run (UTC)</th>"
		"<th>last flight</th></tr></thead><tbody>\n");
	size_t i, k;
	json_t *s, *v;
	json_array_foreach(json_object_get(doc, "schedules"), i, s)
	{
		html_raw(h, "<tr><td>");
		put_field(h, s, "name");
		html_raw(h, "</td><td>");
		put_field(h, s, "kind");
		html_raw(h, "</td><td class=\"repo\">");
		put_field(h, s, "repo");
		html_raw(h, "</td><td>");
		put_field(h, s, "ref");
		html_raw(h, "</td><td>");
		json_array_foreach(json_object_get(s, "suites"), k, v)
		{
			html_raw(h, k ? ", " : "");
			html_text(h, json_string_value(v));
		}
		html_raw(h, "</td><td>");
		if (json_is_string(json_object_get(s, "at_time"))) {
			html_raw(h, "daily at ");
			put_field(h, s, "at_time");
		} else {
			html_fmt(h, "every %" JSON_INTEGER_FORMAT " s",
				 json_integer_value(json_object_get(s, "every_s")));
		}
		html_raw(h, "</td><td class=\"next-run\">");
		put_time(h, json_object_get(s, "next_run"));
		html_raw(h, "</td><td>");
		json_t *last = json_object_get(s, "last_flight");
		if (json_is_integer(last))
			html_fmt(h,
				 "<a href=\"/flights/%" JSON_INTEGER_FORMAT
				 "\">%" JSON_INTEGER_FORMAT "</a>",
				 json_integer_value(last), json_integer_value(last));
		else
			html_raw(h, "-");
		html_raw(h, "</td></tr>\n");
	}
	html_raw(h, "</tbody></table>\n");
	json_decref(doc);
}

enum MHD_Result status_flights_page(struct http_req *r)
{
	int64_t before, limit;
	enum MHD_Result ret;
	if (http_query_int(r, "limit", 1, MODEL_PAGE_MAX, MODEL_PAGE_DEFAULT, &limit, &ret) < 0 ||
	    http_query_int(r, "before", 1, INT64_MAX, INT64_MAX, &before, &ret) < 0)
		return ret;
	const char *kind = MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, "kind");
	if (kind && !model_kind_valid(kind))
		return page_error(r, 404, "no such flight kind");
	json_t *doc;
	char err[512];
	int rc = model_flights(r->db, kind, before, limit, &doc, err, sizeof err);
	if (rc)
		return page_error(r, rc, err);

	struct html h = { 0 };
	char title[32];
	snprintf(title, sizeof title, "Flights%s%s", kind ? ": " : "", kind ? kind : "");
	page_begin(&h, title, 30);
	html_raw(&h, "<p class=\"filter\">show: <a href=\"/\">all</a>");
	static const char *const kinds[] = { "patch", "branch", "nightly", "gate" };
	for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++)
		html_fmt(&h, " &middot; <a href=\"/?kind=%s\">%s</a>", kinds[k], kinds[k]);
	html_raw(&h, "</p>\n");
	schedules_block(&h, r->db);
	json_t *flights = json_object_get(doc, "flights");
	if (json_array_size(flights) == 0)
		html_raw(&h, "<p>No flights yet. Submit one with <code>xenrt submit</code>.</p>\n");
	else
		html_raw(
			&h,
			"<table class=\"list\"><thead><tr><th>flight</th><th>status</th>"
			"<th>verdict</th><th>kind</th><th>repository</th><th>ref</th><th>revision</th>"
			"<th>jobs</th><th>submitter</th><th>created (UTC)</th></tr></thead>"
			"<tbody>\n");
	size_t i;
	json_t *f;
	json_array_foreach(flights, i, f)
	{
		html_raw(&h, "<tr><td>");
		flight_link(&h, f);
		html_raw(&h, "</td><td>");
		put_status(&h, json_string_value(json_object_get(f, "status")));
		html_raw(&h, "</td><td>");
		put_status(&h, json_string_value(
				       json_object_get(json_object_get(f, "verdict"), "summary")));
		html_raw(&h, "</td><td>");
		put_field(&h, f, "kind");
		html_raw(&h, "</td><td class=\"repo\">");
		put_field(&h, f, "repo");
		html_raw(&h, "</td><td>");
		put_field(&h, f, "ref");
		html_raw(&h, "</td><td><code>");
		short_rev(&h, f);
		html_raw(&h, "</code></td><td>");
		const char *st;
		json_t *n;
		json_object_foreach(json_object_get(f, "jobs"), st, n)
		{
			html_raw(&h, "<span class=\"count ");
			html_raw(&h, status_class(st));
			html_raw(&h, "\">");
			html_fmt(&h, "%" JSON_INTEGER_FORMAT " ", json_integer_value(n));
			html_text(&h, st);
			html_raw(&h, "</span> ");
		}
		html_raw(&h, "</td><td>");
		put_field(&h, f, "submitter");
		html_raw(&h, "</td><td>");
		put_time(&h, json_object_get(f, "created_at"));
		html_raw(&h, "</td></tr>\n");
	}
	if (json_array_size(flights))
		html_raw(&h, "</tbody></table>\n");
	json_t *next = json_object_get(doc, "next_before");
	if (json_is_integer(next))
		html_fmt(&h,
			 "<p class=\"pager\"><a href=\"/?before=%" JSON_INTEGER_FORMAT
			 "&amp;limit=%" PRId64 "%s%s\">older flights</a></p>\n",
			 json_integer_value(next), limit, kind ? "&amp;kind=" : "",
			 kind ? kind : "");
	page_end(&h);
	json_decref(doc);
	return page_send(r, &h);
}

static void verdict_block(struct html *h, json_t *flight)
{
	json_t *v = json_object_get(flight, "verdict");
	html_raw(h, "<p class=\"verdict\">verdict: ");
	put_status(h, json_string_value(json_object_get(v, "summary")));
	html_raw(h, "</p>\n");
	/* A gate flight answers the one question its submitter has. */
	json_t *g = json_object_get(flight, "gate");
	if (json_is_object(g)) {
		const char *d = json_string_value(json_object_get(g, "decision"));
		html_raw(h, "<p class=\"gate gate-");
		html_raw(h, !strcmp(d, "push")      ? "push"
			    : !strcmp(d, "no push") ? "nopush"
			    : !strcmp(d, "rerun")   ? "rerun"
						    : "wait");
		html_raw(h, "\">gate: <strong>");
		html_raw(h, !strcmp(d, "push")      ? "push the branch"
			    : !strcmp(d, "no push") ? "do not push"
			    : !strcmp(d, "rerun")   ? "rerun the flight"
						    : "wait");
		html_raw(h, "</strong> &mdash; ");
		put_field(h, g, "reason");
		html_raw(h, "</p>\n");
	}
	json_t *b = json_object_get(flight, "bisection");
	if (json_is_object(b)) {
		html_raw(h, "<p class=\"bisection\"><a href=\"");
		put_field(h, b, "url");
		html_fmt(h, "\">bisection %" JSON_INTEGER_FORMAT "</a>: ",
			 json_integer_value(json_object_get(b, "id")));
		put_status(h, json_string_value(json_object_get(b, "status")));
		if (json_is_string(json_object_get(b, "message"))) {
			html_raw(h, " &mdash; ");
			put_field(h, b, "message");
		}
		html_raw(h, "</p>\n");
	}
	size_t p;
	json_t *push;
	json_array_foreach(json_object_get(flight, "tested_pushes"), p, push)
	{
		html_raw(h, json_is_true(json_object_get(push, "ok")) ||
					    json_integer_value(json_object_get(push, "ok"))
				    ? "<p class=\"tested\">tested ref: "
				    : "<p class=\"tested failed\">tested ref NOT moved: ");
		put_field(h, push, "message");
		html_raw(h, "</p>\n");
	}
	static const char *const lists[][2] = {
		{ "regressions", "Regressions (passed in the baseline)" },
		{ "failures", "Failures" },
		{ "broken", "Broken (infrastructure)" },
		{ "known", "Known failures (failed in the baseline too)" },
		{ "flaky", "Flaky (passed on retest or in another flight of this revision)" },
	};
	for (size_t i = 0; i < sizeof lists / sizeof lists[0]; i++) {
		json_t *arr = json_object_get(v, lists[i][0]);
		if (!json_array_size(arr))
			continue;
		html_fmt(h, "<details%s><summary>%s: %zu</summary><ul>", i == 0 ? " open" : "",
			 lists[i][1], json_array_size(arr));
		size_t k;
		json_t *s;
		json_array_foreach(arr, k, s)
		{
			html_raw(h, "<li>");
			html_text(h, json_string_value(s));
			html_raw(h, "</li>");
		}
		html_raw(h, "</ul></details>\n");
	}
}

static void flight_facts(struct html *h, json_t *f)
{
	html_raw(h, "<table class=\"facts\">");
	static const char *const keys[] = { "kind", "repo", "ref", "revision", "submitter" };
	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
		html_fmt(h, "<tr><th>%s</th><td>", keys[i]);
		put_field(h, f, keys[i]);
		html_raw(h, "</td></tr>");
	}
	html_raw(h, "<tr><th>status</th><td>");
	put_status(h, json_string_value(json_object_get(f, "status")));
	if (json_integer_value(json_object_get(f, "cancel_requested")))
		html_raw(h, " (cancel requested)");
	html_raw(h, "</td></tr><tr><th>baseline</th><td>");
	json_t *b = json_object_get(f, "baseline_id");
	if (json_is_integer(b))
		html_fmt(h,
			 "<a href=\"/flights/%" JSON_INTEGER_FORMAT "\">%" JSON_INTEGER_FORMAT
			 "</a>",
			 json_integer_value(b), json_integer_value(b));
	else
		html_raw(h, "-");
	html_raw(h, "</td></tr><tr><th>created</th><td>");
	put_time(h, json_object_get(f, "created_at"));
	html_raw(h, "</td></tr><tr><th>duration</th><td>");
	put_duration(h, json_object_get(f, "started_at"), json_object_get(f, "finished_at"));
	html_raw(h, "</td></tr>");
	html_raw(h, "</table>\n");
	if (json_is_string(json_object_get(f, "patch"))) {
		html_raw(h, "<details><summary>patch</summary><pre>");
		put_field(h, f, "patch");
		html_raw(h, "</pre></details>\n");
	}
}

/* What the build produced, by content hash (served by the boot service):
 * folded, since one reads it rarely and a build makes many. */
static void artifacts_block(struct html *h, json_t *f)
{
	json_t *arts = json_object_get(f, "artifacts");
	if (!json_object_size(arts))
		return;
	html_fmt(h, "<details class=\"artifacts\"><summary>artifacts: %zu</summary><ul>",
		 json_object_size(arts));
	const char *role;
	json_t *sha;
	json_object_foreach(arts, role, sha)
	{
		html_raw(h, "<li>");
		html_text(h, role);
		html_raw(h, ": <a href=\"/artifacts/");
		html_text(h, json_string_value(sha));
		html_raw(h, "\"><code>");
		html_textn(h, json_string_value(sha), strnlen(json_string_value(sha), 12));
		html_raw(h, "</code></a></li>");
	}
	html_raw(h, "</ul></details>\n");
}

/* Columns: distinct step names in order of first appearance, as an object
 * name -> column index plus the ordered names. */
static json_t *grid_columns(json_t *jobs, json_t *index)
{
	json_t *names = json_array();
	size_t i, k;
	json_t *job, *step;
	json_array_foreach(jobs, i, job)
	{
		json_array_foreach(json_object_get(job, "steps"), k, step)
		{
			const char *n = json_string_value(json_object_get(step, "name"));
			if (n && !json_object_get(index, n)) {
				json_object_set_new(
					index, n, json_integer((json_int_t)json_array_size(names)));
				json_array_append(names, json_object_get(step, "name"));
			}
		}
	}
	return names;
}

static void grid(struct html *h, json_t *jobs)
{
	json_t *index = json_object();
	json_t *names = grid_columns(jobs, index);
	size_t ncol = json_array_size(names);
	html_raw(h, "<div class=\"gridwrap\"><table class=\"grid\"><thead><tr><th>job</th>"
		    "<th>status</th>");
	size_t i, k;
	json_t *v, *job, *step;
	json_array_foreach(names, i, v)
	{
		html_raw(h, "<th class=\"step\"><span>");
		html_text(h, json_string_value(v));
		html_raw(h, "</span></th>");
	}
	html_raw(h, "</tr></thead><tbody>\n");
	json_t **cells = calloc(ncol ? ncol : 1, sizeof *cells);
	json_array_foreach(jobs, i, job)
	{
		html_fmt(h, "<tr><th><a href=\"/jobs/%" JSON_INTEGER_FORMAT "\">",
			 json_integer_value(json_object_get(job, "id")));
		put_field(h, job, "name");
		html_raw(h, "</a>");
		json_int_t attempt = json_integer_value(json_object_get(job, "attempt"));
		if (attempt > 1)
			html_fmt(h, " <small>attempt %" JSON_INTEGER_FORMAT "</small>", attempt);
		html_raw(h, "</th><td>");
		put_status(h, json_string_value(json_object_get(job, "status")));
		html_raw(h, "</td>");
		if (cells) {
			memset(cells, 0, (ncol ? ncol : 1) * sizeof *cells);
			json_array_foreach(json_object_get(job, "steps"), k, step)
			{
				json_t *col = json_object_get(
					index, json_string_value(json_object_get(step, "name")));
				if (col)
					cells[json_integer_value(col)] = step;
			}
		}
		for (size_t c = 0; c < ncol; c++) {
			step = cells ? cells[c] : NULL;
			if (!step) {
				html_raw(h, "<td class=\"none\"></td>");
				continue;
			}
			const char *st = json_string_value(json_object_get(step, "status"));
			html_raw(h, "<td class=\"cell ");
			html_raw(h, status_class(st));
			html_raw(h, "\"><a href=\"");
			if (json_is_string(json_object_get(step, "log_url")))
				put_field(h, step, "log_url");
			else
				html_fmt(h, "/jobs/%" JSON_INTEGER_FORMAT,
					 json_integer_value(json_object_get(job, "id")));
			html_raw(h, "\" title=\"");
			put_field(h, step, "name");
			html_raw(h, ": ");
			html_text(h, st);
			if (json_is_string(json_object_get(step, "message"))) {
				html_raw(h, " - ");
				put_field(h, step, "message");
			}
			json_t *rate =
				json_object_get(json_object_get(job, "flake_rates"),
						json_string_value(json_object_get(step, "name")));
			json_int_t flaky = json_integer_value(json_object_get(rate, "flaky"));
			if (rate)
				html_fmt(h,
					 " (flaky %" JSON_INTEGER_FORMAT " of %" JSON_INTEGER_FORMAT
					 " runs)",
					 flaky, json_integer_value(json_object_get(rate, "runs")));
			html_raw(h, "\">");
			html_text(h, st);
			if (flaky)
				html_fmt(h,
					 " <small class=\"flake\">flaky %" JSON_INTEGER_FORMAT
					 "/%" JSON_INTEGER_FORMAT "</small>",
					 flaky, json_integer_value(json_object_get(rate, "runs")));
			html_raw(h, "</a></td>");
		}
		html_raw(h, "</tr>\n");
	}
	free(cells);
	html_raw(h, "</tbody></table></div>\n");
	json_decref(names);
	json_decref(index);
}

enum MHD_Result status_flight_page(struct http_req *r)
{
	json_t *f;
	char err[512];
	int rc = model_flight(r->db, r->ids[0], &f, err, sizeof err);
	if (rc)
		return page_error(r, rc, err);
	char title[64];
	snprintf(title, sizeof title, "Flight %" PRId64, r->ids[0]);
	struct html h = { 0 };
	const char *st = json_string_value(json_object_get(f, "status"));
	bool live = st && (!strcmp(st, "queued") || !strcmp(st, "running"));
	page_begin(&h, title, live ? 10 : 0);
	/* What users come for first: the verdict and the grid; the facts
	 * and artifacts below. */
	verdict_block(&h, f);
	grid(&h, json_object_get(f, "jobs"));
	html_raw(&h, "<h2>Flight</h2>\n");
	flight_facts(&h, f);
	artifacts_block(&h, f);
	html_fmt(&h, "<p class=\"api\"><a href=\"/api/flights/%" PRId64 "\">as JSON</a>",
		 r->ids[0]);
	if (live)
		html_fmt(&h, " &middot; cancel: <code>xenrt cancel %" PRId64 "</code>", r->ids[0]);
	html_raw(&h, "</p>\n");
	page_end(&h);
	json_decref(f);
	return page_send(r, &h);
}
