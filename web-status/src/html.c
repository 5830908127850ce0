/* html.c: HTML buffer and escaping. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "html.h"

static bool grow(struct html *h, size_t more)
{
	if (h->oom)
		return false;
	if (h->len + more + 1 <= h->cap)
		return true;
	size_t cap = h->cap ? h->cap : 4096;
	while (cap < h->len + more + 1)
		cap *= 2;
	char *nb = realloc(h->buf, cap);
	if (!nb) {
		h->oom = true;
		return false;
	}
	h->buf = nb;
	h->cap = cap;
	return true;
}

void html_rawn(struct html *h, const char *s, size_t n)
{
	if (!grow(h, n))
		return;
	memcpy(h->buf + h->len, s, n);
	h->len += n;
	h->buf[h->len] = '\0';
}

void html_raw(struct html *h, const char *s)
{
	html_rawn(h, s, strlen(s));
}

void html_fmt(struct html *h, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || !grow(h, (size_t)n)) {
		h->oom = true;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(h->buf + h->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	h->len += (size_t)n;
}

void html_textn(struct html *h, const char *s, size_t n)
{
	size_t start = 0;
	for (size_t i = 0; i < n; i++) {
		const char *rep;
		switch (s[i]) {
		case '&':
			rep = "&amp;";
			break;
		case '<':
			rep = "&lt;";
			break;
		case '>':
			rep = "&gt;";
			break;
		case '"':
			rep = "&quot;";
			break;
		case '\'':
			rep = "&#39;";
			break;
		case '\0':
			rep = "";
			break;
		default:
			continue;
		}
		html_rawn(h, s + start, i - start);
		html_raw(h, rep);
		start = i + 1;
	}
	html_rawn(h, s + start, n - start);
}

/* Length of the escape sequence at s[0] == ESC (all of what is left when
 * it is cut off at the end).  ECMA-48: CSI is ESC [ parameters,
 * intermediates, one final byte; OSC, DCS, SOS, PM and APC run to BEL or
 * ESC \; any other is ESC, intermediates, one final byte. */
static size_t escape_len(const unsigned char *s, size_t n)
{
	size_t i = 1;
	if (i < n && s[i] == '[') {
		for (i++; i < n && s[i] >= 0x20 && s[i] <= 0x3f; i++)
			;
		return i < n ? i + 1 : n;
	}
	if (i < n && (s[i] == ']' || s[i] == 'P' || s[i] == 'X' || s[i] == '^' || s[i] == '_')) {
		for (i++; i < n; i++) {
			if (s[i] == 0x07)
				return i + 1;
			if (s[i] == 0x1b && i + 1 < n && s[i + 1] == '\\')
				return i + 2;
		}
		return n;
	}
	for (; i < n && s[i] >= 0x20 && s[i] <= 0x2f; i++)
		;
	return i < n ? i + 1 : n;
}

void html_terminal(struct html *h, const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t start = 0, i = 0;
	while (i < n) {
		size_t skip;
		if (u[i] == 0x1b)
			skip = escape_len(u + i, n - i);
		else if ((u[i] < 0x20 && u[i] != '\n' && u[i] != '\t') || u[i] == 0x7f)
			skip = 1;
		else {
			i++;
			continue;
		}
		html_textn(h, s + start, i - start);
		/* A lone CR redraws the line: show each drawing on its own. */
		if (u[i] == '\r' && (i + 1 >= n || u[i + 1] != '\n'))
			html_raw(h, "\n");
		i += skip;
		start = i;
	}
	html_textn(h, s + start, n - start);
}

void html_text(struct html *h, const char *s)
{
	if (s)
		html_textn(h, s, strlen(s));
}

void html_urlpart(struct html *h, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '_' || c == '.' || c == '~') {
			html_rawn(h, s, 1);
		} else {
			char esc[3] = { '%', hex[c >> 4], hex[c & 15] };
			html_rawn(h, esc, 3);
		}
	}
}

char *html_take(struct html *h, size_t *len)
{
	if (h->oom || !grow(h, 0)) {
		html_free(h);
		return NULL;
	}
	char *b = h->buf;
	*len = h->len;
	h->buf = NULL;
	h->len = h->cap = 0;
	return b;
}

void html_free(struct html *h)
{
	free(h->buf);
	h->buf = NULL;
	h->len = h->cap = 0;
}
