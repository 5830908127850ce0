/*
 * test_dev_vrtc.c - unit tests of the emulated MC146818 RTC and CMOS
 * (arch/x86/hvm/devices/vrtc.c): the time in BCD and binary, 24 and 12
 * hours, the UIP window, periodic interrupt rates and their rate limit,
 * register C clearing, SET, alarms and update-ended interrupts, NVRAM,
 * the memory-size bytes and the NMI mask bit.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "../arch/x86/hvm/devices/vrtc.c"
#include "dev_hammer.h"
#include "dev_irq_line.h"

#define T0      5000000000ull       /* now_ns() when the time was read */
#define WHEN    1796684581ll        /* 2026-12-07 23:03:01 UTC, a Monday */
#define SEC     NSEC_PER_SEC

static struct vrtc rtc;

static int setup(void **state)
{
    (void)state;
    struct vrtc_hooks hooks = { .irq8 = irq_line_set, .ctx = &rtc };
    irq_line_reset(&rtc);
    vrtc_init(&rtc, &hooks, WHEN, T0, 256ull << 20, 0);
    return 0;
}

static u8 cmos_read(u8 index, u64 now)
{
    vrtc_io_write(&rtc, 0x70, 1, index, now);
    return (u8)vrtc_io_read(&rtc, 0x71, 1, now);
}

static void cmos_write(u8 index, u8 val, u64 now)
{
    vrtc_io_write(&rtc, 0x70, 1, index, now);
    vrtc_io_write(&rtc, 0x71, 1, val, now);
}

/* The glue's timer loop: advance at each deadline up to until. */
static void run_until(u64 until, bool read_c_on_irq)
{
    for (u64 d = vrtc_next_deadline(&rtc); d && d <= until; d = vrtc_next_deadline(&rtc)) {
        vrtc_advance(&rtc, d);
        if (read_c_on_irq && irq)
            cmos_read(VRTC_REG_C, d);
    }
}

static void test_time_bcd_binary(void **state)
{
    (void)state;
    assert_int_equal(cmos_read(VRTC_SECONDS, T0), 0x01);
    assert_int_equal(cmos_read(VRTC_MINUTES, T0), 0x03);
    assert_int_equal(cmos_read(VRTC_HOURS, T0), 0x23);
    assert_int_equal(cmos_read(VRTC_WEEKDAY, T0), 2);
    assert_int_equal(cmos_read(VRTC_DAY, T0), 0x07);
    assert_int_equal(cmos_read(VRTC_MONTH, T0), 0x12);
    assert_int_equal(cmos_read(VRTC_YEAR, T0), 0x26);
    assert_int_equal(cmos_read(VRTC_CENTURY, T0), 0x20);
    assert_int_equal(cmos_read(VRTC_REG_A, T0), 0x26);
    assert_int_equal(cmos_read(VRTC_REG_B, T0), 0x02);
    assert_int_equal(cmos_read(VRTC_REG_D, T0), 0x80);

    /* The clock runs with now: 59 s later it is 23:04:00. */
    assert_int_equal(cmos_read(VRTC_SECONDS, T0 + SEC - 1), 0x01);
    assert_int_equal(cmos_read(VRTC_SECONDS, T0 + SEC), 0x02);
    assert_int_equal(cmos_read(VRTC_SECONDS, T0 + 59 * SEC), 0x00);
    assert_int_equal(cmos_read(VRTC_MINUTES, T0 + 59 * SEC), 0x04);
    /* Across midnight, month and year: 2027-01-01 00:00:00 is 24 days, 56:59 on. */
    u64 ny = T0 + (24ull * 86400 + 56 * 60 + 59) * SEC;
    assert_int_equal(cmos_read(VRTC_YEAR, ny), 0x27);
    assert_int_equal(cmos_read(VRTC_MONTH, ny), 0x01);
    assert_int_equal(cmos_read(VRTC_DAY, ny), 0x01);
    assert_int_equal(cmos_read(VRTC_HOURS, ny), 0x00);
    assert_int_equal(cmos_read(VRTC_WEEKDAY, ny), 6);   /* a Friday */

    cmos_write(VRTC_REG_B, 0x06, T0);                   /* binary, 24 h */
    assert_int_equal(cmos_read(VRTC_HOURS, T0), 23);
    assert_int_equal(cmos_read(VRTC_YEAR, T0), 26);
    assert_int_equal(cmos_read(VRTC_CENTURY, T0), 20);
    assert_int_equal(cmos_read(VRTC_MONTH, T0), 12);
}

static void test_12_hour(void **state)
{
    (void)state;
    cmos_write(VRTC_REG_B, 0x00, T0);                   /* BCD, 12 h */
    assert_int_equal(cmos_read(VRTC_HOURS, T0), 0x80 | 0x11);
    u64 midnight = T0 + (56 * 60 + 59) * SEC;
    assert_int_equal(cmos_read(VRTC_HOURS, midnight), 0x12);            /* 12 AM */
    assert_int_equal(cmos_read(VRTC_HOURS, midnight + 3600 * SEC), 0x01);
    assert_int_equal(cmos_read(VRTC_HOURS, midnight + 12 * 3600 * SEC), 0x92);   /* 12 PM */
    cmos_write(VRTC_REG_B, 0x04, T0);                   /* binary, 12 h */
    assert_int_equal(cmos_read(VRTC_HOURS, T0), 0x80 | 11);

    /* Setting 1 PM in 12-hour mode is 13:00. */
    cmos_write(VRTC_HOURS, 0x81, T0);
    cmos_write(VRTC_REG_B, 0x06, T0);
    assert_int_equal(cmos_read(VRTC_HOURS, T0), 13);
}

static void test_uip_window(void **state)
{
    (void)state;
    assert_false(cmos_read(VRTC_REG_A, T0) & VRTC_A_UIP);
    assert_false(cmos_read(VRTC_REG_A, T0 + SEC - VRTC_UIP_NS - 1) & VRTC_A_UIP);
    assert_true(cmos_read(VRTC_REG_A, T0 + SEC - VRTC_UIP_NS) & VRTC_A_UIP);
    assert_true(cmos_read(VRTC_REG_A, T0 + SEC - 1) & VRTC_A_UIP);
    assert_false(cmos_read(VRTC_REG_A, T0 + SEC) & VRTC_A_UIP);
    /* UIP cannot be written; the seconds change when UIP falls. */
    cmos_write(VRTC_REG_A, 0xa6, T0);
    assert_int_equal(cmos_read(VRTC_REG_A, T0), 0x26);
    assert_int_equal(cmos_read(VRTC_SECONDS, T0 + 5 * SEC - 1), 0x05);
    assert_int_equal(cmos_read(VRTC_SECONDS, T0 + 5 * SEC), 0x06);

    /* What a guest's "wait for an update" loop sees. */
    u64 now = T0 + SEC / 3;
    unsigned int spins = 0;
    while (!(cmos_read(VRTC_REG_A, now) & VRTC_A_UIP)) {
        now += 10000;
        assert_true(++spins < 200000);
    }
    while (cmos_read(VRTC_REG_A, now) & VRTC_A_UIP)
        now += 10000;
    assert_true(now >= T0 + SEC && now < T0 + SEC + 10000);
}

static void test_periodic(void **state)
{
    (void)state;
    assert_int_equal(vrtc_next_deadline(&rtc), 0);
    cmos_write(VRTC_REG_B, 0x02 | VRTC_B_PIE, T0);
    u64 first = vrtc_next_deadline(&rtc);
    assert_int_equal(first, T0 + 976563);               /* 1024 Hz */
    vrtc_advance(&rtc, first - 1);
    assert_false(irq);
    vrtc_advance(&rtc, first);
    assert_true(irq);
    assert_int_equal(vrtc_next_deadline(&rtc), 0);
    assert_int_equal(cmos_read(VRTC_REG_C, first), VRTC_C_IRQF | VRTC_C_PF);
    assert_false(irq);
    assert_int_equal(cmos_read(VRTC_REG_C, first), 0);

    rises = 0;
    run_until(T0 + SEC, true);
    assert_in_range(rises, 1022, 1024);

    /* Rate 15: 2 Hz. */
    cmos_write(VRTC_REG_A, 0x2f, T0 + SEC);
    rises = 0;
    run_until(T0 + 11 * SEC, true);
    assert_in_range(rises, 19, 20);

    /* Not reading register C: one interrupt, then silence. */
    rises = 0;
    run_until(T0 + 21 * SEC, false);
    assert_int_equal(rises, 1);
    assert_int_equal(vrtc_next_deadline(&rtc), 0);
}

static void test_periodic_rate_limit(void **state)
{
    (void)state;
    cmos_write(VRTC_REG_A, 0x23, T0);                   /* 8192 Hz */
    cmos_write(VRTC_REG_B, 0x02 | VRTC_B_PIE, T0);
    run_until(T0 + SEC, true);
    assert_in_range(rises, SEC / DEV_MIN_TIMER_PERIOD_NS - 1, SEC / DEV_MIN_TIMER_PERIOD_NS);
    /* Polling PF still sees every period (one per 122 us). */
    cmos_read(VRTC_REG_C, T0 + SEC);
    assert_int_equal(cmos_read(VRTC_REG_C, T0 + SEC + 123000) & VRTC_C_PF, VRTC_C_PF);
    /* Rate 0 and the divider in reset stop it. */
    cmos_write(VRTC_REG_A, 0x20, T0 + 2 * SEC);
    assert_int_equal(vrtc_next_deadline(&rtc), 0);
}

static void test_set_and_write(void **state)
{
    (void)state;
    cmos_write(VRTC_REG_B, 0x82 | VRTC_B_UIE, T0);      /* SET clears UIE */
    assert_int_equal(cmos_read(VRTC_REG_B, T0), 0x82);
    assert_int_equal(cmos_read(VRTC_SECONDS, T0 + 10 * SEC), 0x01);   /* frozen */
    assert_false(cmos_read(VRTC_REG_A, T0 + SEC - 1000) & VRTC_A_UIP);
    cmos_write(VRTC_HOURS, 0x08, T0 + 10 * SEC);
    cmos_write(VRTC_MINUTES, 0x30, T0 + 10 * SEC);
    cmos_write(VRTC_SECONDS, 0x00, T0 + 10 * SEC);
    cmos_write(VRTC_DAY, 0x29, T0 + 10 * SEC);
    cmos_write(VRTC_MONTH, 0x02, T0 + 10 * SEC);
    cmos_write(VRTC_YEAR, 0x00, T0 + 10 * SEC);
    assert_int_equal(cmos_read(VRTC_HOURS, T0 + 20 * SEC), 0x08);
    cmos_write(VRTC_REG_B, 0x02, T0 + 20 * SEC);        /* runs again */
    assert_int_equal(vrtc_unix_time(&rtc, T0 + 20 * SEC), 951813000); /* 2000-02-29 08:30 */
    assert_int_equal(cmos_read(VRTC_WEEKDAY, T0 + 20 * SEC), 3);       /* a Tuesday */
    assert_int_equal(cmos_read(VRTC_SECONDS, T0 + 21 * SEC - 1), 0x00);
    assert_int_equal(cmos_read(VRTC_SECONDS, T0 + 21 * SEC), 0x01);

    /* A write while running changes the time at once, keeping the phase. */
    cmos_write(VRTC_MINUTES, 0x45, T0 + 21 * SEC + SEC / 2);
    assert_int_equal(cmos_read(VRTC_MINUTES, T0 + 21 * SEC + SEC / 2), 0x45);
    assert_int_equal(cmos_read(VRTC_SECONDS, T0 + 22 * SEC - 1), 0x01);
    assert_int_equal(cmos_read(VRTC_SECONDS, T0 + 22 * SEC), 0x02);

    /* Hostile register values carry or clamp; nothing breaks. */
    cmos_write(VRTC_REG_B, 0x82, T0);
    for (u8 i = 0; i < 10; i++)
        cmos_write(i, 0xff, T0);
    cmos_write(VRTC_CENTURY, 0xff, T0);
    cmos_write(VRTC_REG_B, 0x02, T0);
    (void)cmos_read(VRTC_SECONDS, T0 + SEC);
    cmos_write(VRTC_REG_B, 0x06, T0);
    cmos_write(VRTC_MONTH, 0, T0);
    (void)cmos_read(VRTC_SECONDS, T0 + SEC);
}

static void test_update_and_alarm(void **state)
{
    (void)state;
    cmos_write(VRTC_REG_B, 0x02 | VRTC_B_UIE, T0);
    assert_int_equal(vrtc_next_deadline(&rtc), T0 + SEC);
    run_until(T0 + 10 * SEC, true);
    assert_int_equal(rises, 10);

    /* Alarm at hh:mm:30 only (hours and minutes don't care). */
    cmos_write(VRTC_REG_B, 0x02 | VRTC_B_AIE, T0 + 10 * SEC);
    cmos_write(VRTC_SECONDS_ALARM, 0x30, T0 + 10 * SEC);
    cmos_write(VRTC_MINUTES_ALARM, 0xc0, T0 + 10 * SEC);
    cmos_write(VRTC_HOURS_ALARM, 0xff, T0 + 10 * SEC);
    cmos_read(VRTC_REG_C, T0 + 10 * SEC);
    rises = 0;
    u64 d = 0;
    while (!irq) {
        d = vrtc_next_deadline(&rtc);
        vrtc_advance(&rtc, d);
    }
    assert_int_equal(d, T0 + 29 * SEC);                 /* 23:03:01 + 29 s */
    assert_int_equal(cmos_read(VRTC_SECONDS, d), 0x30);
    /* PF too: the periodic flag is set at 1024 Hz whether or not PIE is. */
    assert_int_equal(cmos_read(VRTC_REG_C, d), VRTC_C_IRQF | VRTC_C_PF | VRTC_C_AF | VRTC_C_UF);
    run_until(T0 + 89 * SEC, true);
    assert_int_equal(rises, 2);

    /* Flags without enables: UF polled, no IRQF, no interrupt. */
    cmos_write(VRTC_REG_B, 0x02, T0 + 89 * SEC);
    cmos_read(VRTC_REG_C, T0 + 89 * SEC);
    assert_int_equal(cmos_read(VRTC_REG_C, T0 + 90 * SEC), VRTC_C_PF | VRTC_C_UF);
    /* Enabling an interrupt whose flag is already set raises it. */
    cmos_read(VRTC_REG_C, T0 + 91 * SEC);
    (void)cmos_read(VRTC_REG_A, T0 + 92 * SEC);
    cmos_write(VRTC_REG_B, 0x02 | VRTC_B_UIE, T0 + 92 * SEC);
    assert_true(irq);
    /* IRQF follows the enables: clearing UIE drops the line, UF stays. */
    cmos_write(VRTC_REG_B, 0x02, T0 + 92 * SEC);
    assert_false(irq);
    assert_int_equal(cmos_read(VRTC_REG_C, T0 + 92 * SEC) & (VRTC_C_IRQF | VRTC_C_UF), VRTC_C_UF);
}

static void test_s3_alarm_sequence(void **state)
{
    (void)state;
    /* kvm-unit-tests' s3: wait for UIP to rise and fall, alarm "any time". */
    u64 now = T0 + SEC / 2;
    while (!(cmos_read(VRTC_REG_A, now) & VRTC_A_UIP))
        now += 50000;
    while (cmos_read(VRTC_REG_A, now) & VRTC_A_UIP)
        now += 50000;
    cmos_read(VRTC_REG_C, now);
    cmos_write(VRTC_SECONDS_ALARM, 0xc0, now);
    cmos_write(VRTC_MINUTES_ALARM, 0xc0, now);
    cmos_write(VRTC_HOURS_ALARM, 0xc0, now);
    cmos_write(VRTC_REG_B, cmos_read(VRTC_REG_B, now) | VRTC_B_AIE, now);
    assert_false(irq);
    assert_int_equal(vrtc_next_deadline(&rtc), T0 + 2 * SEC);
    vrtc_advance(&rtc, T0 + 2 * SEC);
    assert_true(irq);
}

static void test_nvram_and_registers(void **state)
{
    (void)state;
    /* Memory size bytes for 256 MiB. */
    assert_int_equal(cmos_read(0x15, T0) | cmos_read(0x16, T0) << 8, 640);
    assert_int_equal(cmos_read(0x17, T0) | cmos_read(0x18, T0) << 8, 0xffff);
    assert_int_equal(cmos_read(0x30, T0) | cmos_read(0x31, T0) << 8, 0xffff);
    assert_int_equal(cmos_read(0x34, T0) | cmos_read(0x35, T0) << 8, 0x0f00);
    assert_int_equal(cmos_read(0x5b, T0) | cmos_read(0x5c, T0) << 8 | cmos_read(0x5d, T0) << 16, 0);

    struct vrtc_hooks hooks = { .irq8 = irq_line_set, .ctx = &rtc };
    vrtc_init(&rtc, &hooks, WHEN, T0, 3ull << 30, 5ull << 30);
    assert_int_equal(cmos_read(0x34, T0) | cmos_read(0x35, T0) << 8, (3u << 14) - 256);
    assert_int_equal(cmos_read(0x5b, T0) | cmos_read(0x5c, T0) << 8 | cmos_read(0x5d, T0) << 16,
                     5u << 14);

    for (unsigned int i = 0x0e; i < 0x80; i++)
        if (i != VRTC_CENTURY)
            cmos_write((u8)i, (u8)(i ^ 0x5a), T0);
    for (unsigned int i = 0x0e; i < 0x80; i++)
        if (i != VRTC_CENTURY)
            assert_int_equal(cmos_read((u8)i, T0), i ^ 0x5a);

    cmos_write(VRTC_REG_C, 0xff, T0);
    cmos_write(VRTC_REG_D, 0x00, T0);
    assert_int_equal(cmos_read(VRTC_REG_C, T0), 0);
    assert_int_equal(cmos_read(VRTC_REG_D, T0), 0x80);

    /* Index bit 7 is the NMI mask; the index port reads 0xff. */
    assert_false(vrtc_nmi_masked(&rtc));
    vrtc_io_write(&rtc, 0x70, 1, 0x80 | 0x50, T0);
    assert_true(vrtc_nmi_masked(&rtc));
    assert_int_equal(vrtc_io_read(&rtc, 0x71, 1, T0), 0x50 ^ 0x5a);
    assert_int_equal(vrtc_io_read(&rtc, 0x70, 1, T0), 0xff);
    vrtc_io_write(&rtc, 0x70, 1, 0x50, T0);
    assert_false(vrtc_nmi_masked(&rtc));
    /* A word write to 0x70 writes the index, then the data. */
    vrtc_io_write(&rtc, 0x70, 2, 0x7740, T0);
    assert_int_equal(cmos_read(0x40, T0), 0x77);
    assert_int_equal(vrtc_io_read(&rtc, 0x70, 3, T0), ~0u);
}

static void test_date_round_trip(void **state)
{
    (void)state;
    u8 regs[VRTC_CMOS_SIZE];
    for (s64 secs = 0; secs < 7258118400ll; secs += 86400 * 13 + 3607) {   /* to 2200 */
        rtc.cmos[VRTC_REG_B] = VRTC_B_24H;
        secs_to_regs(&rtc, secs, regs);
        assert_int_equal(regs_to_secs(&rtc, regs), secs);
        rtc.cmos[VRTC_REG_B] = VRTC_B_BINARY;
        secs_to_regs(&rtc, secs, regs);
        assert_int_equal(regs_to_secs(&rtc, regs), secs);
    }
    struct rtc_time t = time_from_secs(951825600);      /* 2000-02-29 12:00 */
    assert_int_equal(t.year, 2000);
    assert_int_equal(t.month, 2);
    assert_int_equal(t.mday, 29);
    assert_int_equal(t.hour, 12);
}

/* A guest writing anything anywhere: the clock never asks to run in the past. */
static void test_hammer(void **state)
{
    (void)state;
    u64 now = T0;
    for (unsigned int i = 0; i < 200000; i++) {
        u16 port = (u16)(0x6f + hammer_rand() % 4);
        if (hammer_rand() & 1)
            vrtc_io_write(&rtc, port, hammer_size(), (u32)hammer_rand(), now);
        else
            (void)vrtc_io_read(&rtc, port, hammer_size(), now);
        now += hammer_rand() % 20000;
        u64 d = vrtc_next_deadline(&rtc);
        if (d && d <= now) {
            vrtc_advance(&rtc, now);
            d = vrtc_next_deadline(&rtc);
            assert_true(!d || d > now);
        }
        assert_true(rtc.index < VRTC_CMOS_SIZE);
    }
    /* No more interrupts than the rate limit allows. */
    assert_true(rises <= (now - T0) / DEV_MIN_TIMER_PERIOD_NS + 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_time_bcd_binary, setup),
        cmocka_unit_test_setup(test_12_hour, setup),
        cmocka_unit_test_setup(test_uip_window, setup),
        cmocka_unit_test_setup(test_periodic, setup),
        cmocka_unit_test_setup(test_periodic_rate_limit, setup),
        cmocka_unit_test_setup(test_set_and_write, setup),
        cmocka_unit_test_setup(test_update_and_alarm, setup),
        cmocka_unit_test_setup(test_s3_alarm_sequence, setup),
        cmocka_unit_test_setup(test_nvram_and_registers, setup),
        cmocka_unit_test_setup(test_date_round_trip, setup),
        cmocka_unit_test_setup(test_hammer, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
