/*
 * tap.h - a TAP device in dom0 for a guest's network interface, attached to
 * a bridge so dom0 (and whatever else is on the bridge) reaches the guest.
 * Needs CAP_NET_ADMIN and /dev/net/tun.
 */
#ifndef DEVD_TAP_H
#define DEVD_TAP_H

#include <stddef.h>

/* Creates TAP interface `name` (may hold one %d, the kernel picks the
 * number), non-blocking, without packet information headers: one Ethernet
 * frame per read or write.  Returns the fd and the actual name in
 * ifname[16], or -errno. */
int tap_open(const char *name, char ifname[16]);
/* Brings ifname up and makes it a port of bridge; -errno (ENODEV: no such
 * bridge). */
int tap_attach(const char *ifname, const char *bridge);

#endif /* DEVD_TAP_H */
