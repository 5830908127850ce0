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

    if (!size || !host || gpa + size < gpa)
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

    if (len == 0) {
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

/* Copies len bytes at gpa to or from buf, region by region. */
static int copy(const struct gram *g, uint64_t gpa, void *buf, size_t len, bool to_guest)
{
    uint8_t *p = buf;

    if (!gram_valid(g, gpa, len))
        return -EFAULT;
    while (len) {
        const struct gram_region *r = find(g, gpa);
        uint64_t off = gpa - r->gpa;
        size_t n = r->size - off < len ? (size_t)(r->size - off) : len;

        if (to_guest)
            memcpy(r->host + off, p, n);
        else
            memcpy(p, r->host + off, n);
        p += n;
        gpa += n;
        len -= n;
    }
    return 0;
}

int gram_read(const struct gram *g, uint64_t gpa, void *buf, size_t len)
{
    return copy(g, gpa, buf, len, false);
}

int gram_write(const struct gram *g, uint64_t gpa, const void *buf, size_t len)
{
    return copy(g, gpa, (void *)buf, len, true);
}
