/* status_job.c: a job's page (/jobs/<id>): facts, steps with durations,
 * messages and metrics, the log files of every attempt, and the tail of the
 * latest attempt's console logs inline (what one reads first when a host
 * misbehaves). */
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api.h"
#include "api_model.h"
#include "status.h"
#include "status_util.h"

#define CONSOLE_TAIL 16384

static void job_facts(struct html *h, json_t *j)
{
	html_fmt(
		h,
		"<table class=\"facts\"><tr><th>flight</th><td><a href=\"/flights/%" JSON_INTEGER_FORMAT
		"\">%" JSON_INTEGER_FORMAT "</a></td></tr><tr><th>suite</th><td>",
		json_integer_value(json_object_get(j, "flight_id")),
		json_integer_value(json_object_get(j, "flight_id")));
	put_field(h, j, "suite");
	html_raw(h, "</td></tr><tr><th>status</th><td>");
	put_status(h, json_string_value(json_object_get(j, "status")));
	html_fmt(h,
		 "</td></tr><tr><th>attempt</th><td>%" JSON_INTEGER_FORMAT
		 " of %" JSON_INTEGER_FORMAT "</td></tr><tr><th>hosts</th><td>",
		 json_integer_value(json_object_get(j, "attempt")),
		 json_integer_value(json_object_get(j, "max_attempts")));
	size_t i;
	json_t *x;
	json_array_foreach(json_object_get(j, "hosts"), i, x)
	{
		html_fmt(h,
			 "%sattempt %" JSON_INTEGER_FORMAT
			 ": <a href=\"/hosts/%" JSON_INTEGER_FORMAT "\">",
			 i ? "<br>" : "", json_integer_value(json_object_get(x, "attempt")),
			 json_integer_value(json_object_get(x, "host_id")));
		put_field(h, x, "name");
		html_raw(h, "</a>");
		/* The role only says something when it is not the host's name
		 * (src/dst of a migration). */
		const char *role = json_string_value(json_object_get(x, "role"));
		const char *name = json_string_value(json_object_get(x, "name"));
		if (role && name && strcmp(role, name)) {
			html_raw(h, " as ");
			html_text(h, role);
		}
		/* Where the farm reached dom0 (suites with a dom0 only). */
		json_t *port = json_object_get(x, "ssh_port");
		if (json_is_integer(port))
			html_fmt(h, " (dom0 SSH 127.0.0.1:%" JSON_INTEGER_FORMAT ")",
				 json_integer_value(port));
	}
	html_raw(h, "</td></tr><tr><th>started</th><td>");
	put_time(h, json_object_get(j, "started_at"));
	html_raw(h, "</td></tr><tr><th>duration</th><td>");
	put_duration(h, json_object_get(j, "started_at"), json_object_get(j, "finished_at"));
	html_raw(h, "</td></tr>");
	const char *k;
	json_object_foreach(json_object_get(j, "runvars"), k, x)
	{
		html_raw(h, "<tr><th>");
		html_text(h, k);
		html_raw(h, "</th><td>");
		html_text(h, json_string_value(x));
		html_raw(h, "</td></tr>");
	}
	html_raw(h, "</table>\n");
}

static void steps_table(struct html *h, json_t *steps)
{
	if (!json_array_size(steps)) {
		html_raw(h, "<p>No steps yet.</p>\n");
		return;
	}
	html_raw(
		h,
		"<table class=\"list\"><thead><tr><th>attempt</th><th>#</th><th>step</th><th>status</th>"
		"<th>duration</th><th>message</th><th>metrics</th><th>log</th></tr></thead>"
		"<tbody>\n");
	size_t i, k;
	json_t *s, *m;
	json_array_foreach(steps, i, s)
	{
		const char *st = json_string_value(json_object_get(s, "status"));
		html_fmt(h,
			 "<tr class=\"%s\"><td>%" JSON_INTEGER_FORMAT
			 "</td><td>%" JSON_INTEGER_FORMAT "</td><td>",
			 status_class(st), json_integer_value(json_object_get(s, "attempt")),
			 json_integer_value(json_object_get(s, "seq")));
		put_field(h, s, "name");
		html_raw(h, "</td><td>");
		put_status(h, st);
		html_raw(h, "</td><td>");
		put_duration(h, json_object_get(s, "started_at"),
			     json_object_get(s, "finished_at"));
		html_raw(h, "</td><td>");
		put_field(h, s, "message");
		html_raw(h, "</td><td>");
		json_array_foreach(json_object_get(s, "metrics"), k, m)
		{
			html_raw(h, k ? "<br>" : "");
			put_field(h, m, "name");
			html_fmt(h, " = %g ", json_number_value(json_object_get(m, "value")));
			put_field(h, m, "unit");
		}
		html_raw(h, "</td><td>");
		if (json_is_string(json_object_get(s, "log_url"))) {
			html_raw(h, "<a href=\"");
			put_field(h, s, "log_url");
			html_raw(h, "\">");
			put_field(h, s, "log");
			html_raw(h, "</a>");
		}
		html_raw(h, "</td></tr>\n");
	}
	html_raw(h, "</tbody></table>\n");
}

/* The last CONSOLE_TAIL bytes of a log file, escaped and without the
 * terminal control sequences firmware prints (the raw file stays one click
 * away), in a <pre>. */
static void console_tail(struct html *h, const struct xenrt_config *cfg, json_t *job, json_t *log)
{
	const char *name = json_string_value(json_object_get(log, "name"));
	if (!http_safe_name(name))
		return;
	char path[XENRT_PATH_MAX + 256];
	snprintf(path, sizeof path,
		 "%s/%" JSON_INTEGER_FORMAT "/%" JSON_INTEGER_FORMAT "/%" JSON_INTEGER_FORMAT "/%s",
		 cfg->log_dir, json_integer_value(json_object_get(job, "flight_id")),
		 json_integer_value(json_object_get(job, "id")),
		 json_integer_value(json_object_get(log, "attempt")), name);
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return;
	struct stat sb;
	char buf[CONSOLE_TAIL];
	ssize_t n = -1;
	if (fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode)) {
		off_t from = sb.st_size > CONSOLE_TAIL ? sb.st_size - CONSOLE_TAIL : 0;
		n = pread(fd, buf, sizeof buf, from);
	}
	close(fd);
	if (n < 0)
		return;
	html_raw(h, "<h3>");
	html_text(h, name);
	html_raw(h, " (tail)</h3><pre class=\"console\">");
	html_terminal(h, buf, (size_t)n);
	html_raw(h, "</pre>\n");
}

static void logs_block(struct html *h, const struct xenrt_config *cfg, json_t *job)
{
	json_t *logs = json_object_get(job, "logs");
	if (!json_array_size(logs))
		return;
	html_raw(h, "<h2>Logs</h2><ul class=\"logs\">");
	size_t i;
	json_t *l;
	json_array_foreach(logs, i, l)
	{
		html_raw(h, "<li><a href=\"");
		put_field(h, l, "url");
		html_fmt(h, "\">attempt %" JSON_INTEGER_FORMAT ": ",
			 json_integer_value(json_object_get(l, "attempt")));
		put_field(h, l, "name");
		html_fmt(h, "</a> (%" JSON_INTEGER_FORMAT " bytes)</li>",
			 json_integer_value(json_object_get(l, "size")));
	}
	html_raw(h, "</ul>\n");
	json_int_t latest = json_integer_value(json_object_get(job, "attempt"));
	json_array_foreach(logs, i, l)
	{
		const char *name = json_string_value(json_object_get(l, "name"));
		if (json_integer_value(json_object_get(l, "attempt")) == latest &&
		    !strncmp(name, "console", 7))
			console_tail(h, cfg, job, l);
	}
}

enum MHD_Result status_job_page(struct http_req *r)
{
	json_t *j;
	char err[512];
	int rc = model_job(r->db, r->cfg, r->ids[0], &j, err, sizeof err);
	if (rc)
		return page_error(r, rc, err);
	struct html h = { 0 };
	char title[256];
	const char *name = json_string_value(json_object_get(j, "name"));
	snprintf(title, sizeof title, "Job %" PRId64 ": %s", r->ids[0], name ? name : "");
	const char *st = json_string_value(json_object_get(j, "status"));
	page_begin(&h, title, st && (!strcmp(st, "queued") || !strcmp(st, "running")) ? 10 : 0);
	job_facts(&h, j);
	html_fmt(&h, "<p class=\"api\"><a href=\"/api/jobs/%" PRId64 "\">as JSON</a></p>\n",
		 r->ids[0]);
	html_raw(&h, "<h2>Steps</h2>\n");
	steps_table(&h, json_object_get(j, "steps"));
	logs_block(&h, r->cfg, j);
	page_end(&h);
	json_decref(j);
	return page_send(r, &h);
}
