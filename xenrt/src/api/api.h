/* api.h: REST API handlers (/api/...).  Reads are public; writes check the
 * Bearer token.  Every handler answers JSON, errors as {"error": "..."}. */
#ifndef XENRT_API_H
#define XENRT_API_H

#include "http.h"

enum MHD_Result api_flights_list(struct http_req *r);   /* GET  /api/flights?limit=&before= */
enum MHD_Result api_flights_submit(struct http_req *r); /* POST /api/flights */
enum MHD_Result api_flight_show(struct http_req *r);    /* GET  /api/flights/<id> */
enum MHD_Result api_flight_junit(struct http_req *r);   /* GET  /api/flights/<id>/junit.xml */
enum MHD_Result api_flight_cancel(struct http_req *r);  /* POST /api/flights/<id>/cancel */
enum MHD_Result api_job_show(struct http_req *r);       /* GET  /api/jobs/<id> */
enum MHD_Result api_hosts_list(struct http_req *r);     /* GET  /api/hosts */
enum MHD_Result
api_host_events(struct http_req *r);               /* GET  /api/hosts/<id>/events?limit=&before= */
enum MHD_Result api_metrics(struct http_req *r);   /* GET  /api/metrics[?name=&limit=] */
enum MHD_Result api_schedules(struct http_req *r); /* GET  /api/schedules */
enum MHD_Result api_bisection(struct http_req *r); /* GET  /api/bisections/<id> */
enum MHD_Result api_webhooks(struct http_req *r);  /* GET  /api/webhooks?limit= */

/* Files: GET /logs/<job>/<attempt>/<file>, /logs/events/<host event>/<file>
 * (a health check's logs) and /static/<file> (CSS). */
enum MHD_Result http_serve_log(struct http_req *r);
enum MHD_Result http_serve_event_log(struct http_req *r);
enum MHD_Result http_serve_static(struct http_req *r);

/* True for a file name the log and static routes may serve: 1..128
 * characters of [A-Za-z0-9._-], not starting with '.' (no "..", no hidden
 * files, no separators). */
int http_safe_name(const char *name);

/* True for a directory the executor recorded relative to the log root
 * (jobs' and host events' log_dir): every component a safe name, so even a
 * damaged row cannot point outside the root.  Checked wherever such a
 * directory is listed or served. */
int http_safe_rel_dir(const char *rel);

#endif
