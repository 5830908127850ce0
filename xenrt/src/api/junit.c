/* junit.c: a flight as JUnit XML (see junit.h). */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "junit.h"

struct out {
	struct buf b;
	bool oom;
};

static void put(struct out *o, const char *s, size_t n)
{
	if (!o->oom && n && buf_append((char *)s, 1, n, &o->b) != n)
		o->oom = true;
}

static void putf(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void putf(struct out *o, const char *fmt, ...)
{
	char tmp[256];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
	va_end(ap);
	put(o, tmp, n < 0 ? 0 : (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

/* Text for an attribute or element: the five XML specials escaped, and the
 * control characters XML 1.0 cannot carry at all (test output has them:
 * terminal escapes) shown as '?'.  Strings come from JSON, so they are
 * valid UTF-8 already. */
static void text(struct out *o, const char *s)
{
	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;
		switch (c) {
		case '&':
			put(o, "&amp;", 5);
			break;
		case '<':
			put(o, "&lt;", 4);
			break;
		case '>':
			put(o, "&gt;", 4);
			break;
		case '"':
			put(o, "&quot;", 6);
			break;
		case '\'':
			put(o, "&apos;", 6);
			break;
		default:
			if (c < 0x20 && c != '\t' && c != '\n' && c != '\r')
				put(o, "?", 1);
			else
				put(o, s, 1);
		}
	}
}

static const char *str(json_t *obj, const char *key)
{
	const char *s = json_string_value(json_object_get(obj, key));
	return s ? s : "";
}

/* finished_at - started_at in seconds, 0 when either is missing. */
static double span(json_t *obj)
{
	json_t *a = json_object_get(obj, "started_at"), *b = json_object_get(obj, "finished_at");
	if (!json_is_number(a) || !json_is_number(b))
		return 0;
	double d = json_number_value(b) - json_number_value(a);
	return d > 0 ? d : 0;
}

/* The steps of the job's latest attempt. */
static bool current(json_t *job, json_t *step)
{
	return json_integer_value(json_object_get(step, "attempt")) ==
	       json_integer_value(json_object_get(job, "attempt"));
}

struct counts {
	int tests, failures, errors, skipped;
	double time;
};

static const char *outcome(const char *status)
{
	if (!strcmp(status, "fail"))
		return "failure";
	if (!strcmp(status, "broken"))
		return "error";
	if (!strcmp(status, "pass"))
		return NULL;
	return "skipped"; /* skip, blocked, running (not finished), cancelled */
}

static void count(struct counts *c, const char *status, double t)
{
	const char *o = outcome(status);
	c->tests++;
	c->time += t;
	if (o && !strcmp(o, "failure"))
		c->failures++;
	else if (o && !strcmp(o, "error"))
		c->errors++;
	else if (o)
		c->skipped++;
}

static struct counts job_counts(json_t *job)
{
	struct counts c = { 0 };
	size_t i;
	json_t *step;
	json_array_foreach(json_object_get(job, "steps"), i, step) if (current(job, step))
		count(&c, str(step, "status"), span(step));
	if (c.tests == 0 && strcmp(str(job, "status"), "pass"))
		count(&c, str(job, "status"), 0);
	c.time = span(job) > c.time ? span(job) : c.time;
	return c;
}

/* One testcase: name, classname, status, seconds, message. */
static void testcase(struct out *o, const char *name, const char *cls, const char *status, double t,
		     const char *message)
{
	put(o, "    <testcase name=\"", 20);
	text(o, name);
	put(o, "\" classname=\"", 13);
	text(o, cls);
	putf(o, "\" time=\"%.3f\"", t);
	const char *el = outcome(status);
	if (!el) {
		put(o, "/>\n", 3);
		return;
	}
	putf(o, ">\n      <%s message=\"", el);
	text(o, message && *message ? message : status);
	put(o, "\"", 1);
	if (strcmp(el, "skipped")) {
		putf(o, " type=\"%s\">", status);
		text(o, message && *message ? message : status);
		putf(o, "</%s>\n", el);
	} else {
		put(o, "/>\n", 3);
	}
	put(o, "    </testcase>\n", 16);
}

static void job_suite(struct out *o, json_t *flight, json_t *job, int index)
{
	struct counts c = job_counts(job);
	char cls[160], stamp[32] = "1970-01-01T00:00:00";
	snprintf(cls, sizeof cls, "flight-%lld.%s",
		 (long long)json_integer_value(json_object_get(flight, "id")), str(job, "name"));
	json_t *started = json_object_get(job, "started_at");
	if (json_is_number(started)) {
		time_t t = (time_t)json_number_value(started);
		struct tm tm;
		gmtime_r(&t, &tm);
		strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);
	}
	put(o, "  <testsuite name=\"", 19);
	text(o, str(job, "name"));
	putf(o, "\" id=\"%d\" package=\"", index);
	text(o, cls);
	putf(o,
	     "\" tests=\"%d\" failures=\"%d\" errors=\"%d\" skipped=\"%d\" time=\"%.3f\" "
	     "timestamp=\"%s\" hostname=\"xenrt\">\n",
	     c.tests, c.failures, c.errors, c.skipped, c.time, stamp);
	put(o, "    <properties>\n", 17);
	static const char *const facts[] = { "suite", "status", "attempt" };
	for (size_t k = 0; k < sizeof facts / sizeof facts[0]; k++) {
		json_t *v = json_object_get(job, facts[k]);
		char num[32];
		snprintf(num, sizeof num, "%lld", (long long)json_integer_value(v));
		putf(o, "      <property name=\"xenrt.%s\" value=\"", facts[k]);
		text(o, json_is_string(v) ? json_string_value(v) : num);
		put(o, "\"/>\n", 4);
	}
	const char *k;
	json_t *v;
	json_object_foreach(json_object_get(job, "runvars"), k, v)
	{
		put(o, "      <property name=\"", 22);
		text(o, k);
		put(o, "\" value=\"", 9);
		text(o, json_string_value(v));
		put(o, "\"/>\n", 4);
	}
	put(o, "    </properties>\n", 18);
	size_t i;
	json_t *step;
	int n = 0;
	json_array_foreach(json_object_get(job, "steps"), i, step)
	{
		if (!current(job, step))
			continue;
		n++;
		testcase(o, str(step, "name"), cls, str(step, "status"), span(step),
			 str(step, "message"));
	}
	if (n == 0 && strcmp(str(job, "status"), "pass")) {
		char msg[96];
		snprintf(msg, sizeof msg, "job %s without steps", str(job, "status"));
		testcase(o, str(job, "name"), cls, str(job, "status"), 0, msg);
	}
	put(o, "  </testsuite>\n", 15);
}

char *junit_render(json_t *flight, size_t *len)
{
	struct out o = { { 0 }, false };
	struct counts all = { 0 };
	size_t i;
	json_t *job;
	json_array_foreach(json_object_get(flight, "jobs"), i, job)
	{
		struct counts c = job_counts(job);
		all.tests += c.tests;
		all.failures += c.failures;
		all.errors += c.errors;
		all.skipped += c.skipped;
	}
	put(&o, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n", 39);
	putf(&o,
	     "<testsuites name=\"xenrt flight %lld\" tests=\"%d\" failures=\"%d\" errors=\"%d\" "
	     "skipped=\"%d\" time=\"%.3f\">\n",
	     (long long)json_integer_value(json_object_get(flight, "id")), all.tests, all.failures,
	     all.errors, all.skipped, span(flight));
	json_array_foreach(json_object_get(flight, "jobs"), i, job)
		job_suite(&o, flight, job, (int)i);
	put(&o, "</testsuites>\n", 14);
	if (o.oom) {
		free(o.b.data);
		return NULL;
	}
	*len = o.b.len;
	return o.b.data;
}
