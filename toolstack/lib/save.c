/*
 * save.c - a domain into a save/migration stream (kiln_migrate.h).
 *
 * Non-live: pause, send every page and the vCPU states.  Live: log-dirty
 * on, then pre-copy rounds with the guest running (round 1 every page,
 * later rounds the pages dirtied meanwhile), until kiln_precopy_next says
 * stop; the last round's pages and the state go out with the guest paused.
 * Reading the dirty bitmap needs the guest stopped for an instant (the
 * hypervisor then write-protects those pages again without a cross-CPU
 * flush), so each round begins with a short pause.
 *
 * Pages are copied out with READ_MEM, runs of consecutive GFNs at a time,
 * and written as PAGES records of up to 512 (zero pages without data).
 * On any failure log-dirty is switched off again and a guest that was
 * running is unpaused: the source copy goes on as if nothing happened.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "kiln_migrate.h"

#define PAUSE_TIMEOUT_MS 5000
#define SEND_BATCH  512    /* pages per PAGES record */

struct save {
    kiln_handle *h;
    uint32_t domid;
    uint64_t nr_pages;
    uint32_t vcpus;
    struct kiln_stream_writer w;
    uint64_t *gfns;            /* the pages of the current round */
    uint8_t *bits;             /* one READ_CLEAN batch */
    uint8_t *copy;             /* one run of pages, copied out of the guest */
    char *err;
    size_t errlen;
};

static uint64_t clock_ns(clockid_t id)
{
    struct timespec t;

    clock_gettime(id, &t);
    return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

__attribute__((format(printf, 3, 4)))
static int fail(struct save *s, int code, const char *fmt, ...)
{
    char msg[200];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    snprintf(s->err, s->errlen, "%s: %s", msg, strerror(-code));
    return code;
}

/* Sends count pages listed in s->gfns: read in runs of consecutive GFNs
 * (KILN_DOMCTL_READ_MEM, up to KILN_READ_MEM_MAX a call) into s->copy, then
 * written SEND_BATCH at a time as one PAGES record.  The copy is also
 * what makes a running guest's pages safe to send: the record's CRC and
 * data describe one snapshot (a page written after its copy is dirty again
 * and goes in the next round). */
static int send_pages(struct save *s, size_t count)
{
    const void *data[SEND_BATCH];

    for (size_t done = 0; done < count;) {
        size_t n = count - done < SEND_BATCH ? count - done : SEND_BATCH;
        const uint64_t *g = s->gfns + done;
        int r;

        for (size_t i = 0; i < n;) {
            uint32_t run = 1;
            while (i + run < n && run < KILN_READ_MEM_MAX && g[i + run] == g[i] + run)
                run++;
            r = kiln_read_mem(s->h, s->domid, g[i], run, s->copy + i * KILN_PAGE_SIZE);
            if (r < 0)
                return fail(s, r, "reading GFN 0x%llx", (unsigned long long)g[i]);
            i += run;
        }
        for (size_t i = 0; i < n; i++)
            data[i] = s->copy + i * KILN_PAGE_SIZE;
        r = kiln_stream_write_pages(&s->w, g, data, (uint32_t)n);
        if (r < 0)
            return fail(s, r, "sending %zu pages", count);
        done += n;
    }
    return 0;
}

/* Reads and clears the whole dirty bitmap into s->gfns; the count or -errno. */
static long collect_dirty(struct save *s)
{
    size_t n = 0;

    for (uint64_t start = 0; start < s->nr_pages;) {
        uint64_t covered;
        int r = kiln_log_dirty_read_clean(s->h, s->domid, start, KILN_LOG_DIRTY_BATCH, s->bits,
                                          &covered);
        if (r < 0)
            return fail(s, r, "reading the dirty bitmap at GFN 0x%llx", (unsigned long long)start);
        if (!covered)
            break;
        for (uint64_t i = 0; i < covered; i++)
            if ((s->bits[i / 8] >> (i % 8)) & 1)
                s->gfns[n++] = start + i;
        start += covered;
    }
    return (long)n;
}

static int write_header(struct save *s, const struct kiln_dominfo *info)
{
    struct kiln_stream_header hdr = { .memory_kib = info->memory_kib, .nr_pages = s->nr_pages,
                                      .vcpus = info->vcpus, .flags = info->flags };
    struct kiln_stream_cpuid leaves[KILN_CPUID_HOST_LEAVES];
    struct kiln_sysctl_physinfo pi;
    int r;

    memcpy(hdr.name, info->name, sizeof(hdr.name));
    hdr.name[KILN_NAME_MAX - 1] = '\0';
    if ((r = kiln_sched_get(s->h, s->domid, &hdr.weight, &hdr.cap)) < 0)
        return fail(s, r, "reading the credit parameters");
    if ((r = kiln_physinfo(s->h, &pi)) < 0)
        return fail(s, r, "reading physinfo");
    hdr.tsc_khz = pi.cpu_khz;
    hdr.nr_cpuid = (uint32_t)kiln_cpuid_host_leaves(leaves);
    if ((r = kiln_stream_write_header(&s->w, &hdr, leaves, NULL)) < 0)
        return fail(s, r, "writing the header");
    return 0;
}

static int send_state(struct save *s)
{
    for (uint32_t v = 0; v < s->vcpus; v++) {
        struct kiln_vcpu_state st;
        int r = kiln_vcpu_state_get(s->h, s->domid, v, &st);
        if (r < 0)
            return fail(s, r, "reading vCPU %u's state", v);
        if ((r = kiln_stream_write_vcpu(&s->w, &st)) < 0)
            return fail(s, r, "writing vCPU %u's state", v);
    }
    return 0;
}

/* The live rounds; returns with the guest paused and the last round's
 * pages in s->gfns (their count in *last). */
static int precopy(struct save *s, const struct kiln_save_opts *o, struct kiln_save_stats *st,
                   size_t *last)
{
    struct kiln_precopy pc;
    int r = kiln_precopy_init(&pc, &o->policy);

    if (r < 0)
        return fail(s, r, "pre-copy policy");
    if ((r = kiln_log_dirty_enable(s->h, s->domid)) < 0)
        return fail(s, r, "enabling log-dirty mode");
    if ((r = kiln_domain_unpause(s->h, s->domid)) < 0)
        return fail(s, r, "resuming the guest for pre-copy");
    kiln_precopy_next(&pc, 0);
    for (uint64_t g = 0; g < s->nr_pages; g++)
        s->gfns[g] = g;
    if ((r = send_pages(s, s->nr_pages)) < 0)
        return r;
    kiln_precopy_sent(&pc, s->nr_pages);
    for (;;) {
        if (o->round_sent && (r = o->round_sent(o->round_ctx)) < 0)
            return fail(s, r, "sending round %u", pc.rounds);
        if ((r = kiln_domain_pause_wait(s->h, s->domid, PAUSE_TIMEOUT_MS)) < 0)
            return fail(s, r, "pausing the guest after round %u", pc.rounds);
        long n = collect_dirty(s);
        if (n < 0)
            return (int)n;
        if (kiln_precopy_next(&pc, (uint64_t)n) == KILN_PRECOPY_STOP_AND_COPY) {
            kiln_precopy_sent(&pc, (uint64_t)n);
            *last = (size_t)n;
            break;
        }
        if ((r = kiln_domain_unpause(s->h, s->domid)) < 0)
            return fail(s, r, "resuming the guest for round %u", pc.rounds);
        if ((r = send_pages(s, (size_t)n)) < 0)
            return r;
        kiln_precopy_sent(&pc, (uint64_t)n);
    }
    st->rounds = pc.rounds;
    memcpy(st->pages, pc.pages, sizeof(st->pages));
    return 0;
}

static int save_paused_or_live(struct save *s, const struct kiln_save_opts *o,
                               struct kiln_save_stats *st)
{
    size_t last = 0;
    int r;

    if (o->live) {
        if ((r = precopy(s, o, st, &last)) < 0)
            return r;
    } else {
        for (uint64_t g = 0; g < s->nr_pages; g++)
            s->gfns[g] = g;
        last = s->nr_pages;
        st->pages[0] = last;
    }
    /* From here the guest is paused: this is the downtime. */
    st->paused_wall_ns = clock_ns(CLOCK_REALTIME);
    uint64_t t0 = clock_ns(CLOCK_MONOTONIC), guest_clock;
    if ((r = kiln_domain_clock_get(s->h, s->domid, &guest_clock)) < 0)
        return fail(s, r, "reading the guest's clock");
    if ((r = send_pages(s, last)) < 0 || (r = send_state(s)) < 0)
        return r;
    if ((r = kiln_stream_write_end(&s->w, st->paused_wall_ns, clock_ns(CLOCK_MONOTONIC) - t0,
                                   guest_clock)) < 0)
        return fail(s, r, "writing the END record");
    st->paused_ns = clock_ns(CLOCK_MONOTONIC) - t0;
    return 0;
}

int kiln_domain_save(kiln_handle *h, uint32_t domid, kiln_stream_write_fn fn, void *ctx,
                     const struct kiln_save_opts *opts, struct kiln_save_stats *stats,
                     char *err, size_t errlen)
{
    struct save s = { .h = h, .domid = domid, .err = err, .errlen = errlen };
    struct kiln_save_opts none = { 0 };
    struct kiln_dominfo info;
    uint64_t t0 = clock_ns(CLOCK_MONOTONIC);
    int r, was_running;

    if (!opts)
        opts = &none;
    memset(stats, 0, sizeof(*stats));
    if ((r = kiln_domain_info(h, domid, &info)) < 0)
        return fail(&s, r, "domain %u", domid);
    if (info.state != KILN_DOMSTATE_RUNNING && info.state != KILN_DOMSTATE_PAUSED)
        return fail(&s, -EBUSY, "domain %u is %s", domid, kiln_domstate_name(info.state));
    was_running = info.state == KILN_DOMSTATE_RUNNING;
    s.nr_pages = info.memory_kib / 4;
    s.vcpus = info.vcpus;
    s.gfns = malloc(s.nr_pages * sizeof(*s.gfns));
    s.bits = malloc(KILN_LOG_DIRTY_BATCH / 8);
    s.copy = malloc((size_t)SEND_BATCH * KILN_PAGE_SIZE);
    if (!s.gfns || !s.bits || !s.copy) {
        r = fail(&s, -ENOMEM, "buffers for %llu pages", (unsigned long long)s.nr_pages);
        goto out;
    }
    if ((r = kiln_domain_pause_wait(h, domid, PAUSE_TIMEOUT_MS)) < 0) {
        fail(&s, r, "pausing domain %u", domid);
        goto undo;
    }
    if ((r = kiln_stream_writer_init(&s.w, fn, ctx)) < 0) {
        fail(&s, r, "writing the stream");
        goto undo;
    }
    if ((r = write_header(&s, &info)) < 0)
        goto undo;
    if ((r = save_paused_or_live(&s, opts, stats)) < 0)
        goto undo;
    if (opts->live)
        kiln_log_dirty_disable(h, domid);
    for (uint32_t i = 0; i <= KILN_PRECOPY_MAX_ROUNDS; i++)
        stats->pages_total += stats->pages[i];
    stats->bytes = s.w.offset;
    stats->total_ns = clock_ns(CLOCK_MONOTONIC) - t0;
    goto out;

undo:
    /* Whatever failed, the guest goes on where it was.  Log-dirty goes
     * off only with the guest stopped (the hypervisor's rule). */
    if (opts->live && kiln_domain_pause_wait(h, domid, PAUSE_TIMEOUT_MS) == 0)
        kiln_log_dirty_disable(h, domid);
    if (was_running)
        kiln_domain_unpause(h, domid);
out:
    free(s.gfns);
    free(s.bits);
    free(s.copy);
    return r;
}
