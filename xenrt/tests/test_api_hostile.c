/* test_api_hostile.c: the API under hostile input, one test per defect
 * found by trying it (issue 9, item 7): every answer stays valid JSON
 * whatever bytes the client sends, many idle connections cannot lock other
 * clients out, files listed or served never come from outside the log
 * root, a submission can be retried safely, per-token limits hold, the
 * Bearer scheme is case-insensitive and only the submitter (or an admin)
 * cancels a flight. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <signal.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <cmocka.h>
#include <jansson.h>

#include "test_api_harness.h"

#define BODY "{\"repo\": \"/src/kiln\", \"ref\": \"main\", \"suites\": [\"smoke\"]}"

/* A request with extra header lines (NULL-terminated); the body of the
 * answer must be JSON, returned parsed (status in *status). */
static json_t *call(struct harness *h, const char *method, const char *path, const char *body,
		    long *status, ...)
{
	struct buf got = { 0 };
	CURL *c = curl_easy_init();
	char url[4096];
	snprintf(url, sizeof url, "http://127.0.0.1:%d%s", http_port(h->srv), path);
	struct curl_slist *hdrs = NULL;
	va_list ap;
	va_start(ap, status);
	for (const char *l; (l = va_arg(ap, const char *));)
		hdrs = curl_slist_append(hdrs, l);
	va_end(ap);
	if (body) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
	}
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_PATH_AS_IS, 1L);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, buf_append);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &got);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 10L);
	CURLcode rc = curl_easy_perform(c);
	if (rc != CURLE_OK)
		fprintf(stderr, "# %s %s: %s\n", method, path, curl_easy_strerror(rc));
	assert_int_equal(rc, CURLE_OK);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(c);
	json_error_t e;
	json_t *j = json_loadb(got.data ? got.data : "", got.len, 0, &e);
	if (!j)
		fprintf(stderr, "# %s %s -> %ld, not JSON: %.*s\n", method, path, *status,
			(int)got.len, got.data ? got.data : "");
	assert_non_null(j);
	free(got.data);
	return j;
}

static const char *error_of(json_t *j)
{
	const char *msg = json_string_value(json_object_get(j, "error"));
	assert_non_null(msg);
	return msg;
}

static void auth_header(char *out, size_t len, const char *scheme, const char *token)
{
	snprintf(out, len, "Authorization: %s %s", scheme, token);
}

/* Submits BODY (or body) with token; returns the flight id (201 or 200). */
static long long submit_as(struct harness *h, const char *token, const char *body,
			   const char *extra, long want)
{
	char authz[128];
	long status;
	auth_header(authz, sizeof authz, "Bearer", token);
	json_t *j =
		call(h, "POST", "/api/flights", body ? body : BODY, &status, authz, extra, NULL);
	if (status != want)
		fprintf(stderr, "# submit -> %ld %s\n", status, json_dumps(j, 0));
	assert_int_equal(status, want);
	long long id = json_integer_value(json_object_get(j, "id"));
	json_decref(j);
	return id;
}

/* Invalid UTF-8 in a message (a raw byte from the URL, a multibyte
 * character cut by "%.64s" or by the 1024-byte error buffer) still gives a
 * JSON error. */
static void invalid_utf8_in_errors_is_still_json(void **state)
{
	struct harness *h = *state;
	long status;
	json_t *j = call(h, "GET", "/%ff", NULL, &status, NULL);
	assert_int_equal(status, 404);
	assert_non_null(strstr(error_of(j), "no such resource"));
	json_decref(j);

	/* 'a' then 40 two-byte characters: %.64s ends inside the 32nd. */
	char field[128] = "a", body[256], authz[128];
	for (int i = 0; i < 40; i++)
		strcat(field, "\xc3\xa9");
	snprintf(body, sizeof body, "{\"%s\": 1}", field);
	auth_header(authz, sizeof authz, "Bearer", h->token);
	j = call(h, "POST", "/api/flights", body, &status, authz, NULL);
	assert_int_equal(status, 400);
	assert_non_null(strstr(error_of(j), "unknown field"));
	json_decref(j);

	/* A URL of 3-byte characters whose message passes 1024 bytes. */
	char path[2048] = "/";
	for (int i = 0; i < 200; i++)
		strcat(path, "%e2%82%ac");
	j = call(h, "GET", path, NULL, &status, NULL);
	assert_int_equal(status, 404);
	assert_non_null(strstr(error_of(j), "\xe2\x82\xac"));
	json_decref(j);
}

/* A crafted method cannot add fields to the 405 answer. */
static void method_is_escaped_in_405(void **state)
{
	struct harness *h = *state;
	static const char *const methods[] = { "X\",\"injected\":\"1", "X\\", "X\"" };
	for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++) {
		long status;
		json_t *j = call(h, methods[i], "/api/hosts", NULL, &status, NULL);
		/* MHD itself may refuse such a method (400); either way JSON
		 * with exactly one field. */
		assert_true(status == 405 || status == 400);
		error_of(j);
		assert_int_equal(json_object_size(j), 1);
		json_decref(j);
	}
}

/* The attacker: `n` connections from 127.0.0.2, each with half a request,
 * held open until killed.  Writes one byte to `ready` when all are tried. */
static void hold_connections(int port, int n, int ready)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < (rlim_t)n + 64) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	struct sockaddr_in from = { .sin_family = AF_INET },
			   to = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	inet_pton(AF_INET, "127.0.0.2", &from.sin_addr);
	inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
	static const char half[] = "GET /api/hosts HTTP/1.1\r\nHost: x\r\n";
	struct timeval tv = { .tv_sec = 1 };
	for (int i = 0; i < n; i++) {
		int s = socket(AF_INET, SOCK_STREAM, 0);
		if (s < 0)
			break;
		setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
		if (bind(s, (struct sockaddr *)&from, sizeof from) == 0 &&
		    connect(s, (struct sockaddr *)&to, sizeof to) == 0)
			send(s, half, sizeof half - 1, MSG_NOSIGNAL);
	}
	if (write(ready, "x", 1) != 1)
		_exit(1);
	for (;;)
		pause();
}

static pid_t attacker;

/* Tear-down that also ends the attacker, even when the test failed. */
static int attacker_down(void **state)
{
	if (attacker > 0) {
		kill(attacker, SIGKILL);
		waitpid(attacker, NULL, 0);
		attacker = 0;
	}
	return harness_down(state);
}

/* 1,100 idle half-requests from one address do not stop another client. */
static void idle_connections_do_not_lock_out_others(void **state)
{
	struct harness *h = *state;
	int p[2];
	assert_int_equal(pipe(p), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		/* Test output is the parent's alone. */
		if (!freopen("/dev/null", "w", stdout) || !freopen("/dev/null", "w", stderr))
			_exit(1);
		close(p[0]);
		hold_connections(http_port(h->srv), 1100, p[1]);
	}
	attacker = pid;
	close(p[1]);
	char c;
	assert_int_equal(read(p[0], &c, 1), 1);
	close(p[0]);
	for (int i = 0; i < 3; i++) {
		long status;
		json_t *j = call(h, "GET", "/api/hosts", NULL, &status, NULL);
		assert_int_equal(status, 200);
		json_decref(j);
	}
}

/* A host event whose log_dir leads outside the log root lists nothing, in
 * the API and on the host pages. */
static void event_logs_are_listed_only_inside_the_log_root(void **state)
{
	struct harness *h = *state;
	char err[256], sql[512];
	fx_sh("mkdir -p '%s/outside' && printf 'secret\\n' > '%s/outside/secret.log' && "
	      "mkdir -p '%s'",
	      h->dir, h->dir, h->cfg.log_dir);
	snprintf(sql, sizeof sql,
		 "INSERT INTO host_events(host_id, at, new_state, reason, log_dir) "
		 "VALUES (1, 1, 'broken', 'planted', '../outside')");
	assert_int_equal(db_exec(h->db, sql, err, sizeof err), SQLITE_OK);
	json_t *j = get_json(h, "/api/hosts/1/events", 200);
	json_t *ev;
	size_t i;
	json_array_foreach(json_object_get(j, "events"), i, ev)
		assert_int_equal(json_array_size(json_object_get(ev, "logs")), 0);
	json_decref(j);
	static const char *const pages[] = { "/hosts", "/hosts/1" };
	for (size_t k = 0; k < 2; k++) {
		struct response r = request(h, "GET", pages[k], NULL, AUTH_NONE, NULL, 0);
		assert_int_equal(r.status, 200);
		assert_null(strstr(r.body, "secret.log"));
		free(r.body);
	}
}

/* The same Idempotency-Key with the same token gives the same flight. */
static void idempotency_key_makes_retries_safe(void **state)
{
	struct harness *h = *state;
	long long a = submit_as(h, h->token, NULL, "Idempotency-Key: retry-1", 201);
	long long b = submit_as(h, h->token, NULL, "Idempotency-Key: retry-1", 200);
	assert_int_equal(a, b);
	assert_int_equal(fx_scalar(h->db, "SELECT count(*) FROM flights"), 1);
	assert_int_equal(fx_scalar(h->db, "SELECT count(*) FROM jobs"), 2);
	/* Another key, or no key: new flights. */
	assert_true(submit_as(h, h->token, NULL, "Idempotency-Key: retry-2", 201) != a);
	assert_true(submit_as(h, h->token, NULL, NULL, 201) != a);
	/* The same key from another token is that token's own. */
	char other[AUTH_TOKEN_HEX + 1], err[256];
	assert_int_equal(auth_token_create(h->db, "other", other, err, sizeof err), 0);
	assert_true(submit_as(h, other, NULL, "Idempotency-Key: retry-1", 201) != a);
	/* The same key for a different request, or a bad key: refused. */
	char *before = snapshot(h->db);
	char authz[128];
	long status;
	auth_header(authz, sizeof authz, "Bearer", h->token);
	json_t *j = call(h, "POST", "/api/flights",
			 "{\"repo\": \"/r\", \"ref\": \"x\", \"suites\": "
			 "[\"smoke\"]}",
			 &status, authz, "Idempotency-Key: retry-1", NULL);
	assert_int_equal(status, 422);
	assert_non_null(strstr(error_of(j), "Idempotency-Key"));
	json_decref(j);
	j = call(h, "POST", "/api/flights", BODY, &status, authz, "Idempotency-Key: a\x01b", NULL);
	assert_int_equal(status, 400);
	json_decref(j);
	char *after = snapshot(h->db);
	assert_string_equal(before, after);
	free(before);
	free(after);
}

/* Per-token limits: queued flights (429) and patch size (413). */
static void per_token_limits(void **state)
{
	struct harness *h = *state;
	h->cfg.max_queued_per_token = 2;
	h->cfg.max_patch_bytes = 100;
	submit_as(h, h->token, NULL, NULL, 201);
	submit_as(h, h->token, NULL, NULL, 201);
	char *before = snapshot(h->db);
	char authz[128];
	long status;
	auth_header(authz, sizeof authz, "Bearer", h->token);
	json_t *j = call(h, "POST", "/api/flights", BODY, &status, authz, NULL);
	assert_int_equal(status, 429);
	assert_non_null(strstr(error_of(j), "queued"));
	json_decref(j);
	char patch[300];
	memset(patch, 'p', 101);
	patch[101] = '\0';
	char body[512];
	snprintf(body, sizeof body,
		 "{\"repo\": \"/r\", \"ref\": \"m\", \"suites\": [\"smoke\"], "
		 "\"patch\": \"%s\"}",
		 patch);
	j = call(h, "POST", "/api/flights", body, &status, authz, NULL);
	assert_int_equal(status, 413);
	assert_non_null(strstr(error_of(j), "patch"));
	json_decref(j);
	char *after = snapshot(h->db);
	assert_string_equal(before, after);
	free(before);
	free(after);
	/* Another token has its own allowance; a finished flight frees one. */
	char other[AUTH_TOKEN_HEX + 1], err[256];
	assert_int_equal(auth_token_create(h->db, "other", other, err, sizeof err), 0);
	submit_as(h, other, NULL, NULL, 201);
	assert_int_equal(
		db_exec(h->db, "UPDATE flights SET status = 'pass' WHERE id = 1", err, sizeof err),
		SQLITE_OK);
	patch[100] = '\0';
	snprintf(body, sizeof body,
		 "{\"repo\": \"/r\", \"ref\": \"m\", \"suites\": [\"smoke\"], "
		 "\"patch\": \"%s\"}",
		 patch);
	submit_as(h, h->token, body, NULL, 201);
}

/* The scheme of Authorization is case-insensitive (RFC 9110 11.1). */
static void bearer_scheme_is_case_insensitive(void **state)
{
	struct harness *h = *state;
	static const char *const schemes[] = { "bearer", "BEARER", "BeArEr" };
	for (size_t i = 0; i < 3; i++) {
		char authz[128];
		long status;
		auth_header(authz, sizeof authz, schemes[i], h->token);
		json_t *j = call(h, "POST", "/api/flights", BODY, &status, authz, NULL);
		assert_int_equal(status, 201);
		json_decref(j);
	}
	assert_int_equal(fx_scalar(h->db, "SELECT count(*) FROM flights"), 3);
}

static long cancel_as(struct harness *h, const char *token, long long flight)
{
	char authz[128], path[64];
	long status;
	auth_header(authz, sizeof authz, "Bearer", token);
	snprintf(path, sizeof path, "/api/flights/%lld/cancel", flight);
	json_t *j = call(h, "POST", path, NULL, &status, authz, NULL);
	if (status >= 400)
		error_of(j);
	json_decref(j);
	return status;
}

/* Only the submitter's token or an admin token cancels a flight. */
static void only_owner_or_admin_cancels(void **state)
{
	struct harness *h = *state;
	char other[AUTH_TOKEN_HEX + 1], admin[AUTH_TOKEN_HEX + 1], err[256];
	assert_int_equal(auth_token_create(h->db, "other", other, err, sizeof err), 0);
	assert_int_equal(auth_token_create(h->db, "root", admin, err, sizeof err), 0);
	assert_int_equal(auth_token_set_admin(h->db, "root", 1, err, sizeof err), 0);
	long long a = submit_as(h, h->token, NULL, NULL, 201);
	long long b = submit_as(h, h->token, NULL, NULL, 201);
	char *before = snapshot(h->db);
	assert_int_equal(cancel_as(h, other, a), 403);
	char *after = snapshot(h->db);
	assert_string_equal(before, after);
	free(before);
	free(after);
	assert_int_equal(cancel_as(h, h->token, a), 202);
	assert_int_equal(cancel_as(h, admin, b), 202);
	assert_int_equal(fx_scalar(h->db, "SELECT count(*) FROM flights WHERE cancel_requested"),
			 2);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, harness_up, harness_down)

int main(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
	const struct CMUnitTest tests[] = {
		T(invalid_utf8_in_errors_is_still_json),
		T(method_is_escaped_in_405),
		cmocka_unit_test_setup_teardown(idle_connections_do_not_lock_out_others, harness_up,
						attacker_down),
		T(event_logs_are_listed_only_inside_the_log_root),
		T(idempotency_key_makes_retries_safe),
		T(per_token_limits),
		T(bearer_scheme_is_case_insensitive),
		T(only_owner_or_admin_cancels),
	};
	int rc = cmocka_run_group_tests_name("api_hostile", tests, NULL, NULL);
	curl_global_cleanup();
	return rc;
}
