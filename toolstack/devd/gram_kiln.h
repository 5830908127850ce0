/*
 * gram_kiln.h - a domain's RAM for kiln-devd through libkiln's foreign
 * mappings (kiln_map_foreign), mapped chunk by chunk on demand (gram.h).
 * The hypervisor grants mappings of that domain's RAM only, so even a bug in
 * devd's checks could not reach another domain's memory.
 */
#ifndef DEVD_GRAM_KILN_H
#define DEVD_GRAM_KILN_H

#include <stdint.h>
#include "gram.h"
#include "libkiln.h"

struct gram_kiln {
    kiln_handle *h;
    uint32_t domid;
};

/* g gets domid's RAM [0, ram_bytes) (whole pages); k must outlive g.
 * -EINVAL for a size that is not whole pages. */
int gram_kiln_attach(struct gram *g, struct gram_kiln *k, kiln_handle *h, uint32_t domid,
                     uint64_t ram_bytes);

#endif /* DEVD_GRAM_KILN_H */
