/* test_api.c: the REST API against a real libmicrohttpd on a loopback port
 * and a temporary SQLite file, with libcurl as the client.  Every rejected
 * request must get the right 4xx with a JSON error AND leave every table
 * exactly as it was. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <pthread.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "hostpool.h"
#include "job_suite.h"
#include "test_api_harness.h"

#define GOOD_BODY "{\"repo\": \"/src/kiln\", \"ref\": \"main\", \"suites\": [\"smoke\"]}"

/* Sends a request that must be rejected with `status` and an error message
 * containing `needle`, and checks nothing changed in the database. */
static void rejected(struct harness *h, const char *method, const char *path, const char *body,
		     int auth, const char *authz, size_t chunked, long status, const char *needle)
{
	char *before = snapshot(h->db);
	int kicks = atomic_load(&h->kicks);
	struct response r = request(h, method, path, body, auth, authz, chunked);
	if (r.status != status)
		fprintf(stderr, "# %s %s -> %ld %s\n", method, path, r.status, r.body);
	assert_int_equal(r.status, status);
	json_t *j = parse(&r);
	const char *msg = json_string_value(json_object_get(j, "error"));
	assert_non_null(msg);
	if (needle && !strstr(msg, needle))
		fprintf(stderr, "# error '%s' lacks '%s'\n", msg, needle);
	if (needle)
		assert_non_null(strstr(msg, needle));
	char *after = snapshot(h->db);
	assert_non_null(before);
	assert_non_null(after);
	assert_string_equal(before, after);
	assert_int_equal(atomic_load(&h->kicks), kicks);
	json_decref(j);
	free(r.body);
	free(before);
	free(after);
}

/* GETs a path that tries to read outside what it may serve: it must be
 * refused with 400 or 404 (which one depends on where the name is caught),
 * never show /etc/passwd, and change nothing in the database. */
static void traversal_refused(struct harness *h, const char *path)
{
	char *before = snapshot(h->db);
	struct response r = request(h, "GET", path, NULL, AUTH_NONE, NULL, 0);
	if (r.status != 400 && r.status != 404)
		fprintf(stderr, "# %s -> %ld\n", path, r.status);
	assert_true(r.status == 400 || r.status == 404);
	assert_null(strstr(r.body, "root:"));
	char *after = snapshot(h->db);
	assert_string_equal(before, after);
	free(before);
	free(after);
	free(r.body);
}

static long long submit(struct harness *h, const char *body)
{
	struct response r = request(h, "POST", "/api/flights", body, AUTH_GOOD, NULL, 0);
	if (r.status != 201)
		fprintf(stderr, "# submit -> %ld %s\n", r.status, r.body);
	assert_int_equal(r.status, 201);
	json_t *j = parse(&r);
	long long id = json_integer_value(json_object_get(j, "id"));
	assert_true(id > 0);
	json_decref(j);
	free(r.body);
	return id;
}

static void submit_creates_flight_build_and_suite_jobs(void **state)
{
	struct harness *h = *state;
	long long id = submit(h, "{\"repo\": \"/src/kiln\", \"ref\": \"main\", \"suites\": "
				 "[\"smoke\", \"smoke-2host\"], \"runvars\": {\"cpu\": \"max\"}}");
	assert_int_equal(atomic_load(&h->kicks), 1);
	char path[64];
	snprintf(path, sizeof path, "/api/flights/%lld", id);
	json_t *f = get_json(h, path, 200);
	assert_string_equal(json_string_value(json_object_get(f, "status")), "queued");
	assert_string_equal(json_string_value(json_object_get(f, "kind")), "branch");
	assert_string_equal(json_string_value(json_object_get(f, "submitter")), "tester");
	json_t *jobs = json_object_get(f, "jobs");
	assert_int_equal(json_array_size(jobs), 3);
	json_t *build = json_array_get(jobs, 0), *two = json_array_get(jobs, 2);
	assert_string_equal(json_string_value(json_object_get(build, "name")), "build");
	assert_int_equal(json_integer_value(json_object_get(build, "hosts_needed")), 0);
	assert_true(json_is_null(json_object_get(build, "depends_on")));
	assert_string_equal(json_string_value(json_object_get(two, "suite")), "smoke-2host");
	assert_int_equal(json_integer_value(json_object_get(two, "hosts_needed")), 2);
	assert_int_equal(json_integer_value(json_object_get(two, "depends_on")),
			 json_integer_value(json_object_get(build, "id")));
	assert_string_equal(
		json_string_value(json_object_get(json_object_get(two, "runvars"), "cpu")), "max");
	assert_string_equal(
		json_string_value(json_object_get(json_object_get(f, "verdict"), "summary")),
		"pending");
	json_decref(f);
	assert_int_equal(fx_scalar(h->db, "SELECT count(*) FROM runvars"), 3);
}

static void sql_metacharacters_round_trip(void **state)
{
	struct harness *h = *state;
	const char *evil = "x'); DROP TABLE flights; -- \\\" %_ ;\\n\xc3\xa9";
	json_t *req = json_pack("{s:s, s:s, s:s, s:s, s:[s], s:{s:s}}", "repo", evil, "ref",
				"o'neil;--\"%", "patch", evil, "kind", "patch", "suites", "smoke",
				"runvars", "x.y-z_1", evil);
	char *body = json_dumps(req, 0);
	long long id = submit(h, body);
	char path[64];
	snprintf(path, sizeof path, "/api/flights/%lld", id);
	json_t *f = get_json(h, path, 200);
	assert_string_equal(json_string_value(json_object_get(f, "repo")), evil);
	assert_string_equal(json_string_value(json_object_get(f, "ref")), "o'neil;--\"%");
	assert_string_equal(json_string_value(json_object_get(f, "patch")), evil);
	json_t *job = json_array_get(json_object_get(f, "jobs"), 1);
	assert_string_equal(
		json_string_value(json_object_get(json_object_get(job, "runvars"), "x.y-z_1")),
		evil);
	assert_int_equal(fx_scalar(h->db, "SELECT count(*) FROM flights"), 1);
	json_decref(f);
	json_decref(req);
	free(body);
}

static void malformed_json_is_400_with_position(void **state)
{
	struct harness *h = *state;
	rejected(h, "POST", "/api/flights", "{\"repo\": \"/x\",\n \"ref\": }", AUTH_GOOD, NULL, 0,
		 400, "line 2, column");
	rejected(h, "POST", "/api/flights", "", AUTH_GOOD, NULL, 0, 400, "empty body");
	rejected(h, "POST", "/api/flights", "[1,2", AUTH_GOOD, NULL, 0, 400, "malformed JSON");
	rejected(h, "POST", "/api/flights", "{\"repo\": \"a\", \"repo\": \"b\"}", AUTH_GOOD, NULL,
		 0, 400, "duplicate");
	rejected(h, "POST", "/api/flights", "\"just a string\"", AUTH_GOOD, NULL, 0, 400,
		 "expected a JSON object");
}

static void wrong_fields_are_400(void **state)
{
	struct harness *h = *state;
	static const char *const cases[][2] = {
		{ "{\"repo\": 5, \"ref\": \"m\", \"suites\": [\"smoke\"]}", "field 'repo'" },
		{ "{\"ref\": \"m\", \"suites\": [\"smoke\"]}", "field 'repo': required" },
		{ "{\"repo\": \"/r\", \"suites\": [\"smoke\"]}", "field 'ref': required" },
		{ "{\"repo\": \"/r\", \"ref\": \"m\"}", "field 'suites'" },
		{ "{\"repo\": \"/r\", \"ref\": \"m\", \"suites\": \"smoke\"}", "field 'suites'" },
		{ "{\"repo\": \"/r\", \"ref\": \"m\", \"suites\": []}", "field 'suites'" },
		{ "{\"repo\": \"/r\", \"ref\": \"m\", \"suites\": [7]}", "field 'suites'" },
		{ "{\"repo\": \"/r\", \"ref\": \"m\", \"suites\": [\"smoke\", \"smoke\"]}",
		  "twice" },
		{ "{\"repo\": \"/r\", \"ref\": \"m\", \"suites\": [\"smoke\"], \"kind\": \"weekly\"}",
		  "field 'kind'" },
		{ "{\"repo\": \"/r\", \"ref\": \"m\", \"suites\": [\"smoke\"], \"baseline\": \"1\"}",
		  "field 'baseline'" },
		{ "{\"repo\": \"/r\", \"ref\": \"m\", \"suites\": [\"smoke\"], \"runvars\": {\"a\": 1}}",
		  "runvar 'a'" },
		{ "{\"repo\": \"/r\", \"ref\": \"m\", \"suites\": [\"smoke\"], \"runvars\": "
		  "{\"a b\": \"1\"}}",
		  "runvar 'a b'" },
		{ "{\"repo\": \"/r\", \"ref\": \"m\", \"suites\": [\"smoke\"], \"runvars\": [1]}",
		  "field 'runvars'" },
		{ "{\"repo\": \"/r\", \"ref\": \"m\", \"suites\": [\"smoke\"], \"priority\": 1}",
		  "unknown field 'priority'" },
		{ "{\"repo\": \"/r\", \"ref\": \"--upload-pack=x\", \"suites\": [\"smoke\"]}",
		  "field 'ref'" },
		{ "{\"repo\": \"-oProxyCommand=x\", \"ref\": \"m\", \"suites\": [\"smoke\"]}",
		  "field 'repo'" },
		{ "{\"repo\": \"/r\", \"ref\": \"a..b\", \"suites\": [\"smoke\"]}", "field 'ref'" },
		{ "{\"repo\": \"/r\\u0000x\", \"ref\": \"m\", \"suites\": [\"smoke\"]}", "NUL" },
		{ "{\"repo\": \"/r\", \"ref\": \"m\", \"suites\": [\"smoke\"], \"patch\": 3}",
		  "field 'patch'" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		rejected(h, "POST", "/api/flights", cases[i][0], AUTH_GOOD, NULL, 0, 400,
			 cases[i][1]);
}

static void unknown_suites_are_422(void **state)
{
	struct harness *h = *state;
	static const char *const cases[] = {
		"{\"repo\": \"/r\", \"ref\": \"m\", \"suites\": [\"no-such-suite\"]}",
		"{\"repo\": \"/r\", \"ref\": \"m\", \"suites\": [\"smoke\", \"nope\"]}",
		"{\"repo\": \"/r\", \"ref\": \"m\", \"suites\": [\"../testsuites/smoke\"]}",
		"{\"repo\": \"/r\", \"ref\": \"m\", \"suites\": [\"SMOKE\"]}",
		"{\"repo\": \"/r\", \"ref\": \"m\", \"suites\": [\"smoke'; DROP TABLE jobs; --\"]}",
		"{\"repo\": \"/r\", \"ref\": \"m\", \"suites\": [\"build\"]}",
		"{\"repo\": \"/r\", \"ref\": \"m\", \"suites\": [\"\"]}",
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		rejected(h, "POST", "/api/flights", cases[i], AUTH_GOOD, NULL, 0, 422, "suite");
	rejected(h, "POST", "/api/flights",
		 "{\"repo\": \"/r\", \"ref\": \"m\", \"suites\": "
		 "[\"smoke\"], \"baseline\": 4242}",
		 AUTH_GOOD, NULL, 0, 422, "baseline flight 4242");
}

static void writes_need_a_valid_token(void **state)
{
	struct harness *h = *state;
	rejected(h, "POST", "/api/flights", GOOD_BODY, AUTH_NONE, NULL, 0, 401, "missing token");
	rejected(h, "POST", "/api/flights", GOOD_BODY, AUTH_RAW, "Bearer", 0, 401, NULL);
	rejected(h, "POST", "/api/flights", GOOD_BODY, AUTH_RAW, "Bearer ", 0, 401, "invalid");
	rejected(h, "POST", "/api/flights", GOOD_BODY, AUTH_RAW, "Basic dXNlcjpwYXNz", 0, 401,
		 "missing token");
	rejected(h, "POST", "/api/flights", GOOD_BODY, AUTH_RAW,
		 "Bearer 0000000000000000000000000000000000000000000000000000000000000000", 0, 401,
		 "invalid");
	rejected(h, "POST", "/api/flights", GOOD_BODY, AUTH_RAW, "Bearer ' OR '1'='1", 0, 401,
		 "invalid");
	/* A revoked token stops working at once. */
	char tok[AUTH_TOKEN_HEX + 1], err[256], authz[128];
	assert_int_equal(auth_token_create(h->db, "gone", tok, err, sizeof err), 0);
	assert_int_equal(auth_token_revoke(h->db, "gone", err, sizeof err), 0);
	snprintf(authz, sizeof authz, "Bearer %s", tok);
	rejected(h, "POST", "/api/flights", GOOD_BODY, AUTH_RAW, authz, 0, 401, "revoked");
	/* The token check comes before anything else: no probing without one. */
	rejected(h, "POST", "/api/flights", "{bad json", AUTH_NONE, NULL, 0, 401, NULL);
	rejected(h, "POST", "/api/flights/1/cancel", NULL, AUTH_NONE, NULL, 0, 401, NULL);
}

static void oversized_bodies_are_413(void **state)
{
	struct harness *h = *state;
	size_t n = HTTP_BODY_MAX + 1;
	char *big = malloc(n + 1);
	assert_non_null(big);
	memset(big, ' ', n);
	big[0] = '{';
	big[n - 1] = '}';
	big[n] = '\0';
	rejected(h, "POST", "/api/flights", big, AUTH_GOOD, NULL, 0, 413, "larger than");
	rejected(h, "POST", "/api/flights", NULL, AUTH_GOOD, NULL, 3 * HTTP_BODY_MAX, 413,
		 "larger than");
	free(big);
	/* Just under the cap is parsed normally (and fails on content). */
	rejected(h, "POST", "/api/flights", NULL, AUTH_GOOD, NULL, HTTP_BODY_MAX - 10, 400,
		 "malformed JSON");
}

static void unknown_ids_and_routes_are_404(void **state)
{
	struct harness *h = *state;
	static const char *const paths[] = {
		"/api/flights/999",    "/api/jobs/999",  "/api/hosts/999/events",
		"/api/flights/abc",    "/api/flights/0", "/api/flights/-1",
		"/api/flights/01",     "/api/nothing",   "/api/flights/",
		"/api/flights/1/jobs", "/flightsx",
	};
	for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++)
		rejected(h, "GET", paths[i], NULL, AUTH_NONE, NULL, 0, 404, NULL);
	rejected(h, "POST", "/api/flights/999/cancel", NULL, AUTH_GOOD, NULL, 0, 404,
		 "no flight 999");
}

static void wrong_methods_are_405(void **state)
{
	struct harness *h = *state;
	rejected(h, "DELETE", "/api/flights", NULL, AUTH_GOOD, NULL, 0, 405,
		 "allowed: GET, HEAD, POST");
	rejected(h, "PUT", "/api/flights", GOOD_BODY, AUTH_GOOD, NULL, 0, 405, NULL);
	rejected(h, "POST", "/api/hosts", NULL, AUTH_GOOD, NULL, 0, 405, "allowed: GET");
	rejected(h, "GET", "/api/flights/1/cancel", NULL, AUTH_NONE, NULL, 0, 405, "allowed: POST");
}

static void list_is_newest_first_and_paged(void **state)
{
	struct harness *h = *state;
	long long ids[5];
	for (int i = 0; i < 5; i++)
		ids[i] = submit(h, GOOD_BODY);
	json_t *p1 = get_json(h, "/api/flights?limit=2", 200);
	json_t *fl = json_object_get(p1, "flights");
	assert_int_equal(json_array_size(fl), 2);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(fl, 0), "id")), ids[4]);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(fl, 1), "id")), ids[3]);
	assert_int_equal(json_integer_value(json_object_get(
				 json_object_get(json_array_get(fl, 0), "jobs"), "queued")),
			 2);
	char path[64];
	snprintf(path, sizeof path, "/api/flights?limit=2&before=%lld",
		 (long long)json_integer_value(json_object_get(p1, "next_before")));
	json_t *p2 = get_json(h, path, 200);
	assert_int_equal(json_integer_value(json_object_get(
				 json_array_get(json_object_get(p2, "flights"), 0), "id")),
			 ids[2]);
	snprintf(path, sizeof path, "/api/flights?before=%lld", ids[0]);
	json_t *p3 = get_json(h, path, 200);
	assert_int_equal(json_array_size(json_object_get(p3, "flights")), 0);
	assert_true(json_is_null(json_object_get(p3, "next_before")));
	json_decref(p1);
	json_decref(p2);
	json_decref(p3);
	json_t *none = get_json(h, "/api/flights?kind=gate", 200);
	assert_int_equal(json_array_size(json_object_get(none, "flights")), 0);
	json_decref(none);
	json_t *all = get_json(h, "/api/flights?kind=branch&limit=500", 200);
	assert_int_equal(json_array_size(json_object_get(all, "flights")), 5);
	json_decref(all);
	rejected(h, "GET", "/api/flights?kind=weekly", NULL, AUTH_NONE, NULL, 0, 400, "'kind'");
	rejected(h, "GET", "/api/flights?limit=0", NULL, AUTH_NONE, NULL, 0, 400, "'limit'");
	rejected(h, "GET", "/api/flights?limit=abc", NULL, AUTH_NONE, NULL, 0, 400, "'limit'");
	rejected(h, "GET", "/api/flights?before=1;DROP", NULL, AUTH_NONE, NULL, 0, 400, "'before'");
}

static void cancel_marks_and_kicks(void **state)
{
	struct harness *h = *state;
	long long id = submit(h, GOOD_BODY);
	int kicks = atomic_load(&h->kicks);
	char path[64];
	snprintf(path, sizeof path, "/api/flights/%lld/cancel", id);
	struct response r = request(h, "POST", path, NULL, AUTH_GOOD, NULL, 0);
	assert_int_equal(r.status, 202);
	free(r.body);
	assert_int_equal(atomic_load(&h->kicks), kicks + 1);
	assert_int_equal(fx_scalar(h->db, "SELECT cancel_requested FROM flights"), 1);
	/* A finished flight cannot be cancelled. */
	char err[256];
	assert_int_equal(db_exec(h->db, "UPDATE flights SET status = 'pass'", err, sizeof err),
			 SQLITE_OK);
	rejected(h, "POST", path, NULL, AUTH_GOOD, NULL, 0, 409, "already finished (pass)");
	rejected(h, "POST", path, "{}", AUTH_GOOD, NULL, 0, 400, "no request body");
}

/* Adds a step with a metric and a log file to job `job` of flight 1. */
static void fake_results(struct harness *h, long long job)
{
	char sql[512], err[256];
	snprintf(
		sql, sizeof sql,
		"INSERT INTO steps(job_id, seq, name, status, started_at, finished_at, log, message) "
		"VALUES (%lld, 1, 'boot', 'pass', 10, 12.5, 'console-host0.log', NULL);"
		"INSERT INTO metrics(step_id, name, value, unit) VALUES "
		"(last_insert_rowid(), 'boot_time', 2.5, 's');",
		job);
	assert_int_equal(db_exec(h->db, sql, err, sizeof err), SQLITE_OK);
	char dir[256], file[320];
	snprintf(dir, sizeof dir, "%s/logs", h->dir);
	mkdir(dir, 0755);
	snprintf(dir, sizeof dir, "%s/logs/1", h->dir);
	mkdir(dir, 0755);
	snprintf(dir, sizeof dir, "%s/logs/1/%lld", h->dir, job);
	mkdir(dir, 0755);
	snprintf(dir, sizeof dir, "%s/logs/1/%lld/1", h->dir, job);
	mkdir(dir, 0755);
	snprintf(file, sizeof file, "%s/console-host0.log", dir);
	FILE *f = fopen(file, "w");
	assert_non_null(f);
	fputs("(kiln) Kiln hypervisor starting\nok 1 - hello\n", f);
	fclose(f);
	snprintf(file, sizeof file, "%s/leak.log", dir);
	assert_int_equal(symlink("/etc/passwd", file), 0);
}

static void job_shows_steps_metrics_and_logs(void **state)
{
	struct harness *h = *state;
	submit(h, GOOD_BODY);
	fake_results(h, 2);
	json_t *j = get_json(h, "/api/jobs/2", 200);
	json_t *step = json_array_get(json_object_get(j, "steps"), 0);
	assert_string_equal(json_string_value(json_object_get(step, "name")), "boot");
	assert_string_equal(json_string_value(json_object_get(step, "log_url")),
			    "/logs/2/1/console-host0.log");
	json_t *m = json_array_get(json_object_get(step, "metrics"), 0);
	assert_string_equal(json_string_value(json_object_get(m, "name")), "boot_time");
	assert_true(json_real_value(json_object_get(m, "value")) == 2.5);
	/* The symlink is not listed as a log. */
	json_t *logs = json_object_get(j, "logs");
	assert_int_equal(json_array_size(logs), 1);
	assert_string_equal(json_string_value(json_object_get(json_array_get(logs, 0), "url")),
			    "/logs/2/1/console-host0.log");
	json_decref(j);
}

static void logs_are_served_without_traversal(void **state)
{
	struct harness *h = *state;
	submit(h, GOOD_BODY);
	fake_results(h, 2);
	struct response r =
		request(h, "GET", "/logs/2/1/console-host0.log", NULL, AUTH_NONE, NULL, 0);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body, "Kiln hypervisor starting"));
	free(r.body);
	static const char *const bad[] = {
		"/logs/2/1/..",
		"/logs/2/1/../../../../etc/passwd",
		"/logs/2/1/..%2f..%2f..%2fetc%2fpasswd",
		"/logs/2/1/%2e%2e",
		"/logs/2/1/.hidden",
		"/logs/2/1/leak.log",
		"/logs/2/1/a%00b",
		"/logs/2/9/console-host0.log",
		"/logs/999/1/console-host0.log",
		"/logs/2/1/",
		"/logs/2/1/con%20sole.log",
		"/static/../../../etc/passwd",
		"/static/style.css%2f..",
		"/static/x.txt",
		"/artifacts/../../etc/passwd",
		"/artifacts/..%2f..%2fetc%2fpasswd",
		"/artifacts/%2e%2e",
		"/boot/..%2f..%2fetc%2fpasswd.ipxe",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		traversal_refused(h, bad[i]);
}

static void static_css_is_served(void **state)
{
	struct harness *h = *state;
	struct response r = request(h, "GET", "/static/style.css", NULL, AUTH_NONE, NULL, 0);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body, ".st-pass"));
	free(r.body);
}

static void hosts_and_events(void **state)
{
	struct harness *h = *state;
	json_t *j = get_json(h, "/api/hosts", 200);
	json_t *hosts = json_object_get(j, "hosts");
	assert_int_equal(json_array_size(hosts), 2);
	assert_string_equal(json_string_value(json_object_get(json_array_get(hosts, 0), "state")),
			    "idle");
	json_decref(j);
	j = get_json(h, "/api/hosts/1/events", 200);
	assert_string_equal(json_string_value(json_object_get(json_object_get(j, "host"), "name")),
			    "host0");
	json_t *ev = json_array_get(json_object_get(j, "events"), 0);
	assert_string_equal(json_string_value(json_object_get(ev, "new_state")), "idle");
	json_decref(j);
	rejected(h, "GET", "/api/hosts/1/events?limit=100000", NULL, AUTH_NONE, NULL, 0, 400,
		 "'limit'");
}

/* A failed health check of host0 through the executor's own calls, with
 * its console (and a planted symlink) on disk.  Returns the ending event. */
static long long failed_health_check(struct harness *h)
{
	char err[256], log_dir[128];
	struct pool_host c;
	assert_int_equal(db_exec(h->db,
				 "UPDATE hosts SET state = 'broken', needs_health_check = 1 "
				 "WHERE name = 'host0'",
				 err, sizeof err),
			 SQLITE_OK);
	assert_int_equal(hostpool_begin_health_check(h->db, 1e12, &c, log_dir, sizeof log_dir, err,
						     sizeof err),
			 0);
	fx_sh("mkdir -p '%s/%s' && printf 'no banner\\n' > '%s/%s/console-host0.log' && "
	      "ln -s /etc/passwd '%s/%s/leak.log'",
	      h->cfg.log_dir, log_dir, h->cfg.log_dir, log_dir, h->cfg.log_dir, log_dir);
	assert_int_equal(hostpool_end_health_check(h->db, c.id, log_dir, 0, 0,
						   "health check failed: no banner", err,
						   sizeof err),
			 0);
	return fx_scalar(h->db, "SELECT max(id) FROM host_events");
}

static void health_check_logs_are_listed_and_served(void **state)
{
	struct harness *h = *state;
	long long end = failed_health_check(h);
	json_t *j = get_json(h, "/api/hosts/1/events", 200);
	json_t *events = json_object_get(j, "events");
	/* Newest first: the check's end, its start, then the host's first event. */
	assert_int_equal(json_array_size(events), 3);
	char url[128];
	for (size_t i = 0; i < 2; i++) {
		json_t *ev = json_array_get(events, i), *logs = json_object_get(ev, "logs");
		assert_int_equal(json_array_size(logs), 1); /* not the symlink */
		snprintf(url, sizeof url, "/logs/events/%lld/console-host0.log",
			 end - (long long)i);
		assert_string_equal(
			json_string_value(json_object_get(json_array_get(logs, 0), "url")), url);
		assert_int_equal(
			json_integer_value(json_object_get(json_array_get(logs, 0), "size")), 10);
	}
	assert_int_equal(json_array_size(json_object_get(json_array_get(events, 2), "logs")), 0);
	json_decref(j);
	snprintf(url, sizeof url, "/logs/events/%lld/console-host0.log", end);
	struct response r = request(h, "GET", url, NULL, AUTH_NONE, NULL, 0);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body, "no banner\n");
	free(r.body);
	/* The host pool page links the console beside the event. */
	r = request(h, "GET", "/hosts", NULL, AUTH_NONE, NULL, 0);
	assert_int_equal(r.status, 200);
	char link[192];
	snprintf(link, sizeof link, "<a href=\"%s\">console-host0.log</a>", url);
	assert_non_null(strstr(r.body, link));
	free(r.body);
}

static void health_check_logs_refuse_traversal(void **state)
{
	struct harness *h = *state;
	long long end = failed_health_check(h);
	char err[256];
	/* A damaged row must not lead outside the log root either. */
	assert_int_equal(db_exec(h->db,
				 "UPDATE host_events SET log_dir = '../../../etc' WHERE id = 1",
				 err, sizeof err),
			 SQLITE_OK);
	static const char *const bad[] = {
		"..",
		"../../../../etc/passwd",
		"..%2f..%2f..%2fetc%2fpasswd",
		"%2e%2e",
		".hidden",
		"leak.log",
		"a%00b",
		"",
		"con%20sole.log",
		"console-host0.log/x",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0] + 3; i++) {
		char path[256];
		if (i < sizeof bad / sizeof bad[0])
			snprintf(path, sizeof path, "/logs/events/%lld/%s", end, bad[i]);
		else if (i == sizeof bad / sizeof bad[0])
			snprintf(path, sizeof path, "/logs/events/1/passwd"); /* damaged row */
		else if (i == sizeof bad / sizeof bad[0] + 1)
			snprintf(path, sizeof path, "/logs/events/2/group"); /* host1: no logs */
		else
			snprintf(path, sizeof path, "/logs/events/999/console-host0.log");
		traversal_refused(h, path);
	}
	rejected(h, "GET", "/logs/events/1/passwd", NULL, AUTH_NONE, NULL, 0, 404, "has no logs");
	rejected(h, "GET", "/logs/events/999/x.log", NULL, AUTH_NONE, NULL, 0, 404,
		 "no host event 999");
	rejected(h, "GET", "/logs/events/1/.x", NULL, AUTH_NONE, NULL, 0, 400, "bad log file name");
}

static void baseline_is_accepted_when_it_exists(void **state)
{
	struct harness *h = *state;
	long long first = submit(h, GOOD_BODY);
	char body[256];
	snprintf(body, sizeof body,
		 "{\"repo\": \"/r\", \"ref\": \"m\", \"suites\": [\"smoke\"], "
		 "\"baseline\": %lld, \"kind\": \"gate\"}",
		 first);
	long long second = submit(h, body);
	char path[64];
	snprintf(path, sizeof path, "/api/flights/%lld", second);
	json_t *f = get_json(h, path, 200);
	assert_int_equal(json_integer_value(json_object_get(f, "baseline_id")), first);
	assert_string_equal(json_string_value(json_object_get(f, "kind")), "gate");
	json_decref(f);
}

struct submitter {
	struct harness *h;
	int created;
};

static void *submit_many(void *arg)
{
	struct submitter *s = arg;
	for (int i = 0; i < 10; i++) {
		struct response r =
			request(s->h, "POST", "/api/flights", GOOD_BODY, AUTH_GOOD, NULL, 0);
		s->created += r.status == 201;
		free(r.body);
	}
	return NULL;
}

/* Parallel writers on the daemon's thread pool: every submission lands
 * whole (flight + build + suite job) and none is lost to a busy database. */
static void concurrent_submissions_all_land_whole(void **state)
{
	struct harness *h = *state;
	pthread_t t[4];
	struct submitter s[4];
	for (int i = 0; i < 4; i++) {
		s[i] = (struct submitter){ h, 0 };
		assert_int_equal(pthread_create(&t[i], NULL, submit_many, &s[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		assert_int_equal(pthread_join(t[i], NULL), 0);
		assert_int_equal(s[i].created, 10);
	}
	assert_int_equal(fx_scalar(h->db, "SELECT count(*) FROM flights"), 40);
	assert_int_equal(fx_scalar(h->db, "SELECT count(*) FROM jobs"), 80);
	assert_int_equal(fx_scalar(h->db, "SELECT count(*) FROM flights f WHERE (SELECT count(*) "
					  "FROM jobs j WHERE j.flight_id = f.id) != 2"),
			 0);
	assert_int_equal(atomic_load(&h->kicks), 40);
}

/* A job keeps the suite text it was submitted with (and its SHA-256): a
 * suite file edited or broken afterwards changes no queued flight. */
static void jobs_keep_their_suite_as_submitted(void **state)
{
	struct harness *h = *state;
	char err[256];
	fx_sh("mkdir -p '%s/suites' && sed 's/^description = .*/description = as submitted/' "
	      "'%s/testsuites/smoke.suite' > '%s/suites/smoke.suite'",
	      h->dir, fx_repo_top(), h->dir);
	snprintf(h->cfg.suites_dir, sizeof h->cfg.suites_dir, "%s/suites", h->dir);
	long long id = submit(h, GOOD_BODY);
	fx_sh("echo 'not a suite' > '%s/suites/smoke.suite'", h->dir);
	assert_int_equal(fx_scalar(h->db, "SELECT count(*) FROM jobs WHERE suite = 'smoke' AND "
					  "instr(suite_text, 'description = as submitted') > 0"),
			 1);
	assert_int_equal(fx_scalar(h->db, "SELECT count(*) FROM jobs WHERE suite = 'build' AND "
					  "suite_text IS NULL"),
			 1);
	char sha[80], want[80];
	fx_text(h->db, sha, sizeof sha,
		"SELECT suite_sha256 FROM jobs WHERE flight_id = %lld AND "
		"suite = 'smoke'",
		id);
	fx_sh("sed 's/^description = .*/description = as submitted/' '%s/testsuites/smoke.suite' | "
	      "sha256sum | cut -c1-64 > '%s/sha'",
	      fx_repo_top(), h->dir);
	char path[128];
	snprintf(path, sizeof path, "%s/sha", h->dir);
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	assert_non_null(fgets(want, sizeof want, f));
	fclose(f);
	want[strcspn(want, "\n")] = '\0';
	assert_string_equal(sha, want);
	struct suite *st;
	long long job = fx_scalar(h->db, "SELECT id FROM jobs WHERE suite = 'smoke'");
	assert_int_equal(job_suite(h->db, &h->cfg, job, "smoke", &st, err, sizeof err), 0);
	assert_string_equal(st->description, "as submitted");
	suite_free(st);
	/* The broken file is what a new submission meets. */
	rejected(h, "POST", "/api/flights", GOOD_BODY, AUTH_GOOD, NULL, 0, 422, "suite 'smoke'");
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, harness_up, harness_down)

int main(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
	const struct CMUnitTest tests[] = {
		T(submit_creates_flight_build_and_suite_jobs),
		T(sql_metacharacters_round_trip),
		T(malformed_json_is_400_with_position),
		T(wrong_fields_are_400),
		T(unknown_suites_are_422),
		T(writes_need_a_valid_token),
		T(oversized_bodies_are_413),
		T(unknown_ids_and_routes_are_404),
		T(wrong_methods_are_405),
		T(list_is_newest_first_and_paged),
		T(cancel_marks_and_kicks),
		T(job_shows_steps_metrics_and_logs),
		T(logs_are_served_without_traversal),
		T(static_css_is_served),
		T(hosts_and_events),
		T(health_check_logs_are_listed_and_served),
		T(health_check_logs_refuse_traversal),
		T(baseline_is_accepted_when_it_exists),
		T(concurrent_submissions_all_land_whole),
		T(jobs_keep_their_suite_as_submitted),
	};
	int rc = cmocka_run_group_tests_name("api", tests, NULL, NULL);
	curl_global_cleanup();
	return rc;
}
