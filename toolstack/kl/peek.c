/*
 * peek.c - `kl peek DOM GFN [BYTES]`: a hexdump of one page of a domain,
 * read through a foreign mapping (kiln_map_foreign), for looking at what a
 * guest has in memory without its help.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include "kl.h"

#define USAGE "peek DOM GFN [BYTES]"

int kl_cmd_peek(kiln_handle *h, int argc, char **argv)
{
    uint64_t gfn, len = 256;
    uint32_t domid;
    void *p;
    int r;

    if (argc < 2 || argc > 3 || kl_parse_uint(argv[1], UINT64_MAX >> 12, &gfn) < 0 ||
        (argc == 3 && (kl_parse_uint(argv[2], KILN_PAGE_SIZE, &len) < 0 || !len))) {
        fprintf(stderr, "usage: kl " USAGE "   (BYTES 1..4096, default 256)\n");
        return 2;
    }
    if ((r = kl_domain_arg(h, argv[0], &domid)) != 0)
        return r;
    if ((r = kiln_map_foreign(h, domid, gfn, 1, &p)) < 0)
        return kl_error("peek", r);
    const unsigned char *b = p;
    for (uint64_t off = 0; off < len; off += 16) {
        printf("%#llx:", (unsigned long long)(gfn * KILN_PAGE_SIZE + off));
        for (uint64_t i = off; i < off + 16; i++)
            i < len ? printf(" %02x", b[i]) : printf("   ");
        printf("  |");
        for (uint64_t i = off; i < off + 16 && i < len; i++)
            putchar(isprint(b[i]) ? b[i] : '.');
        printf("|\n");
    }
    r = kiln_unmap_foreign(p, 1);
    return r < 0 ? kl_error("peek", r) : 0;
}
