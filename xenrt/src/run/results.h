/* results.h: turns a host's console byte stream into test results.
 *
 * The console is fed in whatever chunks arrive from the capture file.  The
 * reader assembles lines (bounded: a guest printing forever without a newline
 * cannot exhaust memory), strips the hypervisor's "[   1.234567] (d1) "
 * prefix into a source name, and reports every line plus what it means: a TAP
 * plan/result/bail-out, or a JSON-lines step with metrics.  A tally keeps
 * each TAP source's plan and counts, since every guest prints its own TAP.
 */
#ifndef XENRT_RESULTS_H
#define XENRT_RESULTS_H

#include <stddef.h>

#include "tap.h"

#define RESULTS_LINE_MAX 4096
#define RESULTS_SOURCE_MAX 16
#define RESULTS_MAX_METRICS 16

enum results_kind {
	RESULTS_LINE,      /* every line, first */
	RESULTS_TAP,       /* the line is TAP: see .tap */
	RESULTS_JSON_STEP, /* {"step": ..., "status": ..., "metrics": {...}} */
	RESULTS_JSON_END,  /* {"end": true}: the JSON-lines stream is complete */
	RESULTS_JSON_BAD,  /* looked like JSON but is not a valid result line */
};

struct results_metric {
	char name[64];
	double value;
	char unit[16];
};

struct results_event {
	enum results_kind kind;
	const char *source;         /* "kiln", "d1", ... or "" without a prefix */
	const char *text;           /* the line after the prefix (NULs replaced) */
	const char *raw;            /* the whole line */
	int truncated;              /* line longer than RESULTS_LINE_MAX: cut, unparsed */
	struct tap_line tap;        /* RESULTS_TAP */
	char step[TAP_TEXT_MAX];    /* RESULTS_JSON_STEP */
	char status[8];             /* "pass", "fail" or "skip" */
	char message[TAP_TEXT_MAX]; /* JSON message, or why a line was bad */
	struct results_metric metrics[RESULTS_MAX_METRICS];
	int n_metrics;
};

typedef void (*results_cb)(void *ctx, const struct results_event *ev);

struct results_reader;

struct results_reader *results_new(results_cb cb, void *ctx);
/* Feeds console bytes; callbacks run for each completed line. */
void results_feed(struct results_reader *r, const void *buf, size_t n);
/* The console ended: reports a last line that had no newline. */
void results_flush(struct results_reader *r);
void results_free(struct results_reader *r);

/* Splits "[   1.234567] (d1) rest" into source "d1" and a pointer to rest;
 * a line without the prefix gives source "" and the line itself. */
const char *results_split_prefix(const char *line, char source[RESULTS_SOURCE_MAX]);

/* Per-source TAP bookkeeping for one console-tap step. */
#define TAP_TALLY_SOURCES 16

struct tap_source {
	char name[RESULTS_SOURCE_MAX];
	int plan;    /* -1 until a plan is seen */
	int results; /* test points seen */
	int failed;  /* not ok without TODO */
	int bailed;
};

struct tap_tally {
	struct tap_source src[TAP_TALLY_SOURCES];
	int n;
	int overflow; /* more sources than we track: counted as a failure */
};

void tap_tally_add(struct tap_tally *t, const char *source, const struct tap_line *l);
/* The source has printed a plan and as many results as it planned. */
int tap_tally_done(const struct tap_tally *t, const char *source);
/* Every listed source is done (n = 0: every seen source, at least one). */
int tap_tally_all_done(const struct tap_tally *t, const char sources[][16], int n);
/* Why the tally is not a pass, or NULL if it is: what the step's message
 * says.  At least min_sources sources must have printed TAP. */
const char *tap_tally_verdict(const struct tap_tally *t, const char sources[][16], int n,
			      int min_sources, char *buf, size_t buflen);

#endif
