/* status_util.c: the pages' common frame and formatting. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "status_util.h"

void page_begin(struct html *h, const char *title, int refresh_s)
{
	html_raw(h, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">");
	if (refresh_s > 0)
		html_fmt(h, "<meta http-equiv=\"refresh\" content=\"%d\">", refresh_s);
	html_raw(h, "<meta name=\"viewport\" content=\"width=device-width\">"
		    "<link rel=\"stylesheet\" href=\"/static/style.css\"><title>");
	html_text(h, title);
	html_raw(h, " - xenrt</title></head><body><nav><a class=\"brand\" href=\"/\">xenrt</a> "
		    "<a href=\"/\">flights</a> <a href=\"/hosts\">hosts</a> "
		    "<a href=\"/trends\">trends</a> "
		    "<a href=\"/api/flights\">api</a></nav><main>\n<h1>");
	html_text(h, title);
	html_raw(h, "</h1>\n");
}

void page_end(struct html *h)
{
	html_raw(h, "</main></body></html>\n");
}

void put_field(struct html *h, json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);
	if (json_is_string(v))
		html_textn(h, json_string_value(v), json_string_length(v));
	else if (json_is_integer(v))
		html_fmt(h, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
}

void put_time(struct html *h, json_t *t)
{
	if (!json_is_number(t)) {
		html_raw(h, "-");
		return;
	}
	time_t s = (time_t)json_number_value(t);
	struct tm tm;
	char buf[32];
	gmtime_r(&s, &tm);
	strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
	html_raw(h, buf);
}

/* Seconds as one reads them: "4.2 s", "8 min 05 s", "2 h 03 min". */
static void put_seconds(struct html *h, double s)
{
	if (s < 60)
		html_fmt(h, "%.1f s", s);
	else if (s < 3600)
		html_fmt(h, "%d min %02d s", (int)s / 60, (int)s % 60);
	else
		html_fmt(h, "%d h %02d min", (int)(s / 3600), (int)s % 3600 / 60);
}

void put_duration(struct html *h, json_t *start, json_t *end)
{
	if (!json_is_number(start))
		html_raw(h, "-");
	else if (!json_is_number(end))
		html_raw(h, "running");
	else
		put_seconds(h, json_number_value(end) - json_number_value(start));
}

const char *status_class(const char *status)
{
	static const char *const known[] = {
		"queued",       "running", "pass",       "fail",      "broken",
		"blocked",      "skip",    "cancelled",  "idle",      "reserved",
		"provisioning", "offline", "regression", "tolerable", "pending",
	};
	static const char *const cls[] = {
		"st-queued",       "st-running", "st-pass",      "st-fail",      "st-broken",
		"st-blocked",      "st-skip",    "st-cancelled", "st-idle",      "st-reserved",
		"st-provisioning", "st-offline", "st-fail",      "st-tolerable", "st-running",
	};
	for (size_t i = 0; status && i < sizeof known / sizeof known[0]; i++)
		if (!strcmp(status, known[i]))
			return cls[i];
	return "st-unknown";
}

void put_status(struct html *h, const char *status)
{
	html_raw(h, "<span class=\"st ");
	html_raw(h, status_class(status));
	html_raw(h, "\">");
	html_text(h, status ? status : "?");
	html_raw(h, "</span>");
}

enum MHD_Result page_send(struct http_req *r, struct html *h)
{
	size_t len;
	char *body = html_take(h, &len);
	if (!body)
		return http_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR,
				  "out of memory rendering page");
	return http_send(r, MHD_HTTP_OK, "text/html; charset=utf-8", body, len);
}

enum MHD_Result page_error(struct http_req *r, int rc, const char *err)
{
	struct html h = { 0 };
	page_begin(&h, rc == 404 ? "Not found" : "Error", 0);
	html_raw(&h, "<p class=\"error\">");
	html_text(&h, err);
	html_raw(&h, "</p>");
	page_end(&h);
	size_t len;
	char *body = html_take(&h, &len);
	if (!body)
		return MHD_NO;
	return http_send(r, rc == 404 ? MHD_HTTP_NOT_FOUND : MHD_HTTP_INTERNAL_SERVER_ERROR,
			 "text/html; charset=utf-8", body, len);
}
