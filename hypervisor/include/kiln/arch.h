/*
 * arch.h - the x86 platform's internal interfaces between its own files
 * (boot sequence order lives in arch/x86/setup.c).  Not for other
 * components: they use the neutral headers (time.h, smp.h, mm.h, ...).
 */
#ifndef KILN_ARCH_H
#define KILN_ARCH_H

#include <kiln/compiler.h>
#include <kiln/percpu.h>
#include <kiln/types.h>

/* time.c */
void time_init(void);
u64 tsc_at_ns(u64 ns);

/* cpu.c: descriptor tables and per-CPU areas */
void cpu_early_init(unsigned int cpu);      /* GS base -> percpu_of(cpu) */
int cpu_tables_init(unsigned int cpu);      /* GDT, TSS (IST stacks), IDT */
void cpu_features_log(void);

/* pic.c */
void pic_disable(void);

/* acpi.c */
#define MAX_IOAPICS 8
struct acpi_info {
    unsigned int nr_cpus;
    u32 apic_ids[NR_CPUS];
    paddr_t lapic_base;
    unsigned int nr_ioapics;
    struct { u8 id; paddr_t base; u32 gsi_base; } ioapics[MAX_IOAPICS];
};
int acpi_init(struct acpi_info *out);

/* apic.c */
void lapic_init(void);                      /* this CPU, interrupts stay off */
u32 lapic_id(void);
void lapic_eoi(void);
void lapic_send_ipi(u32 apic_id, u32 icr_low);
void lapic_timer_init(void);               /* this CPU */

/* smp.c */
void smp_boot_aps(const struct acpi_info *acpi);
void smp_ipi_init(void);

/* paging.c */
int paging_extend_directmap(paddr_t top);
void paging_drop_identity(void);
#define STACK_ORDER 2                       /* 16 KiB hypervisor stacks */
/* Maps 2^order pages below an unmapped guard page; returns the stack top. */
void *stack_alloc(unsigned int order);
bool paging_is_stack_guard(vaddr_t va);
bool paging_is_stack(vaddr_t va);          /* a mapped stack page */

/* mm_init.c */
void mm_init(void);

#endif
