/* status_util.h: layout and formatting shared by the status pages. */
#ifndef WEB_STATUS_STATUS_UTIL_H
#define WEB_STATUS_STATUS_UTIL_H

#include <jansson.h>

#include "html.h"
#include "http.h"

/* refresh_s > 0 adds a meta refresh: pages of running work update
 * themselves without JavaScript. */
void page_begin(struct html *h, const char *title, int refresh_s);
void page_end(struct html *h);

/* A JSON string field, escaped ("" when absent or not a string). */
void put_field(struct html *h, json_t *obj, const char *key);
/* Unix time (REAL) as UTC "YYYY-MM-DD HH:MM:SS", "-" for null. */
void put_time(struct html *h, json_t *t);
/* end - start in seconds, "running" when end is null. */
void put_duration(struct html *h, json_t *start, json_t *end);
/* A status word as a coloured badge (the class name is from a fixed list). */
void put_status(struct html *h, const char *status);
/* The CSS class for a status, "st-unknown" for anything unexpected. */
const char *status_class(const char *status);

/* Sends the page as 200 text/html, or 500 when rendering ran out of memory. */
enum MHD_Result page_send(struct http_req *r, struct html *h);
/* An error page for a model error (404 or 500). */
enum MHD_Result page_error(struct http_req *r, int rc, const char *err);

#endif
