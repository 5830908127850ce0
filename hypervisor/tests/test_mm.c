/*
 * test_mm.c - unit tests of the buddy page allocator (common/page_alloc.c).
 *
 * A host buffer stands in for physical memory (kiln_test_phys_base is
 * physical address 0), so the allocator's free-list nodes really live in
 * the "free pages" as they do in the hypervisor.  A shadow map of who owns
 * each page checks that no page is ever handed out twice, and a pattern
 * written into every allocated page catches the allocator scribbling on
 * memory it gave away.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../common/page_alloc.c"

#define NPAGES 8192u            /* 32 MiB of fake RAM */

unsigned char *kiln_test_phys_base;
static void *metadata;
static unsigned char owner[NPAGES];   /* 0 = free/unmanaged, else allocation tag */

/* The allocator panics on misuse; cmocka turns that into a catchable assert. */
void panic(const char *fmt, ...)
{
    static char msg[256];   /* cmocka keeps the pointer after the longjmp */
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    mock_assert(0, msg, __FILE__, __LINE__);
    abort();
}

static int setup(void **state)
{
    (void)state;
    kiln_test_phys_base = aligned_alloc(PAGE_SIZE, (size_t)NPAGES * PAGE_SIZE);
    metadata = malloc(page_alloc_metadata_size(NPAGES));
    memset(owner, 0, sizeof(owner));
    nr_pinned = 0;   /* pins are the allocator's statics, not page_alloc_init's */
    if (!kiln_test_phys_base || !metadata)
        return -1;
    page_alloc_init(NPAGES, metadata);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    free(kiln_test_phys_base);
    free(metadata);
    return 0;
}

static u64 pfn_of_ptr(void *p)
{
    return virt_to_phys(p) >> PAGE_SHIFT;
}

/* Records an allocation in the shadow map, failing on any overlap. */
static void claim(void *p, unsigned int order, unsigned char tag)
{
    u64 pfn = pfn_of_ptr(p);
    assert_int_equal(pfn & ((1u << order) - 1), 0);   /* naturally aligned */
    assert_true(pfn + (1u << order) <= NPAGES);
    for (u64 i = pfn; i < pfn + (1u << order); i++) {
        assert_int_equal(owner[i], 0);
        owner[i] = tag;
    }
    memset(p, tag, PAGE_SIZE << order);
}

static void release(void *p, unsigned int order, unsigned char tag)
{
    u64 pfn = pfn_of_ptr(p);
    const unsigned char *b = p;
    for (size_t i = 0; i < (PAGE_SIZE << order); i += 509)
        assert_int_equal(b[i], tag);   /* nobody wrote into our pages */
    for (u64 i = pfn; i < pfn + (1u << order); i++)
        owner[i] = 0;
    free_pages(p, order);
}

static void test_counts_after_adding_ranges(void **state)
{
    (void)state;
    assert_int_equal(mm_total_pages(), 0);
    assert_null(alloc_pages(0));
    page_alloc_add_range(3, 1000);      /* unaligned at both ends */
    page_alloc_add_range(4096, NPAGES);
    assert_int_equal(mm_total_pages(), 997 + 4096);
    assert_int_equal(mm_free_pages(), 997 + 4096);
    /* 4096..8191 is one naturally aligned 16 MiB block. */
    assert_int_equal(page_alloc_free_blocks(12), 1);
}

static void test_exhaustion_and_return_to_baseline(void **state)
{
    static void *pages[NPAGES];
    unsigned int n = 0;
    (void)state;

    page_alloc_add_range(0, NPAGES);
    u64 baseline = mm_free_pages();
    while ((pages[n] = alloc_pages(0)) != NULL) {
        claim(pages[n], 0, (unsigned char)(1 + n % 250));
        n++;
        assert_int_equal(mm_free_pages(), baseline - n);
    }
    assert_int_equal(n, NPAGES);
    assert_null(alloc_pages(0));
    assert_null(alloc_pages(ORDER_2M));
    for (unsigned int i = 0; i < n; i++)
        release(pages[i], 0, (unsigned char)(1 + i % 250));
    assert_int_equal(mm_free_pages(), baseline);
    /* Everything merged back into the single 32 MiB block. */
    assert_int_equal(page_alloc_free_blocks(13), 1);
    assert_non_null(alloc_pages(13));
}

static void test_holes_are_never_handed_out(void **state)
{
    void *p;
    (void)state;

    page_alloc_add_range(100, 200);
    page_alloc_add_range(5000, 5100);
    while ((p = alloc_pages(0)) != NULL) {
        u64 pfn = pfn_of_ptr(p);
        assert_true((pfn >= 100 && pfn < 200) || (pfn >= 5000 && pfn < 5100));
    }
    assert_int_equal(mm_free_pages(), 0);
}

static void test_2m_blocks_coalesce_after_fragmentation(void **state)
{
    static void *small[1024];
    (void)state;

    page_alloc_add_range(0, NPAGES);
    u64 baseline = mm_free_pages();
    u64 blocks = 0;
    void *big[NPAGES >> ORDER_2M];
    while ((big[blocks] = alloc_pages(ORDER_2M)) != NULL) {
        claim(big[blocks], ORDER_2M, 7);
        blocks++;
    }
    assert_int_equal(blocks, NPAGES >> ORDER_2M);
    /* Break two 2 MiB blocks into single pages, then hand everything back
     * in an interleaved order: the allocator must rebuild 2 MiB blocks. */
    release(big[0], ORDER_2M, 7);
    release(big[1], ORDER_2M, 7);
    for (unsigned int i = 0; i < 1024; i++) {
        small[i] = alloc_pages(0);
        assert_non_null(small[i]);
        claim(small[i], 0, 9);
    }
    assert_null(alloc_pages(0));
    for (unsigned int i = 0; i < 1024; i += 2)
        release(small[i], 0, 9);
    assert_null(alloc_pages(1));          /* all free pages are isolated */
    for (unsigned int i = 1; i < 1024; i += 2)
        release(small[i], 0, 9);
    for (u64 i = 2; i < blocks; i++)
        release(big[i], ORDER_2M, 7);
    assert_int_equal(mm_free_pages(), baseline);
    assert_int_equal(page_alloc_free_blocks(13), 1);
}

static void test_double_free_is_caught(void **state)
{
    (void)state;
    page_alloc_add_range(0, 64);
    void *p = alloc_pages(2);
    assert_non_null(p);
    free_pages(p, 2);
    expect_assert_failure(free_pages(p, 2));
    /* A page inside a larger free block is also already free. */
    expect_assert_failure(free_pages((char *)p + PAGE_SIZE, 0));
    assert_int_equal(mm_free_pages(), 64);
}

/* A write into a freed page (a guest or CPU still using it) lands on the
 * free list node the page holds: the allocator must stop there, not hand
 * out whatever the broken node points at. */
static void test_write_after_free_is_caught(void **state)
{
    (void)state;
    page_alloc_add_range(0, 64);
    void *p = alloc_pages(0);
    void *buddy = alloc_pages(0);   /* keeps p from merging */
    assert_non_null(p);
    assert_non_null(buddy);
    free_pages(p, 0);
    *(volatile u32 *)p = 1;         /* what `movl $1, (page)` leaves */
    expect_assert_failure(alloc_pages(0));
}

/* A CPU's host save area freed while the CPU still uses it would come
 * back as someone's VMCB: the free itself must stop the machine. */
static void test_pinned_page_is_never_freed(void **state)
{
    (void)state;
    page_alloc_add_range(0, 64);
    u8 *p = alloc_pages(2);
    assert_non_null(p);
    mm_pin_page(p + 2 * PAGE_SIZE);
    expect_assert_failure(free_pages(p, 2));
    expect_assert_failure(mm_free_range(virt_to_phys(p), virt_to_phys(p) + 4 * PAGE_SIZE));
    assert_int_equal(mm_free_pages(), 60);
}

static void test_bad_frees_are_caught(void **state)
{
    (void)state;
    page_alloc_add_range(0, 64);
    void *p = alloc_pages(1);
    assert_non_null(p);
    expect_assert_failure(free_pages((char *)p + PAGE_SIZE, 1));   /* misaligned */
    expect_assert_failure(free_pages((char *)p + 100, 0));         /* not a page */
    expect_assert_failure(page_free_pfn(NPAGES, 0));               /* beyond RAM */
    expect_assert_failure(page_free_pfn(0, MM_MAX_ORDER + 1));
    assert_null(alloc_pages(MM_MAX_ORDER + 1));
    free_pages(p, 1);
    assert_int_equal(mm_free_pages(), 64);
}

static void test_zeroed_allocation(void **state)
{
    (void)state;
    page_alloc_add_range(0, 16);
    unsigned char *p = alloc_pages(3);
    memset(p, 0xa5, PAGE_SIZE << 3);
    free_pages(p, 3);
    p = alloc_pages_zeroed(3);
    assert_non_null(p);
    for (size_t i = 0; i < (PAGE_SIZE << 3); i++)
        assert_int_equal(p[i], 0);
    free_pages(p, 3);
}

/* Random mix of orders, random frees: no overlap, no corruption, and the
 * free count always equals total minus what the test holds. */
static void test_random_pattern(void **state)
{
    struct { void *p; unsigned int order; unsigned char tag; } held[512];
    unsigned int nheld = 0;
    u64 held_pages = 0;
    (void)state;

    srand(12345);
    page_alloc_add_range(1, NPAGES - 3);
    u64 baseline = mm_free_pages();
    for (int step = 0; step < 20000; step++) {
        bool do_alloc = nheld == 0 || (nheld < 512 && rand() % 100 < 55);
        if (do_alloc) {
            unsigned int order = (unsigned int)(rand() % 100 < 80 ? rand() % 3 : rand() % 10);
            void *p = alloc_pages(order);
            if (!p) {
                assert_true(mm_free_pages() < (1u << order) ||
                            page_alloc_free_blocks(order) == 0);
                continue;
            }
            unsigned char tag = (unsigned char)(1 + step % 250);
            claim(p, order, tag);
            held[nheld].p = p;
            held[nheld].order = order;
            held[nheld].tag = tag;
            nheld++;
            held_pages += 1u << order;
        } else {
            unsigned int i = (unsigned int)rand() % nheld;
            release(held[i].p, held[i].order, held[i].tag);
            held_pages -= 1u << held[i].order;
            held[i] = held[--nheld];
        }
        assert_int_equal(mm_free_pages() + held_pages, baseline);
    }
    while (nheld) {
        nheld--;
        release(held[nheld].p, held[nheld].order, held[nheld].tag);
    }
    assert_int_equal(mm_free_pages(), baseline);
    assert_int_equal(mm_total_pages(), baseline);
}

/* Records the runs mm_claim_range reports; allocates inside the callback
 * to prove it is not called under the allocator's lock. */
struct runs {
    u64 start[64], end[64];
    unsigned int n;
};

static void record_run(u64 start_pfn, u64 end_pfn, void *arg)
{
    struct runs *r = arg;
    void *p = alloc_pages(0);
    if (p)
        free_pages(p, 0);
    assert_true(r->n < 64);
    if (r->n)
        assert_true(start_pfn > r->end[r->n - 1]);   /* ascending, maximal */
    r->start[r->n] = start_pfn;
    r->end[r->n] = end_pfn;
    r->n++;
}

static void test_claim_range_takes_exactly_the_free_pages(void **state)
{
    struct runs r = { .n = 0 };
    void *p;
    (void)state;

    page_alloc_add_range(0, NPAGES);
    u64 baseline = mm_free_pages();
    /* Unaligned range across several buddy blocks. */
    u64 n = mm_claim_range(1000ull << PAGE_SHIFT, 5003ull << PAGE_SHIFT, record_run, &r);
    assert_int_equal(n, 4003);
    assert_int_equal(r.n, 1);
    assert_int_equal(r.start[0], 1000);
    assert_int_equal(r.end[0], 5003);
    assert_int_equal(mm_free_pages(), baseline - 4003);
    /* Nothing in the claimed range is ever handed out again. */
    while ((p = alloc_pages(0)) != NULL) {
        u64 pfn = pfn_of_ptr(p);
        assert_true(pfn < 1000 || pfn >= 5003);
        claim(p, 0, 3);
    }
    assert_int_equal(mm_claim_range(0, (u64)NPAGES << PAGE_SHIFT, NULL, NULL), 0);
    mm_free_range(1000ull << PAGE_SHIFT, 5003ull << PAGE_SHIFT);
    assert_int_equal(mm_free_pages(), 4003);
    for (u64 pfn = 0; pfn < NPAGES; pfn++) {
        if (owner[pfn])
            release(phys_to_virt(pfn << PAGE_SHIFT), 0, 3);
    }
    assert_int_equal(mm_free_pages(), baseline);
    assert_int_equal(page_alloc_free_blocks(13), 1);   /* fully merged again */
}

static void test_claim_range_skips_pages_in_use(void **state)
{
    struct runs r = { .n = 0 };
    void *used[3];
    (void)state;

    page_alloc_add_range(0, 64);
    /* Take pages until the ones at pfn 10 and 20 are in use (low first). */
    void *all[64];
    unsigned int n = 0;
    while ((all[n] = alloc_pages(0)) != NULL)
        n++;
    assert_int_equal(n, 64);
    for (unsigned int i = 0; i < n; i++) {
        u64 pfn = pfn_of_ptr(all[i]);
        if (pfn != 10 && pfn != 20 && pfn != 21)
            free_pages(all[i], 0);
    }
    used[0] = phys_to_virt(10ull << PAGE_SHIFT);
    used[1] = phys_to_virt(20ull << PAGE_SHIFT);
    used[2] = phys_to_virt(21ull << PAGE_SHIFT);
    assert_int_equal(mm_free_pages(), 61);

    assert_int_equal(mm_claim_range(4ull << PAGE_SHIFT, 30ull << PAGE_SHIFT, record_run, &r), 23);
    assert_int_equal(r.n, 3);
    assert_int_equal(r.start[0], 4);  assert_int_equal(r.end[0], 10);
    assert_int_equal(r.start[1], 11); assert_int_equal(r.end[1], 20);
    assert_int_equal(r.start[2], 22); assert_int_equal(r.end[2], 30);
    assert_int_equal(mm_free_pages(), 61 - 23);

    /* A range with a free page in it cannot be freed. */
    expect_assert_failure(mm_free_range(2ull << PAGE_SHIFT, 6ull << PAGE_SHIFT));
    for (unsigned int i = 0; i < r.n; i++)
        mm_free_range(r.start[i] << PAGE_SHIFT, r.end[i] << PAGE_SHIFT);
    expect_assert_failure(mm_free_range(4ull << PAGE_SHIFT, 10ull << PAGE_SHIFT));
    for (unsigned int i = 0; i < 3; i++)
        free_pages(used[i], 0);
    assert_int_equal(mm_free_pages(), 64);
    assert_int_equal(page_alloc_free_blocks(6), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_counts_after_adding_ranges, setup, teardown),
        cmocka_unit_test_setup_teardown(test_exhaustion_and_return_to_baseline, setup, teardown),
        cmocka_unit_test_setup_teardown(test_holes_are_never_handed_out, setup, teardown),
        cmocka_unit_test_setup_teardown(test_2m_blocks_coalesce_after_fragmentation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_double_free_is_caught, setup, teardown),
        cmocka_unit_test_setup_teardown(test_write_after_free_is_caught, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pinned_page_is_never_freed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_frees_are_caught, setup, teardown),
        cmocka_unit_test_setup_teardown(test_zeroed_allocation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_random_pattern, setup, teardown),
        cmocka_unit_test_setup_teardown(test_claim_range_takes_exactly_the_free_pages, setup, teardown),
        cmocka_unit_test_setup_teardown(test_claim_range_skips_pages_in_use, setup, teardown),
    };
    return cmocka_run_group_tests_name("page allocator", tests, NULL, NULL);
}
