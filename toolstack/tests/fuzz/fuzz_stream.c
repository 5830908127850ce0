/*
 * fuzz_stream.c - libFuzzer target for the stream reader (lib/stream_read.c).
 *
 * Each input is read twice: as it is, and after its record CRCs and the
 * END record's totals were recomputed (as a forger would), so mutations
 * reach the field checks behind the checksums instead of stopping at them.
 * The callbacks touch every byte they are given, so AddressSanitizer sees
 * any pointer the reader hands out beyond its record.  A valid stream to
 * start from comes from mkseed.c.
 */
#include <stdlib.h>
#include <string.h>
#include "kiln_stream.h"

static volatile uint8_t sink;

static void touch(const void *p, size_t len)
{
    const uint8_t *b = p;
    uint8_t x = 0;
    for (size_t i = 0; i < len; i++)
        x ^= b[i];
    sink = x;
}

static int on_header(void *ctx, const struct kiln_stream_header *h,
                     const struct kiln_stream_cpuid *cpuid, const struct kiln_stream_cpuid *ovr,
                     char *err, size_t errlen)
{
    (void)ctx, (void)err, (void)errlen;
    touch(h, sizeof(*h));
    touch(cpuid, h->nr_cpuid * sizeof(*cpuid));
    touch(ovr, h->nr_overrides * sizeof(*ovr));
    return 0;
}

static int on_pages(void *ctx, const struct kiln_stream_page *p, uint32_t n, char *err,
                    size_t errlen)
{
    (void)ctx, (void)err, (void)errlen;
    for (uint32_t i = 0; i < n; i++)
        if (p[i].data)
            touch(p[i].data, KILN_STREAM_PAGE_SIZE);
    return 0;
}

static int on_vcpu(void *ctx, const struct kiln_vcpu_state *s, char *err, size_t errlen)
{
    (void)ctx, (void)err, (void)errlen;
    touch(s, sizeof(*s));
    return 0;
}

static int on_platform(void *ctx, const struct kiln_stream_platform *p, const void *data,
                       char *err, size_t errlen)
{
    (void)ctx, (void)err, (void)errlen;
    touch(data, p->length);
    return 0;
}

static const struct kiln_stream_ops ops = { on_header, on_pages, on_vcpu, on_platform, NULL };

/* Recomputes CRCs and END totals in place, stopping at the first record
 * that does not fit (the reader then reports it). */
static void forge(uint8_t *buf, size_t len)
{
    size_t off = sizeof(struct kiln_stream_preamble);
    uint32_t stream;
    uint64_t records = 0, pages = 0;

    if (len < off)
        return;
    stream = kiln_crc32c(0, buf, off);
    while (len - off >= sizeof(struct kiln_stream_rec)) {
        struct kiln_stream_rec rec;
        memcpy(&rec, buf + off, sizeof(rec));
        if (rec.length > len - off - sizeof(rec))
            return;
        uint8_t *body = buf + off + sizeof(rec);
        if (rec.type == KILN_REC_END && rec.length >= sizeof(struct kiln_stream_end)) {
            struct kiln_stream_end e;
            memcpy(&e, body, sizeof(e));
            e.stream_crc = stream;
            e.records = records;
            e.pages = pages;
            memcpy(body, &e, sizeof(e));
        } else if (rec.type == KILN_REC_PAGES && rec.length >= sizeof(struct kiln_stream_pages)) {
            struct kiln_stream_pages p;
            memcpy(&p, body, sizeof(p));
            pages += p.count;
        }
        rec.crc = 0;
        rec.crc = kiln_crc32c(kiln_crc32c(0, &rec, sizeof(rec)), body, rec.length);
        memcpy(buf + off, &rec, sizeof(rec));
        if (rec.type != KILN_REC_END) {
            stream = kiln_crc32c(kiln_crc32c(stream, &rec, sizeof(rec)), body, rec.length);
            records++;
        }
        off += sizeof(rec) + rec.length;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[300];
    struct kiln_stream_membuf src = { .data = data, .len = size };
    uint8_t *copy;

    kiln_stream_read(kiln_stream_mem_read, &src, &ops, NULL, err, sizeof(err));
    copy = malloc(size ? size : 1);
    if (!copy)
        return 0;
    memcpy(copy, data, size);
    forge(copy, size);
    src = (struct kiln_stream_membuf){ .data = copy, .len = size };
    kiln_stream_read(kiln_stream_mem_read, &src, &ops, NULL, err, sizeof(err));
    free(copy);
    return 0;
}
