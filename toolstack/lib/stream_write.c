/*
 * stream_write.c - writing a save/migration stream (kiln_stream.h).
 *
 * The writer keeps the running CRC32C of everything it wrote, for the END
 * record, and refuses records out of place (pages before the header,
 * anything after END), so that what it produces always passes the reader.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "kiln_stream.h"

enum { BEFORE_HEADER, IN_STREAM, ENDED };

static int emit(struct kiln_stream_writer *w, const void *buf, size_t len)
{
    int r;

    if (!len)
        return 0;
    r = w->write(w->ctx, buf, len);
    if (r < 0)
        return r;
    w->crc = kiln_crc32c(w->crc, buf, len);
    w->offset += len;
    return 0;
}

/* One record from up to three body pieces (NULL pieces are skipped). */
static int record(struct kiln_stream_writer *w, uint32_t type, const void *a, size_t alen,
                  const void *b, size_t blen, const void *c, size_t clen)
{
    struct kiln_stream_rec rec = { .type = type, .length = alen + blen + clen };
    uint32_t crc;
    int r;

    if (rec.length % 8)
        return -EINVAL;
    crc = kiln_crc32c(0, &rec, sizeof(rec));
    crc = kiln_crc32c(crc, a, alen);
    crc = kiln_crc32c(crc, b, blen);
    crc = kiln_crc32c(crc, c, clen);
    rec.crc = crc;
    if ((r = emit(w, &rec, sizeof(rec))) || (r = emit(w, a, alen)) ||
        (r = emit(w, b, blen)) || (r = emit(w, c, clen)))
        return r;
    w->records++;
    return 0;
}

int kiln_stream_writer_init(struct kiln_stream_writer *w, kiln_stream_write_fn fn, void *ctx)
{
    struct kiln_stream_preamble pre = { .version = KILN_STREAM_VERSION };

    memset(w, 0, sizeof(*w));
    w->write = fn;
    w->ctx = ctx;
    memcpy(pre.magic, KILN_STREAM_MAGIC, sizeof(pre.magic));
    return emit(w, &pre, sizeof(pre));
}

int kiln_stream_write_header(struct kiln_stream_writer *w, const struct kiln_stream_header *h,
                             const struct kiln_stream_cpuid *cpuid,
                             const struct kiln_stream_cpuid *overrides)
{
    size_t nlen = strnlen(h->name, KILN_NAME_MAX);
    int r;

    if (w->state != BEFORE_HEADER || nlen == 0 || nlen >= KILN_NAME_MAX ||
        h->nr_pages != h->memory_kib / 4 || h->memory_kib % 4 || !h->nr_pages ||
        h->nr_pages > KILN_STREAM_PFN_MASK || h->vcpus < 1 || h->vcpus > KILN_MAX_VCPUS ||
        h->nr_cpuid > KILN_STREAM_CPUID_MAX || h->nr_overrides > KILN_STREAM_CPUID_MAX)
        return -EINVAL;
    r = record(w, KILN_REC_HEADER, h, sizeof(*h), cpuid, h->nr_cpuid * sizeof(*cpuid),
               overrides, h->nr_overrides * sizeof(*overrides));
    if (r)
        return r;
    w->nr_pages = h->nr_pages;
    w->vcpus = h->vcpus;
    w->state = IN_STREAM;
    return 0;
}

static int all_zero(const void *page)
{
    const uint64_t *q = page;

    for (size_t i = 0; i < KILN_STREAM_PAGE_SIZE / 8; i++)
        if (q[i])
            return 0;
    return 1;
}

int kiln_stream_write_pages(struct kiln_stream_writer *w, const uint64_t *gfns,
                            const void *const *data, uint32_t n)
{
    struct kiln_stream_pages hdr = { .count = n };
    uint64_t entries[KILN_STREAM_BATCH_MAX];
    struct kiln_stream_rec rec = { .type = KILN_REC_PAGES };
    uint32_t crc, full = 0;
    int r;

    if (w->state != IN_STREAM || n < 1 || n > KILN_STREAM_BATCH_MAX)
        return -EINVAL;
    for (uint32_t i = 0; i < n; i++) {
        if (gfns[i] >= w->nr_pages)
            return -EINVAL;
        entries[i] = gfns[i];
        if (all_zero(data[i]))
            entries[i] |= KILN_STREAM_PFN_ZERO;
        else
            full++;
    }
    /* The data pieces go out one page at a time, straight from the
     * caller's memory, so a batch is never copied. */
    rec.length = sizeof(hdr) + n * sizeof(uint64_t) + (uint64_t)full * KILN_STREAM_PAGE_SIZE;
    crc = kiln_crc32c(0, &rec, sizeof(rec));
    crc = kiln_crc32c(crc, &hdr, sizeof(hdr));
    crc = kiln_crc32c(crc, entries, n * sizeof(uint64_t));
    for (uint32_t i = 0; i < n; i++)
        if (!(entries[i] & KILN_STREAM_PFN_ZERO))
            crc = kiln_crc32c(crc, data[i], KILN_STREAM_PAGE_SIZE);
    rec.crc = crc;
    if ((r = emit(w, &rec, sizeof(rec))) || (r = emit(w, &hdr, sizeof(hdr))) ||
        (r = emit(w, entries, n * sizeof(uint64_t))))
        return r;
    for (uint32_t i = 0; i < n; i++)
        if (!(entries[i] & KILN_STREAM_PFN_ZERO) &&
            (r = emit(w, data[i], KILN_STREAM_PAGE_SIZE)))
            return r;
    w->records++;
    w->pages += n;
    return 0;
}

int kiln_stream_write_vcpu(struct kiln_stream_writer *w, const struct kiln_vcpu_state *s)
{
    int r;

    if (w->state != IN_STREAM || s->vcpu >= w->vcpus || s->size != sizeof(*s) ||
        (w->vcpus_written >> s->vcpu) & 1)
        return -EINVAL;
    r = record(w, KILN_REC_VCPU, s, sizeof(*s), NULL, 0, NULL, 0);
    if (!r)
        w->vcpus_written |= 1ull << s->vcpu;
    return r;
}

int kiln_stream_write_platform(struct kiln_stream_writer *w, uint32_t device, uint32_t version,
                               uint32_t instance, const void *data, uint32_t len)
{
    struct kiln_stream_platform p = { .device = device, .version = version,
                                      .instance = instance, .length = len };
    static const uint8_t zeros[8];

    if (w->state != IN_STREAM || device < 1 || device > KILN_DEV_MAX || version < 1 ||
        len > KILN_STREAM_PLATFORM_MAX)
        return -EINVAL;
    return record(w, KILN_REC_PLATFORM, &p, sizeof(p), data, len, zeros, (8 - len % 8) % 8);
}

int kiln_stream_write_end(struct kiln_stream_writer *w, uint64_t paused_wall_ns,
                          uint64_t paused_for_ns, uint64_t guest_clock_ns)
{
    struct kiln_stream_end e = { .records = w->records, .pages = w->pages,
                                 .paused_wall_ns = paused_wall_ns, .paused_for_ns = paused_for_ns,
                                 .guest_clock_ns = guest_clock_ns, .stream_crc = w->crc };
    int r;

    uint64_t all = w->vcpus == 64 ? ~0ull : (1ull << w->vcpus) - 1;

    if (w->state != IN_STREAM || w->vcpus_written != all)
        return -EINVAL;
    r = record(w, KILN_REC_END, &e, sizeof(e), NULL, 0, NULL, 0);
    if (!r)
        w->state = ENDED;
    return r;
}
