/*
 * test_dev_vioapic.c - unit tests of the emulated IOAPIC
 * (arch/x86/hvm/devices/vioapic.c): the register window, edge and level
 * pins, remote IRR and EOI re-delivery, masking, and the behaviours
 * kvm-unit-tests' ioapic test checks (read-only version and arbitration,
 * 4 writable id bits, level coalescing, reconfiguration keeping remote IRR).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "../arch/x86/hvm/devices/vioapic.c"
#include "dev_hammer.h"

struct msg {
    u8 dest, mode, vector;
    bool logical, level;
};

static struct msg msgs[64];
static unsigned int nmsgs;
static struct vioapic io;

static void record(void *ctx, u8 dest, bool logical, u8 mode, u8 vector, bool level)
{
    assert_ptr_equal(ctx, &io);
    assert_true(nmsgs < 64);
    msgs[nmsgs++] = (struct msg){ dest, mode, vector, logical, level };
}

static int setup(void **state)
{
    (void)state;
    struct vioapic_hooks hooks = { .deliver = record, .ctx = &io };
    nmsgs = 0;
    vioapic_init(&io, 8, &hooks);
    return 0;
}

static u32 reg_read(u8 reg)
{
    vioapic_mmio_write(&io, VIOAPIC_REGSEL, 4, reg);
    return (u32)vioapic_mmio_read(&io, VIOAPIC_WINDOW, 4);
}

static void reg_write(u8 reg, u32 val)
{
    vioapic_mmio_write(&io, VIOAPIC_REGSEL, 4, reg);
    vioapic_mmio_write(&io, VIOAPIC_WINDOW, 4, val);
}

static void set_rte(unsigned int pin, u64 rte)
{
    reg_write(0x11 + 2 * pin, (u32)(rte >> 32));
    reg_write(0x10 + 2 * pin, (u32)rte);
}

static u64 get_rte(unsigned int pin)
{
    return ((u64)reg_read(0x11 + 2 * pin) << 32) | reg_read(0x10 + 2 * pin);
}

static void test_id_version_arbitration(void **state)
{
    (void)state;
    assert_int_equal(reg_read(0), 8u << 24);
    assert_int_equal(reg_read(1), 0x00170020);
    assert_int_equal(reg_read(2), 8u << 24);

    u32 ver = reg_read(1);
    reg_write(1, ~ver);
    assert_int_equal(reg_read(1), ver);

    u32 id = reg_read(0);
    reg_write(0, ~id);
    assert_int_equal(reg_read(0) ^ id, 0x0f000000);     /* only bits 27:24 */

    reg_write(0, 0x0f000000);
    assert_int_equal(reg_read(2), 0x0f000000);
    reg_write(2, 0);
    assert_int_equal(reg_read(2), 0x0f000000);          /* read-only */
}

static void test_reset_and_reserved(void **state)
{
    (void)state;
    for (unsigned int pin = 0; pin < VIOAPIC_PINS; pin++)
        assert_int_equal(get_rte(pin), VIOAPIC_RTE_MASKED);
    assert_int_equal(reg_read(0x03), 0);
    assert_int_equal(reg_read(0x40), 0);                /* past pin 23 */
    assert_int_equal(reg_read(0xff), 0);
    reg_write(0x40, 0xffffffff);
    reg_write(0xff, 0xffffffff);
    assert_int_equal(get_rte(23), VIOAPIC_RTE_MASKED);

    /* Read-only and reserved bits of an entry ignore writes. */
    set_rte(3, ~0ull);
    assert_int_equal(get_rte(3), 0xff0000000001afffull);
}

static void test_window_widths(void **state)
{
    (void)state;
    /* IOREGSEL holds 8 bits; byte writes work; offsets between registers read 0. */
    vioapic_mmio_write(&io, VIOAPIC_REGSEL, 1, 0x01);
    assert_int_equal(vioapic_mmio_read(&io, VIOAPIC_REGSEL, 4), 1);
    assert_int_equal(vioapic_mmio_read(&io, VIOAPIC_WINDOW, 4), 0x00170020);
    assert_int_equal(vioapic_mmio_read(&io, VIOAPIC_WINDOW + 2, 1), 0x17);
    assert_int_equal(vioapic_mmio_read(&io, VIOAPIC_WINDOW, 2), 0x0020);
    /* An 8-byte read at 0 sees IOREGSEL and the zeros after it. */
    assert_int_equal(vioapic_mmio_read(&io, 0, 8), 1);
    assert_int_equal(vioapic_mmio_read(&io, 0x20, 4), 0);
    assert_int_equal(vioapic_mmio_read(&io, 0xfff, 1), 0);
    assert_int_equal(vioapic_mmio_read(&io, 0x1000, 4), 0);
    assert_int_equal(vioapic_mmio_read(&io, 0x10, 3), 0);    /* odd width */

    /* A byte write to IOWIN changes that byte of the selected register only. */
    vioapic_mmio_write(&io, VIOAPIC_REGSEL, 4, 0x10);
    vioapic_mmio_write(&io, VIOAPIC_WINDOW, 1, 0x42);
    assert_int_equal(get_rte(0), VIOAPIC_RTE_MASKED | 0x42);
    vioapic_mmio_write(&io, VIOAPIC_REGSEL, 4, 0x10);
    vioapic_mmio_write(&io, VIOAPIC_WINDOW + 2, 1, 0x00);    /* unmask */
    assert_int_equal(get_rte(0), 0x42);
    vioapic_mmio_write(&io, ~0ull - 1, 8, ~0ull);            /* no wrap-around */
    assert_int_equal(get_rte(0), 0x42);
    assert_int_equal(nmsgs, 0);
}

static void test_edge(void **state)
{
    (void)state;
    set_rte(14, 0x76 | (3ull << 56));
    vioapic_set_line(&io, 14, true);
    assert_int_equal(nmsgs, 1);
    assert_int_equal(msgs[0].vector, 0x76);
    assert_int_equal(msgs[0].dest, 3);
    assert_false(msgs[0].level);
    assert_false(msgs[0].logical);
    assert_int_equal(msgs[0].mode, VIOAPIC_DM_FIXED);
    vioapic_set_line(&io, 14, true);                    /* no new edge */
    assert_int_equal(nmsgs, 1);
    vioapic_set_line(&io, 14, false);
    vioapic_set_line(&io, 14, true);
    assert_int_equal(nmsgs, 2);
    assert_int_equal(get_rte(14) & VIOAPIC_RTE_REMOTE_IRR, 0);

    /* An edge while masked is lost, also after unmasking. */
    vioapic_set_line(&io, 14, false);
    set_rte(14, 0x76 | VIOAPIC_RTE_MASKED);
    vioapic_set_line(&io, 14, true);
    vioapic_set_line(&io, 14, false);
    set_rte(14, 0x76);
    assert_int_equal(nmsgs, 2);
    vioapic_set_line(&io, 14, true);
    assert_int_equal(nmsgs, 3);

    /* Active low: the falling edge of the line is the rising edge of the pin. */
    vioapic_set_line(&io, 5, true);
    set_rte(5, 0x50 | VIOAPIC_RTE_POL_LOW);
    vioapic_set_line(&io, 5, false);
    assert_int_equal(nmsgs, 4);
    assert_int_equal(msgs[3].vector, 0x50);
    vioapic_set_line(&io, 5, true);
    assert_int_equal(nmsgs, 4);
}

static void test_level_remote_irr(void **state)
{
    (void)state;
    set_rte(14, 0x77 | VIOAPIC_RTE_LEVEL | VIOAPIC_RTE_DEST_LOG | (0x0dull << 56));
    vioapic_set_line(&io, 14, true);
    assert_int_equal(nmsgs, 1);
    assert_true(msgs[0].level);
    assert_true(msgs[0].logical);
    assert_int_equal(msgs[0].dest, 0x0d);
    assert_true(get_rte(14) & VIOAPIC_RTE_REMOTE_IRR);

    /* Remote IRR is read-only. */
    reg_write(0x10 + 28, (u32)get_rte(14) & ~(u32)VIOAPIC_RTE_REMOTE_IRR);
    assert_true(get_rte(14) & VIOAPIC_RTE_REMOTE_IRR);

    /* Still asserted: the EOI delivers again (retrigger without masking). */
    vioapic_eoi(&io, 0x77);
    assert_int_equal(nmsgs, 2);
    assert_true(get_rte(14) & VIOAPIC_RTE_REMOTE_IRR);

    /* An EOI of another vector changes nothing. */
    vioapic_eoi(&io, 0x78);
    assert_int_equal(nmsgs, 2);

    /* Coalescing: toggling while remote IRR is set delivers nothing more. */
    vioapic_set_line(&io, 14, false);
    vioapic_set_line(&io, 14, true);
    vioapic_set_line(&io, 14, false);
    assert_int_equal(nmsgs, 2);
    vioapic_eoi(&io, 0x77);
    assert_int_equal(nmsgs, 2);
    assert_false(get_rte(14) & VIOAPIC_RTE_REMOTE_IRR);

    /* Sequential: assert, EOI after deassert, assert again. */
    vioapic_set_line(&io, 14, true);
    vioapic_set_line(&io, 14, false);
    vioapic_eoi(&io, 0x77);
    vioapic_set_line(&io, 14, true);
    assert_int_equal(nmsgs, 4);
}

static void test_eoi_register(void **state)
{
    (void)state;
    set_rte(9, 0x90 | VIOAPIC_RTE_LEVEL);
    vioapic_set_line(&io, 9, true);
    vioapic_set_line(&io, 9, false);
    assert_true(get_rte(9) & VIOAPIC_RTE_REMOTE_IRR);
    vioapic_mmio_write(&io, VIOAPIC_EOI + 1, 1, 0x90);     /* not the vector byte */
    assert_true(get_rte(9) & VIOAPIC_RTE_REMOTE_IRR);
    vioapic_mmio_write(&io, VIOAPIC_EOI, 4, 0x90);
    assert_false(get_rte(9) & VIOAPIC_RTE_REMOTE_IRR);
    assert_int_equal(vioapic_mmio_read(&io, VIOAPIC_EOI, 4), 0);
}

static void test_level_mask(void **state)
{
    (void)state;
    /* Asserted while masked: nothing; unmasking delivers. */
    set_rte(14, 0x82 | VIOAPIC_RTE_LEVEL | VIOAPIC_RTE_MASKED);
    vioapic_set_line(&io, 14, true);
    assert_int_equal(nmsgs, 0);
    set_rte(14, 0x82 | VIOAPIC_RTE_LEVEL);
    assert_int_equal(nmsgs, 1);

    /* Masked in the handler, EOI: no delivery until unmasked again. */
    set_rte(14, 0x82 | VIOAPIC_RTE_LEVEL | VIOAPIC_RTE_MASKED);
    vioapic_eoi(&io, 0x82);
    assert_int_equal(nmsgs, 1);
    assert_false(get_rte(14) & VIOAPIC_RTE_REMOTE_IRR);
    set_rte(14, 0x82 | VIOAPIC_RTE_LEVEL);
    assert_int_equal(nmsgs, 2);
}

static void test_reconfigure_keeps_remote_irr(void **state)
{
    (void)state;
    set_rte(13, 0x64 | VIOAPIC_RTE_LEVEL);
    set_rte(14, 0x84 | VIOAPIC_RTE_LEVEL);
    vioapic_set_line(&io, 13, true);
    vioapic_set_line(&io, 14, true);
    assert_int_equal(nmsgs, 2);

    vioapic_set_line(&io, 14, false);
    reg_write(0x11 + 28, 1u << 24);                     /* new destination only */
    assert_true(get_rte(14) & VIOAPIC_RTE_REMOTE_IRR);
    assert_int_equal(get_rte(14) >> 56, 1);
    vioapic_set_line(&io, 13, false);
    reg_write(0x10 + 26, 0x64 | VIOAPIC_RTE_LEVEL);     /* rewrite the low half */
    assert_true(get_rte(13) & VIOAPIC_RTE_REMOTE_IRR);

    vioapic_eoi(&io, 0x64);
    vioapic_eoi(&io, 0x84);
    assert_false(get_rte(13) & VIOAPIC_RTE_REMOTE_IRR);
    assert_false(get_rte(14) & VIOAPIC_RTE_REMOTE_IRR);
    assert_int_equal(nmsgs, 2);

    /* Switching a pin to edge clears its remote IRR. */
    vioapic_set_line(&io, 13, true);
    assert_true(get_rte(13) & VIOAPIC_RTE_REMOTE_IRR);
    set_rte(13, 0x64);
    assert_false(get_rte(13) & VIOAPIC_RTE_REMOTE_IRR);
}

static void test_delivery_modes(void **state)
{
    (void)state;
    /* A level NMI pin gets no remote IRR (no EOI would ever clear it). */
    set_rte(1, (VIOAPIC_DM_NMI << 8) | VIOAPIC_RTE_LEVEL);
    vioapic_set_line(&io, 1, true);
    assert_int_equal(nmsgs, 1);
    assert_int_equal(msgs[0].mode, VIOAPIC_DM_NMI);
    assert_false(msgs[0].level);
    assert_false(get_rte(1) & VIOAPIC_RTE_REMOTE_IRR);
    vioapic_set_line(&io, 1, true);
    assert_int_equal(nmsgs, 1);

    set_rte(2, (VIOAPIC_DM_EXTINT << 8));
    vioapic_set_line(&io, 2, true);
    assert_int_equal(msgs[1].mode, VIOAPIC_DM_EXTINT);

    /* Reserved modes 3 and 6 never deliver. */
    set_rte(3, 3 << 8);
    set_rte(4, (6 << 8) | VIOAPIC_RTE_LEVEL);
    vioapic_set_line(&io, 3, true);
    vioapic_set_line(&io, 4, true);
    assert_int_equal(nmsgs, 2);
    assert_false(get_rte(4) & VIOAPIC_RTE_REMOTE_IRR);

    /* Pins past 23 do not exist. */
    vioapic_set_line(&io, 24, true);
    vioapic_set_line(&io, ~0u, true);
    assert_int_equal(io.lines, 0x1e);
}

/* A guest writing anything anywhere, lines and EOIs at random. */
static void test_hammer(void **state)
{
    (void)state;
    for (unsigned int i = 0; i < 200000; i++) {
        nmsgs = 0;
        switch (hammer_rand() % 4) {
        case 0:
            vioapic_mmio_write(&io, hammer_rand() % 0x1010, hammer_size(), hammer_rand());
            break;
        case 1:
            (void)vioapic_mmio_read(&io, hammer_rand() % 0x1010, hammer_size());
            break;
        case 2:
            vioapic_set_line(&io, (unsigned int)(hammer_rand() % 30), hammer_rand() & 1);
            break;
        default:
            vioapic_eoi(&io, (u8)hammer_rand());
            break;
        }
        assert_true(nmsgs <= VIOAPIC_PINS);     /* one message per pin at most */
        assert_true(io.id < 16);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_id_version_arbitration, setup),
        cmocka_unit_test_setup(test_reset_and_reserved, setup),
        cmocka_unit_test_setup(test_window_widths, setup),
        cmocka_unit_test_setup(test_edge, setup),
        cmocka_unit_test_setup(test_level_remote_irr, setup),
        cmocka_unit_test_setup(test_eoi_register, setup),
        cmocka_unit_test_setup(test_level_mask, setup),
        cmocka_unit_test_setup(test_reconfigure_keeps_remote_irr, setup),
        cmocka_unit_test_setup(test_delivery_modes, setup),
        cmocka_unit_test_setup(test_hammer, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
