/*
 * ioport.c - a domain's own port handlers: the devices of a PC domain
 * (PIC, PIT, RTC, UART, ...) register their port ranges here when the
 * domain is built, and hvm_port_io() (io.c) looks each access up before
 * Kiln's test ports.  The table is filled before the domain runs and never
 * changes afterwards, so lookups need no lock.
 */
#include <kiln/domain.h>
#include <kiln/hvm.h>

int hvm_port_register(struct domain *d, u16 first, u16 count, hvm_port_read_t read,
                      hvm_port_write_t write, void *ctx)
{
    struct hvm_ioports *t = &d->ioports;
    u32 last = (u32)first + count;
    if (!count || last > 0x10000u)
        return -KILN_EINVAL;
    for (unsigned int i = 0; i < t->nr; i++) {
        const struct hvm_port_handler *h = &t->h[i];
        if (first < (u32)h->first + h->count && h->first < last)
            return -KILN_EEXIST;
    }
    if (t->nr == HVM_MAX_PORT_HANDLERS)
        return -KILN_E2BIG;
    t->h[t->nr++] = (struct hvm_port_handler){
        .first = first, .count = count, .read = read, .write = write, .ctx = ctx,
    };
    return 0;
}

const struct hvm_port_handler *hvm_port_find(const struct domain *d, u16 port)
{
    const struct hvm_ioports *t = &d->ioports;
    for (unsigned int i = 0; i < t->nr; i++)
        if ((u16)(port - t->h[i].first) < t->h[i].count)
            return &t->h[i];
    return NULL;
}
