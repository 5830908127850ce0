/*
 * port92.h - system control port A (0x92: A20 gate, fast reset) and the
 * reset control register (0xcf9) of a PC domU (arch/x86/hvm/devices/port92.c).
 */
#ifndef KILN_DEVICES_PORT92_H
#define KILN_DEVICES_PORT92_H

#include <kiln/types.h>

#define PORT92_PORT         0x92
#define PORT92_RESET_PORT   0xcf9
#define PORT92_FAST_RESET   0x01
#define PORT92_A20          0x02
#define PORT92_RCR_SYS_RST  0x02
#define PORT92_RCR_RST_CPU  0x04
#define PORT92_RCR_FULL_RST 0x08

struct port92_hooks {
    void (*reset)(void *ctx);       /* the guest reset the machine */
    void *ctx;
};

struct port92 {
    struct port92_hooks hooks;
    u8 port_a;
    u8 rcr;
};

/* A20 enabled, no reset pending. */
void port92_init(struct port92 *p, const struct port92_hooks *hooks);

/* Ports 0x92 (size 1, 2 or 4, spanning ports) and 0xcf9 (byte accesses only). */
u32 port92_io_read(struct port92 *p, u16 port, unsigned int size);
void port92_io_write(struct port92 *p, u16 port, unsigned int size, u32 val);

#endif
