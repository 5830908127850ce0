/*
 * dom0_io.c - the port accesses of dom0 that exit.
 *
 * dom0 owns the host's devices, so its I/O permission map lets nearly
 * every port through.  The exception is COM1's registers 0-3, which the
 * hypervisor's log shares (serial.h): they go through the console, which
 * keeps dom0's lines and the log's lines whole.  A wider access that only
 * overlaps them (an OUTW to 0x3f7, say) is forwarded to the hardware as
 * it is, as dom0 would have done it.
 */
#include <kiln/console.h>
#include <kiln/hvm.h>
#include <kiln/serial.h>
#include <kiln/x86.h>

void dom0_port_io(u16 port, unsigned int size, bool in, u32 *val)
{
    bool shared = port >= SERIAL_COM1 && port + size <= SERIAL_COM1 + SERIAL_SHARED_REGS;

    if (shared)
        *val = console_dom0_uart(port - SERIAL_COM1, size, in, *val);
    else if (in)
        *val = port_read(port, size);
    else
        port_write(port, size, *val);
}
