/*
 * paging.c - the hypervisor's own page tables after boot.
 *
 * head.S builds them (identity + direct map of 0..4 GiB with 2 MiB pages,
 * and the image mapping).  Here the direct map grows to cover RAM above
 * 4 GiB, with 1 GiB pages so no allocation is needed, and the identity map
 * is removed once the APs no longer need it, so stray physical-address or
 * NULL dereferences fault instead of silently working.
 */
#include <kiln/arch.h>
#include <kiln/console.h>
#include <kiln/mm.h>
#include <kiln/smp.h>
#include <kiln/x86.h>

#define GIB (1ul << 30)

extern u64 boot_pml4[512], boot_pdpt_low[512];

int paging_extend_directmap(paddr_t top)
{
    if (top <= 4 * GIB)
        return 0;
    if (!((cpuid(0x80000001).edx >> 26) & 1))
        return -1;
    if (top > 512 * GIB) {
        pr_warn("paging: direct map limited to 512 GiB");
        top = 512 * GIB;
    }
    for (u64 i = 4; i < (top + GIB - 1) / GIB; i++)
        boot_pdpt_low[i] = (i * GIB) | PTE_P | PTE_W | PTE_PS;
    flush_tlb_local();
    return 0;
}

static void flush_tlb_ipi(void *arg)
{
    (void)arg;
    flush_tlb_local();
}

void paging_drop_identity(void)
{
    boot_pml4[0] = 0;
    for (unsigned int cpu = 0; cpu < smp_nr_cpus(); cpu++) {
        if (smp_call_function(cpu, flush_tlb_ipi, NULL, true) < 0)
            panic("paging: CPU %u did not flush its TLB", cpu);
    }
}
