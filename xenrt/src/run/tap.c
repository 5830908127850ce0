/* tap.c: one-line TAP parser (see tap.h). */
#include <stddef.h>
#include <string.h>
#include <strings.h>

#include "tap.h"

void tap_sanitize(char *dst, size_t dstlen, const char *src, size_t srclen)
{
	size_t j = 0;

	if (dstlen == 0)
		return;
	for (size_t i = 0; i < srclen && j + 1 < dstlen; i++) {
		unsigned char c = (unsigned char)src[i];
		dst[j++] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
	}
	/* Trailing blanks carry no meaning and make names differ. */
	while (j > 0 && dst[j - 1] == ' ')
		j--;
	dst[j] = '\0';
}

/* Reads a decimal number of at most 9 digits (no overflow possible). */
static const char *number(const char *s, int *out)
{
	int v = 0, n = 0;

	while (*s >= '0' && *s <= '9' && n < 9) {
		v = v * 10 + (*s++ - '0');
		n++;
	}
	if (n == 0 || (*s >= '0' && *s <= '9'))
		return NULL;
	*out = v;
	return s;
}

static void directive(struct tap_line *out, const char *hash)
{
	const char *d = hash + 1;

	while (*d == ' ' || *d == '\t')
		d++;
	if (strncasecmp(d, "skip", 4) == 0)
		out->skip = 1;
	else if (strncasecmp(d, "todo", 4) == 0)
		out->todo = 1;
	else
		return;
	d += 4;
	while (*d && *d != ' ' && *d != '\t') /* "SKIPPED", "skip:" */
		d++;
	while (*d == ' ' || *d == '\t')
		d++;
	tap_sanitize(out->reason, sizeof(out->reason), d, strlen(d));
}

static void result(const char *s, struct tap_line *out)
{
	const char *hash, *num;

	if (*s == ' ' || *s == '\t') {
		while (*s == ' ' || *s == '\t')
			s++;
		num = number(s, &out->number);
		if (num)
			s = num;
	}
	while (*s == ' ' || *s == '\t')
		s++;
	if (*s == '-') {
		s++;
		while (*s == ' ' || *s == '\t')
			s++;
	}
	/* An escaped "\#" belongs to the description; TAP13 allows it. */
	for (hash = strchr(s, '#'); hash && hash > s && hash[-1] == '\\';
	     hash = strchr(hash + 1, '#'))
		;
	tap_sanitize(out->desc, sizeof(out->desc), s, hash ? (size_t)(hash - s) : strlen(s));
	if (hash)
		directive(out, hash);
	out->kind = TAP_RESULT;
}

void tap_parse_line(const char *line, struct tap_line *out)
{
	const char *s = line;

	memset(out, 0, sizeof(*out));
	out->kind = TAP_OTHER;
	if (strncmp(s, "ok", 2) == 0 && (s[2] == '\0' || s[2] == ' ' || s[2] == '\t')) {
		out->ok = 1;
		result(s + 2, out);
	} else if (strncmp(s, "not ok", 6) == 0 && (s[6] == '\0' || s[6] == ' ' || s[6] == '\t')) {
		result(s + 6, out);
	} else if (strncmp(s, "1..", 3) == 0) {
		const char *end = number(s + 3, &out->plan);
		if (end && (*end == '\0' || *end == ' ' || *end == '\t' || *end == '#'))
			out->kind = TAP_PLAN;
	} else if (strncmp(s, "Bail out!", 9) == 0) {
		const char *r = s + 9;
		while (*r == ' ' || *r == '\t')
			r++;
		tap_sanitize(out->reason, sizeof(out->reason), r, strlen(r));
		out->kind = TAP_BAIL;
	}
}
