/* http.c: the HTTP server: threads, per-thread DB connections, request
 * bodies with a size cap, the route table, and response helpers. */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <arpa/inet.h>
#include <sys/resource.h>

#include "api.h"
#include "auth.h"
#include "boot_service.h"
#include "db.h"
#include "http.h"
#include "json_util.h"
#include "status.h"

/* Two cores: a few threads keep one slow request (a big log) from stalling
 * the rest without oversubscribing the machine the nested hosts need. */
#define HTTP_THREADS 4
/* Connections: MHD's default limit is FD_SETSIZE - 4 (1,020), and idle or
 * trickling clients (a header line every few seconds never trips an
 * inactivity timeout) could hold all of them.  So: one address holds at
 * most HTTP_PER_IP connections (browsers use 6, a nested host 1 or 2), all
 * together at most HTTP_MAX_CONN and never more than half the descriptors
 * the process may open (the rest are the database, logs and QEMU's pipes),
 * and a connection silent for HTTP_CONN_TIMEOUT_S is closed. */
#define HTTP_MAX_CONN 512
#define HTTP_PER_IP 64
#define HTTP_CONN_TIMEOUT_S 30

typedef enum MHD_Result (*http_handler)(struct http_req *r);

struct http_server {
	struct MHD_Daemon *mhd;
	const struct xenrt_config *cfg;
	http_kick_fn kick;
	void *kick_arg;
	pthread_key_t db_key;
	int port;
};

/* Per-request state kept by MHD between the callbacks of one request. */
struct body {
	char *buf;
	size_t len;
	bool too_big;
};

/* Patterns: "#" matches a positive decimal id, "*" one file-name segment
 * (validated again by its handler).  Method mismatch on a matching path is
 * 405, no matching path 404. */
static const struct route {
	const char *method;
	const char *pattern;
	http_handler fn;
} routes[] = {
	{ "GET", "/api/flights", api_flights_list },
	{ "POST", "/api/flights", api_flights_submit },
	{ "GET", "/api/flights/#", api_flight_show },
	{ "GET", "/api/flights/#/junit.xml", api_flight_junit },
	{ "POST", "/api/flights/#/cancel", api_flight_cancel },
	{ "GET", "/api/jobs/#", api_job_show },
	{ "GET", "/api/hosts", api_hosts_list },
	{ "GET", "/api/hosts/#/events", api_host_events },
	{ "GET", "/api/metrics", api_metrics },
	{ "GET", "/api/schedules", api_schedules },
	{ "GET", "/api/bisections/#", api_bisection },
	{ "GET", "/api/webhooks", api_webhooks },
	{ "GET", "/logs/#/#/*", http_serve_log },
	{ "GET", "/logs/events/#/*", http_serve_event_log },
	{ "GET", "/static/*", http_serve_static },
	{ "GET", "/", status_flights_page },
	{ "GET", "/flights/#", status_flight_page },
	{ "GET", "/jobs/#", status_job_page },
	{ "GET", "/hosts", status_hosts_page },
	{ "GET", "/hosts/#", status_host_page },
	{ "GET", "/trends", status_trends_page },
	{ "GET", "/bisections/#", status_bisection_page },
};

static bool parse_id(const char *s, size_t n, int64_t *out)
{
	if (n == 0 || n > 15 || s[0] == '0')
		return false;
	int64_t v = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return true;
}

/* Matches url against pattern segment by segment, collecting ids and the
 * "*" segment into r. */
static bool match(const char *pattern, const char *url, struct http_req *r)
{
	int nids = 0;
	while (*pattern && *url) {
		if (*pattern != '/' || *url != '/')
			return false;
		pattern++, url++;
		size_t plen = strcspn(pattern, "/"), ulen = strcspn(url, "/");
		if (plen == 1 && *pattern == '#') {
			if (nids == HTTP_MAX_IDS || !parse_id(url, ulen, &r->ids[nids]))
				return false;
			nids++;
		} else if (plen == 1 && *pattern == '*') {
			if (ulen == 0 || url[ulen] != '\0')
				return false;
			r->tail = url;
		} else if (plen != ulen || strncmp(pattern, url, plen) != 0) {
			return false;
		}
		pattern += plen, url += ulen;
	}
	return *pattern == '\0' && *url == '\0';
}

/* MHD's own messages (a refused connection, a client gone mid-request)
 * go to stderr, but at most HTTP_LOG_PER_S a second: a client opening a
 * thousand connections must not flood the daemon's log as well. */
#define HTTP_LOG_PER_S 10

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	static time_t second;
	static unsigned printed, dropped;
	(void)cls;
	time_t now = time(NULL);
	pthread_mutex_lock(&lock);
	if (now != second) {
		if (dropped)
			fprintf(stderr, "xenrt: http: %u more messages suppressed\n", dropped);
		second = now;
		printed = dropped = 0;
	}
	if (printed < HTTP_LOG_PER_S) {
		printed++;
		fputs("xenrt: http: ", stderr);
		vfprintf(stderr, fmt, ap);
	} else {
		dropped++;
	}
	pthread_mutex_unlock(&lock);
}

static void close_db(void *db)
{
	db_close(db);
}

static sqlite3 *thread_db(struct http_server *srv, char *err, size_t errlen)
{
	sqlite3 *db = pthread_getspecific(srv->db_key);
	if (db)
		return db;
	if (db_open(srv->cfg->db_path, &db, err, errlen) != SQLITE_OK)
		return NULL;
	if (pthread_setspecific(srv->db_key, db) != 0) {
		db_close(db);
		snprintf(err, errlen, "pthread_setspecific failed");
		return NULL;
	}
	return db;
}

enum MHD_Result http_send(struct http_req *r, unsigned status, const char *content_type, char *body,
			  size_t len)
{
	struct MHD_Response *resp =
		MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
	if (!resp) {
		free(body);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
	enum MHD_Result ret = MHD_queue_response(r->conn, status, resp);
	MHD_destroy_response(resp);
	return ret;
}

/* doc as compact JSON text plus a newline (which makes curl output and
 * logs readable), malloc'd; steals doc.  NULL when out of memory. */
static char *json_body(json_t *doc, size_t *len)
{
	if (!doc)
		return NULL;
	char *text = json_dumps(doc, JSON_COMPACT);
	json_decref(doc);
	if (!text)
		return NULL;
	*len = strlen(text);
	char *body = realloc(text, *len + 2);
	if (!body) {
		free(text);
		return NULL;
	}
	body[(*len)++] = '\n';
	body[*len] = '\0';
	return body;
}

enum MHD_Result http_send_json(struct http_req *r, unsigned status, json_t *doc)
{
	size_t len;
	char *body = json_body(doc, &len);
	if (!body)
		return MHD_NO;
	return http_send(r, status, "application/json", body, len);
}

enum MHD_Result http_error(struct http_req *r, unsigned status, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	/* The message may quote client bytes (a URL, a field name) or end
	 * inside a multibyte character cut by a precision or by the buffer:
	 * json_text repairs what is not UTF-8, so the client always gets its
	 * answer. */
	return http_send_json(r, status, json_pack("{s:o}", "error", json_text(msg, strlen(msg))));
}

int http_query_int(struct http_req *r, const char *name, int64_t lo, int64_t hi, int64_t def,
		   int64_t *out, enum MHD_Result *ret)
{
	const char *v = MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, name);
	if (!v) {
		*out = def;
		return 0;
	}
	char *end;
	errno = 0;
	long long x = strtoll(v, &end, 10);
	if (errno || end == v || *end || x < lo || x > hi) {
		*ret = http_error(r, MHD_HTTP_BAD_REQUEST,
				  "query parameter '%s': expected integer %" PRId64 "..%" PRId64,
				  name, lo, hi);
		return -1;
	}
	*out = x;
	return 0;
}

int http_authorize(struct http_req *r, char *name, size_t namelen, int *admin, enum MHD_Result *ret)
{
	const char *h = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND,
						    MHD_HTTP_HEADER_AUTHORIZATION);
	/* The scheme is case-insensitive (RFC 9110, 11.1): "bearer" is Bearer. */
	if (!h || strncasecmp(h, "Bearer ", 7) != 0) {
		*ret = http_error(r, MHD_HTTP_UNAUTHORIZED,
				  "missing token: send 'Authorization: Bearer <token>' "
				  "(create one with 'xenrt token create NAME')");
		return 0;
	}
	h += 7;
	h += strspn(h, " ");
	char err[256];
	int ok = auth_token_verify(r->db, h, name, namelen, admin, err, sizeof err);
	if (ok < 0) {
		*ret = http_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "%s", err);
		return 0;
	}
	if (ok == 0) {
		*ret = http_error(r, MHD_HTTP_UNAUTHORIZED, "invalid or revoked token");
		return 0;
	}
	return 1;
}

static enum MHD_Result dispatch(struct http_server *srv, struct http_req *r)
{
	char err[512];
	r->db = thread_db(srv, err, sizeof err);
	if (!r->db)
		return http_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "database: %s", err);
	bool get = strcmp(r->method, "GET") == 0 || strcmp(r->method, "HEAD") == 0;
	if (get) {
		enum MHD_Result ret;
		if (boot_service_handle(r->conn, srv->cfg, r->url, &ret))
			return ret;
	}
	bool path_known = false;
	char allow[32] = "";
	for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
		r->tail = NULL;
		if (!match(routes[i].pattern, r->url, r))
			continue;
		path_known = true;
		bool want_get = strcmp(routes[i].method, "GET") == 0;
		if (get ? want_get : strcmp(routes[i].method, r->method) == 0)
			return routes[i].fn(r);
		size_t n = strlen(allow);
		snprintf(allow + n, sizeof allow - n, "%s%s", n ? ", " : "",
			 want_get ? "GET, HEAD" : routes[i].method);
	}
	if (!path_known)
		return http_error(r, MHD_HTTP_NOT_FOUND, "no such resource: %s", r->url);
	/* The method is the client's bytes: it goes through the JSON encoder
	 * like every other string, never into the text by hand. */
	char msg[128];
	snprintf(msg, sizeof msg, "method %.64s not allowed here; allowed: %s", r->method, allow);
	size_t len;
	char *body = json_body(json_pack("{s:o}", "error", json_text(msg, strlen(msg))), &len);
	if (!body)
		return MHD_NO;
	struct MHD_Response *resp =
		MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
	if (!resp) {
		free(body);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
	MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, allow);
	enum MHD_Result ret = MHD_queue_response(r->conn, MHD_HTTP_METHOD_NOT_ALLOWED, resp);
	MHD_destroy_response(resp);
	return ret;
}

static enum MHD_Result too_large(struct MHD_Connection *conn)
{
	struct http_req r = { .conn = conn };
	return http_error(&r, MHD_HTTP_CONTENT_TOO_LARGE, "request body larger than %d bytes",
			  HTTP_BODY_MAX);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version, const char *upload_data,
				  size_t *upload_data_size, void **con_cls)
{
	struct http_server *srv = cls;
	(void)version;
	struct body *b = *con_cls;
	if (!b) {
		b = calloc(1, sizeof *b);
		if (!b)
			return MHD_NO;
		*con_cls = b;
		/* Refuse a declared oversized body before reading any of it. */
		const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
							     MHD_HTTP_HEADER_CONTENT_LENGTH);
		if (cl && strtoull(cl, NULL, 10) > HTTP_BODY_MAX) {
			b->too_big = true;
			return too_large(conn);
		}
		return MHD_YES;
	}
	if (*upload_data_size) {
		/* Chunked bodies have no length up front: keep reading, keep
		 * nothing past the cap, answer once the body has ended. */
		if (!b->too_big && b->len + *upload_data_size > HTTP_BODY_MAX)
			b->too_big = true;
		if (!b->too_big) {
			char *nb = realloc(b->buf, b->len + *upload_data_size + 1);
			if (!nb)
				return MHD_NO;
			memcpy(nb + b->len, upload_data, *upload_data_size);
			b->buf = nb;
			b->len += *upload_data_size;
			b->buf[b->len] = '\0';
		}
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (b->too_big)
		return too_large(conn);
	struct http_req r = {
		.conn = conn,
		.cfg = srv->cfg,
		.method = method,
		.url = url,
		.body = b->buf,
		.body_len = b->len,
		.kick = srv->kick,
		.kick_arg = srv->kick_arg,
	};
	return dispatch(srv, &r);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	(void)cls, (void)conn, (void)toe;
	struct body *b = *con_cls;
	if (b) {
		free(b->buf);
		free(b);
		*con_cls = NULL;
	}
}

struct http_server *http_start(const struct xenrt_config *cfg, http_kick_fn kick, void *kick_arg,
			       char *err, size_t errlen)
{
	struct sockaddr_in addr = { .sin_family = AF_INET,
				    .sin_port = htons((uint16_t)cfg->http_port) };
	if (inet_pton(AF_INET, cfg->http_addr, &addr.sin_addr) != 1) {
		snprintf(err, errlen, "http_addr '%s' is not an IPv4 address", cfg->http_addr);
		return NULL;
	}
	struct http_server *srv = calloc(1, sizeof *srv);
	if (!srv) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	srv->cfg = cfg;
	srv->kick = kick;
	srv->kick_arg = kick_arg;
	if (pthread_key_create(&srv->db_key, close_db) != 0) {
		snprintf(err, errlen, "pthread_key_create failed");
		free(srv);
		return NULL;
	}
	unsigned max_conn = HTTP_MAX_CONN;
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
	    rl.rlim_cur / 2 < max_conn)
		max_conn = (unsigned)(rl.rlim_cur / 2);
	srv->mhd = MHD_start_daemon(
		MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG, 0, NULL, NULL,
		on_request, srv, MHD_OPTION_EXTERNAL_LOGGER, mhd_log,
		NULL, /* first, so it covers every message */
		MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr, MHD_OPTION_THREAD_POOL_SIZE,
		(unsigned)HTTP_THREADS, MHD_OPTION_CONNECTION_TIMEOUT,
		(unsigned)HTTP_CONN_TIMEOUT_S, MHD_OPTION_CONNECTION_LIMIT, max_conn,
		MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)HTTP_PER_IP,
		MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL, MHD_OPTION_END);
	if (!srv->mhd) {
		snprintf(err, errlen, "cannot listen on %s:%d (port in use?)", cfg->http_addr,
			 cfg->http_port);
		pthread_key_delete(srv->db_key);
		free(srv);
		return NULL;
	}
	const union MHD_DaemonInfo *info = MHD_get_daemon_info(srv->mhd, MHD_DAEMON_INFO_BIND_PORT);
	srv->port = info ? info->port : cfg->http_port;
	return srv;
}

int http_port(const struct http_server *srv)
{
	return srv->port;
}

void http_stop(struct http_server *srv)
{
	if (!srv)
		return;
	/* Joins the pool threads, whose key destructors close their DBs. */
	MHD_stop_daemon(srv->mhd);
	pthread_key_delete(srv->db_key);
	free(srv);
}
