/* test_status.c: the status pages, served by a real daemon: every string
 * from the database is HTML-escaped, the grid links each cell to its log,
 * the verdict compares with the baseline, a gate flight says whether to
 * push (and the flights list agrees), console tails lose their terminal escapes, pages are paged, and
 * unknown ids give an HTML 404. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "test_api_harness.h"

#define XSS "<script>alert(1)</script>"
#define SHA "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static void exec(struct harness *h, const char *sql)
{
	char err[512];
	int rc = db_exec(h->db, sql, err, sizeof err);
	if (rc != SQLITE_OK)
		fprintf(stderr, "# %s\n", err);
	assert_int_equal(rc, SQLITE_OK);
}

static struct response page(struct harness *h, const char *path, long status)
{
	struct response r = request(h, "GET", path, NULL, AUTH_NONE, NULL, 0);
	if (r.status != status)
		fprintf(stderr, "# GET %s -> %ld\n", path, r.status);
	assert_int_equal(r.status, status);
	return r;
}

/* Hostile strings everywhere a page prints database text. */
static void hostile_flight(struct harness *h)
{
	exec(h,
	     "INSERT INTO flights(id, kind, repo, ref, revision, patch, submitter, created_at, "
	     "status) VALUES (1, 'branch', '" XSS "', '\"><img src=x onerror=alert(2)>', "
	     "'<b>rev</b>', '<iframe>', '<u>who</u>', 100, 'fail');"
	     "INSERT INTO jobs(id, flight_id, name, suite, status, log_dir) VALUES "
	     "(1, 1, '<i>job</i>', 'smoke', 'fail', '1/1/1');"
	     "INSERT INTO runvars VALUES (1, 'k', '<marquee>');"
	     "INSERT INTO steps(job_id, seq, name, status, started_at, finished_at, log, message) "
	     "VALUES (1, 1, '<svg onload=alert(3)>', 'fail', 1, 2, 'console-host0.log', "
	     "'<blink>why</blink>');"
	     "INSERT INTO metrics(step_id, name, value, unit) VALUES (1, '<em>m</em>', 1, '<s>');"
	     "INSERT INTO host_events(host_id, at, old_state, new_state, job_id, reason) VALUES "
	     "(1, 5, 'idle', 'broken', 1, '<h1>boom</h1>');");
	char path[256];
	snprintf(path, sizeof path,
		 "mkdir -p '%s/logs/1/1/1' && printf '%s\\n' > "
		 "'%s/logs/1/1/1/console-host0.log'",
		 h->dir, "<script>console()</script>", h->dir);
	assert_int_equal(system(path), 0);
}

static void assert_no_raw_markup(const char *body)
{
	static const char *const raw[] = { "<script>", "<img",   "<b>rev",   "<iframe",
					   "<u>",      "<i>job", "<marquee", "<svg",
					   "<blink",   "<em>",   "<s>",      "<h1>boom" };
	for (size_t i = 0; i < sizeof raw / sizeof raw[0]; i++) {
		if (strstr(body, raw[i]))
			fprintf(stderr, "# raw '%s' in page\n", raw[i]);
		assert_null(strstr(body, raw[i]));
	}
}

static void every_page_escapes_database_strings(void **state)
{
	struct harness *h = *state;
	hostile_flight(h);
	char *before = snapshot(h->db);
	static const char *const pages[] = { "/", "/flights/1", "/jobs/1", "/hosts", "/hosts/1" };
	for (size_t i = 0; i < sizeof pages / sizeof pages[0]; i++) {
		struct response r = page(h, pages[i], 200);
		assert_no_raw_markup(r.body);
		assert_non_null(strstr(r.body, "<!DOCTYPE html>"));
		free(r.body);
	}
	struct response r = page(h, "/", 200);
	assert_non_null(strstr(r.body, "&lt;script&gt;alert(1)&lt;/script&gt;"));
	free(r.body);
	r = page(h, "/flights/1", 200);
	assert_non_null(strstr(r.body, "&quot;&gt;&lt;img src=x onerror=alert(2)&gt;"));
	free(r.body);
	r = page(h, "/jobs/1", 200);
	assert_non_null(strstr(r.body, "&lt;script&gt;console()&lt;/script&gt;"));
	assert_non_null(strstr(r.body, "&lt;em&gt;m&lt;/em&gt;"));
	free(r.body);
	r = page(h, "/hosts", 200);
	assert_non_null(strstr(r.body, "&lt;h1&gt;boom&lt;/h1&gt;"));
	free(r.body);
	/* Reading pages writes nothing. */
	char *after = snapshot(h->db);
	assert_string_equal(before, after);
	free(before);
	free(after);
}

static void grid_links_cells_to_logs_with_status_colours(void **state)
{
	struct harness *h = *state;
	exec(h,
	     "INSERT INTO flights(id, kind, repo, ref, submitter, created_at, status) VALUES "
	     "(1, 'branch', '/r', 'm', 't', 1, 'fail');"
	     "INSERT INTO jobs(id, flight_id, name, suite, status, attempt) VALUES "
	     "(1, 1, 'build', 'build', 'pass', 1), (2, 1, 'smoke', 'smoke', 'fail', 2);"
	     "INSERT INTO steps(job_id, attempt, seq, name, status, started_at, log) VALUES "
	     "(1, 1, 1, 'compile', 'pass', 1, 'build.log'), "
	     "(2, 1, 1, 'boot', 'broken', 1, 'console-host0.log'), "
	     "(2, 2, 2, 'boot', 'pass', 1, 'console-host0.log'), (2, 2, 3, 'guests', 'fail', 1, NULL);");
	exec(h, "INSERT INTO artifacts VALUES ('" SHA "', 10, 1);"
		"INSERT INTO flight_artifacts VALUES (1, 'hypervisor', '" SHA "');");
	struct response r = page(h, "/flights/1", 200);
	assert_non_null(
		strstr(r.body, "hypervisor: <a href=\"/artifacts/" SHA "\"><code>0123456789ab"));
	/* The grid comes right after the verdict; facts and artifacts below it. */
	const char *grid = strstr(r.body, "<table class=\"grid\"");
	assert_non_null(grid);
	assert_true(strstr(r.body, "verdict: ") < grid);
	assert_true(grid < strstr(r.body, "<table class=\"facts\""));
	assert_true(grid < strstr(r.body, "<details class=\"artifacts\">"));
	assert_non_null(
		strstr(r.body, "<td class=\"cell st-pass\"><a href=\"/logs/1/1/build.log\""));
	/* The retry's step replaces the broken first attempt in the grid. */
	assert_non_null(strstr(
		r.body, "<td class=\"cell st-pass\"><a href=\"/logs/2/2/console-host0.log\""));
	assert_null(strstr(r.body, "/logs/2/1/console-host0.log"));
	/* A step without a log links to its job page. */
	assert_non_null(strstr(r.body, "<td class=\"cell st-fail\"><a href=\"/jobs/2\""));
	assert_non_null(strstr(r.body, "attempt 2"));
	assert_non_null(strstr(r.body, "verdict: <span class=\"st st-fail\">fail</span>"));
	free(r.body);
	/* The job page keeps the first attempt's step and its own log link. */
	r = page(h, "/jobs/2", 200);
	assert_non_null(strstr(r.body, "href=\"/logs/2/1/console-host0.log\""));
	free(r.body);
	/* The broken first attempt is history: not part of the verdict. */
	json_t *f = get_json(h, "/api/flights/1", 200);
	assert_int_equal(json_array_size(json_object_get(json_object_get(f, "verdict"), "broken")),
			 0);
	json_decref(f);
}

static void verdict_separates_regressions_from_known_failures(void **state)
{
	struct harness *h = *state;
	exec(h,
	     "INSERT INTO flights(id, kind, repo, ref, revision, submitter, created_at, status) "
	     "VALUES (1, 'branch', '/r', 'm', 'aaa', 't', 1, 'pass'), "
	     "(2, 'gate', '/r', 'm', 'bbb', 't', 2, 'fail');"
	     "UPDATE flights SET baseline_id = 1 WHERE id = 2;"
	     "INSERT INTO jobs(id, flight_id, name, suite, status) VALUES "
	     "(1, 1, 'smoke', 'smoke', 'fail'), (2, 2, 'smoke', 'smoke', 'fail');"
	     "INSERT INTO steps(job_id, seq, name, status, started_at) VALUES "
	     "(1, 1, 'boot', 'pass', 1), (1, 2, 'old-bug', 'fail', 1), "
	     "(2, 1, 'boot', 'fail', 1), (2, 2, 'old-bug', 'fail', 1), (2, 3, 'net', 'broken', 1);");
	json_t *f = get_json(h, "/api/flights/2", 200);
	json_t *v = json_object_get(f, "verdict");
	assert_string_equal(json_string_value(json_object_get(v, "summary")), "regression");
	assert_string_equal(json_string_value(json_array_get(json_object_get(v, "regressions"), 0)),
			    "smoke/boot");
	assert_string_equal(json_string_value(json_array_get(json_object_get(v, "known"), 0)),
			    "smoke/old-bug");
	assert_string_equal(json_string_value(json_array_get(json_object_get(v, "broken"), 0)),
			    "smoke/net");
	json_decref(f);
	struct response r = page(h, "/flights/2", 200);
	assert_non_null(strstr(r.body, "Regressions (passed in the baseline)"));
	free(r.body);

	/* The same step passing in another flight of bbb makes it flaky, not a regression. */
	exec(h,
	     "INSERT INTO flights(id, kind, repo, ref, revision, submitter, created_at, status) "
	     "VALUES (3, 'branch', '/r', 'm', 'bbb', 't', 3, 'pass');"
	     "INSERT INTO jobs(id, flight_id, name, suite, status) VALUES (3, 3, 'smoke', 'smoke', 'pass');"
	     "INSERT INTO steps(job_id, seq, name, status, started_at) VALUES (3, 1, 'boot', 'pass', 1);");
	f = get_json(h, "/api/flights/2", 200);
	v = json_object_get(f, "verdict");
	assert_string_equal(json_string_value(json_object_get(v, "summary")), "broken");
	assert_string_equal(json_string_value(json_array_get(json_object_get(v, "flaky"), 0)),
			    "smoke/boot");
	json_decref(f);
}

static void flights_list_is_paged(void **state)
{
	struct harness *h = *state;
	exec(h, "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 120) "
		"INSERT INTO flights(id, kind, repo, ref, submitter, created_at) "
		"SELECT i, 'nightly', '/r', 'm', 't', i FROM n;");
	struct response r = page(h, "/", 200);
	assert_non_null(strstr(r.body, "<a href=\"/flights/120\">120</a>"));
	assert_null(strstr(r.body, "<a href=\"/flights/70\">70</a>"));
	assert_non_null(strstr(r.body, "href=\"/?before=71&amp;limit=50\""));
	free(r.body);
	r = page(h, "/?before=71&limit=50", 200);
	assert_non_null(strstr(r.body, "<a href=\"/flights/70\">70</a>"));
	free(r.body);
	r = page(h, "/?limit=nope", 400);
	free(r.body);
	/* Filtered by kind, paging keeps the filter. */
	exec(h, "UPDATE flights SET kind = 'gate' WHERE id % 10 = 0");
	r = page(h, "/?kind=gate&limit=5", 200);
	assert_non_null(strstr(r.body, "<a href=\"/flights/120\">120</a>"));
	assert_non_null(strstr(r.body, "<a href=\"/flights/80\">80</a>"));
	assert_null(strstr(r.body, "<a href=\"/flights/119\">"));
	assert_non_null(strstr(r.body, "href=\"/?before=80&amp;limit=5&amp;kind=gate\""));
	free(r.body);
	r = page(h, "/?kind=<script>", 404);
	assert_null(strstr(r.body, "<script>"));
	free(r.body);
	/* A host's history pages the same way. */
	exec(h, "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 60) "
		"INSERT INTO host_events(host_id, at, old_state, new_state, reason) "
		"SELECT 1, i, 'idle', 'reserved', 'event ' || i FROM n;");
	r = page(h, "/hosts/1", 200);
	assert_non_null(strstr(r.body, "event 60<"));
	assert_null(strstr(r.body, "event 10<"));
	assert_non_null(strstr(r.body, "href=\"/hosts/1?before="));
	free(r.body);
}

static void unknown_ids_give_html_404(void **state)
{
	struct harness *h = *state;
	struct response r = page(h, "/flights/77", 404);
	assert_non_null(strstr(r.body, "no flight 77"));
	assert_non_null(strstr(r.body, "<!DOCTYPE html>"));
	free(r.body);
	r = page(h, "/jobs/77", 404);
	free(r.body);
	r = page(h, "/hosts/77", 404);
	assert_non_null(strstr(r.body, "no host 77"));
	free(r.body);
}

static void trends_plot_metrics_as_escaped_svg(void **state)
{
	struct harness *h = *state;
	exec(h,
	     "INSERT INTO flights(id, kind, repo, ref, submitter, created_at, status) VALUES "
	     "(1, 'nightly', '/r', 'm', 't', 1, 'pass'), (2, 'nightly', '/r', 'm', 't', 2, 'pass');"
	     "INSERT INTO jobs(id, flight_id, name, suite, status) VALUES "
	     "(1, 1, 'smoke', 'smoke', 'pass'), (2, 2, 'smoke', 'smoke', 'pass');"
	     "INSERT INTO steps(id, job_id, seq, name, status, started_at) VALUES "
	     "(1, 1, 1, 'boot', 'pass', 1), (2, 2, 1, 'boot', 'pass', 1);"
	     "INSERT INTO metrics(step_id, name, value, unit) VALUES "
	     "(1, 'boot<script>&x', 2.5, 's'), (2, 'boot<script>&x', 3.5, 's'),"
	     "(1, 'exit_cost', 15, 'us');");
	struct response r = page(h, "/trends", 200);
	assert_non_null(strstr(r.body, "href=\"/trends?metric=boot%3Cscript%3E%26x\""));
	assert_non_null(strstr(r.body, "boot&lt;script&gt;&amp;x"));
	assert_non_null(strstr(r.body, "exit_cost"));
	assert_null(strstr(r.body, "<script>"));
	free(r.body);
	r = page(h, "/trends?metric=boot%3Cscript%3E%26x", 200);
	assert_non_null(strstr(r.body, "<svg class=\"plot\""));
	assert_non_null(strstr(r.body, "<polyline"));
	/* Oldest flight left, newest right, each point linked to its flight. */
	assert_non_null(strstr(r.body, "<a href=\"/flights/1\"><circle cx=\"50.0\""));
	assert_non_null(strstr(r.body, "<a href=\"/flights/2\"><circle cx=\"750.0\""));
	assert_non_null(strstr(r.body, "flight 2 smoke/boot: 3.5 s"));
	assert_null(strstr(r.body, "<script>"));
	free(r.body);
	r = page(h, "/trends?metric=nothing", 200);
	assert_non_null(strstr(r.body, "No values for this metric."));
	free(r.body);
	/* The same data over the API, newest first. */
	json_t *doc = get_json(h, "/api/metrics?name=exit_cost", 200);
	json_t *p = json_array_get(json_object_get(doc, "points"), 0);
	assert_int_equal(json_integer_value(json_object_get(p, "flight_id")), 1);
	assert_string_equal(json_string_value(json_object_get(p, "unit")), "us");
	json_decref(doc);
	doc = get_json(h, "/api/metrics", 200);
	assert_int_equal(json_array_size(json_object_get(doc, "metrics")), 3);
	json_decref(doc);
}

/* Every finished flight's submission-to-verdict time is a metric, one
 * series per kind, on the trends page; unfinished, cancelled and bisection
 * probe flights have none. */
static void verdict_latency_is_a_metric(void **state)
{
	struct harness *h = *state;
	exec(h,
	     "INSERT INTO flights(id, kind, repo, ref, submitter, created_at, finished_at, status) "
	     "VALUES (1, 'gate', '/r', 'm', 't', 100, 130, 'pass'),"
	     "(2, 'gate', '/r', 'm', 't', 200, 212.5, 'fail'),"
	     "(3, 'nightly', '/r', 'm', 't', 300, 400, 'pass'),"
	     "(4, 'gate', '/r', 'm', 't', 400, NULL, 'running'),"
	     "(5, 'gate', '/r', 'm', 't', 500, 501, 'cancelled');");
	json_t *doc = get_json(h, "/api/metrics", 200);
	json_t *names = json_object_get(doc, "metrics");
	assert_string_equal(json_string_value(json_array_get(names, json_array_size(names) - 1)),
			    "verdict_latency_s");
	json_decref(doc);
	doc = get_json(h, "/api/metrics?name=verdict_latency_s", 200);
	json_t *pts = json_object_get(doc, "points");
	assert_int_equal(json_array_size(pts), 3);
	json_t *p = json_array_get(pts, 1);
	assert_int_equal(json_integer_value(json_object_get(p, "flight_id")), 2);
	assert_string_equal(json_string_value(json_object_get(p, "job")), "gate");
	assert_true(json_real_value(json_object_get(p, "value")) == 12.5);
	json_decref(doc);
	struct response r = page(h, "/trends?metric=verdict_latency_s", 200);
	assert_non_null(strstr(r.body, "flight 2 gate/submission-to-verdict: 12.5 s"));
	free(r.body);
}

static void running_flights_refresh_themselves(void **state)
{
	struct harness *h = *state;
	exec(h,
	     "INSERT INTO flights(id, kind, repo, ref, submitter, created_at, status) VALUES "
	     "(1, 'branch', '/r', 'm', 't', 1, 'running'), (2, 'branch', '/r', 'm', 't', 2, 'pass');");
	struct response r = page(h, "/flights/1", 200);
	assert_non_null(strstr(r.body, "<meta http-equiv=\"refresh\" content=\"10\">"));
	free(r.body);
	r = page(h, "/flights/2", 200);
	assert_null(strstr(r.body, "http-equiv=\"refresh\""));
	free(r.body);
}

/* Firmware paints the console with terminal control sequences; the page
 * shows the text without them, the raw log keeps every byte. */
static void console_tail_drops_terminal_escapes(void **state)
{
	struct harness *h = *state;
	exec(h,
	     "INSERT INTO flights(id, kind, repo, ref, submitter, created_at, status) VALUES "
	     "(1, 'branch', '/r', 'm', 't', 1, 'pass');"
	     "INSERT INTO jobs(id, flight_id, name, suite, status) VALUES (1, 1, 'smoke', 'smoke', 'pass');");
	static const char raw[] =
		"\033c\033[?7l\033[2J\033[0mSeaBIOS (version 1.16)\r\n"
		"\033]0;title\007\033[1miPXE\033[0m initialising...\rok\r\n\033(Bx\ty<b>\x7f\bz\n\033[1";
	char path[256];
	snprintf(path, sizeof path, "%s/logs/1/1/1", h->dir);
	fx_sh("mkdir -p '%s'", path);
	snprintf(path, sizeof path, "%s/logs/1/1/1/console-host0.log", h->dir);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(raw, 1, sizeof raw - 1, f), sizeof raw - 1);
	assert_int_equal(fclose(f), 0);
	struct response r = page(h, "/jobs/1", 200);
	assert_non_null(strstr(r.body, "<pre class=\"console\">SeaBIOS (version 1.16)\n"
				       "iPXE initialising...\nok\nx\ty&lt;b&gt;z\n</pre>"));
	for (const char *c = r.body; *c; c++)
		if ((unsigned char)*c < 0x20 && *c != '\n' && *c != '\t')
			fail_msg("control byte 0x%02x in the page", (unsigned char)*c);
	free(r.body);
	r = page(h, "/logs/1/1/console-host0.log", 200);
	assert_int_equal(r.len, sizeof raw - 1);
	assert_memory_equal(r.body, raw, sizeof raw - 1);
	free(r.body);
}

/* A gate flight says whether the branch may be pushed and why, in the API
 * and on its page; other kinds have no gate. */
static void gate_says_push_or_not_and_why(void **state)
{
	struct harness *h = *state;
	exec(h,
	     "INSERT INTO flights(id, kind, repo, ref, revision, submitter, created_at, status) "
	     "VALUES (1, 'branch', '/r', 'm', 'aaa', 't', 1, 'pass'), "
	     "(2, 'gate', '/r', 'm', 'bbb', 't', 2, 'fail'), (3, 'gate', '/r', 'm', 'ccc', 't', 3, 'fail'), "
	     "(4, 'gate', '/r', 'm', 'ddd', 't', 4, 'broken'), (5, 'gate', '/r', 'm', 'eee', 't', 5, 'pass'), "
	     "(6, 'gate', '/r', 'm', 'fff', 't', 6, 'running'), (7, 'gate', '/r', 'm', 'ggg', 't', 7, 'fail');"
	     "UPDATE flights SET baseline_id = 1 WHERE id BETWEEN 2 AND 6;"
	     "INSERT INTO jobs(id, flight_id, name, suite, status) VALUES "
	     "(1, 1, 'smoke', 'smoke', 'fail'), (2, 2, 'smoke', 'smoke', 'fail'), "
	     "(3, 3, 'smoke', 'smoke', 'fail'), (4, 4, 'smoke', 'smoke', 'broken'), "
	     "(5, 5, 'smoke', 'smoke', 'pass'), (6, 6, 'smoke', 'smoke', 'running'), "
	     "(7, 7, 'smoke', 'smoke', 'fail');"
	     "INSERT INTO steps(job_id, seq, name, status, started_at) VALUES "
	     "(1, 1, 'boot', 'pass', 1), (1, 2, 'old-bug', 'fail', 1), "
	     "(2, 1, 'boot', 'fail', 1), (2, 2, 'old-bug', 'fail', 1), "
	     "(3, 1, 'boot', 'pass', 1), (3, 2, 'old-bug', 'fail', 1), "
	     "(4, 1, 'boot', 'broken', 1), (5, 1, 'boot', 'pass', 1), (6, 1, 'boot', 'running', 1), "
	     "(7, 1, 'boot', 'fail', 1);");
	static const struct {
		int flight;
		int push; /* 1 true, 0 false, -1 null */
		const char *decision, *reason, *page;
	} want[] = {
		{ 2, 0, "no push",
		  "regressed against baseline flight 1 (passed there, fails here): smoke/boot",
		  "<p class=\"gate gate-nopush\">gate: <strong>do not push</strong>" },
		{ 3, 1, "push",
		  "no regression against baseline flight 1; only known or flaky failures: "
		  "smoke/old-bug",
		  "<p class=\"gate gate-push\">gate: <strong>push the branch</strong>" },
		{ 4, 0, "rerun",
		  "the farm broke, the code was not judged; rerun the flight: smoke/boot",
		  "<p class=\"gate gate-rerun\">gate: <strong>rerun the flight</strong>" },
		{ 5, 1, "push", "every step passed (compared with baseline flight 1)",
		  "<p class=\"gate gate-push\">" },
		{ 6, -1, "wait", "the flight is still running", "<p class=\"gate gate-wait\">" },
		{ 7, 0, "no push", "failed, and there is no baseline to compare with: smoke/boot",
		  "<p class=\"gate gate-nopush\">" },
	};
	for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
		char path[64];
		snprintf(path, sizeof path, "/api/flights/%d", want[i].flight);
		json_t *f = get_json(h, path, 200);
		json_t *g = json_object_get(f, "gate");
		assert_true(json_is_object(g));
		json_t *push = json_object_get(g, "push");
		assert_true(want[i].push < 0
				    ? json_is_null(push)
				    : json_is_boolean(push) && json_is_true(push) == want[i].push);
		assert_string_equal(json_string_value(json_object_get(g, "decision")),
				    want[i].decision);
		assert_string_equal(json_string_value(json_object_get(g, "reason")),
				    want[i].reason);
		json_decref(f);
		snprintf(path, sizeof path, "/flights/%d", want[i].flight);
		struct response r = page(h, path, 200);
		assert_non_null(strstr(r.body, want[i].page));
		assert_non_null(strstr(r.body, want[i].reason));
		free(r.body);
	}
	json_t *f = get_json(h, "/api/flights/1", 200);
	assert_true(json_is_null(json_object_get(f, "gate")));
	json_decref(f);
	struct response r = page(h, "/flights/1", 200);
	assert_null(strstr(r.body, "gate:"));
	free(r.body);
}

/* The flights list gives every flight the verdict and gate answer its own
 * page gives (the one `xenrt submit --wait` exits by), beside its status. */
static void flights_list_shows_each_verdict(void **state)
{
	struct harness *h = *state;
	exec(h,
	     "INSERT INTO flights(id, kind, repo, ref, revision, submitter, created_at, status) "
	     "VALUES (1, 'branch', '/r', 'm', 'aaa', 't', 1, 'pass'), "
	     "(2, 'gate', '/r', 'm', 'bbb', 't', 2, 'fail'), (3, 'patch', '/r', 'm', 'ccc', 't', 3, 'fail'), "
	     "(4, 'nightly', '/r', 'm', 'ddd', 't', 4, 'broken'), (5, 'branch', '/r', 'm', 'bbb', 't', 5, 'pass'), "
	     "(6, 'gate', '/r', 'm', 'fff', 't', 6, 'running'), (7, 'branch', '/r', 'm', NULL, 't', 7, 'fail');"
	     "UPDATE flights SET baseline_id = 1 WHERE id BETWEEN 2 AND 6;"
	     "INSERT INTO jobs(id, flight_id, name, suite, status, attempt) VALUES "
	     "(1, 1, 'smoke', 'smoke', 'fail', 1), (2, 2, 'smoke', 'smoke', 'fail', 1), "
	     "(3, 3, 'smoke', 'smoke', 'fail', 1), (4, 4, 'smoke', 'smoke', 'broken', 1), "
	     "(5, 5, 'smoke', 'smoke', 'pass', 1), (6, 6, 'smoke', 'smoke', 'running', 1), "
	     "(7, 7, 'smoke', 'smoke', 'fail', 2);"
	     "INSERT INTO steps(job_id, seq, name, status, started_at, attempt) VALUES "
	     "(1, 1, 'boot', 'pass', 1, 1), (1, 2, 'old-bug', 'fail', 1, 1), "
	     "(2, 1, 'boot', 'fail', 1, 1), (2, 2, 'net', 'fail', 1, 1), "
	     "(3, 1, 'boot', 'pass', 1, 1), (3, 2, 'old-bug', 'fail', 1, 1), "
	     "(4, 1, 'boot', 'broken', 1, 1), (5, 1, 'net', 'pass', 1, 1), (6, 1, 'boot', 'fail', 1, 1), "
	     "(7, 1, 'boot', 'broken', 1, 1), (7, 2, 'boot', 'fail', 1, 2);");
	static const char *const want[] = { NULL,     "fail", "regression", "tolerable",
					    "broken", "pass", "pending",    "fail" };
	json_t *list = get_json(h, "/api/flights", 200);
	json_t *flights = json_object_get(list, "flights");
	assert_int_equal(json_array_size(flights), 7);
	size_t i;
	json_t *lf;
	json_array_foreach(flights, i, lf)
	{
		json_int_t id = json_integer_value(json_object_get(lf, "id"));
		char path[64];
		snprintf(path, sizeof path, "/api/flights/%" JSON_INTEGER_FORMAT, id);
		json_t *one = get_json(h, path, 200);
		assert_string_equal(json_string_value(json_object_get(
					    json_object_get(lf, "verdict"), "summary")),
				    want[id]);
		assert_true(json_equal(json_object_get(lf, "verdict"),
				       json_object_get(one, "verdict")));
		assert_true(json_equal(json_object_get(lf, "gate"), json_object_get(one, "gate")));
		json_decref(one);
	}
	/* Flight 2's net step passed in flight 5 of the same revision: flaky. */
	json_t *v2 = json_object_get(json_array_get(flights, 5), "verdict");
	assert_string_equal(json_string_value(json_array_get(json_object_get(v2, "flaky"), 0)),
			    "smoke/net");
	json_decref(list);
	struct response r = page(h, "/", 200);
	assert_non_null(strstr(r.body, "<th>status</th><th>verdict</th>"));
	assert_non_null(strstr(r.body,
			       "<a href=\"/flights/2\">2</a></td><td><span class=\"st st-fail\">"
			       "fail</span></td><td><span class=\"st st-fail\">regression</span>"));
	assert_non_null(strstr(
		r.body, "<a href=\"/flights/3\">3</a></td><td><span class=\"st st-fail\">"
			"fail</span></td><td><span class=\"st st-tolerable\">tolerable</span>"));
	free(r.body);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, harness_up, harness_down)

int main(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
	const struct CMUnitTest tests[] = {
		T(every_page_escapes_database_strings),
		T(grid_links_cells_to_logs_with_status_colours),
		T(verdict_separates_regressions_from_known_failures),
		T(flights_list_is_paged),
		T(unknown_ids_give_html_404),
		T(trends_plot_metrics_as_escaped_svg),
		T(verdict_latency_is_a_metric),
		T(running_flights_refresh_themselves),
		T(console_tail_drops_terminal_escapes),
		T(gate_says_push_or_not_and_why),
		T(flights_list_shows_each_verdict),
	};
	int rc = cmocka_run_group_tests_name("status", tests, NULL, NULL);
	curl_global_cleanup();
	return rc;
}
