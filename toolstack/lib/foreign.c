/*
 * foreign.c - libkiln's foreign mappings: another domain's pages in this
 * process, through an mmap() of /dev/kiln and KILN_IOCTL_MMAP_FOREIGN.
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
