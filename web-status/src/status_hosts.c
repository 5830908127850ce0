/* status_hosts.c: the host pool (/hosts): every host with its state and the
 * most recent host events across the pool, health checks linking their logs;
 * and one host's page (/hosts/<id>) with its whole event history, paged. */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>

#include "api_model.h"
#include "status.h"
#include "status_util.h"

#define RECENT_EVENTS 50

static void events_table(struct html *h, json_t *events)
{
	html_raw(h, "<table class=\"list\"><thead><tr><th>when (UTC)</th><th>host</th><th>from</th>"
		    "<th>to</th><th>job</th><th>reason</th><th>logs</th></tr></thead><tbody>\n");
	size_t i;
	json_t *x;
	json_array_foreach(events, i, x)
	{
		html_raw(h, "<tr><td>");
		put_time(h, json_object_get(x, "at"));
		html_fmt(h, "</td><td><a href=\"/hosts/%" JSON_INTEGER_FORMAT "\">",
			 json_integer_value(json_object_get(x, "host_id")));
		put_field(h, x, "host");
		html_raw(h, "</a></td><td>");
		put_field(h, x, "old_state");
		html_raw(h, "</td><td>");
		put_status(h, json_string_value(json_object_get(x, "new_state")));
		html_raw(h, "</td><td>");
		json_t *job = json_object_get(x, "job_id");
		if (json_is_integer(job))
			html_fmt(h,
				 "<a href=\"/jobs/%" JSON_INTEGER_FORMAT "\">%" JSON_INTEGER_FORMAT
				 "</a>",
				 json_integer_value(job), json_integer_value(job));
		html_raw(h, "</td><td>");
		put_field(h, x, "reason");
		html_raw(h, "</td><td>");
		/* A health check's console: why a host stays quarantined. */
		size_t k;
		json_t *log;
		json_array_foreach(json_object_get(x, "logs"), k, log)
		{
			html_raw(h, "<a href=\"");
			put_field(h, log, "url");
			html_raw(h, "\">");
			put_field(h, log, "name");
			html_raw(h, "</a> ");
		}
		html_raw(h, "</td></tr>\n");
	}
	html_raw(h, "</tbody></table>\n");
}

enum MHD_Result status_hosts_page(struct http_req *r)
{
	json_t *hosts, *events;
	char err[512];
	int rc = model_hosts(r->db, &hosts, err, sizeof err);
	if (rc)
		return page_error(r, rc, err);
	rc = model_host_events(r->db, r->cfg, 0, INT64_MAX, RECENT_EVENTS, &events, err,
			       sizeof err);
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
	json_array_foreach(json_object_get(hosts, "hosts"), i, x)
	{
		html_fmt(&h, "<tr><td><a href=\"/hosts/%" JSON_INTEGER_FORMAT "\">",
			 json_integer_value(json_object_get(x, "id")));
		put_field(&h, x, "name");
		html_raw(&h, "</a></td><td>");
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
			html_fmt(&h,
				 "<a href=\"/jobs/%" JSON_INTEGER_FORMAT "\">%" JSON_INTEGER_FORMAT
				 "</a>",
				 json_integer_value(job), json_integer_value(job));
		html_raw(&h, "</td><td>");
		put_time(&h, json_object_get(x, "updated_at"));
		html_raw(&h, "</td></tr>\n");
	}
	html_raw(&h, "</tbody></table>\n<h2>Recent events</h2>\n");
	events_table(&h, json_object_get(events, "events"));
	page_end(&h);
	json_decref(hosts);
	json_decref(events);
	return page_send(r, &h);
}

enum MHD_Result status_host_page(struct http_req *r)
{
	int64_t before, limit;
	enum MHD_Result ret;
	if (http_query_int(r, "limit", 1, MODEL_PAGE_MAX, MODEL_PAGE_DEFAULT, &limit, &ret) < 0 ||
	    http_query_int(r, "before", 1, INT64_MAX, INT64_MAX, &before, &ret) < 0)
		return ret;
	json_t *doc;
	char err[512];
	int rc = model_host_events(r->db, r->cfg, r->ids[0], before, limit, &doc, err, sizeof err);
	if (rc)
		return page_error(r, rc, err);
	json_t *host = json_object_get(doc, "host");
	struct html h = { 0 };
	char title[96];
	snprintf(title, sizeof title, "Host %.64s",
		 json_string_value(json_object_get(host, "name")));
	page_begin(&h, title, 30);
	html_raw(&h, "<p>state ");
	put_status(&h, json_string_value(json_object_get(host, "state")));
	if (json_integer_value(json_object_get(host, "needs_health_check")))
		html_raw(&h, " <small>health check due</small>");
	html_raw(&h, " &middot; ");
	put_field(&h, host, "driver");
	html_raw(&h, " ");
	put_field(&h, host, "cpu_vendor");
	html_raw(&h, " ");
	put_field(&h, host, "cpu_model");
	html_raw(&h, ", ");
	put_field(&h, host, "vcpus");
	html_raw(&h, " vCPUs, ");
	put_field(&h, host, "memory_mib");
	html_fmt(&h,
		 " MiB &middot; <a href=\"/api/hosts/%" PRId64 "/events\">as JSON</a></p>\n"
		 "<h2>Events</h2>\n",
		 r->ids[0]);
	events_table(&h, json_object_get(doc, "events"));
	json_t *next = json_object_get(doc, "next_before");
	if (json_is_integer(next))
		html_fmt(&h,
			 "<p class=\"pager\"><a href=\"/hosts/%" PRId64
			 "?before=%" JSON_INTEGER_FORMAT "&amp;limit=%" PRId64
			 "\">older events</a></p>\n",
			 r->ids[0], json_integer_value(next), limit);
	page_end(&h);
	json_decref(doc);
	return page_send(r, &h);
}
