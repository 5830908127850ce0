/*
 * fwcfg.h - the few items of QEMU's fw_cfg interface that kvm-unit-tests
 * read (arch/x86/hvm/devices/fwcfg.c), for domains with `testdev`: the
 * signature, the interface id, the RAM size and the number of vCPUs.
 * Selector at port 0x510 (16 bits), data at 0x511, one byte per read.
 */
#ifndef KILN_DEVICES_FWCFG_H
#define KILN_DEVICES_FWCFG_H

#include <kiln/types.h>

#define FWCFG_PORT_SEL      0x510
#define FWCFG_PORT_DATA     0x511

#define FWCFG_SIGNATURE     0x00    /* "QEMU" */
#define FWCFG_ID            0x01    /* u32: 1 = the port interface, no DMA */
#define FWCFG_RAM_SIZE      0x03    /* u64, bytes */
#define FWCFG_NB_CPUS       0x05    /* u16 */
#define FWCFG_MAX_CPUS      0x0f    /* u16 */

struct fwcfg {
    u16 selector;
    u32 offset;         /* next byte of the selected item */
    u64 ram_size;
    u16 nb_cpus;
};

void fwcfg_init(struct fwcfg *f, u64 ram_size, u16 nb_cpus);

/* Port access: size 1, 2 or 4.  A selector write (any width, low 16 bits)
 * restarts the item; a data read returns its next bytes, zeros past its
 * end or for an item that does not exist; reads of the selector port and
 * data writes do nothing (all ones / ignored). */
u32 fwcfg_io_read(struct fwcfg *f, u16 port, unsigned int size);
void fwcfg_io_write(struct fwcfg *f, u16 port, unsigned int size, u32 val);

#endif
