/*
 * test_dev_vuart.c - unit tests of the emulated 16550A
 * (arch/x86/hvm/devices/vuart.c): transmit to the hook, IIR priorities and
 * the THRE interrupt's life, the receive FIFO and its trigger levels,
 * overrun, DLAB, loopback, OUT2 gating the interrupt, scratch register.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "../arch/x86/hvm/devices/vuart.c"
#include "dev_hammer.h"

#define COM1 VUART_COM1_PORT

static struct vuart uart;
static bool irq;
static char out[256];
static unsigned int nout;

static void irq_hook(void *ctx, bool level)
{
    assert_ptr_equal(ctx, &uart);
    assert_true(level != irq);
    irq = level;
}

static void tx_hook(void *ctx, u8 byte)
{
    assert_ptr_equal(ctx, &uart);
    assert_true(nout < sizeof(out));
    out[nout++] = (char)byte;
}

static int setup(void **state)
{
    (void)state;
    struct vuart_hooks hooks = { .irq = irq_hook, .tx = tx_hook, .ctx = &uart };
    irq = false;
    nout = 0;
    vuart_init(&uart, COM1, &hooks);
    return 0;
}

static void outb(unsigned int reg, u8 v) { vuart_io_write(&uart, (u16)(COM1 + reg), 1, v); }
static u8 inb(unsigned int reg) { return (u8)vuart_io_read(&uart, (u16)(COM1 + reg), 1); }

/* What kvm-unit-tests' serial_init() and Linux's 8250 setup do. */
static void guest_init(void)
{
    outb(VUART_LCR, 0x80);
    outb(VUART_RBR_THR, 0x01);
    outb(VUART_IER, 0x00);
    outb(VUART_LCR, 0x03);
    outb(VUART_IIR_FCR, 0xc7);
    outb(VUART_MCR, VUART_MCR_DTR | VUART_MCR_RTS | VUART_MCR_OUT2);
}

static void test_transmit(void **state)
{
    (void)state;
    guest_init();
    const char *s = "hello\n";
    for (const char *p = s; *p; p++) {
        assert_true(inb(VUART_LSR) & VUART_LSR_THRE);
        outb(VUART_RBR_THR, (u8)*p);
    }
    assert_int_equal(nout, 6);
    assert_memory_equal(out, s, 6);
    assert_int_equal(inb(VUART_LSR), VUART_LSR_THRE | VUART_LSR_TEMT);
    assert_false(irq);                                  /* no IER bits */
}

static void test_dlab(void **state)
{
    (void)state;
    guest_init();
    outb(VUART_LCR, 0x83);
    outb(VUART_RBR_THR, 0x0c);
    outb(VUART_IER, 0x00);
    assert_int_equal(inb(VUART_RBR_THR), 0x0c);
    assert_int_equal(inb(VUART_IER), 0x00);
    assert_int_equal(nout, 0);                          /* DLL is not THR */
    outb(VUART_LCR, 0x03);
    outb(VUART_IER, 0xff);
    assert_int_equal(inb(VUART_IER), 0x0f);
    outb(VUART_LCR, 0x83);
    assert_int_equal(inb(VUART_IER), 0x00);             /* DLM */
    assert_int_equal(inb(VUART_LCR), 0x83);
}

static void test_thre_interrupt(void **state)
{
    (void)state;
    guest_init();
    /* Enabling THRE with THR empty interrupts at once. */
    outb(VUART_IER, VUART_IER_THRE);
    assert_true(irq);
    assert_int_equal(inb(VUART_IIR_FCR), VUART_IIR_FIFO | VUART_IIR_THRE);
    assert_false(irq);                                  /* IIR read cleared it */
    assert_int_equal(inb(VUART_IIR_FCR), VUART_IIR_FIFO | VUART_IIR_NONE);
    /* Each write empties THR again: a new THRE interrupt. */
    outb(VUART_RBR_THR, 'x');
    assert_true(irq);
    outb(VUART_RBR_THR, 'y');
    assert_true(irq);
    /* Disabling the source lowers the line; re-enabling raises it. */
    outb(VUART_IER, 0);
    assert_false(irq);
    outb(VUART_IER, VUART_IER_THRE);
    assert_true(irq);
    /* OUT2 gates the line, not IIR. */
    outb(VUART_MCR, VUART_MCR_DTR | VUART_MCR_RTS);
    assert_false(irq);
    assert_int_equal(inb(VUART_IIR_FCR) & 0x0f, VUART_IIR_THRE);
    outb(VUART_MCR, VUART_MCR_OUT2);
    assert_false(irq);
    outb(VUART_RBR_THR, 'z');
    assert_true(irq);
}

static void test_iir_priorities(void **state)
{
    (void)state;
    guest_init();
    outb(VUART_IIR_FCR, 0x01);                          /* FIFO, trigger 1 */
    outb(VUART_IER, 0x0f);
    outb(VUART_MCR, VUART_MCR_OUT2 | VUART_MCR_LOOP);   /* loopback: no line */
    outb(VUART_MCR, VUART_MCR_OUT2 | VUART_MCR_LOOP | VUART_MCR_RTS);  /* DCTS */
    for (unsigned int i = 0; i < 17; i++)
        outb(VUART_RBR_THR, (u8)i);                     /* 17th overruns */
    assert_false(irq);
    assert_int_equal(nout, 0);
    assert_int_equal(inb(VUART_IIR_FCR) & 0x0f, VUART_IIR_RLS);
    assert_int_equal(inb(VUART_LSR), VUART_LSR_DR | VUART_LSR_OE | VUART_LSR_THRE | VUART_LSR_TEMT);
    assert_int_equal(inb(VUART_IIR_FCR) & 0x0f, VUART_IIR_RDA);
    for (unsigned int i = 0; i < 16; i++)
        assert_int_equal(inb(VUART_RBR_THR), i);
    assert_int_equal(inb(VUART_IIR_FCR) & 0x0f, VUART_IIR_THRE);
    assert_int_equal(inb(VUART_IIR_FCR) & 0x0f, VUART_IIR_MSR);
    assert_int_equal(inb(VUART_MSR), 0x80 | 0x10 | 0x03);   /* DCD=OUT2, CTS=RTS; DCTS, DDSR */
    assert_int_equal(inb(VUART_IIR_FCR) & 0x0f, VUART_IIR_NONE);
}

static void test_receive_fifo(void **state)
{
    (void)state;
    guest_init();
    outb(VUART_IIR_FCR, 0x81);                          /* trigger 8 */
    outb(VUART_IER, VUART_IER_RDA);
    for (u8 c = 'a'; c < 'a' + 7; c++) {
        assert_true(vuart_can_receive(&uart));
        vuart_receive(&uart, c);
    }
    assert_true(irq);                                   /* timeout, at once */
    assert_int_equal(inb(VUART_IIR_FCR), VUART_IIR_FIFO | VUART_IIR_TIMEOUT);
    vuart_receive(&uart, 'h');
    assert_int_equal(inb(VUART_IIR_FCR), VUART_IIR_FIFO | VUART_IIR_RDA);
    char got[8];
    for (unsigned int i = 0; i < 8; i++) {
        assert_true(inb(VUART_LSR) & VUART_LSR_DR);
        got[i] = (char)inb(VUART_RBR_THR);
    }
    assert_memory_equal(got, "abcdefgh", 8);
    assert_false(inb(VUART_LSR) & VUART_LSR_DR);
    assert_false(irq);
    assert_int_equal(inb(VUART_RBR_THR), 0);            /* empty */

    /* Full FIFO: the 17th byte is lost and sets OE until LSR is read. */
    for (unsigned int i = 0; i < 16; i++)
        vuart_receive(&uart, (u8)i);
    assert_false(vuart_can_receive(&uart));
    vuart_receive(&uart, 0xee);
    assert_int_equal(inb(VUART_LSR) & VUART_LSR_OE, VUART_LSR_OE);
    assert_int_equal(inb(VUART_LSR) & VUART_LSR_OE, 0);
    /* FCR bit 1 empties it. */
    outb(VUART_IIR_FCR, 0x03);
    assert_false(inb(VUART_LSR) & VUART_LSR_DR);

    /* Without the FIFO: one holding register, overwritten on overrun. */
    outb(VUART_IIR_FCR, 0x00);
    assert_int_equal(inb(VUART_IIR_FCR) & VUART_IIR_FIFO, 0);
    vuart_receive(&uart, '1');
    assert_false(vuart_can_receive(&uart));
    vuart_receive(&uart, '2');
    assert_int_equal(inb(VUART_LSR) & (VUART_LSR_OE | VUART_LSR_DR), VUART_LSR_OE | VUART_LSR_DR);
    assert_int_equal(inb(VUART_RBR_THR), '2');
    assert_int_equal(inb(VUART_IIR_FCR), VUART_IIR_NONE);
}

static void test_loopback(void **state)
{
    (void)state;
    guest_init();
    outb(VUART_MCR, VUART_MCR_LOOP | 0x0f);             /* Linux's autoconfig check */
    assert_int_equal(inb(VUART_MSR) & 0xf0, 0xf0);
    outb(VUART_MCR, VUART_MCR_LOOP | VUART_MCR_OUT1);
    assert_int_equal(inb(VUART_MSR), 0x40 | 0x0b);      /* RI; DCTS, DDSR, DDCD */
    outb(VUART_MCR, VUART_MCR_LOOP);
    assert_int_equal(inb(VUART_MSR), 0x04);             /* TERI */
    outb(VUART_RBR_THR, 'L');
    assert_int_equal(nout, 0);
    assert_int_equal(inb(VUART_RBR_THR), 'L');
    outb(VUART_MCR, VUART_MCR_OUT2);
    assert_int_equal(inb(VUART_MSR), 0xb0 | 0x0b);      /* back to the terminal */
    assert_int_equal(inb(VUART_MCR), VUART_MCR_OUT2);
    outb(VUART_MCR, 0xff);
    assert_int_equal(inb(VUART_MCR), 0x1f);
}

static void test_scratch_and_hostile(void **state)
{
    (void)state;
    outb(VUART_SCR, 0xa5);
    assert_int_equal(inb(VUART_SCR), 0xa5);
    outb(VUART_LSR, 0x00);
    outb(VUART_MSR, 0xff);
    assert_int_equal(inb(VUART_LSR), VUART_LSR_THRE | VUART_LSR_TEMT);
    assert_int_equal(inb(VUART_MSR), 0xb0);
    assert_int_equal(vuart_io_read(&uart, COM1 + 8, 1), 0xff);
    assert_int_equal(vuart_io_read(&uart, COM1 - 1, 1), 0xff);
    assert_int_equal(vuart_io_read(&uart, COM1 + 7, 2), 0xffa5);
    assert_int_equal(vuart_io_read(&uart, COM1, 3), ~0u);
    /* A dword write at the base: THR, IER, FCR, LCR in order. */
    vuart_io_write(&uart, COM1, 4, 0x03c10241);
    assert_int_equal(nout, 1);
    assert_int_equal(out[0], 0x41);
    assert_int_equal(inb(VUART_IER), 0x02);
    assert_int_equal(inb(VUART_LCR), 0x03);
    for (unsigned int v = 0; v < 256; v++) {
        for (unsigned int r = 0; r < 8; r++) {
            outb(r, (u8)v);
            (void)inb(r);
        }
        vuart_receive(&uart, (u8)v);
    }
    assert_true(uart.rx_count <= VUART_FIFO_SIZE);
    assert_true(uart.rx_head < VUART_FIFO_SIZE);
}

/* A guest writing anything anywhere while bytes arrive at random. */
static void test_hammer(void **state)
{
    (void)state;
    for (unsigned int i = 0; i < 200000; i++) {
        u16 port = (u16)(COM1 - 1 + hammer_rand() % 10);
        nout = 0;
        switch (hammer_rand() % 3) {
        case 0:
            vuart_io_write(&uart, port, hammer_size(), (u32)hammer_rand());
            break;
        case 1:
            (void)vuart_io_read(&uart, port, hammer_size());
            break;
        default:
            vuart_receive(&uart, (u8)hammer_rand());
            break;
        }
        assert_true(uart.rx_count <= VUART_FIFO_SIZE && uart.rx_head < VUART_FIFO_SIZE);
        assert_true(uart.rx_trigger >= 1 && uart.rx_trigger <= 14);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_transmit, setup),
        cmocka_unit_test_setup(test_dlab, setup),
        cmocka_unit_test_setup(test_thre_interrupt, setup),
        cmocka_unit_test_setup(test_iir_priorities, setup),
        cmocka_unit_test_setup(test_receive_fifo, setup),
        cmocka_unit_test_setup(test_loopback, setup),
        cmocka_unit_test_setup(test_scratch_and_hostile, setup),
        cmocka_unit_test_setup(test_hammer, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
