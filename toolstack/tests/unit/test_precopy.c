/*
 * test_precopy.c - the pre-copy stopping rule (lib/precopy.c): round 1
 * sends everything, later rounds the dirty pages, stop at or below the
 * threshold (50 by default) or after the round limit (5 live rounds), then
 * stop-and-copy for good; and the per-round page figures.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include "kiln_precopy.h"

static void first_round_sends_everything(void **state)
{
    struct kiln_precopy pc;
    (void)state;
    assert_int_equal(kiln_precopy_init(&pc, NULL), 0);
    assert_int_equal(pc.policy.max_rounds, 5);
    assert_int_equal(pc.policy.stop_threshold, 50);
    /* The dirty count means nothing before round 1. */
    assert_int_equal(kiln_precopy_next(&pc, 0), KILN_PRECOPY_SEND_ALL);
    assert_int_equal(pc.rounds, 1);
}

static void small_dirty_set_stops_at_once(void **state)
{
    struct kiln_precopy pc;
    (void)state;
    kiln_precopy_init(&pc, NULL);
    kiln_precopy_next(&pc, 0);
    assert_int_equal(kiln_precopy_next(&pc, 12), KILN_PRECOPY_STOP_AND_COPY);
    assert_int_equal(pc.rounds, 1);
}

static void threshold_is_inclusive(void **state)
{
    struct kiln_precopy pc;
    (void)state;
    kiln_precopy_init(&pc, NULL);
    kiln_precopy_next(&pc, 0);
    assert_int_equal(kiln_precopy_next(&pc, 51), KILN_PRECOPY_SEND_DIRTY);
    assert_int_equal(kiln_precopy_next(&pc, 50), KILN_PRECOPY_STOP_AND_COPY);
    assert_int_equal(pc.rounds, 2);
}

static void converging_guest(void **state)
{
    struct kiln_precopy pc;
    const uint64_t dirty[] = { 4000, 600, 90, 40 };
    (void)state;
    kiln_precopy_init(&pc, NULL);
    assert_int_equal(kiln_precopy_next(&pc, 0), KILN_PRECOPY_SEND_ALL);
    assert_int_equal(kiln_precopy_next(&pc, dirty[0]), KILN_PRECOPY_SEND_DIRTY);
    assert_int_equal(kiln_precopy_next(&pc, dirty[1]), KILN_PRECOPY_SEND_DIRTY);
    assert_int_equal(kiln_precopy_next(&pc, dirty[2]), KILN_PRECOPY_SEND_DIRTY);
    assert_int_equal(kiln_precopy_next(&pc, dirty[3]), KILN_PRECOPY_STOP_AND_COPY);
    assert_int_equal(pc.rounds, 4);
}

static void round_limit_bounds_a_dirtying_guest(void **state)
{
    struct kiln_precopy pc;
    int live = 0;
    (void)state;
    kiln_precopy_init(&pc, NULL);
    /* A guest that always dirties 10000 pages: 5 live rounds, then stop. */
    for (int i = 0; i < 100; i++) {
        enum kiln_precopy_step s = kiln_precopy_next(&pc, 10000);
        if (s == KILN_PRECOPY_STOP_AND_COPY)
            break;
        live++;
    }
    assert_int_equal(live, 5);
    assert_int_equal(pc.rounds, 5);
    /* And it stays stopped. */
    assert_int_equal(kiln_precopy_next(&pc, 0), KILN_PRECOPY_STOP_AND_COPY);
    assert_int_equal(kiln_precopy_next(&pc, 1000000), KILN_PRECOPY_STOP_AND_COPY);
}

static void custom_policy(void **state)
{
    struct kiln_precopy pc;
    struct kiln_precopy_policy one = { .max_rounds = 1 }, big = { .max_rounds = 33 };
    struct kiln_precopy_policy low = { .max_rounds = 3, .stop_threshold = 5 };
    (void)state;
    assert_int_equal(kiln_precopy_init(&pc, &big), -EINVAL);
    assert_int_equal(kiln_precopy_init(&pc, &one), 0);
    assert_int_equal(kiln_precopy_next(&pc, 0), KILN_PRECOPY_SEND_ALL);
    assert_int_equal(kiln_precopy_next(&pc, 1000), KILN_PRECOPY_STOP_AND_COPY);
    kiln_precopy_init(&pc, &low);
    kiln_precopy_next(&pc, 0);
    assert_int_equal(kiln_precopy_next(&pc, 6), KILN_PRECOPY_SEND_DIRTY);
    assert_int_equal(kiln_precopy_next(&pc, 5), KILN_PRECOPY_STOP_AND_COPY);
}

static void figures_per_round(void **state)
{
    struct kiln_precopy pc;
    (void)state;
    kiln_precopy_init(&pc, NULL);
    kiln_precopy_sent(&pc, 99);                 /* before any round: ignored */
    kiln_precopy_next(&pc, 0);
    kiln_precopy_sent(&pc, 65536);
    kiln_precopy_next(&pc, 700);
    kiln_precopy_sent(&pc, 700);
    kiln_precopy_next(&pc, 30);
    kiln_precopy_sent(&pc, 30);
    assert_int_equal(pc.pages[0], 65536);
    assert_int_equal(pc.pages[1], 700);
    assert_int_equal(pc.pages[2], 30);          /* the paused round */
    assert_int_equal(pc.pages[3], 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(first_round_sends_everything),
        cmocka_unit_test(small_dirty_set_stops_at_once),
        cmocka_unit_test(threshold_is_inclusive),
        cmocka_unit_test(converging_guest),
        cmocka_unit_test(round_limit_bounds_a_dirtying_guest),
        cmocka_unit_test(custom_policy),
        cmocka_unit_test(figures_per_round),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
