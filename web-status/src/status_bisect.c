/* status_bisect.c: a bisection's page (/bisections/<id>): the answer
 * first (the first bad commit, or why there is none), then every commit
 * between the baseline and the regressed flight with what its probes said,
 * from the same read model as GET /api/bisections/<id> (bisect.h). */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "bisect.h"
#include "status.h"
#include "status_util.h"

enum MHD_Result status_bisection_page(struct http_req *r)
{
	json_t *b;
	char err[512];
	int rc = bisect_show(r->db, r->ids[0], &b, err, sizeof err);
	if (rc)
		return page_error(r, rc, err);
	char title[64];
	snprintf(title, sizeof title, "Bisection %" PRId64, r->ids[0]);
	struct html h = { 0 };
	const char *st = json_string_value(json_object_get(b, "status"));
	bool live = st && !strcmp(st, "running");
	page_begin(&h, title, live ? 5 : 0);
	html_raw(&h, "<p class=\"verdict\">");
	put_status(&h, st);
	html_raw(&h, " &mdash; ");
	if (json_is_string(json_object_get(b, "message")))
		put_field(&h, b, "message");
	else
		html_raw(&h, "searching");
	html_raw(&h, "</p>\n<table class=\"facts\">");
	html_fmt(&h,
		 "<tr><th>regressed flight</th><td><a href=\"/flights/%" JSON_INTEGER_FORMAT
		 "\">%" JSON_INTEGER_FORMAT "</a></td></tr>",
		 json_integer_value(json_object_get(b, "flight_id")),
		 json_integer_value(json_object_get(b, "flight_id")));
	html_fmt(&h,
		 "<tr><th>baseline</th><td><a href=\"/flights/%" JSON_INTEGER_FORMAT
		 "\">%" JSON_INTEGER_FORMAT "</a></td></tr>",
		 json_integer_value(json_object_get(b, "baseline_id")),
		 json_integer_value(json_object_get(b, "baseline_id")));
	static const char *const keys[] = { "suite", "step", "good", "bad", "first_bad" };
	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
		html_fmt(&h, "<tr><th>%s</th><td>", keys[i]);
		put_field(&h, b, keys[i]);
		html_raw(&h, "</td></tr>");
	}
	html_raw(&h, "</table>\n<table class=\"list\"><thead><tr><th>commit</th><th>subject</th>"
		     "<th>passed</th><th>failed</th><th>running</th></tr></thead><tbody>\n");
	const char *first = json_string_value(json_object_get(b, "first_bad"));
	size_t i;
	json_t *c;
	json_array_foreach(json_object_get(b, "commits"), i, c)
	{
		const char *sha = json_string_value(json_object_get(c, "sha"));
		bool is_first = first && sha && !strcmp(first, sha);
		html_raw(&h, is_first ? "<tr class=\"first-bad\"><td><code><strong>"
				      : "<tr><td><code>");
		html_textn(&h, sha ? sha : "", sha ? strnlen(sha, 12) : 0);
		html_raw(&h, is_first ? "</strong></code></td><td>" : "</code></td><td>");
		put_field(&h, c, "subject");
		html_fmt(&h,
			 "</td><td>%" JSON_INTEGER_FORMAT "</td><td>%" JSON_INTEGER_FORMAT
			 "</td><td>%" JSON_INTEGER_FORMAT "</td></tr>\n",
			 json_integer_value(json_object_get(c, "passed")),
			 json_integer_value(json_object_get(c, "failed")),
			 json_integer_value(json_object_get(c, "pending")));
	}
	html_raw(&h, "</tbody></table>\n");
	html_fmt(&h, "<p class=\"api\"><a href=\"/api/bisections/%" PRId64 "\">as JSON</a></p>\n",
		 r->ids[0]);
	page_end(&h);
	json_decref(b);
	return page_send(r, &h);
}
