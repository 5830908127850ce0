/*
 * foreign.c - libkiln's foreign mappings: another domain's pages in this
 * process, through an mmap() of /dev/kiln and KILN_IOCTL_MMAP_FOREIGN; and
 * the run-by-run mapping that save and restore copy pages through.
 */
#include <errno.h>
#include <sys/mman.h>
#include "kiln_private.h"

int kiln_map_foreign(kiln_handle *h, uint32_t domid, uint64_t gfn, size_t nr, void **out)
{
    if (!h->t->mmap_foreign)
        return -ENOSYS;
    return h->t->mmap_foreign(h->ctx, domid, gfn, nr, out);
}

int kiln_unmap_foreign(void *addr, size_t nr)
{
    return munmap(addr, nr * KILN_PAGE_SIZE) < 0 ? -errno : 0;
}

int kiln_foreign_runs(kiln_handle *h, uint32_t domid, const uint64_t *gfns, size_t count,
                      int (*fn)(void *ctx, size_t first, size_t n, uint8_t *map), void *ctx)
{
    size_t i = 0;

    while (i < count) {
        size_t n = 1;
        void *map;
        int r;

        /* One mapping per run: each page costs two hypercalls either way,
         * but a run costs one mmap and one munmap. */
        while (i + n < count && n < KILN_FOREIGN_MAX_PER_DOMAIN && gfns[i + n] == gfns[i] + n)
            n++;
        r = kiln_map_foreign(h, domid, gfns[i], n, &map);
        if (r < 0)
            return r;
        r = fn(ctx, i, n, map);
        kiln_unmap_foreign(map, n);
        if (r < 0)
            return r;
        i += n;
    }
    return 0;
}
