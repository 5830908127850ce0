/* test_api_harness.h: a real xenrt HTTP server for tests: libmicrohttpd on
 * an ephemeral loopback port, a temporary SQLite file and log directory, the
 * repository's testsuites/, one API token, and libcurl as the client
 * (bodies collected with src/base/buf.h, as the CLI does).
 * get_json() fetches and parses a JSON answer; snapshot() dumps every table so a test can prove a rejected request
 * changed nothing (helpers a test does not call are marked unused).  Included by the
 * API, status and JUnit tests. */
#ifndef XENRT_TEST_API_HARNESS_H
#define XENRT_TEST_API_HARNESS_H

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <curl/curl.h>
#include <jansson.h>

#include "auth.h"
#include "buf.h"
#include "config.h"
#include "db.h"
#include "fixture_farm.h"
#include "http.h"

struct harness {
	char dir[64];
	struct xenrt_config cfg;
	struct http_server *srv;
	sqlite3 *db; /* the test's own connection */
	char token[AUTH_TOKEN_HEX + 1];
	atomic_int kicks;
};

struct response {
	long status;
	char *body;
	size_t len;
};

static void count_kick(void *arg)
{
	struct harness *h = arg;
	atomic_fetch_add(&h->kicks, 1);
}

static int harness_up(void **state)
{
	struct harness *h = calloc(1, sizeof *h);
	char err[512];
	if (!h)
		return -1;
	if (fx_farm_dirs(&h->cfg, h->dir, sizeof h->dir, "/tmp/xenrt-test-api-XXXXXX") < 0)
		return -1;
	snprintf(h->cfg.suites_dir, sizeof h->cfg.suites_dir, "%s/testsuites", fx_repo_top());
	snprintf(h->cfg.web_dir, sizeof h->cfg.web_dir, "%s/web-status", fx_repo_top());
	config_set_port(&h->cfg, 0);
	if (db_open(h->cfg.db_path, &h->db, err, sizeof err) != SQLITE_OK ||
	    db_sync_hosts(h->db, &h->cfg, err, sizeof err) != SQLITE_OK ||
	    auth_token_create(h->db, "tester", h->token, err, sizeof err) != 0) {
		fprintf(stderr, "# harness: %s\n", err);
		return -1;
	}
	h->srv = http_start(&h->cfg, count_kick, h, err, sizeof err);
	if (!h->srv) {
		fprintf(stderr, "# harness: %s\n", err);
		return -1;
	}
	*state = h;
	return 0;
}

static int harness_down(void **state)
{
	struct harness *h = *state;
	http_stop(h->srv);
	db_close(h->db);
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", h->dir);
	int rc = system(cmd);
	free(h);
	return rc;
}

/* Body source for chunked uploads: `left` bytes of 'x'. */
static size_t feed(char *buf, size_t size, size_t n, void *arg)
{
	size_t *left = arg;
	size_t k = size * n < *left ? size * n : *left;
	memset(buf, 'x', k);
	*left -= k;
	return k;
}

enum {
	AUTH_NONE,
	AUTH_GOOD,
	AUTH_RAW
};

/* One request.  auth: AUTH_NONE, AUTH_GOOD (the harness token) or AUTH_RAW
 * (authz is the whole Authorization header value).  chunked > 0 sends that
 * many bytes with chunked transfer encoding instead of body. */
static struct response request(struct harness *h, const char *method, const char *path,
			       const char *body, int auth, const char *authz, size_t chunked)
{
	struct response r = { 0 };
	struct buf got = { 0 };
	CURL *c = curl_easy_init();
	char url[2048], hdr[512];
	snprintf(url, sizeof url, "http://127.0.0.1:%d%s", http_port(h->srv), path);
	struct curl_slist *hdrs = NULL;
	if (auth == AUTH_GOOD) {
		snprintf(hdr, sizeof hdr, "Authorization: Bearer %s", h->token);
		hdrs = curl_slist_append(hdrs, hdr);
	} else if (auth == AUTH_RAW) {
		snprintf(hdr, sizeof hdr, "Authorization: %s", authz);
		hdrs = curl_slist_append(hdrs, hdr);
	}
	size_t left = chunked;
	if (chunked) {
		hdrs = curl_slist_append(hdrs, "Transfer-Encoding: chunked");
		curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(c, CURLOPT_READFUNCTION, feed);
		curl_easy_setopt(c, CURLOPT_READDATA, &left);
	} else if (body) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
	}
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_PATH_AS_IS, 1L);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, buf_append);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &got);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 20L);
	CURLcode rc = curl_easy_perform(c);
	if (rc == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r.status);
	else
		fprintf(stderr, "# %s %s: %s\n", method, path, curl_easy_strerror(rc));
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(c);
	r.body = got.data ? got.data : strdup("");
	r.len = got.len;
	return r;
}

/* The body as JSON; not JSON fails the test. */
__attribute__((unused)) static json_t *parse(const struct response *r)
{
	json_error_t e;
	json_t *j = json_loads(r->body, 0, &e);
	if (!j)
		fprintf(stderr, "# not JSON (%ld): %s\n", r->status, r->body);
	assert_non_null(j);
	return j;
}

/* GET path: must answer `status` with JSON. */
__attribute__((unused)) static json_t *get_json(struct harness *h, const char *path, long status)
{
	struct response r = request(h, "GET", path, NULL, AUTH_NONE, NULL, 0);
	assert_int_equal(r.status, status);
	json_t *j = parse(&r);
	free(r.body);
	return j;
}

/* Every row of every table, in a fixed order, as text. */
__attribute__((unused)) static char *snapshot(sqlite3 *db)
{
	static const char *const tables[] = {
		"flights",   "jobs",        "runvars",          "steps",
		"metrics",   "artifacts",   "flight_artifacts", "hosts",
		"job_hosts", "host_events", "api_tokens",       "schema_migrations"
	};
	struct buf out = { 0 };
	for (size_t t = 0; t < sizeof tables / sizeof tables[0]; t++) {
		char sql[128];
		snprintf(sql, sizeof sql, "SELECT * FROM %s ORDER BY rowid", tables[t]);
		sqlite3_stmt *st;
		if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
			return NULL;
		buf_append((char *)tables[t], 1, strlen(tables[t]), &out);
		buf_append(":\n", 1, 2, &out);
		while (sqlite3_step(st) == SQLITE_ROW) {
			for (int i = 0; i < sqlite3_column_count(st); i++) {
				const unsigned char *v = sqlite3_column_text(st, i);
				buf_append(v ? (char *)v : "NULL", 1,
					   v ? strlen((const char *)v) : 4, &out);
				buf_append("|", 1, 1, &out);
			}
			buf_append("\n", 1, 1, &out);
		}
		sqlite3_finalize(st);
	}
	return out.data;
}

#endif
