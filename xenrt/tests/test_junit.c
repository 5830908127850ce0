/* test_junit.c: GET /api/flights/<id>/junit.xml and `xenrt show --junit`:
 * the report validates against the JUnit schema (tests/data/junit.xsd, with
 * xmllint) and says what the flight says: one testsuite per job, one
 * testcase per step of the latest attempt, failure/error/skipped by status,
 * times, runvars as properties, hostile step names escaped. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <unistd.h>

#include <cmocka.h>

#include "test_api_harness.h"

/* A flight of three jobs: a build with a passed and a broken step; smoke
 * on its second attempt (the first attempt's broken step must not count)
 * with a pass, a fail with a hostile name and a skip; hv-selftest blocked
 * without steps. */
static void plant_flight(struct harness *h)
{
	char authz[128];
	snprintf(authz, sizeof authz, "Bearer %s", h->token);
	struct response r = request(h, "POST", "/api/flights",
				    "{\"repo\": \"/r\", \"ref\": \"m\", "
				    "\"suites\": [\"smoke\", \"hv-selftest\"], \"runvars\": "
				    "{\"cpu\": \"max<&>\"}}",
				    AUTH_GOOD, NULL, 0);
	assert_int_equal(r.status, 201);
	free(r.body);
	char err[256];
	assert_int_equal(
		db_exec(h->db,
			"UPDATE flights SET status = 'fail', started_at = 1000, finished_at = 1100;"
			"UPDATE jobs SET status = 'pass', started_at = 1000, finished_at = 1010 WHERE id = 1;"
			"UPDATE jobs SET status = 'fail', attempt = 2, started_at = 1010, finished_at = 1090 "
			"WHERE id = 2;"
			"UPDATE jobs SET status = 'blocked' WHERE id = 3;"
			"INSERT INTO steps(job_id, seq, attempt, name, status, started_at, finished_at, message) "
			"VALUES (1, 1, 1, 'build', 'pass', 1000, 1008, NULL),"
			"(1, 2, 1, 'cache', 'broken', 1008, 1009.5, 'disk full'),"
			"(2, 1, 1, 'provision-host0', 'broken', 1010, 1020, 'qemu died'),"
			"(2, 2, 2, 'provision-host0', 'pass', 1030, 1032.5, NULL),"
			"(2, 3, 2, 'boot <&\"''' || char(27) || '[31m \xc3\xa9', 'fail', 1032.5, 1040, "
			"'no banner <x>'),"
			"(2, 4, 2, 'tap:d1:1 hello', 'skip', 1040, 1040, 'not run')",
			err, sizeof err),
		SQLITE_OK);
}

/* The report of flight 1 from the API, saved to <dir>/junit.xml. */
static char *fetch_report(struct harness *h, char *path, size_t pathlen)
{
	struct response r = request(h, "GET", "/api/flights/1/junit.xml", NULL, AUTH_NONE, NULL, 0);
	assert_int_equal(r.status, 200);
	snprintf(path, pathlen, "%s/junit.xml", h->dir);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(r.body, 1, r.len, f), r.len);
	fclose(f);
	return r.body;
}

/* xmllint's answer to an XPath expression over the file. */
static void xpath(const char *file, const char *expr, char *out, size_t len)
{
	char cmd[1024];
	snprintf(cmd, sizeof cmd, "xmllint --xpath '%s' '%s' 2>&1", expr, file);
	FILE *p = popen(cmd, "r");
	assert_non_null(p);
	size_t n = fread(out, 1, len - 1, p);
	/* Some xmllint versions end the value with a newline. */
	while (n > 0 && out[n - 1] == '\n')
		n--;
	out[n] = '\0';
	pclose(p);
}

static void expect(const char *file, const char *expr, const char *want)
{
	char got[512];
	xpath(file, expr, got, sizeof got);
	if (strcmp(got, want))
		fprintf(stderr, "# %s: got '%s', want '%s'\n", expr, got, want);
	assert_string_equal(got, want);
}

static void report_validates_against_the_schema(void **state)
{
	struct harness *h = *state;
	plant_flight(h);
	char path[128], cmd[512];
	free(fetch_report(h, path, sizeof path));
	snprintf(cmd, sizeof cmd, "xmllint --noout --schema '%s/xenrt/tests/data/junit.xsd' '%s'",
		 fx_repo_top(), path);
	assert_int_equal(system(cmd), 0);
	/* And the schema is not a yes-man: a testcase without a name fails it. */
	fx_sh("sed -i 's/<testcase name=\"build\"/<testcase/' '%s'", path);
	snprintf(cmd, sizeof cmd,
		 "xmllint --noout --schema '%s/xenrt/tests/data/junit.xsd' '%s' "
		 "2>/dev/null",
		 fx_repo_top(), path);
	assert_int_not_equal(system(cmd), 0);
}

static void report_matches_the_flight(void **state)
{
	struct harness *h = *state;
	plant_flight(h);
	char path[128];
	free(fetch_report(h, path, sizeof path));
	expect(path, "string(/testsuites/@tests)", "6");
	expect(path, "string(/testsuites/@failures)", "1");
	expect(path, "string(/testsuites/@errors)", "1");
	expect(path, "string(/testsuites/@skipped)", "2");
	expect(path, "string(/testsuites/@time)", "100.000");
	expect(path, "count(//testsuite)", "3");
	expect(path, "string(//testsuite[@name=\"build\"]/@errors)", "1");
	expect(path, "string(//testsuite[@name=\"build\"]/testcase[error]/error/@message)",
	       "disk full");
	expect(path, "string(//testsuite[@name=\"smoke\"]/@tests)", "3");
	expect(path, "string(//testsuite[@name=\"smoke\"]/@timestamp)", "1970-01-01T00:16:50");
	expect(path, "string(//testsuite[@name=\"smoke\"]/testcase[1]/@time)", "2.500");
	expect(path, "string(//testsuite[@name=\"smoke\"]/testcase[failure]/@name)",
	       "boot <&\"'?[31m \xc3\xa9");
	expect(path, "string(//testsuite[@name=\"smoke\"]/testcase[failure]/failure/@message)",
	       "no banner <x>");
	expect(path, "string(//testsuite[@name=\"smoke\"]/testcase[failure]/@classname)",
	       "flight-1.smoke");
	expect(path, "string(//testsuite[@name=\"smoke\"]/testcase[skipped]/skipped/@message)",
	       "not run");
	expect(path,
	       "string(//testsuite[@name=\"smoke\"]/properties/property[@name=\"cpu\"]/@value)",
	       "max<&>");
	expect(path, "string(//testsuite[@name=\"hv-selftest\"]/testcase/skipped/@message)",
	       "job blocked without steps");
	struct response r = request(h, "GET", "/api/flights/9/junit.xml", NULL, AUTH_NONE, NULL, 0);
	assert_int_equal(r.status, 404);
	free(r.body);
}

/* `xenrt show --junit` prints exactly what the API serves. */
static void cli_prints_the_same_report(void **state)
{
	struct harness *h = *state;
	const char *bin = getenv("XENRT_BIN");
	if (!bin)
		skip();
	plant_flight(h);
	char path[128], cmd[512];
	char *api = fetch_report(h, path, sizeof path);
	snprintf(cmd, sizeof cmd, "'%s' show 1 --junit --url http://127.0.0.1:%d", bin,
		 http_port(h->srv));
	FILE *p = popen(cmd, "r");
	assert_non_null(p);
	struct buf got = { 0 };
	char chunk[4096];
	size_t n;
	while ((n = fread(chunk, 1, sizeof chunk, p)) > 0)
		buf_append(chunk, 1, n, &got);
	assert_int_equal(pclose(p), 0);
	assert_non_null(got.data);
	assert_string_equal(got.data, api);
	free(got.data);
	free(api);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, harness_up, harness_down)

int main(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
	const struct CMUnitTest tests[] = {
		T(report_validates_against_the_schema),
		T(report_matches_the_flight),
		T(cli_prints_the_same_report),
	};
	int rc = cmocka_run_group_tests_name("junit", tests, NULL, NULL);
	curl_global_cleanup();
	return rc;
}
