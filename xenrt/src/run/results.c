/* results.c: console byte stream to lines, TAP and JSON-lines results.
 * See results.h for why each piece exists. */
#include "results.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct results_reader {
	results_cb cb;
	void *ctx;
	char line[RESULTS_LINE_MAX + 1];
	size_t len;
	int truncated;
};

struct results_reader *results_new(results_cb cb, void *ctx)
{
	struct results_reader *r = calloc(1, sizeof(*r));

	if (r) {
		r->cb = cb;
		r->ctx = ctx;
	}
	return r;
}

void results_free(struct results_reader *r)
{
	free(r);
}

static int source_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '_';
}

const char *results_split_prefix(const char *line, char source[RESULTS_SOURCE_MAX])
{
	const char *s = line;
	size_t n = 0;

	source[0] = '\0';
	if (*s++ != '[')
		return line;
	while (*s == ' ')
		s++;
	if (*s < '0' || *s > '9')
		return line;
	while ((*s >= '0' && *s <= '9') || *s == '.')
		s++;
	if (s[0] != ']' || s[1] != ' ' || s[2] != '(')
		return line;
	s += 3;
	while (source_char(s[n]) && n < RESULTS_SOURCE_MAX - 1)
		n++;
	if (n == 0 || s[n] != ')' || (s[n + 1] != ' ' && s[n + 1] != '\0'))
		return line;
	memcpy(source, s, n);
	source[n] = '\0';
	s += n + 1;
	return *s == ' ' ? s + 1 : s;
}

/* Metric units come from the name's suffix ("exit_us" is in µs) unless the
 * line gives {"value": v, "unit": u}: test authors write the short form. */
static void unit_from_name(const char *name, char *unit, size_t unitlen)
{
	static const char *const units[] = { "ns",    "us",  "ms",  "s",  "pct",
					     "bytes", "kib", "mib", "ops" };
	const char *us = strrchr(name, '_');

	unit[0] = '\0';
	if (!us)
		return;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (strcmp(us + 1, units[i]) == 0)
			snprintf(unit, unitlen, "%s", units[i]);
}

static int metric_name_valid(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n >= sizeof(((struct results_metric *)0)->name))
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!source_char(name[i]) && name[i] != '.')
			return 0;
	return 1;
}

static int bad(struct results_event *ev, const char *why)
{
	ev->kind = RESULTS_JSON_BAD;
	snprintf(ev->message, sizeof(ev->message), "%s", why);
	return -1;
}

static int json_metrics(struct results_event *ev, json_t *metrics)
{
	const char *name;
	json_t *v;

	if (!json_is_object(metrics))
		return bad(ev, "\"metrics\" is not an object");
	json_object_foreach(metrics, name, v)
	{
		struct results_metric *m;
		json_t *value = v, *unit = NULL;

		if (ev->n_metrics == RESULTS_MAX_METRICS)
			return bad(ev, "too many metrics on one line");
		if (!metric_name_valid(name))
			return bad(ev, "bad metric name");
		if (json_is_object(v)) {
			value = json_object_get(v, "value");
			unit = json_object_get(v, "unit");
			if (unit &&
			    (!json_is_string(unit) || strlen(json_string_value(unit)) >= 16))
				return bad(ev, "bad metric unit");
		}
		if (!json_is_number(value) || !isfinite(json_number_value(value)))
			return bad(ev, "metric value is not a finite number");
		m = &ev->metrics[ev->n_metrics++];
		snprintf(m->name, sizeof(m->name), "%s", name);
		m->value = json_number_value(value);
		if (unit)
			tap_sanitize(m->unit, sizeof(m->unit), json_string_value(unit),
				     strlen(json_string_value(unit)));
		else
			unit_from_name(name, m->unit, sizeof(m->unit));
	}
	return 0;
}

static void json_line(struct results_event *ev, const char *text)
{
	json_error_t jerr;
	json_t *root = json_loads(text, JSON_REJECT_DUPLICATES, &jerr);
	json_t *step, *status, *metrics, *message;

	if (!root || !json_is_object(root)) {
		bad(ev, root ? "not a JSON object" : "invalid JSON");
		json_decref(root);
		return;
	}
	if (json_is_true(json_object_get(root, "end"))) {
		ev->kind = RESULTS_JSON_END;
		json_decref(root);
		return;
	}
	step = json_object_get(root, "step");
	status = json_object_get(root, "status");
	metrics = json_object_get(root, "metrics");
	message = json_object_get(root, "message");
	if (!json_is_string(step) || json_string_length(step) == 0) {
		bad(ev, "\"step\" missing or not a non-empty string");
	} else if (!json_is_string(status) || (strcmp(json_string_value(status), "pass") &&
					       strcmp(json_string_value(status), "fail") &&
					       strcmp(json_string_value(status), "skip"))) {
		bad(ev, "\"status\" must be \"pass\", \"fail\" or \"skip\"");
	} else if (message && !json_is_string(message)) {
		bad(ev, "\"message\" is not a string");
	} else if (!metrics || json_metrics(ev, metrics) == 0) {
		ev->kind = RESULTS_JSON_STEP;
		tap_sanitize(ev->step, sizeof(ev->step), json_string_value(step),
			     json_string_length(step));
		snprintf(ev->status, sizeof(ev->status), "%s", json_string_value(status));
		if (message)
			tap_sanitize(ev->message, sizeof(ev->message), json_string_value(message),
				     json_string_length(message));
	}
	json_decref(root);
}

static void emit_line(struct results_reader *r)
{
	struct results_event *ev = calloc(1, sizeof(*ev));
	char source[RESULTS_SOURCE_MAX];

	r->line[r->len] = '\0';
	if (ev) {
		ev->kind = RESULTS_LINE;
		ev->raw = r->line;
		ev->text = results_split_prefix(r->line, source);
		ev->source = source;
		ev->truncated = r->truncated;
		r->cb(r->ctx, ev);
		/* A cut line is never parsed: half a result is worse than none. */
		if (!r->truncated) {
			if (ev->text[0] == '{') {
				json_line(ev, ev->text);
				r->cb(r->ctx, ev);
			} else {
				tap_parse_line(ev->text, &ev->tap);
				if (ev->tap.kind != TAP_OTHER) {
					ev->kind = RESULTS_TAP;
					r->cb(r->ctx, ev);
				}
			}
		}
		free(ev);
	}
	r->len = 0;
	r->truncated = 0;
}

void results_feed(struct results_reader *r, const void *buf, size_t n)
{
	const unsigned char *p = buf;

	for (size_t i = 0; i < n; i++) {
		unsigned char c = p[i];

		if (c == '\n') {
			emit_line(r);
		} else if (c == '\r') {
			continue;
		} else if (r->len < RESULTS_LINE_MAX) {
			/* A NUL would end the line early for every consumer. */
			r->line[r->len++] = c ? (char)c : '?';
		} else {
			r->truncated = 1;
		}
	}
}

void results_flush(struct results_reader *r)
{
	if (r->len || r->truncated)
		emit_line(r);
}

static struct tap_source *tally_find(struct tap_tally *t, const char *source, int create)
{
	for (int i = 0; i < t->n; i++)
		if (strcmp(t->src[i].name, source) == 0)
			return &t->src[i];
	if (!create)
		return NULL;
	if (t->n == TAP_TALLY_SOURCES) {
		t->overflow = 1;
		return NULL;
	}
	struct tap_source *s = &t->src[t->n++];
	memset(s, 0, sizeof(*s));
	snprintf(s->name, sizeof(s->name), "%s", source);
	s->plan = -1;
	return s;
}

void tap_tally_add(struct tap_tally *t, const char *source, const struct tap_line *l)
{
	struct tap_source *s = tally_find(t, source, 1);

	if (!s)
		return;
	switch (l->kind) {
	case TAP_PLAN:
		s->plan = l->plan;
		break;
	case TAP_RESULT:
		s->results++;
		if (!l->ok && !l->todo)
			s->failed++;
		break;
	case TAP_BAIL:
		s->bailed = 1;
		break;
	case TAP_OTHER:
		break;
	}
}

int tap_tally_done(const struct tap_tally *t, const char *source)
{
	const struct tap_source *s = tally_find((struct tap_tally *)t, source, 0);

	return s && (s->bailed || (s->plan >= 0 && s->results >= s->plan));
}

int tap_tally_all_done(const struct tap_tally *t, const char sources[][16], int n)
{
	if (n == 0) {
		if (t->n == 0)
			return 0;
		for (int i = 0; i < t->n; i++)
			if (!tap_tally_done(t, t->src[i].name))
				return 0;
		return 1;
	}
	for (int i = 0; i < n; i++)
		if (!tap_tally_done(t, sources[i]))
			return 0;
	return 1;
}

const char *tap_tally_verdict(const struct tap_tally *t, const char sources[][16], int n,
			      int min_sources, char *buf, size_t buflen)
{
	if (t->overflow) {
		snprintf(buf, buflen, "more than %d TAP sources", TAP_TALLY_SOURCES);
		return buf;
	}
	if (t->n < min_sources) {
		if (t->n)
			snprintf(buf, buflen, "TAP from %d source(s), wanted %d", t->n,
				 min_sources);
		else
			snprintf(buf, buflen, "no TAP output");
		return buf;
	}
	for (int i = 0; i < n; i++) {
		if (!tally_find((struct tap_tally *)t, sources[i], 0)) {
			snprintf(buf, buflen, "no TAP from %s", sources[i]);
			return buf;
		}
	}
	for (int i = 0; i < t->n; i++) {
		const struct tap_source *s = &t->src[i];
		const char *who = s->name[0] ? s->name : "console";

		if (s->bailed)
			snprintf(buf, buflen, "%s bailed out", who);
		else if (s->failed)
			snprintf(buf, buflen, "%s: %d of %d test(s) failed", who, s->failed,
				 s->results);
		else if (s->plan < 0)
			snprintf(buf, buflen, "%s: no TAP plan", who);
		else if (s->results != s->plan)
			snprintf(buf, buflen, "%s: planned %d test(s), ran %d", who, s->plan,
				 s->results);
		else
			continue;
		return buf;
	}
	return NULL;
}
