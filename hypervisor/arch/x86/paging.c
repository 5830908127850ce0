/*
 * paging.c - the hypervisor's own page tables after boot.
 *
 * head.S builds them (identity + direct map of 0..4 GiB with 2 MiB pages,
 * and the image mapping).  Here the direct map grows to cover RAM above
 * 4 GiB, with 1 GiB pages so no allocation is needed, and the identity map
 * is removed once the APs no longer need it, so stray physical-address or
 * NULL dereferences fault instead of silently working.
 *
 * Stacks live in their own region (PML4 slot 384) mapped with 4 KiB pages,
 * each with an unmapped guard page below it: an overflow faults at once,
 * the fault cannot be delivered on the dead stack, and the double fault
 * handler (on its IST stack) reports it, instead of the overflow silently
 * overwriting whatever memory lies below.
 */
#include <kiln/arch.h>
#include <kiln/console.h>
#include <kiln/mm.h>
#include <kiln/smp.h>
#include <kiln/spinlock.h>
#include <kiln/x86.h>

#define GIB (1ul << 30)
#define STACK_AREA_BASE 0xffffc00000000000ul
#define STACK_AREA_END  (STACK_AREA_BASE + (1ul << 39))

extern u64 boot_pml4[512], boot_pdpt_low[512];

static spinlock_t stack_lock = SPINLOCK_INIT;
static vaddr_t stack_area_next = STACK_AREA_BASE;

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

static unsigned int pt_index(vaddr_t va, int level)
{
    return (va >> (12 + 9 * level)) & 511;
}

/* The PTE slot for va (4 KiB page), creating tables when asked; NULL if
 * absent (or out of memory when creating). */
static u64 *pte_slot(vaddr_t va, bool create)
{
    u64 *table = boot_pml4;
    for (int level = 3; level > 0; level--) {
        u64 *e = &table[pt_index(va, level)];
        if (!(*e & PTE_P)) {
            if (!create)
                return NULL;
            void *next = alloc_pages_zeroed(0);
            if (!next)
                return NULL;
            *e = virt_to_phys(next) | PTE_P | PTE_W;
        }
        if (*e & PTE_PS)
            return NULL;   /* large page: not in the 4 KiB-mapped regions */
        table = phys_to_virt(*e & PTE_ADDR_MASK);
    }
    return &table[pt_index(va, 0)];
}

void *stack_alloc(unsigned int order)
{
    unsigned long flags = spin_lock_irqsave(&stack_lock);
    vaddr_t base = stack_area_next + PAGE_SIZE;   /* guard page first */
    vaddr_t top = base + (PAGE_SIZE << order);
    u8 *mem = NULL;

    if (top > STACK_AREA_END || !(mem = alloc_pages(order)))
        goto fail;
    for (vaddr_t va = base; va < top; va += PAGE_SIZE) {
        u64 *pte = pte_slot(va, true);
        if (!pte)
            goto fail;   /* the page-table pages stay: reused by the next try */
        *pte = virt_to_phys(mem + (va - base)) | PTE_P | PTE_W | PTE_NX;
    }
    stack_area_next = top;
    spin_unlock_irqrestore(&stack_lock, flags);
    return (void *)top;

fail:
    if (mem)
        free_pages(mem, order);
    spin_unlock_irqrestore(&stack_lock, flags);
    return NULL;
}

/* 1: mapped stack page, 0: guard page, -1: not in the stack region. */
static int stack_page_state(vaddr_t va)
{
    if (va < STACK_AREA_BASE || va >= READ_ONCE(stack_area_next))
        return -1;
    const u64 *pte = pte_slot(va, false);
    return pte && (*pte & PTE_P);
}

bool paging_is_stack_guard(vaddr_t va)
{
    return stack_page_state(va) == 0;
}

bool paging_is_stack(vaddr_t va)
{
    return stack_page_state(va) == 1;
}
