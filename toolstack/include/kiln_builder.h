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
 *
 * A Multiboot1 kernel (config type multiboot, or auto and the header found)
 * becomes a PC domain (KILN_DOMCTL_CREATE_F_PC, F_TESTDEV for testdev = 1):
 * the image is written to the top of its RAM and KILN_DOMCTL_PC_BOOT has
 * the hypervisor load it exactly as a boot module (platform, ACPI, e820,
 * Multiboot information, command line "KERNEL CMDLINE"); only vCPU 0
 * starts.
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
/* Offset of a Multiboot1 header (magic 0x1BADB002, 4-byte aligned, the
 * checksum making magic + flags + checksum 0) in the first 8 KiB, or -1. */
long kiln_multiboot_find(const void *image, size_t size);
/* At most this many vCPUs for a PC domain (APIC ids 0..7). */
#define KILN_PC_MAX_VCPUS 8
/* Same, reading the image from cfg->kernel. */
int kiln_build_domain_file(kiln_handle *h, const struct kiln_config *cfg,
                           uint32_t *domid, char *err, size_t errlen);

#endif /* KILN_BUILDER_H */
