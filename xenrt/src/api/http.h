/* http.h: the daemon's HTTP server (libmicrohttpd) and the request helpers
 * every handler uses.
 *
 * One server serves the REST API (/api/...), the status pages (/, /flights,
 * /jobs, /hosts), log files (/logs/...), static CSS (/static/...) and, first
 * for every GET, the boot service of boot_service.c (/boot/..., /artifacts/...).
 * Requests run on a small pool of MHD threads; each thread lazily opens its
 * own SQLite connection (connections are never shared between threads).
 * Request bodies are capped at HTTP_BODY_MAX: larger ones get 413 before
 * anything is parsed.
 */
#ifndef XENRT_HTTP_H
#define XENRT_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <microhttpd.h>
#include <sqlite3.h>

#include "config.h"

#define HTTP_BODY_MAX (1024 * 1024)
#define HTTP_MAX_IDS 4

struct http_server;

/* Called after a flight is submitted or a cancel requested (executor_kick). */
typedef void (*http_kick_fn)(void *arg);

/* Starts serving cfg->http_addr:cfg->http_port (port 0: an ephemeral port,
 * see http_port).  cfg must outlive the server.  NULL with a message on
 * failure. */
struct http_server *http_start(const struct xenrt_config *cfg, http_kick_fn kick, void *kick_arg,
			       char *err, size_t errlen);

/* The port actually bound. */
int http_port(const struct http_server *srv);

/* Stops accepting, waits for requests in flight, closes the threads' DBs. */
void http_stop(struct http_server *srv);

/* One request, as handlers see it. */
struct http_req {
	struct MHD_Connection *conn;
	const struct xenrt_config *cfg;
	sqlite3 *db; /* this thread's connection */
	const char *method;
	const char *url;
	const char *body; /* NUL-terminated; NULL when there is none */
	size_t body_len;
	int64_t ids[HTTP_MAX_IDS]; /* the numeric path segments, in order */
	const char *tail;          /* the last path segment for "*" routes */
	http_kick_fn kick;
	void *kick_arg;
};

/* Response helpers: each queues one response and returns MHD's result. */
enum MHD_Result http_send(struct http_req *r, unsigned status, const char *content_type, char *body,
			  size_t len); /* takes ownership of malloc'd body */
enum MHD_Result http_send_json(struct http_req *r, unsigned status, json_t *doc); /* steals doc */
enum MHD_Result http_error(struct http_req *r, unsigned status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Integer query parameter: *out = def when absent; -1 (and a 400 queued)
 * when present but not an integer in lo..hi. */
int http_query_int(struct http_req *r, const char *name, int64_t lo, int64_t hi, int64_t def,
		   int64_t *out, enum MHD_Result *ret);

/* The Bearer token of the request (scheme in any case), checked against
 * api_tokens.  1, the token's name and (admin not NULL) whether it is an
 * admin token when valid; otherwise 0 with a 401 (or 500) already queued. */
int http_authorize(struct http_req *r, char *name, size_t namelen, int *admin,
		   enum MHD_Result *ret);

#endif
