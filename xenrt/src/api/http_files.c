/* http_files.c: files served from disk: job logs, health-check logs and the
 * status page's CSS.
 *
 * File names come from the URL, so they are checked against a strict
 * alphabet (no separators, no leading dot, hence no "..") before any path is
 * built, and the file is opened with O_NOFOLLOW and must be a regular file:
 * a symlink planted in a log directory cannot leak the rest of the disk.
 * The job and attempt (or the host event) are ids checked against the
 * database, and the log's directory comes from there, never from the URL.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api.h"

int http_safe_name(const char *name)
{
	size_t n = strlen(name);
	return n > 0 && n <= 128 && name[0] != '.' &&
	       strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") ==
		       n;
}

static enum MHD_Result send_file(struct http_req *r, const char *path, const char *type)
{
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	struct stat sb;
	if (fd < 0 || fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
		if (fd >= 0)
			close(fd);
		return http_error(r, MHD_HTTP_NOT_FOUND, "no such file: %s", r->url);
	}
	struct MHD_Response *resp = MHD_create_response_from_fd((size_t)sb.st_size, fd);
	if (!resp) {
		close(fd);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	/* Logs are test output: never let a browser sniff them into HTML. */
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	enum MHD_Result ret = MHD_queue_response(r->conn, MHD_HTTP_OK, resp);
	MHD_destroy_response(resp);
	return ret;
}

static enum MHD_Result bad_log_name(struct http_req *r)
{
	return http_error(r, MHD_HTTP_BAD_REQUEST,
			  "bad log file name: expected 1..128 characters "
			  "of [A-Za-z0-9._-] not starting with '.'");
}

enum MHD_Result http_serve_log(struct http_req *r)
{
	if (!http_safe_name(r->tail))
		return bad_log_name(r);
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(r->db, "SELECT flight_id, attempt FROM jobs WHERE id = ?1", -1, &st,
			       NULL) != SQLITE_OK)
		return http_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "%s", sqlite3_errmsg(r->db));
	sqlite3_bind_int64(st, 1, r->ids[0]);
	int rc = sqlite3_step(st);
	int64_t flight = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	int64_t attempts = rc == SQLITE_ROW ? sqlite3_column_int64(st, 1) : 0;
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return http_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "%s", sqlite3_errmsg(r->db));
	if (rc == SQLITE_DONE)
		return http_error(r, MHD_HTTP_NOT_FOUND, "no job %" PRId64, r->ids[0]);
	if (r->ids[1] > attempts)
		return http_error(r, MHD_HTTP_NOT_FOUND, "job %" PRId64 " has no attempt %" PRId64,
				  r->ids[0], r->ids[1]);
	char path[XENRT_PATH_MAX + 256];
	snprintf(path, sizeof path, "%s/%" PRId64 "/%" PRId64 "/%" PRId64 "/%s", r->cfg->log_dir,
		 flight, r->ids[0], r->ids[1], r->tail);
	return send_file(r, path, "text/plain; charset=utf-8");
}

int http_safe_rel_dir(const char *rel)
{
	char part[160];
	while (*rel) {
		size_t n = strcspn(rel, "/");
		if (n >= sizeof part)
			return 0;
		memcpy(part, rel, n);
		part[n] = '\0';
		if (!http_safe_name(part))
			return 0;
		rel += n;
		if (*rel == '/' && !*++rel)
			return 0;
	}
	return 1;
}

enum MHD_Result http_serve_event_log(struct http_req *r)
{
	if (!http_safe_name(r->tail))
		return bad_log_name(r);
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(r->db, "SELECT log_dir FROM host_events WHERE id = ?1", -1, &st,
			       NULL) != SQLITE_OK)
		return http_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "%s", sqlite3_errmsg(r->db));
	sqlite3_bind_int64(st, 1, r->ids[0]);
	int rc = sqlite3_step(st);
	char path[XENRT_PATH_MAX + 512] = "";
	const char *rel = rc == SQLITE_ROW ? (const char *)sqlite3_column_text(st, 0) : NULL;
	if (rel && http_safe_rel_dir(rel))
		snprintf(path, sizeof path, "%s/%s/%s", r->cfg->log_dir, rel, r->tail);
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return http_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "%s", sqlite3_errmsg(r->db));
	if (rc == SQLITE_DONE)
		return http_error(r, MHD_HTTP_NOT_FOUND, "no host event %" PRId64, r->ids[0]);
	if (!path[0])
		return http_error(r, MHD_HTTP_NOT_FOUND, "host event %" PRId64 " has no logs",
				  r->ids[0]);
	return send_file(r, path, "text/plain; charset=utf-8");
}

enum MHD_Result http_serve_static(struct http_req *r)
{
	size_t n = strlen(r->tail);
	if (!http_safe_name(r->tail) || n < 5 || strcmp(r->tail + n - 4, ".css") != 0)
		return http_error(r, MHD_HTTP_NOT_FOUND, "no such file: %s", r->url);
	char path[XENRT_PATH_MAX + 160];
	snprintf(path, sizeof path, "%s/static/%s", r->cfg->web_dir, r->tail);
	return send_file(r, path, "text/css; charset=utf-8");
}
