/*
 * dom0.h - the control domain: Linux, booted from Multiboot modules and run
 * "blue pill" style on CPU 0 (see README.md, "dom0").
 *
 * dom0 owns a set of physical RAM ranges that it sees at their own
 * addresses (guest-physical == host-physical), every non-RAM address
 * (MMIO, firmware tables) and CPU 0 with its local APIC.  Everything else
 * (the hypervisor's memory, domUs' memory) is absent from its nested page
 * table and shown as reserved in its e820 map.
 */
#ifndef KILN_DOM0_H
#define KILN_DOM0_H

#include <kiln/boot.h>
#include <kiln/compiler.h>
#include <kiln/types.h>

struct domain;

/* [start, end), page aligned. */
struct mem_range {
    paddr_t start, end;
};

/* Room for dom0's RAM runs: holes left by hypervisor pages split them. */
#define DOM0_MAX_RANGES 96

struct dom0_mem {
    struct mem_range r[DOM0_MAX_RANGES];   /* sorted, merged */
    unsigned int nr;
    u64 pages;
    bool full;                             /* a run did not fit in r[] */
};

/* ---- common/dom0_mem.c ------------------------------------------------ */

/* Adds [start, end) to m, merging neighbours; -KILN_E2BIG when full. */
int dom0_mem_add(struct dom0_mem *m, paddr_t start, paddr_t end);
/* True when [start, end) lies inside one range of m. */
bool dom0_mem_covers(const struct mem_range *r, unsigned int nr, paddr_t start, paddr_t end);
/* Takes free pages from the allocator, lowest addresses first, until m
 * holds target_pages pages (or RAM runs out). */
void dom0_mem_claim(struct dom0_mem *m, u64 target_pages);
/* How many pages dom0 gets: dom0_mem= or the default (README.md). */
u64 dom0_mem_target(void);

/* ---- arch/x86/dom0_linux.c: the Linux boot protocol ------------------- */

/* True if the module is a Linux bzImage ("HdrS", protocol 2.12+). */
bool linux_is_bzimage(const struct boot_module *m);

struct linux_boot {
    const struct boot_module *kernel, *initrd;   /* initrd may be NULL */
    const char *cmdline;
    u64 entry, zero_page, cr3;                   /* filled by linux_load */
};

/* Copies the kernel into dom0's RAM, writes boot_params (with the e820 map
 * built from mem), the command line and boot page tables into dom0's low
 * memory.  0 or a negated KILN_E* code (logged). */
int linux_load(struct linux_boot *lb, const struct dom0_mem *mem);

/* ---- arch/x86/acpi.c ---------------------------------------------------- */

/* Clears the enabled flag of every MADT CPU entry except apic_id's and
 * fixes the checksum, so dom0 sees only its own CPU. */
int acpi_madt_only_cpu(u32 apic_id);

/* ---- common/dom0.c ------------------------------------------------------ */

/* The dom0 kernel module, if any (decides SCHED_F_CPU0_DOM0). */
const struct boot_module *dom0_kernel_module(void);
/* Builds dom0 from the modules; 0 when there is none to build. */
int dom0_build(void);
/* Is this module one of dom0's (kernel or initramfs)? */
bool dom0_owns_module(const struct boot_module *m);
/* dom0 shut down or crashed: the machine stops (exit code 0 or 2). */
__noreturn void dom0_ended(void);
/* dom0's domain, NULL when there is none. */
struct domain *dom0_domain(void);

#endif
