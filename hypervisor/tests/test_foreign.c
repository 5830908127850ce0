/*
 * test_foreign.c - unit tests of dom0's foreign mappings (common/foreign.c):
 * where the window goes in QEMU's memory map, every refusal of MAP/UNMAP
 * with its error code, the per-domain limit, and that a destroy's release
 * sends every mapping of that domain, and only of it, to the sink with a
 * TLB flush.  The nested page table side is faked: each window page's
 * target is recorded in an array.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <cmocka.h>

#include "../common/foreign.c"
#include "qemu_memmap.h"


static unsigned int map_count = QEMU_MAP_ENTRIES;

unsigned int boot_memmap_count(void) { return map_count; }
const struct boot_mem_range *boot_memmap_get(unsigned int i) { return &qemu_map[i]; }

/* dom0 owns the low half, as with the default dom0_mem. */
static const struct mem_range owned[] = { { 0x0, 0x9f000 }, { 0x100000, 0x20000000 } };

static struct domain dom0, domu, domu2;
static paddr_t frames[1024], frames2[1024];
static struct percpu cpu;

struct domain *dom0_domain(void) { return &dom0; }
struct percpu *kiln_test_this_cpu(void) { return &cpu; }
void printk(enum log_level level, const char *fmt, ...) { (void)level; (void)fmt; }
void panic(const char *fmt, ...) { (void)fmt; mock_assert(0, "panic", __FILE__, __LINE__); abort(); }

static paddr_t target[FOREIGN_WINDOW_PAGES];   /* 0 = the sink */
static u64 init_base;
static int flushes, sink_clears, init_rc;

int p2m_foreign_init(struct domain *d, u64 base, u32 pages)
{
    assert_ptr_equal(d, &dom0);
    assert_int_equal(pages, FOREIGN_WINDOW_PAGES);
    init_base = base;
    return init_rc;
}
void p2m_foreign_set(struct domain *d, u64 gpa, paddr_t hpa)
{
    assert_ptr_equal(d, &dom0);
    assert_true(gpa >= init_base && gpa < init_base + WINDOW_BYTES && !(gpa & 0xfff));
    target[(gpa - init_base) >> PAGE_SHIFT] = hpa;
}
void p2m_foreign_sink_clear(void) { sink_clears++; }
void p2m_foreign_flush(struct domain *d) { assert_ptr_equal(d, &dom0); flushes++; }

static u64 base;

static int setup(void **state)
{
    (void)state;
    dom0 = (struct domain){ .id = 0, .hardware = true };
    dom0.p2m.owned = owned;
    dom0.p2m.nr_owned = 2;
    domu = (struct domain){ .id = 3, .state = KILN_DOMSTATE_RUNNING };
    domu.p2m.frames = frames;
    domu.p2m.nr_pages = 1024;
    domu2 = (struct domain){ .id = 4, .state = KILN_DOMSTATE_RUNNING };
    domu2.p2m.frames = frames2;
    domu2.p2m.nr_pages = 1024;
    for (unsigned int i = 0; i < 1024; i++) {
        frames[i] = 0x30000000ul + i * PAGE_SIZE;
        frames2[i] = 0x31000000ul + i * PAGE_SIZE;
    }
    for (unsigned int i = 0; i < FOREIGN_WINDOW_PAGES; i++)
        slots[i].state = SLOT_FREE;
    window_tried = window_ok = false;
    flushes = sink_clears = init_rc = 0;
    cpu.cpu_id = 0;
    u32 pages;
    foreign_window(&base, &pages);
    return 0;
}

static void window_is_top_of_ram_not_owned(void **state)
{
    (void)state;
    u32 pages;
    foreign_window(&base, &pages);
    /* Highest 4 MiB-aligned 4 MiB inside [1 MiB, TOP): 0x3f800000. */
    assert_int_equal(base, 0x3f800000ul);
    assert_int_equal(pages, FOREIGN_WINDOW_PAGES);
    assert_int_equal(init_base, base);
}

static void window_never_overlaps_owned_ram(void **state)
{
    (void)state;
    const struct mem_range most[] = { { 0x0, 0x3f900000 } };
    assert_int_equal(foreign_window_pick(most, 1), 0);
    const struct mem_range hole[] = { { 0x0, 0x3f000000 }, { 0x3f400000, 0x3f500000 } };
    assert_int_equal(foreign_window_pick(hole, 2), 0x3f800000ul);
    const struct mem_range top[] = { { 0x0, 0x1000000 }, { 0x3f800000, 0x3f801000 } };
    assert_int_equal(foreign_window_pick(top, 2), 0x3f400000ul);
    map_count = 1;   /* only the first 640 KiB of RAM: no room */
    assert_int_equal(foreign_window_pick(owned, 0), 0);
    map_count = QEMU_MAP_ENTRIES;
}

static void no_window_without_tables(void **state)
{
    (void)state;
    window_tried = window_ok = false;
    init_rc = -KILN_ENOMEM;
    u32 pages;
    foreign_window(&base, &pages);
    assert_int_equal(pages, 0);
    assert_int_equal(base, 0);
    assert_int_equal(foreign_map(&dom0, &domu, 0, 0x3f800000ul), -KILN_ENOSYS);
}

static void map_and_unmap(void **state)
{
    (void)state;
    assert_int_equal(foreign_map(&dom0, &domu, 0x200, base + 5 * PAGE_SIZE), 0);
    assert_int_equal(target[5], frames[0x200]);
    assert_int_equal(foreign_count(3), 1);
    assert_int_equal(flushes, 1);
    assert_int_equal(foreign_unmap(&dom0, base + 5 * PAGE_SIZE), 0);
    assert_int_equal(target[5], 0);
    assert_int_equal(foreign_count(3), 0);
    assert_int_equal(flushes, 2);
    assert_int_equal(foreign_unmap(&dom0, base + 5 * PAGE_SIZE), -KILN_ENOENT);
}

static void refusals(void **state)
{
    (void)state;
    u64 ok = base + PAGE_SIZE;
    assert_int_equal(foreign_map(&domu, &domu2, 0, ok), -KILN_EPERM);    /* caller not dom0 */
    assert_int_equal(foreign_map(&dom0, NULL, 0, ok), -KILN_ESRCH);
    assert_int_equal(foreign_map(&dom0, &dom0, 0, ok), -KILN_EPERM);
    domu.state = KILN_DOMSTATE_DYING;
    assert_int_equal(foreign_map(&dom0, &domu, 0, ok), -KILN_EBUSY);
    domu.state = KILN_DOMSTATE_RUNNING;
    assert_int_equal(foreign_map(&dom0, &domu, 1024, ok), -KILN_EFAULT);
    assert_int_equal(foreign_map(&dom0, &domu, ~0ull, ok), -KILN_EFAULT);
    assert_int_equal(foreign_map(&dom0, &domu, 0, ok + 8), -KILN_EINVAL);
    assert_int_equal(foreign_map(&dom0, &domu, 0, base - PAGE_SIZE), -KILN_EINVAL);
    assert_int_equal(foreign_map(&dom0, &domu, 0, base + WINDOW_BYTES), -KILN_EINVAL);
    assert_int_equal(foreign_map(&dom0, &domu, 0, 0x1000), -KILN_EINVAL);   /* dom0's own RAM */
    assert_int_equal(foreign_unmap(&dom0, base + 8), -KILN_EINVAL);
    assert_int_equal(foreign_unmap(&domu, ok), -KILN_EPERM);
    assert_int_equal(foreign_count(3), 0);
    assert_int_equal(flushes, 0);
    assert_int_equal(foreign_map(&dom0, &domu, 7, ok), 0);
    assert_int_equal(foreign_map(&dom0, &domu2, 7, ok), -KILN_EEXIST);
    assert_int_equal(target[1], frames[7]);
}

static void limit_per_domain(void **state)
{
    (void)state;
    for (unsigned int i = 0; i < KILN_FOREIGN_MAX_PER_DOMAIN; i++)
        assert_int_equal(foreign_map(&dom0, &domu, i, base + i * PAGE_SIZE), 0);
    u64 next = base + KILN_FOREIGN_MAX_PER_DOMAIN * PAGE_SIZE;
    assert_int_equal(foreign_map(&dom0, &domu, 0, next), -KILN_E2BIG);
    assert_int_equal(foreign_map(&dom0, &domu2, 0, next), 0);   /* another domain still may */
    assert_int_equal(foreign_unmap(&dom0, base), 0);
    assert_int_equal(foreign_map(&dom0, &domu, 0, base), 0);
}

static void release_sends_only_that_domain_to_the_sink(void **state)
{
    (void)state;
    assert_int_equal(foreign_map(&dom0, &domu, 1, base), 0);
    assert_int_equal(foreign_map(&dom0, &domu2, 2, base + PAGE_SIZE), 0);
    assert_int_equal(foreign_map(&dom0, &domu, 3, base + 9 * PAGE_SIZE), 0);
    flushes = 0;
    assert_int_equal(foreign_release(&domu), 2);
    assert_int_equal(target[0], 0);
    assert_int_equal(target[9], 0);
    assert_int_equal(target[1], frames2[2]);
    assert_int_equal(flushes, 1);
    assert_int_equal(sink_clears, 1);
    assert_int_equal(foreign_count(3), 0);
    assert_int_equal(foreign_count(4), 1);
    assert_int_equal(foreign_release(&domu), 0);
    /* The dead window page stays dom0's until it unmaps it. */
    assert_int_equal(foreign_map(&dom0, &domu2, 0, base), -KILN_EEXIST);
    assert_int_equal(foreign_unmap(&dom0, base), 0);
    assert_int_equal(target[0], 0);
    assert_int_equal(foreign_map(&dom0, &domu2, 0, base), 0);
}

static void release_off_dom0s_cpu_is_a_bug(void **state)
{
    (void)state;
    assert_int_equal(foreign_map(&dom0, &domu, 1, base), 0);
    cpu.cpu_id = 1;
    expect_assert_failure(foreign_release(&domu));
    cpu.cpu_id = 0;
    assert_int_equal(foreign_release(&domu2), 0);   /* nothing mapped: fine anywhere */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(window_is_top_of_ram_not_owned, setup),
        cmocka_unit_test_setup(window_never_overlaps_owned_ram, setup),
        cmocka_unit_test_setup(no_window_without_tables, setup),
        cmocka_unit_test_setup(map_and_unmap, setup),
        cmocka_unit_test_setup(refusals, setup),
        cmocka_unit_test_setup(limit_per_domain, setup),
        cmocka_unit_test_setup(release_sends_only_that_domain_to_the_sink, setup),
        cmocka_unit_test_setup(release_off_dom0s_cpu_is_a_bug, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
