/* status_hosts.c: the host pool (/hosts): every host with its state and the
 * most recent host events across the pool. */
#include <stdint.h>
#include <stdio.h>

#include "api_model.h"
#include "status.h"
#include "status_util.h"

#define RECENT_EVENTS 50

enum MHD_Result status_hosts_page(struct http_req *r)
{
	json_t *hosts, *events;
	char err[512];
	int rc = model_hosts(r->db, &hosts, err, sizeof err);
	if (rc)
		return page_error(r, rc, err);
	rc = model_host_events(r->db, 0, INT64_MAX, RECENT_EVENTS, &events, err, sizeof err);
	if (rc) {
		json_decref(hosts);
		return page_error(r, rc, err);
	}
	struct html h = { 0 };
	page_begin(&h, "Hosts", 30);
	html_raw(&h, "<table class=\"list\"><thead><tr><th>host</th><th>state</th><th>driver</th>"
		     "<th>cpu</th><th>vcpus</th><th>memory</th><th>flags</th><th>job</th>"
		     "<th>since (UTC)</th></tr></thead><tbody>\n");
	size_t i;
	json_t *x;
	json_array_foreach(json_object_get(hosts, "hosts"), i, x) {
		html_raw(&h, "<tr><td>");
		put_field(&h, x, "name");
		html_raw(&h, "</td><td>");
		put_status(&h, json_string_value(json_object_get(x, "state")));
		if (json_integer_value(json_object_get(x, "needs_health_check")))
			html_raw(&h, " <small>health check due</small>");
		html_raw(&h, "</td><td>");
		put_field(&h, x, "driver");
		html_raw(&h, "</td><td>");
		put_field(&h, x, "cpu_vendor");
		html_raw(&h, " ");
		put_field(&h, x, "cpu_model");
		html_raw(&h, "</td><td>");
		put_field(&h, x, "vcpus");
		html_raw(&h, "</td><td>");
		put_field(&h, x, "memory_mib");
		html_raw(&h, " MiB</td><td>");
		put_field(&h, x, "flags");
		html_raw(&h, "</td><td>");
		json_t *job = json_object_get(x, "reserved_by");
		if (json_is_integer(job))
			html_fmt(&h, "<a href=\"/jobs/%" JSON_INTEGER_FORMAT "\">%" JSON_INTEGER_FORMAT
				 "</a>", json_integer_value(job), json_integer_value(job));
		html_raw(&h, "</td><td>");
		put_time(&h, json_object_get(x, "updated_at"));
		html_raw(&h, "</td></tr>\n");
	}
	html_raw(&h, "</tbody></table>\n<h2>Recent events</h2>\n<table class=\"list\"><thead><tr>"
		     "<th>when (UTC)</th><th>host</th><th>from</th><th>to</th><th>job</th>"
		     "<th>reason</th></tr></thead><tbody>\n");
	json_array_foreach(json_object_get(events, "events"), i, x) {
		html_raw(&h, "<tr><td>");
		put_time(&h, json_object_get(x, "at"));
		html_raw(&h, "</td><td>");
		put_field(&h, x, "host");
		html_raw(&h, "</td><td>");
		put_field(&h, x, "old_state");
		html_raw(&h, "</td><td>");
		put_status(&h, json_string_value(json_object_get(x, "new_state")));
		html_raw(&h, "</td><td>");
		json_t *job = json_object_get(x, "job_id");
		if (json_is_integer(job))
			html_fmt(&h, "<a href=\"/jobs/%" JSON_INTEGER_FORMAT "\">%" JSON_INTEGER_FORMAT
				 "</a>", json_integer_value(job), json_integer_value(job));
		html_raw(&h, "</td><td>");
		put_field(&h, x, "reason");
		html_raw(&h, "</td></tr>\n");
	}
	html_raw(&h, "</tbody></table>\n");
	page_end(&h);
	json_decref(hosts);
	json_decref(events);
	return page_send(r, &h);
}
