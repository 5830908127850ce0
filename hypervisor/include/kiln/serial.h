/*
 * serial.h - the 16550 UART on COM1, the hypervisor's only console device.
 *
 * dom0 owns the host's ports, COM1 included, so the UART is shared: dom0's
 * accesses to registers 0-3 (data / divisor latch, IER, IIR/FCR, LCR) exit
 * and are forwarded here by the console (console_dom0_uart), serialised
 * with the log; the status registers it polls stay native.
 */
#ifndef KILN_SERIAL_H
#define KILN_SERIAL_H

#include <kiln/types.h>

#define SERIAL_COM1         0x3f8
#define SERIAL_SHARED_REGS  4       /* COM1 + 0..3 go through the console */

void serial_init(void);
/* Polled output; callers serialise (the console lock).  Works whatever
 * divisor-latch state dom0 left the UART in. */
void serial_write(const char *s, size_t len);

/* A forwarded access to COM1 + reg (reg < SERIAL_SHARED_REGS). */
u32 serial_reg_read(unsigned int reg, unsigned int size);
void serial_reg_write(unsigned int reg, unsigned int size, u32 val);
/* True while LCR.DLAB is set: register 0 is then the divisor, not data. */
bool serial_dlab_open(void);

#endif
