/*
 * domain.c - libkiln's domain-control calls: one domctl each, marshalled
 * into struct kiln_domctl (kiln.ko bounces buffers, see kiln_ioctl.h).
 */
#include <errno.h>
#include <string.h>
#include "kiln_private.h"

static int simple(kiln_handle *h, uint32_t cmd, uint32_t domid)
{
    struct kiln_domctl d = { .cmd = cmd, .domid = domid };

    return kiln_domctl(h, &d);
}

int kiln_domain_create(kiln_handle *h, const char *name, uint64_t memory_kib,
                       uint32_t vcpus, uint32_t flags, uint32_t *domid)
{
    struct kiln_domctl d = { .cmd = KILN_DOMCTL_CREATE, .domid = KILN_DOMID_INVALID };
    size_t len = strlen(name);
    int r;

    if (len == 0 || len >= KILN_NAME_MAX || memory_kib == 0 || memory_kib % 4 ||
        vcpus == 0 || vcpus > KILN_MAX_VCPUS)
        return -EINVAL;
    d.u.create.memory_kib = memory_kib;
    d.u.create.vcpus = vcpus;
    d.u.create.flags = flags;
    memcpy(d.u.create.name, name, len + 1);
    r = kiln_domctl(h, &d);
    if (r < 0)
        return r;
    *domid = d.domid;
    return 0;
}

int kiln_domain_destroy(kiln_handle *h, uint32_t domid)
{
    int r = simple(h, KILN_DOMCTL_DESTROY, domid);
    return r < 0 ? r : 0;
}

int kiln_domain_pause(kiln_handle *h, uint32_t domid)
{
    int r = simple(h, KILN_DOMCTL_PAUSE, domid);
    return r < 0 ? r : 0;
}

int kiln_domain_unpause(kiln_handle *h, uint32_t domid)
{
    int r = simple(h, KILN_DOMCTL_UNPAUSE, domid);
    return r < 0 ? r : 0;
}

static void copy_info(const struct kiln_domctl *d, struct kiln_dominfo *out)
{
    memset(out, 0, sizeof(*out));
    out->domid = d->domid;
    out->state = d->u.info.state;
    out->vcpus = d->u.info.vcpus;
    out->shutdown_reason = d->u.info.shutdown_reason;
    out->flags = d->u.info.flags;
    out->exit_code = d->u.info.exit_code;
    out->memory_kib = d->u.info.memory_kib;
    out->cpu_time_ns = d->u.info.cpu_time_ns;
    /* The hypervisor's copy is NUL-terminated, but do not rely on it. */
    memcpy(out->name, d->u.info.name, KILN_NAME_MAX - 1);
}

/* GETINFO answers for the first domain whose id is >= the one asked. */
static int getinfo_from(kiln_handle *h, uint32_t domid, struct kiln_domctl *d)
{
    memset(d, 0, sizeof(*d));
    d->cmd = KILN_DOMCTL_GETINFO;
    d->domid = domid;
    return kiln_domctl(h, d);
}

int kiln_domain_info(kiln_handle *h, uint32_t domid, struct kiln_dominfo *out)
{
    struct kiln_domctl d;
    int r = getinfo_from(h, domid, &d);

    if (r == -ENOENT || (r >= 0 && d.domid != domid))
        return -ESRCH;
    if (r < 0)
        return r;
    copy_info(&d, out);
    return 0;
}

int kiln_domain_list(kiln_handle *h, struct kiln_dominfo *out, size_t max)
{
    struct kiln_domctl d;
    uint32_t next = 0;
    int n = 0, r;

    while (next < KILN_DOMID_SELF) {
        r = getinfo_from(h, next, &d);
        if (r == -ENOENT || r == -ESRCH)
            break;
        if (r < 0)
            return r;
        /* A hypervisor answering with a smaller id would loop us forever. */
        if (d.domid < next)
            return -EIO;
        if ((size_t)n < max)
            copy_info(&d, &out[n]);
        n++;
        next = d.domid + 1;
    }
    return n;
}

int kiln_domain_lookup(kiln_handle *h, const char *name, uint32_t *domid)
{
    struct kiln_domctl d;
    uint32_t next = 0;
    int r;

    while (next < KILN_DOMID_SELF) {
        r = getinfo_from(h, next, &d);
        if (r == -ENOENT || r == -ESRCH)
            return -ESRCH;
        if (r < 0)
            return r;
        if (d.domid < next)
            return -EIO;
        if (strncmp(d.u.info.name, name, KILN_NAME_MAX) == 0) {
            *domid = d.domid;
            return 0;
        }
        next = d.domid + 1;
    }
    return -ESRCH;
}

int kiln_sched_get(kiln_handle *h, uint32_t domid, uint32_t *weight, uint32_t *cap)
{
    struct kiln_domctl d = { .cmd = KILN_DOMCTL_SCHED_GET, .domid = domid };
    int r = kiln_domctl(h, &d);

    if (r < 0)
        return r;
    *weight = d.u.sched.weight;
    *cap = d.u.sched.cap;
    return 0;
}

int kiln_sched_set(kiln_handle *h, uint32_t domid, uint32_t weight, uint32_t cap)
{
    struct kiln_domctl d = { .cmd = KILN_DOMCTL_SCHED_SET, .domid = domid };
    int r;

    if (weight < 1 || weight > 65535)
        return -EINVAL;
    d.u.sched.weight = weight;
    d.u.sched.cap = cap;
    r = kiln_domctl(h, &d);
    return r < 0 ? r : 0;
}

int kiln_vcpu_pin(kiln_handle *h, uint32_t domid, uint32_t vcpu, uint64_t cpumask)
{
    struct kiln_domctl d = { .cmd = KILN_DOMCTL_VCPU_PIN, .domid = domid };
    int r;

    if (vcpu >= KILN_MAX_VCPUS)
        return -EINVAL;
    d.u.pin.vcpu = vcpu;
    d.u.pin.cpumask = cpumask;
    r = kiln_domctl(h, &d);
    return r < 0 ? r : 0;
}

int kiln_set_cpuid(kiln_handle *h, uint32_t domid, const struct kiln_domctl_cpuid *leaf)
{
    struct kiln_domctl d = { .cmd = KILN_DOMCTL_SET_CPUID, .domid = domid };
    int r;

    d.u.cpuid = *leaf;
    r = kiln_domctl(h, &d);
    return r < 0 ? r : 0;
}

int kiln_write_mem(kiln_handle *h, uint32_t domid, uint64_t dest, const void *buf, size_t len)
{
    const unsigned char *p = buf;

    if (dest % 4096)
        return -EINVAL;
    while (len) {
        struct kiln_domctl d = { .cmd = KILN_DOMCTL_WRITE_MEM, .domid = domid };
        size_t chunk = len < 4096 ? len : 4096;
        int r;

        d.u.write_mem.dest_gpa = dest;
        d.u.write_mem.src_gpa = (uint64_t)(uintptr_t)p;
        d.u.write_mem.len = chunk;
        r = kiln_domctl(h, &d);
        if (r < 0)
            return r;
        dest += chunk;
        p += chunk;
        len -= chunk;
    }
    return 0;
}

int kiln_set_vcpu(kiln_handle *h, uint32_t domid, const struct kiln_domctl_vcpu *regs)
{
    struct kiln_domctl d = { .cmd = KILN_DOMCTL_SET_VCPU, .domid = domid };
    int r;

    d.u.vcpu = *regs;
    r = kiln_domctl(h, &d);
    return r < 0 ? r : 0;
}

int kiln_pc_boot(kiln_handle *h, uint32_t domid, uint32_t kind, uint64_t image_gpa,
                 uint64_t image_len, const char *cmdline)
{
    struct kiln_domctl d = { .cmd = KILN_DOMCTL_PC_BOOT, .domid = domid };
    size_t len = strnlen(cmdline, KILN_PC_CMDLINE_MAX + 1);
    int r;

    if (len > KILN_PC_CMDLINE_MAX)
        return -E2BIG;
    d.u.pc_boot.kind = kind;
    d.u.pc_boot.image_gpa = image_gpa;
    d.u.pc_boot.image_len = image_len;
    /* A buffer in the caller: kiln.ko bounces it. */
    d.u.pc_boot.cmdline_gpa = (uint64_t)(uintptr_t)cmdline;
    d.u.pc_boot.cmdline_len = len;
    r = kiln_domctl(h, &d);
    return r < 0 ? r : 0;
}

int kiln_console_read(kiln_handle *h, uint32_t domid, char *buf, size_t len, uint64_t *offset)
{
    struct kiln_domctl d = { .cmd = KILN_DOMCTL_CONSOLE_READ, .domid = domid };
    int r;

    d.u.console.buf_gpa = (uint64_t)(uintptr_t)buf;
    d.u.console.len = len;
    d.u.console.offset = *offset;
    r = kiln_domctl(h, &d);
    if (r < 0)
        return r;
    if (d.u.console.len > len)
        return -EIO;
    *offset = d.u.console.offset;
    return (int)d.u.console.len;
}

const char *kiln_domstate_name(uint32_t state)
{
    switch (state) {
    case KILN_DOMSTATE_BUILDING: return "building";
    case KILN_DOMSTATE_RUNNING:  return "running";
    case KILN_DOMSTATE_PAUSED:   return "paused";
    case KILN_DOMSTATE_DYING:    return "dying";
    default:                     return "unknown";
    }
}
