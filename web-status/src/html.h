/* html.h: a growable buffer for rendering HTML, with escaping.
 *
 * Every string that comes from the database or a request goes through
 * html_text(), which escapes all five HTML metacharacters, so it is safe in
 * element content and in quoted attribute values alike.  html_raw() is only
 * for markup written in this source tree.  Out of memory is sticky and
 * reported once at the end (html_take returns NULL).
 */
#ifndef WEB_STATUS_HTML_H
#define WEB_STATUS_HTML_H

#include <stdbool.h>
#include <stddef.h>

struct html {
	char *buf;
	size_t len, cap;
	bool oom;
};

void html_raw(struct html *h, const char *s);
void html_rawn(struct html *h, const char *s, size_t n);
void html_fmt(struct html *h, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void html_text(struct html *h, const char *s); /* escaped; NULL prints nothing */
void html_textn(struct html *h, const char *s, size_t n);
/* Like html_textn for a terminal's output (a serial console): drops ANSI/VT
 * escape sequences (CSI, OSC, DCS, ESC + final byte) and control
 * characters other than newline and tab; a carriage return ends a line. */
void html_terminal(struct html *h, const char *s, size_t n);
/* Percent-encodes s for a URL query value (safe in an attribute as is). */
void html_urlpart(struct html *h, const char *s);

/* Hands the NUL-terminated buffer to the caller (NULL after out of memory). */
char *html_take(struct html *h, size_t *len);
void html_free(struct html *h);

#endif
