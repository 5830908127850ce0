/*
 * stream_read.c - reading a save/migration stream (kiln_stream.h), record
 * by record, trusting nothing in it.
 *
 * A stream comes from a file anyone could have edited or from a network
 * peer, so each record is read whole into our own buffer and checked (its
 * CRC, its length against its kind, every field, its place in the stream)
 * before the caller sees it; the first failed check ends the read with one
 * line saying which record, at which byte offset, and what was wrong.
 * Nothing in the stream sizes an allocation: the one buffer is as large as
 * the largest record a valid stream can hold.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "kiln_stream.h"

#define PAGES_BODY_MAX (sizeof(struct kiln_stream_pages) + \
                        KILN_STREAM_BATCH_MAX * (8 + (size_t)KILN_STREAM_PAGE_SIZE))
#define HEADER_BODY_MAX (sizeof(struct kiln_stream_header) + \
                         2 * KILN_STREAM_CPUID_MAX * sizeof(struct kiln_stream_cpuid))
#define PLATFORM_BODY_MAX (sizeof(struct kiln_stream_platform) + KILN_STREAM_PLATFORM_MAX)

struct reader {
    kiln_stream_read_fn rd;
    void *rdctx;
    const struct kiln_stream_ops *ops;
    void *ctx;
    char *err;
    size_t errlen;

    uint64_t offset;            /* bytes consumed */
    uint32_t crc;               /* CRC32C of everything consumed before the current record */
    uint64_t rec_offset;        /* where the current record starts */
    uint32_t rec_type;
    int have_header, ended;
    uint64_t nr_pages;
    uint32_t vcpus;
    uint64_t vcpus_seen;
    uint64_t records, pages;
    uint8_t *body;
    struct kiln_stream_page batch[KILN_STREAM_BATCH_MAX];
};

const char *kiln_stream_type_name(uint32_t type)
{
    switch (type) {
    case KILN_REC_HEADER:   return "HEADER";
    case KILN_REC_PAGES:    return "PAGES";
    case KILN_REC_VCPU:     return "VCPU";
    case KILN_REC_PLATFORM: return "PLATFORM";
    case KILN_REC_END:      return "END";
    default:                return "unknown";
    }
}

/* Fails the read: "record KIND at offset N: message". */
__attribute__((format(printf, 3, 4)))
static int fail(struct reader *r, int code, const char *fmt, ...)
{
    char msg[256];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (r->rec_type)
        snprintf(r->err, r->errlen, "record %s at offset %llu: %s",
                 kiln_stream_type_name(r->rec_type), (unsigned long long)r->rec_offset, msg);
    else
        snprintf(r->err, r->errlen, "at offset %llu: %s", (unsigned long long)r->rec_offset, msg);
    return code;
}

/* Reads exactly len bytes; returns how many arrived (short only at the
 * end of the stream) or -errno. */
static long read_full(struct reader *r, void *buf, size_t len)
{
    size_t got = 0;

    while (got < len) {
        long n = r->rd(r->rdctx, (uint8_t *)buf + got, len - got);
        if (n < 0)
            return n;
        if (n == 0)
            break;
        got += (size_t)n;
    }
    r->offset += got;
    return (long)got;
}

static int read_preamble(struct reader *r)
{
    struct kiln_stream_preamble pre;
    long n = read_full(r, &pre, sizeof(pre));

    if (n < 0)
        return fail(r, (int)n, "read error: %s", strerror((int)-n));
    if (n < (long)sizeof(pre))
        return fail(r, -ENODATA, "stream truncated in its preamble (%ld of %zu bytes)", n,
                    sizeof(pre));
    if (memcmp(pre.magic, KILN_STREAM_MAGIC, sizeof(pre.magic)))
        return fail(r, -EPROTO, "bad magic: not a Kiln save/migration stream");
    if (pre.version != KILN_STREAM_VERSION)
        return fail(r, -EPROTO, "stream version %u, this reader knows version %u only",
                    pre.version, KILN_STREAM_VERSION);
    if (pre.flags)
        return fail(r, -EPROTO, "unknown preamble flags 0x%x", pre.flags);
    r->crc = kiln_crc32c(0, &pre, sizeof(pre));
    return 0;
}

/* Smallest and largest body of each kind (a fixed size has min == max). */
static int length_ok(uint32_t type, uint64_t len, uint64_t *min, uint64_t *max)
{
    switch (type) {
    case KILN_REC_HEADER:
        *min = sizeof(struct kiln_stream_header), *max = HEADER_BODY_MAX;
        break;
    case KILN_REC_PAGES:
        *min = sizeof(struct kiln_stream_pages) + 8, *max = PAGES_BODY_MAX;
        break;
    case KILN_REC_VCPU:
        *min = *max = sizeof(struct kiln_vcpu_state);
        break;
    case KILN_REC_PLATFORM:
        *min = sizeof(struct kiln_stream_platform), *max = PLATFORM_BODY_MAX;
        break;
    default:
        *min = *max = sizeof(struct kiln_stream_end);
        break;
    }
    return len >= *min && len <= *max && len % 8 == 0;
}

static int callback_failed(struct reader *r, int rc, const char *msg)
{
    return fail(r, rc < 0 ? rc : -EINVAL, "%s", msg[0] ? msg : "refused by the receiver");
}

/* Domain names as kl's config files allow them: [A-Za-z0-9._-], so a
 * stream cannot put control characters into `kl list`. */
static int name_ok(const char *name)
{
    for (size_t i = 0; name[i]; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-'))
            return 0;
    }
    return 1;
}

static int check_header(struct reader *r, uint64_t len)
{
    const struct kiln_stream_header *h = (const void *)r->body;
    const struct kiln_stream_cpuid *leaves = (const void *)(h + 1);
    char msg[200] = "";
    int rc;

    if (r->have_header)
        return fail(r, -EINVAL, "a second HEADER");
    if (strnlen(h->name, KILN_NAME_MAX) == 0 || strnlen(h->name, KILN_NAME_MAX) == KILN_NAME_MAX)
        return fail(r, -EINVAL, "domain name empty or not NUL-terminated");
    if (!name_ok(h->name))
        return fail(r, -EINVAL, "domain name has characters other than A-Z a-z 0-9 . _ -");
    if (h->nr_cpuid > KILN_STREAM_CPUID_MAX || h->nr_overrides > KILN_STREAM_CPUID_MAX)
        return fail(r, -EINVAL, "%u CPUID leaves and %u overrides (at most %u each)", h->nr_cpuid,
                    h->nr_overrides, KILN_STREAM_CPUID_MAX);
    if (len != sizeof(*h) + ((uint64_t)h->nr_cpuid + h->nr_overrides) * sizeof(*leaves))
        return fail(r, -EINVAL, "length %llu does not match %u CPUID leaves + %u overrides",
                    (unsigned long long)len, h->nr_cpuid, h->nr_overrides);
    if (!h->memory_kib || h->memory_kib % 4 || h->nr_pages != h->memory_kib / 4 ||
        h->nr_pages > KILN_STREAM_PFN_MASK)
        return fail(r, -EINVAL, "memory %llu KiB / %llu pages is not a valid domain size",
                    (unsigned long long)h->memory_kib, (unsigned long long)h->nr_pages);
    if (h->vcpus < 1 || h->vcpus > KILN_MAX_VCPUS)
        return fail(r, -EINVAL, "%u vCPUs (1..%u)", h->vcpus, KILN_MAX_VCPUS);
    if (h->weight < 1 || h->weight > 65535 || h->cap > 6400)
        return fail(r, -EINVAL, "credit weight %u / cap %u out of range", h->weight, h->cap);
    r->have_header = 1;
    r->nr_pages = h->nr_pages;
    r->vcpus = h->vcpus;
    if (r->ops->header &&
        (rc = r->ops->header(r->ctx, h, leaves, leaves + h->nr_cpuid, msg, sizeof(msg))))
        return callback_failed(r, rc, msg);
    return 0;
}

static int check_pages(struct reader *r, uint64_t len)
{
    const struct kiln_stream_pages *p = (const void *)r->body;
    const uint64_t *entries = (const void *)(p + 1);
    const uint8_t *data;
    uint64_t full = 0;
    char msg[200] = "";
    int rc;

    if (p->count < 1 || p->count > KILN_STREAM_BATCH_MAX || p->_pad)
        return fail(r, -EINVAL, "page count %u (1..%u)", p->count, KILN_STREAM_BATCH_MAX);
    if (len < sizeof(*p) + (uint64_t)p->count * 8)
        return fail(r, -EINVAL, "length %llu too short for %u entries", (unsigned long long)len,
                    p->count);
    for (uint32_t i = 0; i < p->count; i++) {
        uint64_t gfn = entries[i] & KILN_STREAM_PFN_MASK;
        if (entries[i] & ~(KILN_STREAM_PFN_MASK | KILN_STREAM_PFN_ZERO))
            return fail(r, -EINVAL, "entry %u (0x%llx) has unknown flag bits", i,
                        (unsigned long long)entries[i]);
        if (gfn >= r->nr_pages)
            return fail(r, -EINVAL, "GFN 0x%llx outside the domain (%llu pages)",
                        (unsigned long long)gfn, (unsigned long long)r->nr_pages);
        if (!(entries[i] & KILN_STREAM_PFN_ZERO))
            full++;
    }
    if (len != sizeof(*p) + (uint64_t)p->count * 8 + full * KILN_STREAM_PAGE_SIZE)
        return fail(r, -EINVAL, "length %llu does not match %u entries, %llu with data",
                    (unsigned long long)len, p->count, (unsigned long long)full);
    data = (const uint8_t *)(entries + p->count);
    for (uint32_t i = 0; i < p->count; i++) {
        r->batch[i].gfn = entries[i] & KILN_STREAM_PFN_MASK;
        r->batch[i].data = NULL;
        if (!(entries[i] & KILN_STREAM_PFN_ZERO)) {
            r->batch[i].data = data;
            data += KILN_STREAM_PAGE_SIZE;
        }
    }
    r->pages += p->count;
    if (r->ops->pages && (rc = r->ops->pages(r->ctx, r->batch, p->count, msg, sizeof(msg))))
        return callback_failed(r, rc, msg);
    return 0;
}

static int check_vcpu(struct reader *r)
{
    const struct kiln_vcpu_state *s = (const void *)r->body;
    char msg[200] = "";
    int rc;

    if (s->size != sizeof(*s))
        return fail(r, -EINVAL, "state size %u, expected %zu", s->size, sizeof(*s));
    if (s->vcpu >= r->vcpus)
        return fail(r, -EINVAL, "vCPU %u out of range (the domain has %u)", s->vcpu, r->vcpus);
    if ((r->vcpus_seen >> s->vcpu) & 1)
        return fail(r, -EINVAL, "vCPU %u's state a second time", s->vcpu);
    if (s->fpu_format != KILN_FPU_FXSAVE || s->fpu_size != KILN_FPU_FXSAVE_SIZE)
        return fail(r, -EINVAL, "FPU area format %u size %u (only FXSAVE, 512 bytes)",
                    s->fpu_format, s->fpu_size);
    r->vcpus_seen |= 1ull << s->vcpu;
    if (r->ops->vcpu && (rc = r->ops->vcpu(r->ctx, s, msg, sizeof(msg))))
        return callback_failed(r, rc, msg);
    return 0;
}

static int check_platform(struct reader *r, uint64_t len)
{
    const struct kiln_stream_platform *p = (const void *)r->body;
    const uint8_t *data = (const uint8_t *)(p + 1);
    char msg[200] = "";
    int rc;

    if (p->device < 1 || p->device > KILN_DEV_MAX)
        return fail(r, -EINVAL, "unknown device %u", p->device);
    if (p->version < 1)
        return fail(r, -EINVAL, "device %u state version 0", p->device);
    if (p->length > KILN_STREAM_PLATFORM_MAX || len != sizeof(*p) + (p->length + 7ull) / 8 * 8)
        return fail(r, -EINVAL, "blob length %u does not match record length %llu", p->length,
                    (unsigned long long)len);
    for (uint64_t i = p->length; i < len - sizeof(*p); i++)
        if (data[i])
            return fail(r, -EINVAL, "non-zero padding after the blob");
    if (r->ops->platform && (rc = r->ops->platform(r->ctx, p, data, msg, sizeof(msg))))
        return callback_failed(r, rc, msg);
    return 0;
}

static int check_end(struct reader *r)
{
    const struct kiln_stream_end *e = (const void *)r->body;
    uint64_t all = r->vcpus == 64 ? ~0ull : (1ull << r->vcpus) - 1;
    char msg[200] = "";
    int rc;

    if (e->_pad)
        return fail(r, -EINVAL, "non-zero padding");
    if (e->records != r->records || e->pages != r->pages)
        return fail(r, -EINVAL, "says %llu records and %llu pages, the stream had %llu and %llu",
                    (unsigned long long)e->records, (unsigned long long)e->pages,
                    (unsigned long long)r->records, (unsigned long long)r->pages);
    if (e->stream_crc != r->crc)
        return fail(r, -EBADMSG, "stream checksum mismatch (END says 0x%08x, computed 0x%08x)",
                    e->stream_crc, r->crc);
    if (r->vcpus_seen != all) {
        unsigned int v = 0;
        while ((r->vcpus_seen >> v) & 1)
            v++;
        return fail(r, -EINVAL, "the stream ends without vCPU %u's state", v);
    }
    if (r->ops->end && (rc = r->ops->end(r->ctx, e, msg, sizeof(msg))))
        return callback_failed(r, rc, msg);
    r->ended = 1;
    return 0;
}

/* One record: 1 read and checked, 0 clean end of stream, < 0 error. */
static int next_record(struct reader *r)
{
    struct kiln_stream_rec rec;
    uint64_t min, max;
    uint32_t crc;
    long n;

    r->rec_offset = r->offset;
    r->rec_type = 0;
    n = read_full(r, &rec, sizeof(rec));
    if (n < 0)
        return fail(r, (int)n, "read error: %s", strerror((int)-n));
    if (n == 0) {
        if (r->ended)
            return 0;
        return fail(r, -ENODATA, "the stream ends without an END record (truncated?)");
    }
    if (n < (long)sizeof(rec))
        return fail(r, -ENODATA, "truncated record header (%ld of %zu bytes)", n, sizeof(rec));
    if (rec.type < KILN_REC_HEADER || rec.type > KILN_REC_END)
        return fail(r, -EINVAL, "unknown record type %u", rec.type);
    r->rec_type = rec.type;
    if (r->ended)
        return fail(r, -EINVAL, rec.type == KILN_REC_END ? "a second END record"
                                                        : "record after the END record");
    if (!r->have_header && rec.type != KILN_REC_HEADER)
        return fail(r, -EINVAL, "comes before the HEADER");
    if (!length_ok(rec.type, rec.length, &min, &max))
        return fail(r, -EINVAL, "bad length %llu (%llu..%llu, a multiple of 8)",
                    (unsigned long long)rec.length, (unsigned long long)min,
                    (unsigned long long)max);
    n = read_full(r, r->body, rec.length);
    if (n < 0)
        return fail(r, (int)n, "read error: %s", strerror((int)-n));
    if ((uint64_t)n < rec.length)
        return fail(r, -ENODATA, "truncated: %ld of %llu body bytes", n,
                    (unsigned long long)rec.length);
    crc = rec.crc;
    rec.crc = 0;
    if (kiln_crc32c(kiln_crc32c(0, &rec, sizeof(rec)), r->body, rec.length) != crc)
        return fail(r, -EBADMSG, "record CRC mismatch (corrupted)");
    rec.crc = crc;

    int rc;
    switch (rec.type) {
    case KILN_REC_HEADER:   rc = check_header(r, rec.length); break;
    case KILN_REC_PAGES:    rc = check_pages(r, rec.length); break;
    case KILN_REC_VCPU:     rc = check_vcpu(r); break;
    case KILN_REC_PLATFORM: rc = check_platform(r, rec.length); break;
    default:                rc = check_end(r); break;
    }
    if (rc)
        return rc;
    if (rec.type != KILN_REC_END) {
        r->crc = kiln_crc32c(r->crc, &rec, sizeof(rec));
        r->crc = kiln_crc32c(r->crc, r->body, rec.length);
        r->records++;
    }
    return 1;
}

int kiln_stream_read(kiln_stream_read_fn rd, void *rdctx, const struct kiln_stream_ops *ops,
                     void *ctx, char *err, size_t errlen)
{
    static const struct kiln_stream_ops none;
    struct reader *r = calloc(1, sizeof(*r));
    int rc;

    if (!r) {
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    r->body = malloc(PAGES_BODY_MAX);
    if (!r->body) {
        free(r);
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    r->rd = rd;
    r->rdctx = rdctx;
    r->ops = ops ? ops : &none;
    r->ctx = ctx;
    r->err = err;
    r->errlen = errlen;
    if (errlen)
        err[0] = '\0';
    rc = read_preamble(r);
    while (!rc) {
        rc = next_record(r);
        if (rc == 1)
            rc = 0;
        else if (rc == 0)
            break;
    }
    free(r->body);
    free(r);
    return rc;
}

long kiln_stream_mem_read(void *ctx, void *buf, size_t len)
{
    struct kiln_stream_membuf *m = ctx;
    size_t n = m->len - m->pos < len ? m->len - m->pos : len;

    if (n) {
        memcpy(buf, m->data + m->pos, n);
        m->pos += n;
    }
    return (long)n;
}
