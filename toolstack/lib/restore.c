/*
 * restore.c - a new domain from a save/migration stream (kiln_migrate.h).
 *
 * The stream reader checks each record before it reaches us; here each one
 * is acted on: HEADER (after checking this host can take the guest: its
 * CPU features and free memory) creates the domain, PAGES fill its RAM
 * (WRITE_MEM), VCPU states are kept until END, and only once
 * END and the stream checksum passed are the states loaded and the guest
 * started.  So a truncated or corrupted stream never runs a half-copied
 * guest: any failure destroys the domain being built.
 *
 * The guest's TSC goes on from the value saved at the pause plus the wall
 * time that passed since (at the source's TSC rate), so a guest measuring
 * its own downtime with the TSC sees the real gap.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "kiln_migrate.h"

/* Free pages the destination keeps beyond the guest's RAM (page tables,
 * the hypervisor's own allocations for the new domain). */
#define FREE_PAGES_MARGIN 1024

struct restore {
    kiln_handle *h;
    const struct kiln_restore_opts *o;
    uint32_t domid;
    int created;
    uint64_t nr_pages;
    uint64_t tsc_khz;
    uint32_t vcpus;
    uint8_t *written;          /* pages holding data from the stream */
    struct kiln_vcpu_state *states;
    uint64_t paused_wall_ns;
    uint64_t paused_for_ns;    /* at the source, when END was written */
    uint64_t guest_clock_ns;   /* the guest's clock at the pause */
    uint64_t end_seen_ns;      /* CLOCK_MONOTONIC here when END arrived */
    uint64_t pages;
};

static uint64_t clock_ns(clockid_t id)
{
    struct timespec t;

    clock_gettime(id, &t);
    return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

__attribute__((format(printf, 4, 5)))
static int refuse(int code, char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return code;
}

static int on_header(void *ctx, const struct kiln_stream_header *hd,
                     const struct kiln_stream_cpuid *cpuid,
                     const struct kiln_stream_cpuid *overrides, char *err, size_t errlen)
{
    struct restore *r = ctx;
    struct kiln_stream_cpuid here[KILN_CPUID_HOST_LEAVES];
    struct kiln_sysctl_physinfo pi;
    const char *name = r->o->name ? r->o->name : hd->name;
    uint32_t other;
    int rc;

    size_t nhere = kiln_cpuid_host_leaves(here);

    /* A file anyone could have edited must not make itself a domain that
     * controls the host. */
    if (hd->flags & KILN_CPUID_F_PRIVILEGED)
        return refuse(-EPERM, err, errlen, "the stream asks for a privileged domain: refused");
    if (hd->flags & ~KILN_CPUID_F_PRIVILEGED)
        return refuse(-EINVAL, err, errlen, "unknown domain flags 0x%x", hd->flags);

    rc = kiln_cpuid_compatible(cpuid, hd->nr_cpuid, here, nhere, err, errlen);
    if (rc < 0)
        return rc;
    if ((rc = kiln_physinfo(r->h, &pi)) < 0)
        return refuse(rc, err, errlen, "physinfo: %s", strerror(-rc));
    if (pi.free_pages < hd->nr_pages + FREE_PAGES_MARGIN)
        return refuse(-ENOMEM, err, errlen, "not enough memory here: the guest needs %llu "
                      "pages, %llu are free", (unsigned long long)hd->nr_pages,
                      (unsigned long long)pi.free_pages);
    if (kiln_domain_lookup(r->h, name, &other) == 0)
        return refuse(-EEXIST, err, errlen, "a domain named '%s' exists already (d%u)", name,
                      other);
    r->written = calloc((hd->nr_pages + 7) / 8, 1);
    r->states = calloc(hd->vcpus, sizeof(*r->states));
    if (!r->written || !r->states)
        return refuse(-ENOMEM, err, errlen, "out of memory");
    rc = kiln_domain_create(r->h, name, hd->memory_kib, hd->vcpus, hd->flags, &r->domid);
    if (rc < 0)
        return refuse(rc, err, errlen, "creating domain '%s': %s", name, strerror(-rc));
    r->created = 1;
    r->nr_pages = hd->nr_pages;
    r->vcpus = hd->vcpus;
    r->tsc_khz = hd->tsc_khz;
    if ((rc = kiln_sched_set(r->h, r->domid, hd->weight, hd->cap)) < 0)
        return refuse(rc, err, errlen, "credit parameters: %s", strerror(-rc));
    for (uint32_t v = 0; hd->cpus && v < hd->vcpus; v++)
        if ((rc = kiln_vcpu_pin(r->h, r->domid, v, hd->cpus)) < 0)
            return refuse(rc, err, errlen, "pinning vCPU %u: %s", v, strerror(-rc));
    for (uint32_t i = 0; i < hd->nr_overrides; i++) {
        struct kiln_domctl_cpuid c = { .leaf = overrides[i].leaf, .subleaf = overrides[i].subleaf,
                                       .eax = overrides[i].eax, .ebx = overrides[i].ebx,
                                       .ecx = overrides[i].ecx, .edx = overrides[i].edx };
        if ((rc = kiln_set_cpuid(r->h, r->domid, &c)) < 0)
            return refuse(rc, err, errlen, "CPUID override of leaf 0x%x: %s", c.leaf,
                          strerror(-rc));
    }
    return 0;
}

/* Each page with data is written with WRITE_MEM (one hypercall, no TLB
 * flush; a foreign mapping costs two of each).  A zero page needs writing
 * only if an earlier round gave it data: new RAM is zero. */
static int on_pages(void *ctx, const struct kiln_stream_page *pages, uint32_t count, char *err,
                    size_t errlen)
{
    static const uint8_t zero[KILN_PAGE_SIZE];
    struct restore *r = ctx;

    for (uint32_t i = 0; i < count; i++) {
        uint64_t gfn = pages[i].gfn;
        uint8_t bit = (uint8_t)(1u << (gfn % 8));
        int rc;

        if (!pages[i].data && !(r->written[gfn / 8] & bit))
            continue;
        rc = kiln_write_mem(r->h, r->domid, gfn * KILN_PAGE_SIZE,
                            pages[i].data ? pages[i].data : zero, KILN_PAGE_SIZE);
        if (rc < 0)
            return refuse(rc, err, errlen, "writing GFN 0x%llx: %s", (unsigned long long)gfn,
                          strerror(-rc));
        if (pages[i].data)
            r->written[gfn / 8] |= bit;
        else
            r->written[gfn / 8] &= (uint8_t)~bit;
    }
    r->pages += count;
    return 0;
}

static int on_vcpu(void *ctx, const struct kiln_vcpu_state *s, char *err, size_t errlen)
{
    struct restore *r = ctx;

    (void)err;
    (void)errlen;
    r->states[s->vcpu] = *s;
    return 0;
}

static int on_platform(void *ctx, const struct kiln_stream_platform *p, const void *data,
                       char *err, size_t errlen)
{
    (void)ctx;
    (void)data;
    return refuse(-EOPNOTSUPP, err, errlen, "state of device %u (version %u) cannot be loaded: "
                  "this hypervisor has no device models for domUs yet", p->device, p->version);
}

static int on_end(void *ctx, const struct kiln_stream_end *e, char *err, size_t errlen)
{
    struct restore *r = ctx;

    (void)err;
    (void)errlen;
    r->paused_wall_ns = e->paused_wall_ns;
    r->paused_for_ns = e->paused_for_ns;
    r->guest_clock_ns = e->guest_clock_ns;
    r->end_seen_ns = clock_ns(CLOCK_MONOTONIC);
    return 0;
}

/* Loads every vCPU's state and the guest's clock, the TSC and the clock
 * moved on by the time since the pause (kiln_restore_opts.live says how
 * that time is known). */
static int load_states(struct restore *r, char *err, size_t errlen)
{
    uint64_t now = clock_ns(CLOCK_REALTIME), gap = 0;

    if (r->o->live)
        gap = r->paused_for_ns + (clock_ns(CLOCK_MONOTONIC) - r->end_seen_ns);
    else if (r->paused_wall_ns && now > r->paused_wall_ns)
        gap = now - r->paused_wall_ns;
    int rc = kiln_domain_clock_set(r->h, r->domid, r->guest_clock_ns + gap);
    if (rc < 0)
        return refuse(rc, err, errlen, "setting the guest's clock: %s", strerror(-rc));
    for (uint32_t v = 0; v < r->vcpus; v++) {
        struct kiln_vcpu_state *s = &r->states[v];
        s->tsc += (uint64_t)((unsigned __int128)gap * r->tsc_khz / 1000000u);
        if ((rc = kiln_vcpu_state_set(r->h, r->domid, s)) < 0)
            return refuse(rc, err, errlen, "loading vCPU %u's state: %s%s", v, strerror(-rc),
                          rc == -EINVAL ? " (the hypervisor refused a register value; its log "
                                          "says which)" : "");
    }
    return 0;
}

struct counted {
    kiln_stream_read_fn fn;
    void *ctx;
    uint64_t bytes;
};

static long counted_read(void *ctx, void *buf, size_t len)
{
    struct counted *c = ctx;
    long n = c->fn(c->ctx, buf, len);

    if (n > 0)
        c->bytes += (uint64_t)n;
    return n;
}

int kiln_domain_restore(kiln_handle *h, kiln_stream_read_fn fn, void *ctx,
                        const struct kiln_restore_opts *opts, uint32_t *domid,
                        struct kiln_restore_stats *stats, char *err, size_t errlen)
{
    static const struct kiln_stream_ops ops = { on_header, on_pages, on_vcpu, on_platform, on_end };
    struct kiln_restore_opts none = { 0 };
    struct restore r = { .h = h, .o = opts ? opts : &none };
    struct counted in = { .fn = fn, .ctx = ctx };
    uint64_t t0 = clock_ns(CLOCK_MONOTONIC);
    int rc;

    memset(stats, 0, sizeof(*stats));
    rc = kiln_stream_read(counted_read, &in, &ops, &r, err, errlen);
    if (!rc)
        rc = load_states(&r, err, errlen);
    if (!rc && !r.o->paused) {
        rc = kiln_domain_unpause(h, r.domid);
        if (rc < 0)
            refuse(rc, err, errlen, "starting the guest: %s", strerror(-rc));
        else
            stats->resumed_wall_ns = clock_ns(CLOCK_REALTIME);
    }
    if (rc < 0 && r.created)
        kiln_domain_destroy(h, r.domid);
    if (!rc)
        *domid = r.domid;
    stats->pages = r.pages;
    stats->bytes = in.bytes;
    stats->paused_wall_ns = r.paused_wall_ns;
    stats->total_ns = clock_ns(CLOCK_MONOTONIC) - t0;
    free(r.written);
    free(r.states);
    return rc;
}
