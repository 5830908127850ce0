/*
 * fwcfg.c - the fw_cfg items kvm-unit-tests read (include/kiln/devices/
 * fwcfg.h): their library asks it how many CPUs to start (FW_CFG_NB_CPUS,
 * without which it waits for 65534 APs) and how much RAM there is.  A
 * pure model: the values are given at init.
 */
#include <kiln/devices/fwcfg.h>

/* No item is longer than 8 bytes: the offset stops counting there, so a
 * guest reading forever cannot wrap it. */
#define FWCFG_ITEM_MAX 8

void fwcfg_init(struct fwcfg *f, u64 ram_size, u16 nb_cpus)
{
    *f = (struct fwcfg){ .ram_size = ram_size, .nb_cpus = nb_cpus };
}

/* Byte i of the selected item (0 past its end or for an unknown item). */
static u8 item_byte(const struct fwcfg *f, u32 i)
{
    u64 v;
    u32 len;
    switch (f->selector) {
    case FWCFG_SIGNATURE:
        v = 'Q' | 'E' << 8 | 'M' << 16 | (u64)'U' << 24;
        len = 4;
        break;
    case FWCFG_ID:
        v = 1;
        len = 4;
        break;
    case FWCFG_RAM_SIZE:
        v = f->ram_size;
        len = 8;
        break;
    case FWCFG_NB_CPUS:
    case FWCFG_MAX_CPUS:
        v = f->nb_cpus;
        len = 2;
        break;
    default:
        return 0;
    }
    return i < len ? (u8)(v >> (8 * i)) : 0;
}

u32 fwcfg_io_read(struct fwcfg *f, u16 port, unsigned int size)
{
    if (port != FWCFG_PORT_DATA || size < 1 || size > 4)
        return ~0u;
    u32 val = 0;
    for (unsigned int i = 0; i < size; i++) {
        val |= (u32)item_byte(f, f->offset) << (8 * i);
        if (f->offset < FWCFG_ITEM_MAX)
            f->offset++;
    }
    return val;
}

void fwcfg_io_write(struct fwcfg *f, u16 port, unsigned int size, u32 val)
{
    if (port != FWCFG_PORT_SEL || size < 1 || size > 4)
        return;
    f->selector = (u16)val;
    f->offset = 0;
}
