/*
 * tap.c - TAP devices on a bridge (see tap.h), through the tun driver's
 * TUNSETIFF and the SIOCSIFFLAGS / SIOCBRADDIF socket ioctls.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>
#include "tap.h"

int tap_open(const char *name, char ifname[16])
{
    struct ifreq ifr = { .ifr_flags = IFF_TAP | IFF_NO_PI };
    int fd, r;

    if (strlen(name) >= IFNAMSIZ)
        return -ENAMETOOLONG;
    strcpy(ifr.ifr_name, name);
    fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
        r = -errno;
        close(fd);
        return r;
    }
    memcpy(ifname, ifr.ifr_name, IFNAMSIZ);
    ifname[IFNAMSIZ - 1] = '\0';
    return fd;
}

int tap_attach(const char *ifname, const char *bridge)
{
    struct ifreq ifr = { 0 };
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), r = 0;
    unsigned idx = if_nametoindex(ifname);

    if (s < 0)
        return -errno;
    if (!idx || strlen(bridge) >= IFNAMSIZ) {
        close(s);
        return idx ? -ENAMETOOLONG : -ENODEV;
    }
    strcpy(ifr.ifr_name, ifname);
    if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0)
        goto fail;
    ifr.ifr_flags |= IFF_UP;
    if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0)
        goto fail;
    memset(&ifr, 0, sizeof(ifr));
    strcpy(ifr.ifr_name, bridge);
    ifr.ifr_ifindex = (int)idx;
    if (ioctl(s, SIOCBRADDIF, &ifr) < 0)
        goto fail;
    close(s);
    return 0;
fail:
    r = -errno;
    close(s);
    return r;
}
