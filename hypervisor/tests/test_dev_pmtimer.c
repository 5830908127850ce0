/*
 * test_dev_pmtimer.c - unit tests of the ACPI PM timer and PM1a registers
 * (arch/x86/hvm/devices/pmtimer.c): the counter's rate and 32-bit wrap,
 * TMR_STS and the SCI, write-1-to-clear status, SCI_EN, and power-off
 * through SLP_EN with the \_S5 sleep type.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "../arch/x86/hvm/devices/pmtimer.c"
#include "dev_hammer.h"

#define S5 5
#define SEC NSEC_PER_SEC

static struct pmtimer pm;
static bool sci;
static unsigned int power_offs;

static void sci_hook(void *ctx, bool level)
{
    assert_ptr_equal(ctx, &pm);
    assert_true(level != sci);
    sci = level;
}

static void power_off_hook(void *ctx)
{
    assert_ptr_equal(ctx, &pm);
    power_offs++;
}

static int setup(void **state)
{
    (void)state;
    struct pmtimer_hooks hooks = { .sci = sci_hook, .power_off = power_off_hook, .ctx = &pm };
    sci = false;
    power_offs = 0;
    pmtimer_init(&pm, &hooks, S5, 0);
    return 0;
}

static u32 inl(u16 port, u64 now) { return pmtimer_io_read(&pm, port, 4, now); }

static void test_rate_and_wrap(void **state)
{
    (void)state;
    u64 t = 7 * SEC + 123456;
    u32 a = inl(PMTIMER_TMR, t);
    u32 b = inl(PMTIMER_TMR, t + SEC);
    assert_int_equal(b - a, PMTIMER_HZ);
    assert_in_range(inl(PMTIMER_TMR, t + 1000) - a, 3, 4);         /* 3.58 per us */
    /* 32 bits: wraps after 2^32 ticks (about 1200 s). */
    u64 wrap = dev_ticks_to_ns(1ull << 32, PMTIMER_HZ);
    assert_true(inl(PMTIMER_TMR, wrap - 1) > 0xfffffff0u);
    assert_int_equal(inl(PMTIMER_TMR, wrap), 0);
    assert_true(inl(PMTIMER_TMR, wrap + SEC) - inl(PMTIMER_TMR, wrap - SEC) == 2 * PMTIMER_HZ);
    /* Byte and word reads see the same counter. */
    u32 full = inl(PMTIMER_TMR, t);
    assert_int_equal(pmtimer_io_read(&pm, PMTIMER_TMR + 2, 2, t), full >> 16);
    assert_int_equal(pmtimer_io_read(&pm, PMTIMER_TMR + 3, 1, t), full >> 24);
    /* Read-only. */
    pmtimer_io_write(&pm, PMTIMER_TMR, 4, 0, t);
    assert_int_equal(inl(PMTIMER_TMR, t), full);
}

static void test_tmr_sts_and_sci(void **state)
{
    (void)state;
    u64 half = dev_ticks_to_ns(1ull << 31, PMTIMER_HZ);
    assert_int_equal(pmtimer_next_deadline(&pm), 0);
    pmtimer_io_write(&pm, PMTIMER_PM1A_EVT + 2, 2, PMTIMER_EN_TMR, 0);
    assert_int_equal(pmtimer_io_read(&pm, PMTIMER_PM1A_EVT + 2, 2, 0), PMTIMER_EN_TMR);
    assert_int_equal(pmtimer_next_deadline(&pm), half);
    pmtimer_advance(&pm, half - 1);
    assert_false(sci);
    pmtimer_advance(&pm, half);
    assert_true(sci);
    assert_int_equal(pmtimer_next_deadline(&pm), 0);
    assert_int_equal(pmtimer_io_read(&pm, PMTIMER_PM1A_EVT, 2, half), PMTIMER_STS_TMR);
    /* Writing 0 clears nothing; writing 1 clears it and drops the SCI. */
    pmtimer_io_write(&pm, PMTIMER_PM1A_EVT, 2, 0, half);
    assert_true(sci);
    pmtimer_io_write(&pm, PMTIMER_PM1A_EVT, 2, 0xffff, half);
    assert_false(sci);
    assert_int_equal(pmtimer_io_read(&pm, PMTIMER_PM1A_EVT, 2, half), 0);
    assert_int_equal(pmtimer_next_deadline(&pm), 2 * half);
    /* Without TMR_EN the status sets, but no SCI. */
    pmtimer_io_write(&pm, PMTIMER_PM1A_EVT + 2, 2, 0, half);
    assert_int_equal(pmtimer_io_read(&pm, PMTIMER_PM1A_EVT, 2, 2 * half), PMTIMER_STS_TMR);
    assert_false(sci);
    /* Enabling it then raises the SCI at once. */
    pmtimer_io_write(&pm, PMTIMER_PM1A_EVT + 2, 1, PMTIMER_EN_TMR, 2 * half);
    assert_true(sci);
}

static void test_enable_and_control(void **state)
{
    (void)state;
    /* kvm-unit-tests' s3 sets RTC_EN with a word write at PM1a_EVT + 2. */
    pmtimer_io_write(&pm, PMTIMER_PM1A_EVT + 2, 2, 0x400, 0);
    assert_int_equal(pmtimer_io_read(&pm, PMTIMER_PM1A_EVT + 2, 2, 0), 0x400);
    pmtimer_io_write(&pm, PMTIMER_PM1A_EVT + 2, 2, 0xffff, 0);
    assert_int_equal(pmtimer_io_read(&pm, PMTIMER_PM1A_EVT + 2, 2, 0), 0x4721);
    /* A dword write at PM1a_EVT: status (W1C) and enable together. */
    pmtimer_io_write(&pm, PMTIMER_PM1A_EVT, 4, 0x0001ffff, 0);
    assert_int_equal(pmtimer_io_read(&pm, PMTIMER_PM1A_EVT, 4, 0), 0x00010000);

    assert_int_equal(pmtimer_io_read(&pm, PMTIMER_PM1A_CNT, 2, 0), PMTIMER_CNT_SCI_EN);
    pmtimer_io_write(&pm, PMTIMER_PM1A_CNT, 2, 0, 0);
    assert_int_equal(pmtimer_io_read(&pm, PMTIMER_PM1A_CNT, 2, 0), PMTIMER_CNT_SCI_EN);
    pmtimer_io_write(&pm, PMTIMER_PM1A_CNT, 2, 0x0c06, 0);  /* BM_RLD, GBL_RLS, SLP_TYP 3 */
    assert_int_equal(pmtimer_io_read(&pm, PMTIMER_PM1A_CNT, 2, 0), 0x0c03);
    assert_int_equal(power_offs, 0);
    assert_int_equal(pmtimer_io_read(&pm, 0xb006, 2, 0), 0xffff);
    assert_int_equal(pmtimer_io_read(&pm, 0xb00c, 4, 0), ~0u);
    assert_int_equal(pmtimer_io_read(&pm, PMTIMER_TMR, 3, 0), ~0u);
}

static void test_power_off(void **state)
{
    (void)state;
    /* S3 (kvm-unit-tests' s3 writes 0x2400) is not offered: ignored. */
    pmtimer_io_write(&pm, PMTIMER_PM1A_CNT, 2, 0x2400, 0);
    assert_int_equal(power_offs, 0);
    /* SLP_TYP alone, then SLP_EN with it: off. */
    pmtimer_io_write(&pm, PMTIMER_PM1A_CNT, 2, S5 << 10, 0);
    assert_int_equal(power_offs, 0);
    pmtimer_io_write(&pm, PMTIMER_PM1A_CNT, 2, S5 << 10 | PMTIMER_CNT_SLP_EN, 0);
    assert_int_equal(power_offs, 1);
    assert_false(pmtimer_io_read(&pm, PMTIMER_PM1A_CNT, 2, 0) & PMTIMER_CNT_SLP_EN);
    /* A byte write of the high half alone, as some OSes do. */
    pmtimer_io_write(&pm, PMTIMER_PM1A_CNT + 1, 1, (S5 << 2) | 0x20, 0);
    assert_int_equal(power_offs, 2);
    /* A write of the low byte cannot set SLP_EN. */
    pmtimer_io_write(&pm, PMTIMER_PM1A_CNT, 1, 0xff, 0);
    assert_int_equal(power_offs, 2);
}

/* A guest writing anything anywhere: the timer never asks to run in the past. */
static void test_hammer(void **state)
{
    (void)state;
    u64 now = 0;
    for (unsigned int i = 0; i < 200000; i++) {
        u16 port = (u16)(0xafff + hammer_rand() % 14);
        if (hammer_rand() & 1)
            pmtimer_io_write(&pm, port, hammer_size(), (u32)hammer_rand(), now);
        else
            (void)pmtimer_io_read(&pm, port, hammer_size(), now);
        now += hammer_rand() % (20 * SEC);
        u64 d = pmtimer_next_deadline(&pm);
        if (d && d <= now) {
            pmtimer_advance(&pm, now);
            d = pmtimer_next_deadline(&pm);
            assert_true(!d || d > now);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_rate_and_wrap, setup),
        cmocka_unit_test_setup(test_tmr_sts_and_sci, setup),
        cmocka_unit_test_setup(test_enable_and_control, setup),
        cmocka_unit_test_setup(test_power_off, setup),
        cmocka_unit_test_setup(test_hammer, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
