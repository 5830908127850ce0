/*
 * fwcfg.h - the few items of QEMU's fw_cfg interface that kvm-unit-tests
 * read, through its legacy I/O ports (arch/x86/hvm/devices/fwcfg.c).
 */
#ifndef KILN_DEVICES_FWCFG_H
#define KILN_DEVICES_FWCFG_H

#include <kiln/types.h>

#define FWCFG_PORT_SELECTOR 0x510       /* 16-bit write: select an item */
#define FWCFG_PORT_DATA     0x511       /* byte reads: the item, in order */

#define FWCFG_SIGNATURE     0x00        /* "QEMU" */
#define FWCFG_ID            0x01        /* 1: the traditional interface, no DMA */
#define FWCFG_RAM_SIZE      0x03        /* u64, bytes */
#define FWCFG_NB_CPUS       0x05        /* u16 */
#define FWCFG_MAX_CPUS      0x0f        /* u16 */
#define FWCFG_MAX_RAM       0x11        /* kvm-unit-tests' own; reads 0 */

struct fwcfg {
    u64 ram_size;
    u16 nb_cpus, max_cpus;
    u16 selector;
    u32 offset;                 /* next byte of the selected item */
};

void fwcfg_init(struct fwcfg *f, u64 ram_size, u16 nb_cpus, u16 max_cpus);

/* Ports 0x510 and 0x511; size 1, 2 or 4. */
u32 fwcfg_io_read(struct fwcfg *f, u16 port, unsigned int size);
void fwcfg_io_write(struct fwcfg *f, u16 port, unsigned int size, u32 val);

#endif
