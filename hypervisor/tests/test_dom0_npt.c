/*
 * test_dom0_npt.c - unit tests of dom0's 1:1 nested page table
 * (arch/x86/hvm/p2m_identity.c), the boundary between dom0 and everyone
 * else's memory: with QEMU's 1 GiB firmware map and dom0 owning a few
 * ranges, every 4 KiB page below 1 GiB + 64 MiB is walked through the
 * table and must be mapped, to itself, exactly when it is dom0's RAM or
 * not RAM at all (MMIO, firmware tables); addresses far above RAM are MMIO
 * and mapped too, up to the table's 512 GiB.  Page-table pages come from a
 * host buffer standing in for physical memory.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <cmocka.h>

#include "../arch/x86/hvm/p2m_identity.c"
#include "qemu_memmap.h"

#define POOL_PAGES 256

unsigned char *kiln_test_phys_base;
static unsigned int pool_used, pool_limit;
static int destroyed;

void printk(enum log_level level, const char *fmt, ...)
{
    (void)level;
    (void)fmt;
}

void *alloc_pages_zeroed(unsigned int order)
{
    assert_int_equal(order, 0);
    if (pool_used >= pool_limit)
        return NULL;
    unsigned char *p = kiln_test_phys_base + (size_t)pool_used++ * PAGE_SIZE;
    for (size_t i = 0; i < PAGE_SIZE; i++)
        p[i] = 0;
    return p;
}

void p2m_destroy(struct domain *d)
{
    destroyed++;
    d->p2m.root = NULL;
}


unsigned int boot_memmap_count(void) { return QEMU_MAP_ENTRIES; }
const struct boot_mem_range *boot_memmap_get(unsigned int i)
{
    return i < boot_memmap_count() ? &qemu_map[i] : NULL;
}

/* dom0's RAM as on a real boot: low memory, its modules, a claimed run
 * with a hypervisor page in the middle; the rest is the hypervisor's. */
static const struct dom0_mem owned = {
    .r = { { 0x0, 0x9f000 }, { 0x157000, 0x110e000 }, { 0x1120000, 0x5000000 },
           { 0x5001000, 0x1f82b000 } },
    .nr = 4,
};

static struct domain dom;

static int setup(void **state)
{
    (void)state;
    kiln_test_phys_base = aligned_alloc(PAGE_SIZE, POOL_PAGES * PAGE_SIZE);
    pool_used = 0;
    pool_limit = POOL_PAGES;
    destroyed = 0;
    for (size_t i = 0; i < sizeof(dom); i++)
        ((unsigned char *)&dom)[i] = 0;
    return kiln_test_phys_base ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    free(kiln_test_phys_base);
    return 0;
}

/* Walks the table: the host address gpa maps to, or -1. */
static long long lookup(u64 gpa)
{
    u64 *t = dom.p2m.root;
    for (int level = 4; level >= 1; level--) {
        u64 e = t[(gpa >> (12 + 9 * (level - 1))) & 511];
        if (!(e & NPT_P))
            return -1;
        assert_true(e & NPT_U);                    /* the CPU model needs U/S */
        if (level == 1 || (level <= 3 && (e & NPT_PS))) {
            u64 size = 1ull << (12 + 9 * (level - 1));
            return (long long)((e & NPT_ADDR_MASK & ~(size - 1)) | (gpa & (size - 1)));
        }
        assert_false(e & NPT_PS);                  /* no 512 GiB pages */
        t = phys_to_virt(e & NPT_ADDR_MASK);
    }
    return -1;
}

/* RAM as the hypervisor manages it: whole pages only (the allocator never
 * hands out a partial firmware page either). */
static bool is_ram(u64 a)
{
    for (unsigned int i = 0; i < boot_memmap_count(); i++)
        if (qemu_map[i].type == 1 && a >= ALIGN_UP(qemu_map[i].start, PAGE_SIZE) &&
            a < ALIGN_DOWN(qemu_map[i].end, PAGE_SIZE))
            return true;
    return false;
}

static void test_every_page_below_1g(void **state)
{
    (void)state;
    assert_int_equal(p2m_init_identity(&dom, &owned), 0);
    assert_true(dom.p2m.identity);
    unsigned long mapped_foreign = 0, missing_own = 0;
    for (u64 a = 0; a < 0x44000000ul; a += PAGE_SIZE) {
        long long hpa = lookup(a);
        bool own = false;
        for (unsigned int i = 0; i < owned.nr; i++)
            own |= a >= owned.r[i].start && a < owned.r[i].end;
        bool may = own || !is_ram(a);
        if (hpa >= 0)
            assert_int_equal(hpa, a);                 /* 1:1 */
        if (hpa >= 0 && !may) {
            printf("# mapped but not dom0's: %#llx\n", (unsigned long long)a);
            mapped_foreign++;
        }
        if (hpa < 0 && may) {
            printf("# not mapped: %#llx\n", (unsigned long long)a);
            missing_own++;
        }
    }
    assert_int_equal(mapped_foreign, 0);
    assert_int_equal(missing_own, 0);
    /* The partial firmware page below the EBDA is not RAM as far as
     * 4 KiB granularity goes: passed through like the EBDA. */
    assert_int_equal(lookup(0x9f000), 0x9f000);
}

static void test_mmio_and_high(void **state)
{
    (void)state;
    assert_int_equal(p2m_init_identity(&dom, &owned), 0);
    assert_int_equal(lookup(0xfee00000), 0xfee00000);    /* LAPIC */
    assert_int_equal(lookup(0xfec00000), 0xfec00000);    /* IOAPIC */
    assert_int_equal(lookup(0xe0000), 0xe0000);          /* BIOS, RSDP */
    assert_int_equal(lookup(TOP + 0x1a53), TOP + 0x1a53); /* ACPI tables */
    assert_int_equal(lookup(0x100000000ull), 0x100000000ll);
    assert_int_equal(lookup((512ull << 30) - 8), (long long)((512ull << 30) - 8));
    assert_int_equal(lookup(512ull << 30), -1);
    assert_int_equal(lookup(0x100000), -1);              /* the hypervisor image */
    assert_int_equal(lookup(0x5000000), -1);             /* a hypervisor page inside */
    assert_int_equal(lookup(TOP - PAGE_SIZE), -1);       /* domUs' pool */
    /* Large pages keep the table small. */
    assert_true(dom.p2m.pt_pages < 16);
}

static void test_out_of_memory(void **state)
{
    (void)state;
    pool_limit = 3;
    assert_int_equal(p2m_init_identity(&dom, &owned), -KILN_ENOMEM);
    assert_int_equal(destroyed, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_every_page_below_1g, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mmio_and_high, setup, teardown),
        cmocka_unit_test_setup_teardown(test_out_of_memory, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
