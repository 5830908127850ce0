/*
 * kiln_builder.h - the domain builder: a new domain from a config and an
 * ELF test-guest image.
 *
 * What a guest finds at its entry point (vCPU 0; other vCPUs are the
 * guest's business):
 *   - its ELF segments at their p_paddr, the rest of RAM zero;
 *   - ELF64: long mode, paging on, CR3 = identity map of the first
 *     min(RAM rounded up to 1 GiB, 512 GiB) with 2 MiB pages, the tables in
 *     the last pages of RAM;  ELF32: flat 32-bit protected mode, no paging;
 *   - RDI = guest-physical address of the NUL-terminated command line (the
 *     page below the page tables, or the last page of RAM for ELF32),
 *     RSI = RAM size in bytes, RSP = the command line's address (the stack
 *     grows down from there).
 * Segments may not reach into the command-line page or the page tables.
 */
#ifndef KILN_BUILDER_H
#define KILN_BUILDER_H

#include <stddef.h>
#include <stdint.h>
#include "kiln_config.h"
#include "libkiln.h"

/* Creates and fills the domain, paused (kiln_domain_unpause starts it).
 * On failure nothing is left behind and err says why. */
int kiln_build_domain(kiln_handle *h, const struct kiln_config *cfg,
                      const void *image, size_t size, uint32_t *domid,
                      char *err, size_t errlen);
/* Same, reading the image from cfg->kernel. */
int kiln_build_domain_file(kiln_handle *h, const struct kiln_config *cfg,
                           uint32_t *domid, char *err, size_t errlen);

#endif /* KILN_BUILDER_H */
