/*
 * kiln_builder.h - the domain builder: a new domain from a config and an
 * ELF test-guest image.
 *
 * What a guest finds is what the hypervisor gives its boot domains
 * (hypervisor/common/domain_boot.c), so the same test-guest images run
 * either way (e.g. hypervisor/guests' kt guests):
 *   - its ELF (ELF64 x86-64 or ELF32 i386) PT_LOAD segments at p_paddr, the
 *     rest of RAM zero (only pages holding bytes from the file are written:
 *     the hypervisor hands out new RAM zeroed);
 *   - every vCPU starts at the ELF entry (below 4 GiB) in 32-bit flat
 *     protected mode with paging off (SET_VCPU cr3 == 0),
 *     RDI = RAM size in KiB, RSI = vCPU number;
 *   - the command line, NUL-terminated, at the start of the last page of
 *     RAM, and RSP = its address (a stack may grow down from there).
 * Segments may not reach into that last page.
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
