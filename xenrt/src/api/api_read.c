/* api_read.c: the public, read-only JSON endpoints: thin wrappers that turn
 * the read model (api_model.c) into responses. */
#include <stdint.h>
#include <string.h>

#include "api.h"
#include "api_model.h"
#include "bisect.h"
#include "json_util.h"
#include "junit.h"
#include "schedule.h"

static enum MHD_Result reply(struct http_req *r, int rc, json_t *doc, const char *err)
{
	if (rc == 0)
		return http_send_json(r, MHD_HTTP_OK, doc);
	return http_error(r, rc == 404 ? MHD_HTTP_NOT_FOUND : MHD_HTTP_INTERNAL_SERVER_ERROR, "%s",
			  err);
}

/* ?limit=&before= paging shared by lists. */
static int paging(struct http_req *r, int64_t *before, int64_t *limit, enum MHD_Result *ret)
{
	if (http_query_int(r, "limit", 1, MODEL_PAGE_MAX, MODEL_PAGE_DEFAULT, limit, ret) < 0)
		return -1;
	return http_query_int(r, "before", 1, INT64_MAX, INT64_MAX, before, ret);
}

enum MHD_Result api_flights_list(struct http_req *r)
{
	int64_t before, limit;
	enum MHD_Result ret;
	if (paging(r, &before, &limit, &ret) < 0)
		return ret;
	const char *kind = MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, "kind");
	if (kind && !model_kind_valid(kind))
		return http_error(r, MHD_HTTP_BAD_REQUEST,
				  "query parameter 'kind': expected one of "
				  "patch, branch, nightly, gate");
	json_t *doc = NULL;
	char err[512];
	int rc = model_flights(r->db, kind, before, limit, &doc, err, sizeof err);
	return reply(r, rc, doc, err);
}

enum MHD_Result api_flight_show(struct http_req *r)
{
	json_t *doc = NULL;
	char err[512];
	int rc = model_flight(r->db, r->ids[0], &doc, err, sizeof err);
	return reply(r, rc, doc, err);
}

enum MHD_Result api_flight_junit(struct http_req *r)
{
	json_t *doc = NULL;
	char err[512];
	int rc = model_flight(r->db, r->ids[0], &doc, err, sizeof err);
	if (rc)
		return reply(r, rc, doc, err);
	size_t len;
	char *xml = junit_render(doc, &len);
	json_decref(doc);
	if (!xml)
		return http_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
	return http_send(r, MHD_HTTP_OK, "application/xml; charset=utf-8", xml, len);
}

enum MHD_Result api_job_show(struct http_req *r)
{
	json_t *doc = NULL;
	char err[512];
	int rc = model_job(r->db, r->cfg, r->ids[0], &doc, err, sizeof err);
	return reply(r, rc, doc, err);
}

enum MHD_Result api_hosts_list(struct http_req *r)
{
	json_t *doc = NULL;
	char err[512];
	int rc = model_hosts(r->db, &doc, err, sizeof err);
	return reply(r, rc, doc, err);
}

enum MHD_Result api_host_events(struct http_req *r)
{
	int64_t before, limit;
	enum MHD_Result ret;
	if (paging(r, &before, &limit, &ret) < 0)
		return ret;
	json_t *doc = NULL;
	char err[512];
	int rc = model_host_events(r->db, r->cfg, r->ids[0], before, limit, &doc, err, sizeof err);
	return reply(r, rc, doc, err);
}

enum MHD_Result api_metrics(struct http_req *r)
{
	int64_t limit;
	enum MHD_Result ret;
	if (http_query_int(r, "limit", 1, MODEL_PAGE_MAX, MODEL_PAGE_MAX, &limit, &ret) < 0)
		return ret;
	const char *name = MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, "name");
	json_t *doc = NULL;
	char err[512];
	int rc = model_metrics(r->db, name && *name ? name : NULL, limit, &doc, err, sizeof err);
	return reply(r, rc, doc, err);
}

enum MHD_Result api_schedules(struct http_req *r)
{
	json_t *doc = NULL;
	char err[512];
	int rc = schedule_list(r->db, &doc, err, sizeof err);
	return reply(r, rc ? 500 : 0, doc, err);
}

enum MHD_Result api_bisection(struct http_req *r)
{
	json_t *doc = NULL;
	char err[512];
	int rc = bisect_show(r->db, r->ids[0], &doc, err, sizeof err);
	return reply(r, rc, doc, err);
}

/* The newest webhook deliveries (?limit=), each with its outcome. */
enum MHD_Result api_webhooks(struct http_req *r)
{
	int64_t limit;
	enum MHD_Result ret;
	if (http_query_int(r, "limit", 1, MODEL_PAGE_MAX, MODEL_PAGE_DEFAULT, &limit, &ret) < 0)
		return ret;
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(
		    r->db,
		    "SELECT id, url, event, status, attempts, http_status, "
		    "last_error, next_at, created_at, delivered_at FROM webhook_deliveries "
		    "ORDER BY id DESC LIMIT ?1",
		    -1, &st, NULL) != SQLITE_OK)
		return http_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "%s", sqlite3_errmsg(r->db));
	sqlite3_bind_int64(st, 1, limit);
	json_t *list = json_array();
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		json_array_append_new(list, json_row(st));
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		json_decref(list);
		return http_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "%s", sqlite3_errmsg(r->db));
	}
	return http_send_json(r, MHD_HTTP_OK, json_pack("{s:o}", "deliveries", list));
}
