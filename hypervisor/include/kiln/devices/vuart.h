/*
 * vuart.h - the 16550A UART of a PC domU on COM1
 * (arch/x86/hvm/devices/vuart.c): eight registers from its base port,
 * bytes out through the tx hook (the domain's console), bytes in through
 * vuart_receive(), its interrupt (IRQ4 on COM1) through the irq hook.
 */
#ifndef KILN_DEVICES_VUART_H
#define KILN_DEVICES_VUART_H

#include <kiln/types.h>

#define VUART_COM1_PORT     0x3f8
#define VUART_COM1_IRQ      4
#define VUART_FIFO_SIZE     16

/* Register offsets from the base port. */
#define VUART_RBR_THR       0       /* DLL with LCR.DLAB */
#define VUART_IER           1       /* DLM with LCR.DLAB */
#define VUART_IIR_FCR       2
#define VUART_LCR           3
#define VUART_MCR           4
#define VUART_LSR           5
#define VUART_MSR           6
#define VUART_SCR           7

#define VUART_IER_RDA       0x01
#define VUART_IER_THRE      0x02
#define VUART_IER_RLS       0x04
#define VUART_IER_MSR       0x08
#define VUART_IIR_NONE      0x01
#define VUART_IIR_MSR       0x00
#define VUART_IIR_THRE      0x02
#define VUART_IIR_RDA       0x04
#define VUART_IIR_RLS       0x06
#define VUART_IIR_TIMEOUT   0x0c
#define VUART_IIR_FIFO      0xc0
#define VUART_LCR_DLAB      0x80
#define VUART_MCR_DTR       0x01
#define VUART_MCR_RTS       0x02
#define VUART_MCR_OUT1      0x04
#define VUART_MCR_OUT2      0x08
#define VUART_MCR_LOOP      0x10
#define VUART_LSR_DR        0x01
#define VUART_LSR_OE        0x02
#define VUART_LSR_THRE      0x20
#define VUART_LSR_TEMT      0x40

struct vuart_hooks {
    void (*irq)(void *ctx, bool level);
    void (*tx)(void *ctx, u8 byte);     /* a byte the guest transmitted */
    void *ctx;
};

struct vuart {
    struct vuart_hooks hooks;
    u16 base;
    u8 rx[VUART_FIFO_SIZE];
    u8 rx_head, rx_count;
    u8 rx_trigger;
    bool fifo;
    u8 ier, lcr, mcr, scr, dll, dlm;
    u8 lsr_errors;              /* OE until LSR is read */
    u8 msr_lines, msr_delta;    /* MSR bits 7:4 and 3:0 */
    bool thr_ipending;
    bool irq_level;
};

/* Reset state at base (VUART_COM1_PORT for COM1). */
void vuart_init(struct vuart *uart, u16 base, const struct vuart_hooks *hooks);

/* Ports base..base+7; size 1, 2 or 4 (wider accesses span registers). */
u32 vuart_io_read(struct vuart *uart, u16 port, unsigned int size);
void vuart_io_write(struct vuart *uart, u16 port, unsigned int size, u32 val);

/* Whether a received byte would fit (the receive FIFO or holding register). */
bool vuart_can_receive(const struct vuart *uart);

/* A byte arriving on the line; without room it is lost and sets OE. */
void vuart_receive(struct vuart *uart, u8 byte);

#endif
