/*
 * test_dev_vpit.c - unit tests of the emulated 8254 and port 0x61
 * (arch/x86/hvm/devices/vpit.c): count read-back over time in each mode,
 * the access modes, the counter latch and read-back commands, BCD,
 * channel 2's gate and output through port 0x61 as calibration loops use
 * them, IRQ0 edges per period, and the rate limit on tiny periods.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "../arch/x86/hvm/devices/vpit.c"
#include "dev_hammer.h"
#include "dev_irq_line.h"

#define T0 1000000000ull        /* an arbitrary start of time */

static struct vpit pit;

static int setup(void **state)
{
    (void)state;
    struct vpit_hooks hooks = { .irq0 = irq_line_set, .ctx = &pit };
    irq_line_reset(&pit);
    vpit_init(&pit, &hooks, T0);
    return 0;
}

static u64 at(u64 ticks) { return T0 + dev_ticks_to_ns(ticks, VPIT_HZ); }
static void outb(u16 port, u8 v, u64 now) { vpit_io_write(&pit, port, 1, v, now); }
static u8 inb(u16 port, u64 now) { return (u8)vpit_io_read(&pit, port, 1, now); }

static u16 read_word(unsigned int ch, u64 now)
{
    u8 lo = inb(0x40 + ch, now);
    return (u16)(lo | inb(0x40 + ch, now) << 8);
}

static void program(unsigned int ch, unsigned int mode, u16 count, u64 now)
{
    outb(0x43, (u8)(ch << 6 | 0x30 | mode << 1), now);
    outb(0x40 + ch, (u8)count, now);
    outb(0x40 + ch, (u8)(count >> 8), now);
}

/* Runs the glue's timer loop until until_ns; returns the IRQ0 rises seen. */
static unsigned int run_until(u64 until_ns)
{
    unsigned int before = rises;
    for (u64 d = vpit_next_deadline(&pit); d && d <= until_ns; d = vpit_next_deadline(&pit))
        vpit_advance(&pit, d);
    return rises - before;
}

static void test_conversions(void **state)
{
    (void)state;
    assert_int_equal(dev_ns_to_ticks(NSEC_PER_SEC, VPIT_HZ), VPIT_HZ);
    for (u64 t = 1; t < 100000; t += 7) {
        u64 ns = dev_ticks_to_ns(t, VPIT_HZ);
        assert_int_equal(dev_ns_to_ticks(ns, VPIT_HZ), t);
        assert_int_equal(dev_ns_to_ticks(ns - 1, VPIT_HZ), t - 1);
    }
    /* No overflow centuries into the future. */
    u64 far = 300ull * 365 * 86400 * NSEC_PER_SEC;
    assert_int_equal(dev_ns_to_ticks(far, VPIT_HZ), far / NSEC_PER_SEC * VPIT_HZ);
}

static void test_mode2_readback_and_irq(void **state)
{
    (void)state;
    program(0, 2, 1000, at(0));
    assert_int_equal(read_word(0, at(0)), 1000);
    assert_int_equal(read_word(0, at(1)), 999);
    assert_int_equal(read_word(0, at(999)), 1);
    assert_int_equal(read_word(0, at(1000)), 1000);
    assert_int_equal(read_word(0, at(2345)), 655);

    /* One rising edge per period, 1000 ticks apart. */
    assert_int_equal(vpit_next_deadline(&pit), at(1000));
    vpit_advance(&pit, at(1000) - 1);
    assert_int_equal(rises, 0);
    assert_int_equal(run_until(at(10000)), 10);
    assert_false(irq);
    assert_int_equal(vpit_next_deadline(&pit), at(11000));
}

static void test_irq_period_10ms(void **state)
{
    (void)state;
    program(0, 2, 11932, T0);                           /* Linux's HZ=100 LATCH */
    assert_int_equal(run_until(T0 + NSEC_PER_SEC + NSEC_PER_MSEC), 100);
    /* A guest that is not run for 5 s gets one edge, not 500. */
    vpit_advance(&pit, T0 + 6 * NSEC_PER_SEC);
    assert_int_equal(rises, 101);
    assert_true(vpit_next_deadline(&pit) > T0 + 6 * NSEC_PER_SEC);
    assert_true(vpit_next_deadline(&pit) <= T0 + 6 * NSEC_PER_SEC + 10 * NSEC_PER_MSEC);
}

static void test_tiny_period_is_rate_limited(void **state)
{
    (void)state;
    program(0, 2, 2, T0);                               /* ~600 kHz asked */
    unsigned int n = run_until(T0 + NSEC_PER_SEC);
    assert_true(n <= NSEC_PER_SEC / DEV_MIN_TIMER_PERIOD_NS + 1);
    assert_true(n >= NSEC_PER_SEC / DEV_MIN_TIMER_PERIOD_NS - 1);
    /* The counter itself stays exact. */
    assert_int_equal(read_word(0, at(3)), 1);
    program(0, 3, 1, T0);
    n = run_until(T0 + NSEC_PER_SEC / 10);
    assert_true(n <= NSEC_PER_SEC / 10 / DEV_MIN_TIMER_PERIOD_NS + 1);
}

static void test_mode0_oneshot(void **state)
{
    (void)state;
    program(0, 0, 100, at(0));
    assert_false(irq);
    assert_int_equal(read_word(0, at(40)), 60);
    assert_int_equal(vpit_next_deadline(&pit), at(100));
    vpit_advance(&pit, at(100));
    assert_true(irq);                                   /* raised, and held */
    assert_int_equal(vpit_next_deadline(&pit), 0);
    assert_int_equal(read_word(0, at(150)), 65486);     /* wraps and keeps counting */
    vpit_advance(&pit, at(100000));
    assert_int_equal(rises, 1);
    /* A new count lowers OUT; the next terminal count raises it again. */
    outb(0x40, 10, at(200));
    outb(0x40, 0, at(200));
    assert_false(irq);
    assert_int_equal(run_until(at(1000)), 1);
    /* A control word for mode 0 lowers OUT at once. */
    outb(0x43, 0x30, at(400));
    assert_false(irq);
    assert_int_equal(vpit_next_deadline(&pit), 0);      /* no count yet */
}

static void test_mode3_square_wave(void **state)
{
    (void)state;
    program(2, 3, 1000, at(0));
    outb(0x43, 0xe8, at(0));                            /* status: loaded, held by gate */
    assert_int_equal(inb(0x42, at(0)), 0x80 | 0x36);
    assert_int_equal(read_word(2, at(500)), 1000);
    outb(0x61, 0x01, at(0));                            /* gate 2 high: starts */
    assert_int_equal(read_word(2, at(0)), 1000);
    assert_int_equal(read_word(2, at(100)), 800);       /* counts by two */
    assert_int_equal(read_word(2, at(600)), 800);       /* second half */
    assert_true(inb(0x61, at(499)) & 0x20);
    assert_false(inb(0x61, at(500)) & 0x20);
    assert_false(inb(0x61, at(999)) & 0x20);
    assert_true(inb(0x61, at(1000)) & 0x20);
    /* Gate low: OUT high at once; a rising gate restarts from N. */
    outb(0x61, 0x00, at(700));
    assert_true(inb(0x61, at(700)) & 0x20);
    assert_int_equal(read_word(2, at(5000)), read_word(2, at(700)));
    outb(0x61, 0x01, at(5000));
    assert_int_equal(read_word(2, at(5250)), 500);

    /* On channel 0, one IRQ0 edge per period. */
    program(0, 3, 1000, at(0));
    assert_int_equal(run_until(at(5000)), 5);
}

static void test_mode4_strobe(void **state)
{
    (void)state;
    program(0, 4, 50, at(0));
    assert_int_equal(vpit_next_deadline(&pit), at(50));
    assert_int_equal(run_until(at(100000)), 1);
    assert_false(irq);
    assert_int_equal(read_word(0, at(60)), 65526);

    program(2, 4, 50, at(0));
    outb(0x61, 0x01, at(0));
    assert_true(inb(0x61, at(49)) & 0x20);
    assert_false(inb(0x61, at(50)) & 0x20);
    assert_true(inb(0x61, at(51)) & 0x20);
    assert_true(inb(0x61, at(65536 + 50)) & 0x20);      /* once only */
}

static void test_gate_modes_1_and_5(void **state)
{
    (void)state;
    outb(0x61, 0x00, at(0));
    program(2, 1, 100, at(0));
    assert_true(inb(0x61, at(10)) & 0x20);              /* waits for a trigger */
    outb(0x43, 0xe8, at(10));                           /* read-back status of 2 */
    assert_int_equal(inb(0x42, at(10)), 0x80 | 0x40 | 0x32);   /* OUT, null count */
    outb(0x61, 0x01, at(20));                           /* trigger */
    assert_false(inb(0x61, at(20)) & 0x20);
    assert_int_equal(read_word(2, at(70)), 50);
    assert_true(inb(0x61, at(120)) & 0x20);
    outb(0x61, 0x00, at(130));                          /* falling gate: no effect */
    outb(0x61, 0x01, at(140));                          /* retrigger */
    assert_false(inb(0x61, at(141)) & 0x20);
    assert_true(inb(0x61, at(240)) & 0x20);

    program(2, 5, 30, at(300));
    assert_true(inb(0x61, at(340)) & 0x20);             /* gate still high: no trigger */
    outb(0x61, 0x00, at(340));
    outb(0x61, 0x01, at(350));
    assert_int_equal(read_word(2, at(360)), 20);
    assert_true(inb(0x61, at(379)) & 0x20);
    assert_false(inb(0x61, at(380)) & 0x20);
    assert_true(inb(0x61, at(381)) & 0x20);
}

static void test_gate_pauses_mode0(void **state)
{
    (void)state;
    outb(0x61, 0x01, at(0));
    program(2, 0, 100, at(0));
    outb(0x61, 0x00, at(30));
    assert_int_equal(read_word(2, at(500)), 70);
    assert_false(inb(0x61, at(500)) & 0x20);
    outb(0x61, 0x01, at(1000));
    assert_int_equal(read_word(2, at(1060)), 10);
    assert_false(inb(0x61, at(1069)) & 0x20);
    assert_true(inb(0x61, at(1070)) & 0x20);
}

/* What Linux's pit_calibrate_tsc() and kvm-unit-tests' delay loops do. */
static void test_calibration_loop(void **state)
{
    (void)state;
    u64 now = at(7);
    outb(0x61, (inb(0x61, now) & ~0x02) | 0x01, now);
    outb(0x43, 0xb0, now);                              /* ch 2, LSB/MSB, mode 0 */
    outb(0x42, 11932 & 0xff, now);
    outb(0x42, 11932 >> 8, now);
    unsigned int spins = 0;
    while (!(inb(0x61, now) & 0x20)) {
        now += 1000;
        spins++;
        assert_true(spins < 100000);
    }
    assert_true(now - at(7) >= 10 * NSEC_PER_MSEC - 1000);
    assert_true(now - at(7) <= 10 * NSEC_PER_MSEC + 1000);
}

static void test_access_modes_and_latch(void **state)
{
    (void)state;
    outb(0x43, 0x14, at(0));                            /* ch 0, LSB only, mode 2 */
    outb(0x40, 200, at(0));
    assert_int_equal(inb(0x40, at(50)), 150);
    assert_int_equal(inb(0x40, at(51)), 149);
    outb(0x43, 0x24, at(0));                            /* MSB only */
    outb(0x40, 0x02, at(0));                            /* 512 */
    assert_int_equal(inb(0x40, at(256)), 0x01);
    assert_int_equal(inb(0x40, at(256)), 0x01);

    program(0, 2, 5000, at(0));
    outb(0x43, 0x00, at(1000));                         /* latch: 4000 */
    outb(0x43, 0x00, at(2000));                         /* ignored while latched */
    assert_int_equal(inb(0x40, at(3000)), 4000 & 0xff);
    assert_int_equal(inb(0x40, at(3500)), 4000 >> 8);
    assert_int_equal(read_word(0, at(3500)), 1500);     /* live again */

    /* Read-back of count and status of channels 0 and 2 at once. */
    program(2, 0, 300, at(0));
    outb(0x61, 0x01, at(0));
    outb(0x43, 0xca, at(100));                          /* count + status, ch 0 and 2 */
    assert_int_equal(inb(0x40, at(900)), 0xb4);         /* status first: OUT, mode 2, LSB/MSB */
    assert_int_equal(read_word(0, at(900)), 5000 - 100);
    assert_int_equal(inb(0x42, at(900)), 0x30);         /* mode 0, OUT low */
    assert_int_equal(read_word(2, at(900)), 200);
}

static void test_bcd(void **state)
{
    (void)state;
    outb(0x43, 0x35, at(0));                            /* ch 0, LSB/MSB, mode 2, BCD */
    outb(0x40, 0x00, at(0));
    outb(0x40, 0x10, at(0));                            /* 1000 */
    assert_int_equal(read_word(0, at(0)), 0x1000);
    assert_int_equal(read_word(0, at(1)), 0x0999);
    assert_int_equal(read_word(0, at(1000)), 0x1000);
    outb(0x43, 0x31, at(0));                            /* mode 0, count 0 = 10000 */
    outb(0x40, 0, at(0));
    outb(0x40, 0, at(0));
    assert_int_equal(read_word(0, at(1)), 0x9999);
    assert_int_equal(vpit_next_deadline(&pit), at(10000));
    /* Invalid digits are taken at face value. */
    outb(0x43, 0x35, at(0));
    outb(0x40, 0xff, at(0));
    outb(0x40, 0xff, at(0));
    assert_int_equal(read_word(0, at(0)), 0x6665);
}

static void test_port61_and_hostile(void **state)
{
    (void)state;
    outb(0x61, 0xff, 0);
    assert_int_equal(inb(0x61, 0) & 0xcf, 0x0f);
    assert_int_equal(inb(0x61, 0) & 0x10, 0);
    assert_int_equal(inb(0x61, REFRESH_NS) & 0x10, 0x10);
    assert_int_equal(inb(0x43, 0), 0xff);
    assert_int_equal(vpit_io_read(&pit, 0x40, 3, 0), ~0u);
    assert_int_equal(vpit_io_read(&pit, 0x44, 4, 0), ~0u);
    for (unsigned int v = 0; v < 256; v++) {
        vpit_io_write(&pit, 0x40, 4, v * 0x01010101u, at(v));
        vpit_io_write(&pit, 0x61, 1, v, at(v));
        (void)vpit_io_read(&pit, 0x40, 4, at(v));
        vpit_advance(&pit, at(v));
    }
    /* Count 1 in modes 2 and 3 and time running backwards stay sane. */
    program(0, 2, 1, at(100));
    (void)read_word(0, at(50));
    program(0, 3, 1, at(100));
    (void)read_word(0, at(50));
    run_until(at(1000000));
    vpit_io_write(&pit, 0xffff, 4, 0, 0);
}

/* A guest writing anything anywhere: the timer never asks to run in the past. */
static void test_hammer(void **state)
{
    (void)state;
    u64 now = T0;
    for (unsigned int i = 0; i < 200000; i++) {
        u16 port = (u16)(0x3f + hammer_rand() % 6);
        if (port == 0x44)
            port = VPIT_PORT_61;
        if (hammer_rand() & 1)
            vpit_io_write(&pit, port, hammer_size(), (u32)hammer_rand(), now);
        else
            (void)vpit_io_read(&pit, port, hammer_size(), now);
        now += hammer_rand() % 5000;
        u64 d = vpit_next_deadline(&pit);
        if (d && d <= now) {
            vpit_advance(&pit, now);
            d = vpit_next_deadline(&pit);
            assert_true(!d || d > now);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_conversions, setup),
        cmocka_unit_test_setup(test_mode2_readback_and_irq, setup),
        cmocka_unit_test_setup(test_irq_period_10ms, setup),
        cmocka_unit_test_setup(test_tiny_period_is_rate_limited, setup),
        cmocka_unit_test_setup(test_mode0_oneshot, setup),
        cmocka_unit_test_setup(test_mode3_square_wave, setup),
        cmocka_unit_test_setup(test_mode4_strobe, setup),
        cmocka_unit_test_setup(test_gate_modes_1_and_5, setup),
        cmocka_unit_test_setup(test_gate_pauses_mode0, setup),
        cmocka_unit_test_setup(test_calibration_loop, setup),
        cmocka_unit_test_setup(test_access_modes_and_latch, setup),
        cmocka_unit_test_setup(test_bcd, setup),
        cmocka_unit_test_setup(test_port61_and_hostile, setup),
        cmocka_unit_test_setup(test_hammer, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
