/*
 * serial.c - polled 16550 driver for COM1 (0x3f8), 115200 8N1.
 *
 * Polled rather than interrupt driven: the log must get out even with
 * interrupts off, in a trap handler, or during a panic.
 */
#include <kiln/serial.h>
#include <kiln/x86.h>

#define COM1 SERIAL_COM1
#define UART_THR 0   /* transmit holding (DLAB=0) */
#define UART_DLL 0   /* divisor low (DLAB=1) */
#define UART_IER 1
#define UART_DLM 1   /* divisor high (DLAB=1) */
#define UART_FCR 2
#define UART_LCR 3
#define UART_MCR 4
#define UART_LSR 5
#define LSR_THRE 0x20
#define LCR_DLAB 0x80
#define LCR_8N1  0x03

void serial_init(void)
{
    outb(COM1 + UART_IER, 0);                 /* no interrupts: we poll */
    outb(COM1 + UART_LCR, LCR_DLAB);
    outb(COM1 + UART_DLL, 1);                 /* 115200 = 115200 / 1 */
    outb(COM1 + UART_DLM, 0);
    outb(COM1 + UART_LCR, LCR_8N1);
    outb(COM1 + UART_FCR, 0x07);              /* enable and clear FIFOs */
    outb(COM1 + UART_MCR, 0x03);              /* DTR + RTS */
}

static void serial_putc(char c)
{
    /* Bounded wait: a missing UART must not hang the hypervisor. */
    for (unsigned i = 0; i < 100000 && !(inb(COM1 + UART_LSR) & LSR_THRE); i++)
        __asm__ __volatile__("pause");
    outb(COM1 + UART_THR, (u8)c);
}

void serial_write(const char *s, size_t len)
{
    /* dom0 programs the divisor in several separate accesses; a line
     * logged between them would be written into the divisor latch. */
    u8 lcr = inb(COM1 + UART_LCR);
    if (lcr & LCR_DLAB)
        outb(COM1 + UART_LCR, lcr & ~LCR_DLAB);
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '\n')
            serial_putc('\r');
        serial_putc(s[i]);
    }
    if (lcr & LCR_DLAB)
        outb(COM1 + UART_LCR, lcr);
}

u32 serial_reg_read(unsigned int reg, unsigned int size)
{
    return port_read((u16)(COM1 + reg), size);
}

void serial_reg_write(unsigned int reg, unsigned int size, u32 val)
{
    port_write((u16)(COM1 + reg), size, val);
}

bool serial_dlab_open(void)
{
    return inb(COM1 + UART_LCR) & LCR_DLAB;
}
