/*
 * gram.c - guest RAM regions and the only copy routines devices use to reach
 * guest memory (see gram.h for why they copy and check every range).
 */
#include <errno.h>
#include <string.h>
#include "gram.h"

void gram_init(struct gram *g)
{
    memset(g, 0, sizeof(*g));
}

int gram_add(struct gram *g, uint64_t gpa, uint64_t size, void *host)
{
    size_t i;

    if (!size || !host || gpa + size < gpa || gpa < g->mapped_size)
        return -EINVAL;
    for (i = 0; i < g->n; i++)
        if (gpa < g->r[i].gpa + g->r[i].size && g->r[i].gpa < gpa + size)
            return -EINVAL;
    if (g->n == GRAM_MAX_REGIONS)
        return -ENOSPC;
    /* keep sorted so lookups can walk adjacent regions in order */
    for (i = g->n; i > 0 && g->r[i - 1].gpa > gpa; i--)
        g->r[i] = g->r[i - 1];
    g->r[i] = (struct gram_region){ .gpa = gpa, .size = size, .host = host };
    g->n++;
    if (gpa + size > g->end)
        g->end = gpa + size;
    return 0;
}

int gram_set_mapper(struct gram *g, uint64_t size, const struct gram_mapper *m)
{
    if (!size || size % GRAM_PAGE || !m->map || g->mapped_size || (g->n && g->r[0].gpa < size))
        return -EINVAL;
    g->mapper = *m;
    g->mapped_size = size;
    if (size > g->end)
        g->end = size;
    return 0;
}

void gram_release(struct gram *g)
{
    for (unsigned i = 0; i < GRAM_CACHE_SLOTS; i++) {
        if (g->slot[i].host && g->mapper.unmap)
            g->mapper.unmap(g->mapper.ctx, g->slot[i].host, g->slot[i].pages);
        g->slot[i].host = NULL;
    }
}

#define CHUNK_BYTES ((uint64_t)GRAM_CHUNK_PAGES * GRAM_PAGE)

/* Host address of on-demand RAM at gpa (< mapped_size), mapping its chunk
 * into the least recently used slot if needed. */
static int chunk_at(struct gram *g, uint64_t gpa, uint8_t **host)
{
    uint64_t chunk = gpa / CHUNK_BYTES;
    struct gram_slot *victim = &g->slot[0];
    size_t pages;
    void *p;
    int r;

    for (unsigned i = 0; i < GRAM_CACHE_SLOTS; i++) {
        struct gram_slot *s = &g->slot[i];

        if (s->host && s->chunk == chunk) {
            s->used = ++g->clock;
            *host = s->host + (gpa - chunk * CHUNK_BYTES);
            return 0;
        }
        if (!s->host || (victim->host && s->used < victim->used))
            victim = s;
    }
    if (victim->host && g->mapper.unmap)
        g->mapper.unmap(g->mapper.ctx, victim->host, victim->pages);
    victim->host = NULL;
    /* the last chunk may be short of a whole chunk's pages */
    pages = (size_t)((g->mapped_size - chunk * CHUNK_BYTES) / GRAM_PAGE);
    if (pages > GRAM_CHUNK_PAGES)
        pages = GRAM_CHUNK_PAGES;
    r = g->mapper.map(g->mapper.ctx, chunk * GRAM_CHUNK_PAGES, pages, &p);
    if (r)
        return r;
    victim->host = p;
    victim->chunk = chunk;
    victim->pages = pages;
    victim->used = ++g->clock;
    *host = victim->host + (gpa - chunk * CHUNK_BYTES);
    return 0;
}

/* The region holding gpa, or NULL. */
static const struct gram_region *find(const struct gram *g, uint64_t gpa)
{
    for (size_t i = 0; i < g->n; i++)
        if (gpa >= g->r[i].gpa && gpa - g->r[i].gpa < g->r[i].size)
            return &g->r[i];
    return NULL;
}

bool gram_valid(const struct gram *g, uint64_t gpa, uint64_t len)
{
    const struct gram_region *r;

    if (gpa < g->mapped_size) {
        uint64_t n = g->mapped_size - gpa;

        if (len <= n)
            return true;
        gpa += n;
        len -= n;
    }
    if (len == 0) {
        if (g->mapped_size && gpa == g->mapped_size)
            return true;
        for (size_t i = 0; i < g->n; i++)
            if (gpa >= g->r[i].gpa && gpa - g->r[i].gpa <= g->r[i].size)
                return true;
        return false;
    }
    if (gpa + len < gpa || gpa + len > g->end)
        return false;
    /* A range may run through regions that touch (foreign mappings are made
     * in chunks); each step consumes at least one byte and the regions
     * do not overlap, so this ends after at most n steps. */
    while (len) {
        uint64_t n;

        if (!(r = find(g, gpa)))
            return false;
        n = r->size - (gpa - r->gpa);
        if (n >= len)
            return true;
        gpa += n;
        len -= n;
    }
    return true;
}

/* Copies len bytes at gpa to or from buf, region by region (and chunk by
 * chunk in on-demand RAM). */
static int copy(struct gram *g, uint64_t gpa, void *buf, size_t len, bool to_guest)
{
    uint8_t *p = buf;

    if (!gram_valid(g, gpa, len))
        return -EFAULT;
    while (len) {
        uint8_t *host;
        size_t n;

        if (gpa < g->mapped_size) {
            uint64_t left = CHUNK_BYTES - gpa % CHUNK_BYTES;
            int r = chunk_at(g, gpa, &host);

            if (r)
                return r;
            n = left < len ? (size_t)left : len;
        } else {
            const struct gram_region *r = find(g, gpa);
            uint64_t off = gpa - r->gpa;

            host = r->host + off;
            n = r->size - off < len ? (size_t)(r->size - off) : len;
        }
        if (to_guest)
            memcpy(host, p, n);
        else
            memcpy(p, host, n);
        p += n;
        gpa += n;
        len -= n;
    }
    return 0;
}

int gram_read(struct gram *g, uint64_t gpa, void *buf, size_t len)
{
    return copy(g, gpa, buf, len, false);
}

int gram_write(struct gram *g, uint64_t gpa, const void *buf, size_t len)
{
    return copy(g, gpa, (void *)buf, len, true);
}
