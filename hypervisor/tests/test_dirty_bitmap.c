/*
 * test_dirty_bitmap.c - unit tests of the log-dirty bitmap
 * (common/dirty_bitmap.c): marking pages and ranges, taking batches at any
 * alignment (copied, cleared, reported once each), the cut at the domain's
 * end, and a whole-domain walk in KILN_LOG_DIRTY_BATCH steps the way the
 * toolstack's pre-copy rounds read it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../common/dirty_bitmap.c"
#include <public/kiln.h>

#define NBITS 100000u

static u64 *bm;
static u64 seen[64];
static unsigned int nseen;

static void note(void *ctx, u64 bit)
{
    (void)ctx;
    if (nseen < 64)
        seen[nseen] = bit;
    nseen++;
}

static int setup(void **state)
{
    (void)state;
    bm = calloc(1, dirty_bitmap_bytes(NBITS));
    nseen = 0;
    return bm ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    free(bm);
    return 0;
}

static int out_bit(const u8 *out, u64 i)
{
    return (out[i / 8] >> (i % 8)) & 1;
}

static void sizes(void **state)
{
    (void)state;
    assert_int_equal(dirty_bitmap_bytes(0), 0);
    assert_int_equal(dirty_bitmap_bytes(1), 8);
    assert_int_equal(dirty_bitmap_bytes(64), 8);
    assert_int_equal(dirty_bitmap_bytes(65), 16);
    assert_int_equal(dirty_bitmap_bytes(65536), 8192);   /* 256 MiB guest */
}

static void take_copies_clears_and_reports(void **state)
{
    static u8 out[KILN_LOG_DIRTY_BATCH / 8];
    const u64 bits[] = { 0, 63, 64, 100, 32767, 32768 };
    (void)state;
    for (unsigned int i = 0; i < 6; i++)
        dirty_bitmap_set(bm, NBITS, bits[i]);
    dirty_bitmap_set(bm, NBITS, 64);          /* twice: still one page */
    u64 nr = KILN_LOG_DIRTY_BATCH;
    assert_int_equal(dirty_bitmap_take(bm, NBITS, 0, &nr, out, note, NULL), 5);
    assert_int_equal(nr, KILN_LOG_DIRTY_BATCH);
    assert_int_equal(nseen, 5);
    for (unsigned int i = 0; i < 5; i++) {
        assert_int_equal(seen[i], bits[i]);   /* in order, each once */
        assert_true(out_bit(out, bits[i]));
    }
    assert_false(out_bit(out, 1));
    assert_false(out_bit(out, 65));
    /* Taken bits are clear, the one past the batch is not. */
    nr = KILN_LOG_DIRTY_BATCH;
    assert_int_equal(dirty_bitmap_take(bm, NBITS, 0, &nr, out, NULL, NULL), 0);
    nr = 1;
    assert_int_equal(dirty_bitmap_take(bm, NBITS, 32768, &nr, out, NULL, NULL), 1);
}

static void unaligned_batches(void **state)
{
    u8 out[16];
    (void)state;
    for (u64 b = 0; b < 200; b += 3)
        dirty_bitmap_set(bm, NBITS, b);
    memset(out, 0xff, sizeof(out));
    u64 nr = 70;                              /* bits 5..74: three words */
    u64 n = dirty_bitmap_take(bm, NBITS, 5, &nr, out, note, NULL);
    assert_int_equal(nr, 70);
    u64 want = 0;
    for (u64 b = 5; b < 75; b++)
        if (b % 3 == 0) {
            assert_true(out_bit(out, b - 5));
            want++;
        } else {
            assert_false(out_bit(out, b - 5));
        }
    assert_int_equal(n, want);
    for (u64 i = 70; i < 72; i++)             /* the rest of the last byte is zero */
        assert_false(out_bit(out, i));
    /* Neighbours outside the batch are untouched. */
    nr = 5;
    assert_int_equal(dirty_bitmap_take(bm, NBITS, 0, &nr, out, NULL, NULL), 2);   /* 0, 3 */
    nr = 9;
    assert_int_equal(dirty_bitmap_take(bm, NBITS, 75, &nr, out, NULL, NULL), 3);  /* 75, 78, 81 */
}

static void cut_at_the_domain_end(void **state)
{
    u8 out[KILN_LOG_DIRTY_BATCH / 8];
    (void)state;
    dirty_bitmap_set(bm, NBITS, NBITS - 1);
    dirty_bitmap_set(bm, NBITS, NBITS);       /* out of range: ignored */
    dirty_bitmap_set(bm, NBITS, ~0ull);
    u64 nr = KILN_LOG_DIRTY_BATCH;
    assert_int_equal(dirty_bitmap_take(bm, NBITS, NBITS - 10, &nr, out, NULL, NULL), 1);
    assert_int_equal(nr, 10);
    assert_true(out_bit(out, 9));
    nr = KILN_LOG_DIRTY_BATCH;
    assert_int_equal(dirty_bitmap_take(bm, NBITS, NBITS, &nr, out, NULL, NULL), 0);
    assert_int_equal(nr, 0);
    nr = 5;
    assert_int_equal(dirty_bitmap_take(bm, NBITS, ~0ull, &nr, out, NULL, NULL), 0);
    assert_int_equal(nr, 0);
}

static void ranges_mark_every_page_touched(void **state)
{
    u8 out[8];
    (void)state;
    dirty_bitmap_set_range(bm, NBITS, 4095, 2);       /* pages 0 and 1 */
    dirty_bitmap_set_range(bm, NBITS, 3 * 4096, 4096); /* page 3 only */
    dirty_bitmap_set_range(bm, NBITS, 10 * 4096, 0);   /* nothing */
    dirty_bitmap_set_range(bm, NBITS, (u64)(NBITS - 1) * 4096, 3 * 4096);  /* cut at the end */
    u64 nr = 16;
    assert_int_equal(dirty_bitmap_take(bm, NBITS, 0, &nr, out, note, NULL), 3);
    assert_int_equal(seen[0], 0);
    assert_int_equal(seen[1], 1);
    assert_int_equal(seen[2], 3);
    nr = 1;
    assert_int_equal(dirty_bitmap_take(bm, NBITS, NBITS - 1, &nr, out, NULL, NULL), 1);
}

static void whole_domain_in_batches(void **state)
{
    static u8 out[KILN_LOG_DIRTY_BATCH / 8];
    static u8 want[NBITS];
    u64 expected = 0, total = 0, covered = 0;
    u32 x = 12345;
    (void)state;
    for (u64 i = 0; i < NBITS; i++) {
        x = x * 1103515245u + 12345u;
        if ((x >> 16) % 7 == 0) {
            dirty_bitmap_set(bm, NBITS, i);
            want[i] = 1;
            expected++;
        }
    }
    for (u64 start = 0;; ) {
        u64 nr = KILN_LOG_DIRTY_BATCH;
        u64 n = dirty_bitmap_take(bm, NBITS, start, &nr, out, NULL, NULL);
        if (!nr)
            break;
        for (u64 i = 0; i < nr; i++)
            assert_int_equal(out_bit(out, i), want[start + i]);
        total += n;
        covered += nr;
        start += nr;
    }
    assert_int_equal(covered, NBITS);
    assert_int_equal(total, expected);
    for (u64 w = 0; w < dirty_bitmap_bytes(NBITS) / 8; w++)
        assert_int_equal(bm[w], 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(sizes, setup, teardown),
        cmocka_unit_test_setup_teardown(take_copies_clears_and_reports, setup, teardown),
        cmocka_unit_test_setup_teardown(unaligned_batches, setup, teardown),
        cmocka_unit_test_setup_teardown(cut_at_the_domain_end, setup, teardown),
        cmocka_unit_test_setup_teardown(ranges_mark_every_page_touched, setup, teardown),
        cmocka_unit_test_setup_teardown(whole_domain_in_batches, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
