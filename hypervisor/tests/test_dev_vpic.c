/*
 * test_dev_vpic.c - unit tests of the emulated 8259A pair
 * (arch/x86/hvm/devices/vpic.c): the ICW sequence as Linux and BIOSes
 * issue it, priorities and rotation, EOI modes, auto-EOI, the cascade on
 * IR2, ELCR level inputs, poll mode, spurious IR7 and the INT output hook.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "../arch/x86/hvm/devices/vpic.c"
#include "dev_hammer.h"

static struct vpic pic;
static bool intr_level;
static unsigned int intr_calls;

static void intr_hook(void *ctx, bool level)
{
    assert_ptr_equal(ctx, &pic);
    assert_true(level != intr_level);       /* called on changes only */
    intr_level = level;
    intr_calls++;
}

static void outb(u16 port, u8 val) { vpic_io_write(&pic, port, 1, val); }
static u8 inb(u16 port) { return (u8)vpic_io_read(&pic, port, 1); }

/* Linux's init_8259A(): vectors 0x30/0x38, cascade on IR2, then a mask. */
static void linux_init(bool auto_eoi)
{
    outb(0x21, 0xff);
    outb(0xa1, 0xff);
    outb(0x20, 0x11);
    outb(0x21, 0x30);
    outb(0x21, 0x04);
    outb(0x21, auto_eoi ? 0x03 : 0x01);
    outb(0xa0, 0x11);
    outb(0xa1, 0x38);
    outb(0xa1, 0x02);
    outb(0xa1, 0x01);
    outb(0x21, 0x00);
    outb(0xa1, 0x00);
}

static int setup(void **state)
{
    (void)state;
    struct vpic_hooks hooks = { .intr = intr_hook, .ctx = &pic };
    intr_level = false;
    intr_calls = 0;
    vpic_init(&pic, &hooks);
    return 0;
}

static void pulse(unsigned int irq)
{
    vpic_set_line(&pic, irq, true);
    vpic_set_line(&pic, irq, false);
}

static void test_reset_state(void **state)
{
    (void)state;
    assert_int_equal(inb(0x21), 0xfb);
    assert_int_equal(inb(0xa1), 0xff);
    assert_int_equal(inb(0x4d0), 0);
    pulse(1);
    assert_false(vpic_intr(&pic));
    assert_int_equal(inb(0x20), 0x02);                  /* IRR shows masked requests */
    outb(0x21, 0xf9);
    assert_true(vpic_intr(&pic));
    assert_int_equal(vpic_ack(&pic), 0x09);             /* BIOS vector base 0x08 */
}

static void test_init_sequence_and_eoi(void **state)
{
    (void)state;
    linux_init(false);
    assert_int_equal(inb(0x21), 0);
    pulse(0);
    assert_true(vpic_intr(&pic));
    assert_int_equal(intr_calls, 1);
    assert_int_equal(vpic_ack(&pic), 0x30);
    assert_false(vpic_intr(&pic));
    outb(0x20, 0x0b);                                   /* OCW3: read ISR */
    assert_int_equal(inb(0x20), 0x01);
    outb(0x20, 0x0a);                                   /* OCW3: read IRR */
    assert_int_equal(inb(0x20), 0x00);

    /* Lower priority waits for the EOI; higher priority nests. */
    pulse(3);
    assert_false(vpic_intr(&pic));
    outb(0x20, 0x20);                                   /* non-specific EOI */
    assert_true(vpic_intr(&pic));
    assert_int_equal(vpic_ack(&pic), 0x33);
    pulse(1);
    assert_true(vpic_intr(&pic));
    assert_int_equal(vpic_ack(&pic), 0x31);
    outb(0x20, 0x0b);
    assert_int_equal(inb(0x20), 0x0a);
    outb(0x20, 0x20);                                   /* ends IR1, the highest */
    assert_int_equal(inb(0x20), 0x08);
    outb(0x20, 0x63);                                   /* specific EOI of IR3 */
    assert_int_equal(inb(0x20), 0x00);
}

static void test_priority_and_rotation(void **state)
{
    (void)state;
    linux_init(false);
    outb(0x21, 0xff);
    pulse(3);
    pulse(5);
    pulse(6);
    outb(0x21, 0x00);
    assert_int_equal(vpic_ack(&pic), 0x33);
    outb(0x20, 0xa0);                                   /* rotate on non-specific EOI */
    /* IR3 is now lowest: IR4 highest, so 5 comes before 6 ... */
    assert_int_equal(vpic_ack(&pic), 0x35);
    outb(0x20, 0xe5);                                   /* rotate on specific EOI: IR5 lowest */
    pulse(3);
    /* ... and with IR5 lowest, IR6 outranks IR3. */
    assert_int_equal(vpic_ack(&pic), 0x36);
    outb(0x20, 0x66);
    assert_int_equal(vpic_ack(&pic), 0x33);
    outb(0x20, 0x63);

    outb(0x20, 0xc6);                                   /* set priority: IR6 lowest, IR7 highest */
    pulse(0);
    pulse(7);
    assert_int_equal(vpic_ack(&pic), 0x37);
}

static void test_auto_eoi(void **state)
{
    (void)state;
    linux_init(true);
    pulse(4);
    assert_int_equal(vpic_ack(&pic), 0x34);
    outb(0x20, 0x0b);
    assert_int_equal(inb(0x20), 0x00);                  /* no ISR bit */
    pulse(5);
    assert_int_equal(vpic_ack(&pic), 0x35);             /* no EOI needed */

    outb(0x20, 0x80);                                   /* rotate in auto-EOI */
    pulse(3);
    pulse(1);
    assert_int_equal(vpic_ack(&pic), 0x31);             /* IR1 now lowest */
    pulse(1);
    assert_int_equal(vpic_ack(&pic), 0x33);
}

static void test_cascade(void **state)
{
    (void)state;
    linux_init(false);
    pulse(10);
    assert_true(vpic_intr(&pic));
    outb(0x20, 0x0a);
    assert_int_equal(inb(0x20), 0x04);                  /* master sees IR2 */
    assert_int_equal(vpic_ack(&pic), 0x3a);
    assert_false(vpic_intr(&pic));
    outb(0xa0, 0x0b);
    assert_int_equal(inb(0xa0), 0x04);
    outb(0x20, 0x0b);
    assert_int_equal(inb(0x20), 0x04);

    /* IRQ8 outranks IRQ10 on the slave but waits for the master's EOI. */
    pulse(8);
    assert_false(vpic_intr(&pic));
    outb(0xa0, 0x20);
    assert_false(vpic_intr(&pic));
    outb(0x20, 0x20);
    assert_true(vpic_intr(&pic));
    assert_int_equal(vpic_ack(&pic), 0x38);
    outb(0xa0, 0x20);
    outb(0x20, 0x20);

    /* Masking the slave input withdraws the request from the master too. */
    pulse(12);
    assert_true(vpic_intr(&pic));
    outb(0xa1, 0x10);
    assert_false(vpic_intr(&pic));
    outb(0xa1, 0x00);
    assert_int_equal(vpic_ack(&pic), 0x3c);
    outb(0xa0, 0x20);
    outb(0x20, 0x20);

    /* The slave's mask of IR2 on the master blocks every slave IRQ. */
    outb(0x21, 0x04);
    pulse(9);
    assert_false(vpic_intr(&pic));
    vpic_set_line(&pic, 2, true);                       /* not an input */
    assert_false(vpic_intr(&pic));
    outb(0x21, 0x00);
    assert_int_equal(vpic_ack(&pic), 0x39);
}

static void test_special_fully_nested(void **state)
{
    (void)state;
    linux_init(false);
    outb(0x20, 0x11);
    outb(0x21, 0x30);
    outb(0x21, 0x04);
    outb(0x21, 0x11);                                   /* SFNM */
    outb(0x21, 0x00);
    pulse(12);
    assert_int_equal(vpic_ack(&pic), 0x3c);
    pulse(9);                                           /* higher on the slave */
    assert_true(vpic_intr(&pic));
    assert_int_equal(vpic_ack(&pic), 0x39);
}

static void test_elcr_level(void **state)
{
    (void)state;
    linux_init(false);
    outb(0x4d0, 0xff);
    outb(0x4d1, 0xff);
    assert_int_equal(inb(0x4d0), 0xf8);
    assert_int_equal(inb(0x4d1), 0xde);
    assert_int_equal(vpic_io_read(&pic, 0x4d0, 2), 0xdef8);

    vpic_set_line(&pic, 9, true);
    assert_int_equal(vpic_ack(&pic), 0x39);
    outb(0xa0, 0x20);
    outb(0x20, 0x20);
    assert_true(vpic_intr(&pic));                       /* still asserted */
    vpic_set_line(&pic, 9, false);
    assert_false(vpic_intr(&pic));

    /* A level pulse before INTA leaves nothing; an edge one is latched. */
    vpic_set_line(&pic, 3, true);
    vpic_set_line(&pic, 3, false);
    assert_false(vpic_intr(&pic));
    outb(0x4d0, 0x00);
    pulse(3);
    assert_true(vpic_intr(&pic));
}

static void test_poll_and_special_mask(void **state)
{
    (void)state;
    linux_init(false);
    outb(0x21, 0xdf);                                   /* masked IRs are not polled */
    pulse(4);
    pulse(5);
    outb(0x20, 0x0c);                                   /* poll */
    assert_int_equal(inb(0x20), 0x85);
    outb(0x20, 0x0b);
    assert_int_equal(inb(0x20), 0x20);                  /* poll acknowledged IR5 */
    outb(0x20, 0x0c);
    assert_int_equal(inb(0x20), 0x00);                  /* nothing else */
    assert_int_equal(inb(0x20), 0x20);                  /* poll is one read only */

    /* Special mask mode: a masked in-service level blocks nothing. */
    outb(0x21, 0x30);
    pulse(6);
    assert_false(vpic_intr(&pic));
    outb(0x20, 0x68);
    assert_true(vpic_intr(&pic));
    assert_int_equal(vpic_ack(&pic), 0x36);
    outb(0x20, 0x48);                                   /* leave special mask mode */
}

static void test_spurious(void **state)
{
    (void)state;
    linux_init(false);
    assert_false(vpic_intr(&pic));
    assert_int_equal(vpic_ack(&pic), 0x37);
    outb(0x20, 0x0b);
    assert_int_equal(inb(0x20), 0x00);
}

static void test_hostile_ports(void **state)
{
    (void)state;
    assert_int_equal(vpic_io_read(&pic, 0x22, 1), 0xff);
    assert_int_equal(vpic_io_read(&pic, 0x21, 4), 0xffffff00u | 0xfb);
    assert_int_equal(vpic_io_read(&pic, 0x21, 3), ~0u);
    assert_int_equal(vpic_io_read(&pic, 0xffff, 2), 0xffff);
    vpic_io_write(&pic, 0xffff, 4, 0);
    /* A word write to 0x20 is ICW1 then ICW2 on the next port. */
    vpic_io_write(&pic, 0x20, 2, 0x4011);
    outb(0x21, 0x04);
    outb(0x21, 0x01);
    outb(0x21, 0x00);
    pulse(1);
    assert_int_equal(vpic_ack(&pic), 0x41);
    for (unsigned int v = 0; v < 256; v++) {
        outb(0x20, (u8)v);
        outb(0x21, (u8)v);
        outb(0xa0, (u8)v);
        outb(0xa1, (u8)v);
        vpic_set_line(&pic, v & 15, v & 1);
        (void)vpic_ack(&pic);
        (void)inb(0x20);
    }
    vpic_set_line(&pic, 16, true);
    vpic_set_line(&pic, ~0u, true);
}

/* A guest writing anything anywhere, lines and INTAs at random. */
static void test_hammer(void **state)
{
    (void)state;
    static const u16 ports[] = { 0x20, 0x21, 0xa0, 0xa1, 0x4d0, 0x4d1, 0x22 };
    for (unsigned int i = 0; i < 200000; i++) {
        u16 port = ports[hammer_rand() % 7];
        switch (hammer_rand() % 4) {
        case 0:
            vpic_io_write(&pic, port, hammer_size(), (u32)hammer_rand());
            break;
        case 1:
            (void)vpic_io_read(&pic, port, hammer_size());
            break;
        case 2:
            vpic_set_line(&pic, (unsigned int)(hammer_rand() % 20), hammer_rand() & 1);
            break;
        default: {
            bool pending = vpic_intr(&pic);
            u8 v = vpic_ack(&pic);
            if (pending)            /* a real interrupt: one of the 16 vectors */
                assert_true((v & 0xf8) == pic.chip[0].base || (v & 0xf8) == pic.chip[1].base);
            break;
        }
        }
        assert_int_equal(vpic_intr(&pic), intr_level);
        assert_true(pic.chip[0].lowest < 8 && pic.chip[1].lowest < 8);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_reset_state, setup),
        cmocka_unit_test_setup(test_init_sequence_and_eoi, setup),
        cmocka_unit_test_setup(test_priority_and_rotation, setup),
        cmocka_unit_test_setup(test_auto_eoi, setup),
        cmocka_unit_test_setup(test_cascade, setup),
        cmocka_unit_test_setup(test_special_fully_nested, setup),
        cmocka_unit_test_setup(test_elcr_level, setup),
        cmocka_unit_test_setup(test_poll_and_special_mask, setup),
        cmocka_unit_test_setup(test_spurious, setup),
        cmocka_unit_test_setup(test_hostile_ports, setup),
        cmocka_unit_test_setup(test_hammer, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
