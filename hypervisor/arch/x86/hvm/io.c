/*
 * io.c - the emulated I/O ports every guest sees (include/public/testport.h).
 *
 * Guests own no devices; every port access exits here.  A PC domain's
 * devices registered their ports with the domain (ioport.c) and come
 * first; a PC domain's UART replaces the COM1 stub.  The debug ports
 * give tests a console without hypercalls and a way to read their own exit
 * counters; the COM1 stub lets a guest that insists on a 16550 print (THR
 * writes reach the console, LSR always reports an empty transmitter).
 * dom0 owns the real devices: the few of its accesses that exit are
 * forwarded (dom0_io.c).
 */
#include <kiln/domain.h>
#include <kiln/hvm.h>
#include <kiln/ioreq.h>

#define COM1_IIR        2
#define COM1_IIR_NONE   0x01

static u32 read_port(struct vcpu *v, u16 port)
{
    switch (port) {
    case KT_PORT_CONSOLE:
        return KT_PORT_CONSOLE;
    case KT_PORT_STAT:
        return v->port_stat_sel < KT_STAT_COUNT ? (u32)v->stats[v->port_stat_sel] : ~0u;
    case KT_PORT_SCRATCH:
        return v->port_scratch;
    case KT_PORT_NULL:
        return 0;
    case KT_PORT_COM1 + KT_COM1_LSR:
        return KT_COM1_LSR_IDLE;
    case KT_PORT_COM1 + COM1_IIR:
        return COM1_IIR_NONE;
    default:
        if (port >= KT_PORT_COM1 && port < KT_PORT_COM1 + 8)
            return 0;
        return ~0u;
    }
}

static void write_port(struct vcpu *v, u16 port, u32 val)
{
    char c = (char)val;
    switch (port) {
    case KT_PORT_CONSOLE:
    case KT_PORT_COM1:
        domain_console_write(v->domain, &c, 1);
        break;
    case KT_PORT_STAT:
        v->port_stat_sel = val;
        break;
    case KT_PORT_SCRATCH:
        v->port_scratch = val;
        break;
    case KT_PORT_BENCH:
        domain_bench_native(false);
        break;
    default:
        break;
    }
}

void hvm_port_io(struct vcpu *v, u16 port, unsigned int size, bool in, u32 *val)
{
    if (v->domain->hardware) {
        dom0_port_io(port, size, in, val);
        return;
    }
    /* Single IN/OUTs to a served port never come here (hvm_ioreq_port);
     * INS/OUTS do, element by element, and are not forwarded. */
    if (hvm_ioreq_port_claimed(v->domain, port)) {
        domain_crash(v->domain, "string I/O to port 0x%x, which its ioreq server serves", port);
        return;
    }
    u32 mask = size >= 4 ? ~0u : (1u << (size * 8)) - 1;
    const struct hvm_port_handler *h = hvm_port_find(v->domain, port);
    if (h) {
        if (in)
            *val = h->read(h->ctx, port, size) & mask;
        else
            h->write(h->ctx, port, size, *val & mask);
        return;
    }
    if (in)
        *val = read_port(v, port) & mask;
    else
        write_port(v, port, *val & mask);
}
