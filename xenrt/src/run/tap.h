/* tap.h: one-line TAP parser.
 *
 * Test output reaches the farm as console lines; this classifies one line
 * (already stripped of the hypervisor's "[ts] (src) " prefix) as a plan, a
 * test point, a bail-out or anything else.  It never allocates and copes with
 * any bytes, because a crashing guest prints garbage.
 */
#ifndef XENRT_TAP_H
#define XENRT_TAP_H

#define TAP_TEXT_MAX 200

enum tap_kind {
	TAP_OTHER,
	TAP_PLAN,
	TAP_RESULT,
	TAP_BAIL
};

struct tap_line {
	enum tap_kind kind;
	int plan;                  /* TAP_PLAN: N of "1..N" (0 = skip all) */
	int ok;                    /* TAP_RESULT */
	int number;                /* TAP_RESULT: test number, 0 if the line gave none */
	int skip;                  /* "# SKIP": counts as neither pass nor fail */
	int todo;                  /* "# TODO": a failure that does not fail the run */
	char desc[TAP_TEXT_MAX];   /* description, printable ASCII only */
	char reason[TAP_TEXT_MAX]; /* directive reason, or bail-out reason */
};

/* Classifies `line` (NUL-terminated, no newline). */
void tap_parse_line(const char *line, struct tap_line *out);

/* Copies src into dst keeping printable ASCII and turning anything else into
 * '?', so text from a console is safe to store and show. */
void tap_sanitize(char *dst, size_t dstlen, const char *src, size_t srclen);

#endif
