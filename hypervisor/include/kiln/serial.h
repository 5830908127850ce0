/*
 * serial.h - the 16550 UART on COM1, the hypervisor's only console device.
 */
#ifndef KILN_SERIAL_H
#define KILN_SERIAL_H

#include <kiln/types.h>

void serial_init(void);
/* Polled output; callers serialise (the console lock). */
void serial_write(const char *s, size_t len);

#endif
