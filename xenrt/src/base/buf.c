/* buf.c: the growing byte buffer (see buf.h). */
#include "buf.h"

#include <stdlib.h>
#include <string.h>

size_t buf_append(char *data, size_t size, size_t n, void *b)
{
	struct buf *buf = b;
	size_t add = size * n;
	char *grown = realloc(buf->data, buf->len + add + 1);
	if (!grown)
		return 0;
	memcpy(grown + buf->len, data, add);
	buf->data = grown;
	buf->len += add;
	buf->data[buf->len] = '\0';
	return add;
}
