/*
 * cpu.c - per-CPU descriptor tables and per-CPU data areas.
 *
 * Each CPU gets its own GDT (because the TSS descriptor's busy bit is per
 * TSS) and TSS.  The TSS only matters for its IST stacks: double fault, NMI
 * and machine check switch to a known-good stack, so a stack overflow still
 * produces a register dump instead of a triple fault.
 */
#include <kiln/arch.h>
#include <kiln/console.h>
#include <kiln/lib.h>
#include <kiln/mm.h>
#include <kiln/traps.h>
#include <kiln/x86.h>

#define GDT_CODE 0x08
#define GDT_DATA 0x10
#define GDT_TSS  0x18
#define IST_STACK_ORDER 1      /* 8 KiB each */
#define IST_DF  1
#define IST_NMI 2
#define IST_MC  3

struct tss64 {
    u32 reserved0;
    u64 rsp[3];
    u64 reserved1;
    u64 ist[7];
    u64 reserved2;
    u16 reserved3;
    u16 iomap_base;
} __packed;

struct cpu_tables {
    u64 gdt[5];                /* null, code, data, TSS (two slots) */
    struct tss64 tss;
} __aligned(64);

static struct percpu percpu_areas[NR_CPUS];
static struct cpu_tables tables[NR_CPUS];
/* The boot CPU's IST stacks must exist before the page allocator does. */
static u8 bsp_ist_stacks[3][PAGE_SIZE << IST_STACK_ORDER] __aligned(PAGE_SIZE);

struct percpu *percpu_of(unsigned int cpu)
{
    return cpu < NR_CPUS ? &percpu_areas[cpu] : NULL;
}

void cpu_early_init(unsigned int cpu)
{
    struct percpu *p = &percpu_areas[cpu];
    p->self = p;
    p->cpu_id = cpu;
    wrmsr(MSR_GS_BASE, (u64)p);
    wrmsr(MSR_KERNEL_GS_BASE, 0);
}

static void set_tss_descriptor(u64 *slot, const struct tss64 *tss)
{
    u64 base = (u64)tss, limit = sizeof(*tss) - 1;
    slot[0] = (limit & 0xffff) | ((base & 0xffffff) << 16) | (0x89ul << 40) |
              (((limit >> 16) & 0xf) << 48) | (((base >> 24) & 0xff) << 56);
    slot[1] = base >> 32;
}

int cpu_tables_init(unsigned int cpu)
{
    struct cpu_tables *t = &tables[cpu];
    struct {
        u16 limit;
        u64 base;
    } __packed gdtr = { sizeof(t->gdt) - 1, (u64)t->gdt };

    kmemset(t, 0, sizeof(*t));
    t->gdt[1] = 0x00af9a000000fffful;  /* 64-bit code, DPL0 */
    t->gdt[2] = 0x00cf92000000fffful;  /* data */
    set_tss_descriptor(&t->gdt[3], &t->tss);
    t->tss.iomap_base = sizeof(t->tss); /* no I/O bitmap */

    for (int i = 0; i < 3; i++) {
        void *top = cpu == 0 ? bsp_ist_stacks[i] + sizeof(bsp_ist_stacks[i])
                             : stack_alloc(IST_STACK_ORDER);
        if (!top)
            return -1;
        t->tss.ist[i] = (u64)top;
    }

    /* GS base survives a reload of GS with the null selector in 64-bit
     * mode only on AMD, so reload the selectors first, then GS base. */
    u64 gs_base = rdmsr(MSR_GS_BASE);
    __asm__ __volatile__(
        "lgdt %0\n\t"
        "pushq %1\n\t"
        "leaq 1f(%%rip), %%rax\n\t"
        "pushq %%rax\n\t"
        "lretq\n"
        "1:\n\t"
        "movl %2, %%eax\n\t"
        "movl %%eax, %%ds\n\t"
        "movl %%eax, %%es\n\t"
        "movl %%eax, %%ss\n\t"
        "xorl %%eax, %%eax\n\t"
        "movl %%eax, %%fs\n\t"
        "movl %%eax, %%gs\n\t"
        "ltr %w3"
        :: "m"(gdtr), "i"(GDT_CODE), "i"(GDT_DATA), "r"(GDT_TSS) : "rax", "memory");
    wrmsr(MSR_GS_BASE, gs_base);
    traps_load();
    return 0;
}

void cpu_features_log(void)
{
    struct cpuid_regs v = cpuid(0);
    char vendor[13];
    kmemcpy(vendor, &v.ebx, 4);
    kmemcpy(vendor + 4, &v.edx, 4);
    kmemcpy(vendor + 8, &v.ecx, 4);
    vendor[12] = '\0';

    struct cpuid_regs f1 = cpuid(1), e1 = cpuid(0x80000001);
    pr_info("CPU: %s family %u model %u, x2apic=%u tsc-deadline=%u svm=%u nx=%u 1g-pages=%u",
            vendor, ((f1.eax >> 8) & 0xf) + ((f1.eax >> 20) & 0xff),
            ((f1.eax >> 4) & 0xf) | ((f1.eax >> 12) & 0xf0),
            (f1.ecx >> 21) & 1, (f1.ecx >> 24) & 1, (e1.ecx >> 2) & 1,
            (e1.edx >> 20) & 1, (e1.edx >> 26) & 1);
}
