/* api_submit.c: the write endpoints: submitting and cancelling flights.
 *
 * A submission is validated completely (JSON syntax, field names and types,
 * values, suites, baseline) before anything is written, and then written in
 * one transaction: the flight, its build job, one job per suite depending on
 * the build (with its suite's text and SHA-256, which is what it will run:
 * job_suite.h), and the runvars.  So every rejected request leaves the database
 * exactly as it was, and an accepted one is never half there when the
 * executor looks.  All values reach SQLite as bound parameters.
 *
 * Retries and limits: an Idempotency-Key header names one submission per
 * token; sent again with the same body it answers 200 with the flight the
 * first one made (the lookup and the insert share the transaction, and a
 * unique index backs it), with another body 422.  A token may have at most
 * cfg->max_queued_per_token unfinished flights (429) and submit patches of
 * at most cfg->max_patch_bytes (413).  A flight is cancelled by the token
 * that submitted it or by an admin token (403 otherwise).
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>

#include "api.h"
#include "db.h"
#include "submit.h"
#include "suite.h"
#include "tested.h"
#include "writes.h"

#define MAX_SUITES 32
#define MAX_RUNVARS 64
#define REPO_MAX 4096
#define REF_MAX 256
#define RUNVAR_VALUE_MAX 4096
#define IDEMPOTENCY_KEY_MAX 128

struct submission {
	const char *kind, *repo, *ref, *patch;
	const char *suites[MAX_SUITES];
	int hosts[MAX_SUITES];
	char *suite_text[MAX_SUITES]; /* malloc'd: stored with the job */
	char suite_sha256[MAX_SUITES][65];
	size_t nsuites;
	int64_t baseline; /* 0: none */
	json_t *runvars;  /* borrowed, may be NULL */
	const char *key;  /* Idempotency-Key, NULL when absent */
	char body_sha256[65];
	int64_t schedule_id, bisection_id; /* 0: none */
};

/* 400 for a body that does not fit the schema, 422 for well-formed values
 * the farm cannot act on (unknown suite or baseline). */
struct verr {
	unsigned status;
	char msg[600];
};

static int bad(struct verr *e, unsigned status, const char *fmt, const char *field,
	       const char *what)
{
	e->status = status;
	snprintf(e->msg, sizeof e->msg, fmt, field, what);
	return -1;
}

static bool has_ctl(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return true;
	return false;
}

/* A string field: present (if required), a string, no NUL, at most max bytes. */
static int get_str(json_t *doc, const char *field, bool required, size_t max, const char **out,
		   struct verr *e)
{
	json_t *v = json_object_get(doc, field);
	*out = NULL;
	if (!v)
		return required ? bad(e, 400, "field '%s': %s", field, "required") : 0;
	if (!json_is_string(v))
		return bad(e, 400, "field '%s': %s", field, "expected string");
	if (json_string_length(v) != strlen(json_string_value(v)))
		return bad(e, 400, "field '%s': %s", field, "NUL bytes are not allowed");
	if (json_string_length(v) > max) {
		char what[64];
		snprintf(what, sizeof what, "longer than %zu bytes", max);
		return bad(e, 400, "field '%s': %s", field, what);
	}
	*out = json_string_value(v);
	return 0;
}

static int sha256_hex(const char *data, size_t len, char out[65]);

/* Whether `name` is a suite this farm can run (suite_read checks the name's
 * alphabet and finds the file, suite_parse the text), how many hosts it
 * needs, and its text and hash, which the job keeps (*text malloc'd). */
static int suite_hosts(const struct xenrt_config *cfg, const char *name, int *hosts, char **text,
		       char sha[65], struct verr *e)
{
	*text = NULL;
	if (!strcmp(name, "build"))
		return bad(e, 422, "suite '%s': %s", name, "reserved for the flight's build job");
	struct suite *st;
	char err[400];
	if (suite_read(cfg->suites_dir, name, text, err, sizeof err) < 0 ||
	    suite_parse(*text, name, name, &st, err, sizeof err) < 0) {
		free(*text);
		*text = NULL;
		e->status = 422;
		snprintf(e->msg, sizeof e->msg, "suite '%.64s': %s", name, err);
		return -1;
	}
	*hosts = st->hosts_needed;
	suite_free(st);
	if (sha256_hex(*text, strlen(*text), sha) < 0) {
		free(*text);
		*text = NULL;
		return bad(e, 500, "%s: %s", "suite", "SHA-256 failed");
	}
	return 0;
}

static void submission_free(struct submission *s)
{
	for (size_t i = 0; i < MAX_SUITES; i++) {
		free(s->suite_text[i]);
		s->suite_text[i] = NULL;
	}
}

static bool runvar_name_ok(const char *s)
{
	size_t n = strlen(s);
	return n > 0 && n <= 64 &&
	       strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") == n;
}

static int validate(const struct xenrt_config *cfg, json_t *doc, struct submission *s,
		    struct verr *e)
{
	static const char *const known[] = { "kind",   "repo",     "ref",    "patch",
					     "suites", "baseline", "runvars" };
	if (!json_is_object(doc))
		return bad(e, 400, "%s: %s", "request body", "expected a JSON object");
	const char *k;
	json_t *v;
	json_object_foreach(doc, k, v)
	{
		bool ok = false;
		for (size_t i = 0; i < sizeof known / sizeof known[0] && !ok; i++)
			ok = !strcmp(k, known[i]);
		if (!ok)
			return bad(e, 400, "unknown field '%.64s' (%s)", k,
				   "known: kind, repo, ref, patch, suites, baseline, runvars");
	}
	if (get_str(doc, "repo", true, REPO_MAX, &s->repo, e) ||
	    get_str(doc, "ref", true, REF_MAX, &s->ref, e) ||
	    get_str(doc, "patch", false, HTTP_BODY_MAX, &s->patch, e) ||
	    get_str(doc, "kind", false, 16, &s->kind, e))
		return -1;
	/* repo and ref end up as git arguments: no option look-alikes, no
	 * control characters, no revision ranges. */
	if (!s->repo[0] || s->repo[0] == '-' || has_ctl(s->repo))
		return bad(e, 400, "field '%s': %s", "repo",
			   "expected a path or URL, not empty, not starting with '-', "
			   "without control characters");
	if (!s->ref[0] || s->ref[0] == '-' || has_ctl(s->ref) || strchr(s->ref, ' ') ||
	    strstr(s->ref, ".."))
		return bad(e, 400, "field '%s': %s", "ref",
			   "expected a branch, tag or commit: not empty, not starting with '-', "
			   "no spaces, control characters or '..'");
	if (!s->kind)
		s->kind = s->patch ? "patch" : "branch";
	if (strcmp(s->kind, "patch") && strcmp(s->kind, "branch") && strcmp(s->kind, "nightly") &&
	    strcmp(s->kind, "gate"))
		return bad(e, 400, "field '%s': %s", "kind",
			   "expected one of \"patch\", \"branch\", \"nightly\", \"gate\"");

	json_t *suites = json_object_get(doc, "suites");
	if (!json_is_array(suites) || json_array_size(suites) == 0 ||
	    json_array_size(suites) > MAX_SUITES)
		return bad(e, 400, "field '%s': %s", "suites",
			   "expected an array of 1..32 suite names");
	size_t i;
	json_array_foreach(suites, i, v)
	{
		if (!json_is_string(v))
			return bad(e, 400, "field '%s': %s", "suites",
				   "expected an array of strings");
		const char *name = json_string_value(v);
		if (json_string_length(v) != strlen(name))
			return bad(e, 400, "field '%s': %s", "suites", "NUL bytes are not allowed");
		for (size_t j = 0; j < i; j++)
			if (!strcmp(s->suites[j], name))
				return bad(e, 400, "suite '%.64s': %s", name, "listed twice");
		if (suite_hosts(cfg, name, &s->hosts[i], &s->suite_text[i], s->suite_sha256[i], e) <
		    0)
			return -1;
		s->suites[i] = name;
	}
	s->nsuites = json_array_size(suites);

	json_t *b = json_object_get(doc, "baseline");
	if (b && !json_is_null(b)) {
		if (!json_is_integer(b) || json_integer_value(b) < 1)
			return bad(e, 400, "field '%s': %s", "baseline", "expected a flight id");
		s->baseline = json_integer_value(b);
	}
	s->runvars = json_object_get(doc, "runvars");
	if (s->runvars) {
		if (!json_is_object(s->runvars) || json_object_size(s->runvars) > MAX_RUNVARS)
			return bad(e, 400, "field '%s': %s", "runvars",
				   "expected an object of at most 64 string values");
		json_object_foreach(s->runvars, k, v)
		{
			if (!runvar_name_ok(k))
				return bad(e, 400, "runvar '%.64s': %s", k,
					   "names are 1..64 characters of [A-Za-z0-9_.-]");
			if (!json_is_string(v) || json_string_length(v) > RUNVAR_VALUE_MAX ||
			    json_string_length(v) != strlen(json_string_value(v)))
				return bad(e, 400, "runvar '%.64s': %s", k,
					   "expected a string of at most 4096 bytes without NUL");
		}
	}
	return 0;
}

/* The SQLite error of a failed write, never SQLITE_OK. */
static int failed(sqlite3 *db)
{
	int rc = sqlite3_errcode(db);
	return rc == SQLITE_OK || rc == SQLITE_DONE || rc == SQLITE_ROW ? SQLITE_ERROR : rc;
}

/* Writes the whole flight (through the write model, writes.h); returns SQLITE_OK, SQLITE_NOTFOUND for an unknown
 * baseline, or an SQLite error.  The caller owns the transaction. */
static int write_flight(sqlite3 *db, const struct xenrt_config *cfg, struct submission *s,
			const char *submitter, int64_t *flight, json_t *jobs)
{
	sqlite3_stmt *st;
	int rc;
	/* A tracked branch compares with its last pushed flight unless told
	 * otherwise (tested.h); a bisection probe compares with nothing. */
	if (!s->baseline && !s->bisection_id)
		s->baseline = tested_baseline(db, cfg, s->repo, s->ref);
	if (s->baseline) {
		rc = sqlite3_prepare_v2(db, "SELECT 1 FROM flights WHERE id = ?1", -1, &st, NULL);
		if (rc != SQLITE_OK)
			return rc;
		sqlite3_bind_int64(st, 1, s->baseline);
		rc = sqlite3_step(st);
		sqlite3_finalize(st);
		if (rc == SQLITE_DONE)
			return SQLITE_NOTFOUND;
		if (rc != SQLITE_ROW)
			return sqlite3_errcode(db);
	}
	struct flight_insert f = {
		.kind = s->kind,
		.repo = s->repo,
		.ref = s->ref,
		.patch = s->patch,
		.submitter = submitter,
		.baseline = s->baseline,
		.idempotency_key = s->key,
		.idempotency_sha256 = s->body_sha256,
		.schedule_id = s->schedule_id,
		.bisection_id = s->bisection_id,
	};
	if (writes_flight(db, &f, flight))
		return failed(db);
	int64_t build;
	if (writes_job(db, *flight, "build", 0, 0, NULL, NULL, &build) ||
	    (s->runvars && writes_runvars(db, build, s->runvars)))
		return failed(db);
	json_array_append_new(jobs, json_pack("{s:I, s:s, s:i}", "id", (json_int_t)build, "name",
					      "build", "hosts_needed", 0));
	for (size_t i = 0; i < s->nsuites; i++) {
		int64_t job;
		if (writes_job(db, *flight, s->suites[i], build, s->hosts[i], s->suite_text[i],
			       s->suite_sha256[i], &job) ||
		    (s->runvars && writes_runvars(db, job, s->runvars)))
			return failed(db);
		json_array_append_new(jobs,
				      json_pack("{s:I, s:s, s:i}", "id", (json_int_t)job, "name",
						s->suites[i], "hosts_needed", s->hosts[i]));
	}
	return SQLITE_OK;
}

/* The Idempotency-Key header: absent (0, *key NULL), 1..128 visible ASCII
 * characters (0), or malformed (-1). */
static int idempotency_key(struct http_req *r, const char **key)
{
	*key = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Idempotency-Key");
	if (!*key)
		return 0;
	size_t n = strlen(*key);
	if (n == 0 || n > IDEMPOTENCY_KEY_MAX)
		return -1;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)(*key)[i] < 0x21 || (unsigned char)(*key)[i] > 0x7e)
			return -1;
	return 0;
}

static int sha256_hex(const char *data, size_t len, char out[65])
{
	unsigned char md[32];
	unsigned int mdlen = 0;
	if (!EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL) || mdlen != sizeof md)
		return -1;
	for (size_t i = 0; i < sizeof md; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
	return 0;
}

/* What stands in the way of writing s for `who` inside the open
 * transaction: 0 to go on; 1 when s->key already made a flight with the
 * same body (*flight set, its jobs appended); otherwise an HTTP status
 * with the reason in e (422 key reused with another body, 429 over the
 * queue limit, 500 database). */
static int admission(sqlite3 *db, const struct xenrt_config *cfg, const struct submission *s,
		     const char *who, int64_t *flight, json_t *jobs, struct verr *e)
{
	sqlite3_stmt *st;
	if (s->key) {
		if (sqlite3_prepare_v2(db,
				       "SELECT id, idempotency_sha256 FROM flights WHERE "
				       "submitter = ?1 AND idempotency_key = ?2",
				       -1, &st, NULL) != SQLITE_OK)
			goto dberr;
		sqlite3_bind_text(st, 1, who, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, s->key, -1, SQLITE_STATIC);
		int rc = sqlite3_step(st);
		bool same = rc == SQLITE_ROW &&
			    !strcmp((const char *)sqlite3_column_text(st, 1), s->body_sha256);
		*flight = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
		sqlite3_finalize(st);
		if (rc == SQLITE_ROW && !same) {
			e->status = 422;
			snprintf(e->msg, sizeof e->msg,
				 "Idempotency-Key already used by flight %" PRId64
				 " for a different request",
				 *flight);
			return 422;
		}
		if (rc == SQLITE_ROW) {
			if (sqlite3_prepare_v2(db,
					       "SELECT id, name, hosts_needed FROM jobs WHERE "
					       "flight_id = ?1 ORDER BY id",
					       -1, &st, NULL) != SQLITE_OK)
				goto dberr;
			sqlite3_bind_int64(st, 1, *flight);
			while ((rc = sqlite3_step(st)) == SQLITE_ROW)
				json_array_append_new(
					jobs,
					json_pack("{s:I, s:s, s:i}", "id",
						  (json_int_t)sqlite3_column_int64(st, 0), "name",
						  (const char *)sqlite3_column_text(st, 1),
						  "hosts_needed", sqlite3_column_int(st, 2)));
			sqlite3_finalize(st);
			if (rc != SQLITE_DONE)
				goto dberr;
			return 1;
		}
		if (rc != SQLITE_DONE)
			goto dberr;
	}
	if (sqlite3_prepare_v2(db,
			       "SELECT count(*) FROM flights WHERE submitter = ?1 AND "
			       "status IN ('queued', 'running')",
			       -1, &st, NULL) != SQLITE_OK)
		goto dberr;
	sqlite3_bind_text(st, 1, who, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	int64_t unfinished = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW)
		goto dberr;
	if (unfinished >= cfg->max_queued_per_token) {
		e->status = 429;
		snprintf(e->msg, sizeof e->msg,
			 "token '%s' already has %" PRId64 " queued or "
			 "running flights (the limit is %d): wait for one to finish",
			 who, unfinished, cfg->max_queued_per_token);
		return 429;
	}
	return 0;
dberr:
	e->status = 500;
	snprintf(e->msg, sizeof e->msg, "%s", sqlite3_errmsg(db));
	return sqlite3_errcode(db) == SQLITE_BUSY ? 503 : 500;
}

enum MHD_Result api_flights_submit(struct http_req *r)
{
	enum MHD_Result ret;
	char who[64];
	if (!http_authorize(r, who, sizeof who, NULL, &ret))
		return ret;
	struct submission s = { 0 };
	if (idempotency_key(r, &s.key) < 0)
		return http_error(r, MHD_HTTP_BAD_REQUEST,
				  "header 'Idempotency-Key': expected "
				  "1..%d visible ASCII characters",
				  IDEMPOTENCY_KEY_MAX);
	if (!r->body || r->body_len == 0)
		return http_error(r, MHD_HTTP_BAD_REQUEST, "empty body: expected a JSON object");
	json_error_t jerr;
	json_t *doc =
		json_loadb(r->body, r->body_len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
	if (!doc)
		return http_error(r, MHD_HTTP_BAD_REQUEST,
				  "malformed JSON at line %d, column %d: %s", jerr.line,
				  jerr.column, jerr.text);
	struct verr e;
	if (validate(r->cfg, doc, &s, &e) < 0) {
		ret = http_error(r, e.status, "%s", e.msg);
		submission_free(&s);
		json_decref(doc);
		return ret;
	}
	if (s.patch && strlen(s.patch) > (size_t)r->cfg->max_patch_bytes) {
		ret = http_error(r, MHD_HTTP_CONTENT_TOO_LARGE,
				 "field 'patch': %zu bytes, more than "
				 "the %d a token may submit",
				 strlen(s.patch), r->cfg->max_patch_bytes);
		submission_free(&s);
		json_decref(doc);
		return ret;
	}
	if (sha256_hex(r->body, r->body_len, s.body_sha256) < 0) {
		submission_free(&s);
		json_decref(doc);
		return http_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "SHA-256 failed");
	}

	char err[600];
	int64_t flight = 0;
	json_t *jobs = json_array();
	int stop = 0;
	int rc = db_exec(r->db, "BEGIN IMMEDIATE", err, sizeof err);
	if (rc == SQLITE_OK) {
		stop = admission(r->db, r->cfg, &s, who, &flight, jobs, &e);
		if (stop == 0)
			rc = write_flight(r->db, r->cfg, &s, who, &flight, jobs);
		if (stop == 0 && rc == SQLITE_OK)
			rc = db_exec(r->db, "COMMIT", err, sizeof err);
		else if (rc != SQLITE_OK)
			snprintf(err, sizeof err, "%s", sqlite3_errmsg(r->db));
		if ((stop || rc != SQLITE_OK) && !sqlite3_get_autocommit(r->db)) {
			char ignored[256];
			db_exec(r->db, "ROLLBACK", ignored, sizeof ignored);
		}
	}
	json_decref(doc);
	submission_free(&s);
	if (stop > 1) {
		json_decref(jobs);
		return http_error(r, (unsigned)stop, "%s", e.msg);
	}
	if (rc == SQLITE_NOTFOUND) {
		json_decref(jobs);
		return http_error(r, MHD_HTTP_UNPROCESSABLE_CONTENT,
				  "baseline flight %" PRId64 " does not exist", s.baseline);
	}
	if (rc != SQLITE_OK) {
		json_decref(jobs);
		return http_error(r,
				  rc == SQLITE_BUSY ? MHD_HTTP_SERVICE_UNAVAILABLE
						    : MHD_HTTP_INTERNAL_SERVER_ERROR,
				  "storing the flight: %s", err);
	}
	if (stop == 0 && r->kick)
		r->kick(r->kick_arg);
	char url[64];
	snprintf(url, sizeof url, "/flights/%" PRId64, flight);
	return http_send_json(r, stop ? MHD_HTTP_OK : MHD_HTTP_CREATED,
			      json_pack("{s:I, s:s, s:s, s:o}", "id", (json_int_t)flight, "url",
					url, "submitter", who, "jobs", jobs));
}

enum MHD_Result api_flight_cancel(struct http_req *r)
{
	enum MHD_Result ret;
	char who[64];
	int admin = 0;
	if (!http_authorize(r, who, sizeof who, &admin, &ret))
		return ret;
	if (r->body_len)
		return http_error(r, MHD_HTTP_BAD_REQUEST, "cancel takes no request body");
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(r->db, "SELECT status, submitter FROM flights WHERE id = ?1", -1,
			       &st, NULL) != SQLITE_OK)
		return http_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "%s", sqlite3_errmsg(r->db));
	sqlite3_bind_int64(st, 1, r->ids[0]);
	int rc = sqlite3_step(st);
	char status[32] = "", owner[64] = "";
	if (rc == SQLITE_ROW) {
		snprintf(status, sizeof status, "%s", sqlite3_column_text(st, 0));
		snprintf(owner, sizeof owner, "%s", sqlite3_column_text(st, 1));
	}
	sqlite3_finalize(st);
	if (rc == SQLITE_DONE)
		return http_error(r, MHD_HTTP_NOT_FOUND, "no flight %" PRId64, r->ids[0]);
	if (rc != SQLITE_ROW)
		return http_error(r,
				  rc == SQLITE_BUSY ? MHD_HTTP_SERVICE_UNAVAILABLE
						    : MHD_HTTP_INTERNAL_SERVER_ERROR,
				  "%s", sqlite3_errmsg(r->db));
	if (!admin && strcmp(owner, who) != 0)
		return http_error(r, MHD_HTTP_FORBIDDEN,
				  "flight %" PRId64 " was submitted by "
				  "'%s': only that token or an admin token may cancel it",
				  r->ids[0], owner);
	/* The status test is repeated in the update: the flight may finish
	 * between the two statements. */
	rc = writes_flight_cancel(r->db, r->ids[0]);
	if (rc < 0)
		return http_error(r,
				  sqlite3_errcode(r->db) == SQLITE_BUSY
					  ? MHD_HTTP_SERVICE_UNAVAILABLE
					  : MHD_HTTP_INTERNAL_SERVER_ERROR,
				  "%s", sqlite3_errmsg(r->db));
	if (rc == 0)
		return http_error(
			r, MHD_HTTP_CONFLICT, "flight %" PRId64 " already finished (%s)", r->ids[0],
			strcmp(status, "queued") && strcmp(status, "running") ? status
									      : "just now");
	if (r->kick)
		r->kick(r->kick_arg);
	return http_send_json(
		r, MHD_HTTP_ACCEPTED,
		json_pack("{s:I, s:b}", "id", (json_int_t)r->ids[0], "cancel_requested", 1));
}

int submit_flight(sqlite3 *db, const struct xenrt_config *cfg, const struct flight_request *req,
		  int64_t *flight, char *err, size_t errlen)
{
	struct submission s = { .kind = req->kind,
				.repo = req->repo,
				.ref = req->ref,
				.baseline = req->baseline,
				.runvars = req->runvars,
				.schedule_id = req->schedule_id,
				.bisection_id = req->bisection_id };
	struct verr e;
	if (req->nsuites == 0 || req->nsuites > MAX_SUITES) {
		snprintf(err, errlen, "expected 1..%d suites", MAX_SUITES);
		return -1;
	}
	for (size_t i = 0; i < req->nsuites; i++) {
		if (suite_hosts(cfg, req->suites[i], &s.hosts[i], &s.suite_text[i],
				s.suite_sha256[i], &e) < 0) {
			snprintf(err, errlen, "%s", e.msg);
			submission_free(&s);
			return -1;
		}
		s.suites[i] = req->suites[i];
	}
	s.nsuites = req->nsuites;
	json_t *jobs = json_array();
	int rc = write_flight(db, cfg, &s, req->submitter, flight, jobs);
	json_decref(jobs);
	submission_free(&s);
	if (rc == SQLITE_NOTFOUND)
		snprintf(err, errlen, "baseline flight %" PRId64 " does not exist", s.baseline);
	else if (rc != SQLITE_OK)
		snprintf(err, errlen, "storing the flight: %s", sqlite3_errmsg(db));
	return rc == SQLITE_OK ? 0 : -1;
}
