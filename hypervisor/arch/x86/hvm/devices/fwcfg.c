/*
 * fwcfg.c - QEMU's fw_cfg as kvm-unit-tests read it (lib/x86/fwcfg.c):
 * a 16-bit write of an item's key to port 0x510 selects it and rewinds
 * it, byte reads of port 0x511 return its bytes in order (little-endian
 * numbers), and zeros past its end.
 *
 * Items (facts from QEMU's fw_cfg): the signature "QEMU", the interface
 * id 1 (no DMA), RAM size (u64), the number of vCPUs and the maximum
 * (u16).  Every other key, including kvm-unit-tests' MAX_RAM (0x11) and
 * the architecture-local keys from 0x8000 (ACPI tables, e820, ...),
 * reads as zeros.  The write channel (key bit 14) is ignored as QEMU does:
 * data writes do nothing.  Reads of the data port at any width return
 * that many bytes; the selector port reads all ones.
 */
#include <kiln/devices/dev_util.h>
#include <kiln/devices/fwcfg.h>

#define KEY_ARCH_LOCAL  0x8000
#define KEY_ENTRY_MASK  0x3fff

void fwcfg_init(struct fwcfg *f, u64 ram_size, u16 nb_cpus, u16 max_cpus)
{
    *f = (struct fwcfg){ .ram_size = ram_size, .nb_cpus = nb_cpus, .max_cpus = max_cpus };
}

/* Fills item with the selected item's bytes; returns how many (0-8). */
static unsigned int item(const struct fwcfg *f, u8 *bytes)
{
    u64 v;
    unsigned int len;
    if (f->selector & KEY_ARCH_LOCAL)
        return 0;
    switch (f->selector & KEY_ENTRY_MASK) {
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
        v = f->nb_cpus;
        len = 2;
        break;
    case FWCFG_MAX_CPUS:
        v = f->max_cpus;
        len = 2;
        break;
    default:
        return 0;
    }
    for (unsigned int i = 0; i < len; i++)
        bytes[i] = (u8)(v >> (8 * i));
    return len;
}

static u8 next_byte(struct fwcfg *f)
{
    u8 bytes[8];
    unsigned int len = item(f, bytes);
    if (f->offset >= len)
        return 0;
    return bytes[f->offset++];
}

u32 fwcfg_io_read(struct fwcfg *f, u16 port, unsigned int size)
{
    if (port != FWCFG_PORT_DATA || !dev_port_size_ok(size))
        return ~0u;
    u32 val = 0;
    for (unsigned int i = 0; i < size; i++)
        val |= (u32)next_byte(f) << (8 * i);
    return val;
}

void fwcfg_io_write(struct fwcfg *f, u16 port, unsigned int size, u32 val)
{
    if (port != FWCFG_PORT_SELECTOR || size != 2)
        return;
    f->selector = (u16)val;
    f->offset = 0;
}
