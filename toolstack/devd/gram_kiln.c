/*
 * gram_kiln.c - guest RAM through libkiln's foreign mappings (gram_kiln.h).
 */
#include "gram_kiln.h"

static int map(void *ctx, uint64_t gfn, size_t nr, void **host)
{
    struct gram_kiln *k = ctx;

    return kiln_map_foreign(k->h, k->domid, gfn, nr, host);
}

static void unmap(void *ctx, void *host, size_t nr)
{
    (void)ctx;
    /* munmap of a mapping we made cannot fail but for a bug: nothing to do */
    (void)kiln_unmap_foreign(host, nr);
}

int gram_kiln_attach(struct gram *g, struct gram_kiln *k, kiln_handle *h, uint32_t domid,
                     uint64_t ram_bytes)
{
    struct gram_mapper m = { .map = map, .unmap = unmap, .ctx = k };

    k->h = h;
    k->domid = domid;
    return gram_set_mapper(g, ram_bytes, &m);
}
