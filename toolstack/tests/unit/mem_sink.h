/*
 * mem_sink.h - a save/migration stream written into a growing memory
 * buffer, for the stream and migration unit tests; the sink can be told
 * to fail (-EPIPE) past a byte count, like a receiver that goes away.
 */
#ifndef MEM_SINK_H
#define MEM_SINK_H

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct mem {
    uint8_t *buf;
    size_t len, cap;
    size_t fail_after;             /* nonzero: writes beyond this many bytes fail */
};

/* A kiln stream write callback; ctx is a struct mem. */
static int mem_write(void *ctx, const void *buf, size_t len)
{
    struct mem *m = ctx;

    if (m->fail_after && m->len + len > m->fail_after)
        return -EPIPE;
    if (m->len + len > m->cap) {
        m->cap = (m->len + len) * 2;
        m->buf = realloc(m->buf, m->cap);
        if (!m->buf)
            return -ENOMEM;
    }
    memcpy(m->buf + m->len, buf, len);
    m->len += len;
    return 0;
}

#endif
