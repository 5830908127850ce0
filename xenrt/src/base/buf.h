/* buf.h: a growing, always NUL-terminated byte buffer.
 *
 * Its append function has libcurl's write-callback signature, so the CLI
 * (API replies, files it reads) and the API tests (response bodies) collect
 * bytes with one implementation instead of a copy each.
 */
#ifndef XENRT_BUF_H
#define XENRT_BUF_H

#include <stddef.h>

struct buf {
	char *data; /* malloc'd, NUL-terminated; NULL until the first append */
	size_t len; /* bytes, not counting the NUL */
};

/* Appends size * n bytes of data to the struct buf at `b`.  Returns the
 * number appended, or 0 when out of memory (which libcurl takes as an
 * error, and the buffer keeps what it had). */
size_t buf_append(char *data, size_t size, size_t n, void *b);

#endif
