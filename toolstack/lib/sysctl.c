/*
 * sysctl.c - libkiln's hypervisor-wide queries: physical info and the
 * hypervisor's log ring ("kl dmesg").
 */
#include <errno.h>
#include "kiln_private.h"

int kiln_physinfo(kiln_handle *h, struct kiln_sysctl_physinfo *out)
{
    struct kiln_sysctl s = { .cmd = KILN_SYSCTL_PHYSINFO };
    int r = kiln_sysctl(h, &s);

    if (r < 0)
        return r;
    *out = s.u.physinfo;
    return 0;
}

int kiln_dmesg_read(kiln_handle *h, char *buf, size_t len, uint64_t *offset)
{
    struct kiln_sysctl s = { .cmd = KILN_SYSCTL_LOG_READ };
    int r;

    s.u.log.buf_gpa = (uint64_t)(uintptr_t)buf;
    s.u.log.len = len;
    s.u.log.offset = *offset;
    r = kiln_sysctl(h, &s);
    if (r < 0)
        return r;
    if (s.u.log.len > len)
        return -EIO;
    *offset = s.u.log.offset;
    return (int)s.u.log.len;
}
