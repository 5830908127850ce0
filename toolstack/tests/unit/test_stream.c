/*
 * test_stream.c - the save/migration stream (lib/stream_*.c): CRC32C, a
 * writer/reader round trip carrying every record kind, the writer's
 * refusals, and every corruption the reader must catch, each with its
 * error code and a message naming the record and its offset: truncation at
 * every byte of a small stream, bad magic, wrong version, bad lengths,
 * out-of-range fields, GFN out of range, duplicate END, record after END,
 * record and stream checksum mismatches.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "kiln_stream.h"
#include "mem_sink.h"

/* ---- building streams in memory ------------------------------------------- */

static uint8_t page_a[4096], page_b[4096], page_zero[4096];

static struct kiln_stream_header header(uint32_t vcpus, uint32_t ncpuid)
{
    struct kiln_stream_header h = { .memory_kib = 64, .nr_pages = 16, .vcpus = vcpus,
                                    .weight = 256, .tsc_khz = 2000000, .nr_cpuid = ncpuid,
                                    .nr_overrides = 1 };
    strcpy(h.name, "guest");
    return h;
}

static const struct kiln_stream_cpuid leaves[2] = {
    { .leaf = 0, .eax = 0xd, .ebx = 0x68747541 },
    { .leaf = 1, .ecx = 0x80000001, .edx = 0x178bfbff },
};

static struct kiln_vcpu_state vcpu_state(uint32_t id)
{
    struct kiln_vcpu_state s;

    memset(&s, 0, sizeof(s));
    s.vcpu = id;
    s.size = sizeof(s);
    s.rip = 0x100000 + id;
    s.rflags = 2;
    s.cr0 = 0x11;
    s.r15 = 0x1515151515151515ull + id;
    s.cs.attr = 0xa9b;
    s.fpu_format = KILN_FPU_FXSAVE;
    s.fpu_size = KILN_FPU_FXSAVE_SIZE;
    s.fpu[24] = 0x80;
    s.fpu[25] = 0x1f;
    return s;
}

static const uint8_t blob[5] = { 1, 2, 3, 4, 5 };

/* Offsets of the records of the standard stream, filled by build(). */
static size_t off_header, off_pages, off_vcpu0, off_vcpu1, off_platform, off_end;

/* HEADER, PAGES (a, zero, b), VCPU 0, VCPU 1, PLATFORM, END. */
static struct mem build(void)
{
    struct mem m = { 0 };
    struct kiln_stream_writer w;
    struct kiln_stream_header h = header(2, 2);
    struct kiln_stream_cpuid ovr = { .leaf = 7, .ebx = 0x1 };
    uint64_t gfns[3] = { 0, 5, 15 };
    const void *data[3] = { page_a, page_zero, page_b };
    struct kiln_vcpu_state s0 = vcpu_state(0), s1 = vcpu_state(1);

    assert_int_equal(kiln_stream_writer_init(&w, mem_write, &m), 0);
    off_header = m.len;
    assert_int_equal(kiln_stream_write_header(&w, &h, leaves, &ovr), 0);
    off_pages = m.len;
    assert_int_equal(kiln_stream_write_pages(&w, gfns, data, 3), 0);
    off_vcpu0 = m.len;
    assert_int_equal(kiln_stream_write_vcpu(&w, &s0), 0);
    off_vcpu1 = m.len;
    assert_int_equal(kiln_stream_write_vcpu(&w, &s1), 0);
    off_platform = m.len;
    assert_int_equal(kiln_stream_write_platform(&w, KILN_DEV_UART, 1, 0, blob, sizeof(blob)), 0);
    off_end = m.len;
    assert_int_equal(kiln_stream_write_end(&w, 1234, 56, 78), 0);
    return m;
}

/* Recomputes every record's CRC and the END record's totals and stream
 * CRC, so a test can change a field and reach the check behind the CRCs. */
static void fix_crcs(struct mem *m)
{
    size_t off = sizeof(struct kiln_stream_preamble);
    uint32_t stream = kiln_crc32c(0, m->buf, off);
    uint64_t records = 0, pages = 0;

    while (off + sizeof(struct kiln_stream_rec) <= m->len) {
        struct kiln_stream_rec *rec = (void *)(m->buf + off);
        uint8_t *body = (uint8_t *)(rec + 1);
        if (off + sizeof(*rec) + rec->length > m->len)
            break;
        if (rec->type == KILN_REC_END) {
            struct kiln_stream_end *e = (void *)body;
            e->stream_crc = stream;
            e->records = records;
            e->pages = pages;
        } else if (rec->type == KILN_REC_PAGES) {
            pages += ((struct kiln_stream_pages *)body)->count;
        }
        rec->crc = 0;
        rec->crc = kiln_crc32c(0, rec, sizeof(*rec) + rec->length);
        if (rec->type != KILN_REC_END) {
            stream = kiln_crc32c(stream, rec, sizeof(*rec) + rec->length);
            records++;
        }
        off += sizeof(*rec) + rec->length;
    }
}

/* ---- what the reader hands the caller ----------------------------------------- */

struct seen {
    int headers, vcpus, platforms, ends;
    uint32_t npages, nzero;
    char name[KILN_NAME_MAX];
    uint32_t ncpuid, novr, ovr_leaf;
    uint64_t gfns[8];
    int page_ok;
    uint64_t rip[2], r15[2];
    uint32_t dev, dev_len;
    uint8_t dev_data[8];
    uint64_t paused, paused_for, clock;
    int refuse;                   /* record kind whose callback refuses */
};

static int cb_header(void *ctx, const struct kiln_stream_header *h,
                     const struct kiln_stream_cpuid *cpuid,
                     const struct kiln_stream_cpuid *ovr, char *err, size_t errlen)
{
    struct seen *s = ctx;
    s->headers++;
    strcpy(s->name, h->name);
    s->ncpuid = h->nr_cpuid;
    s->novr = h->nr_overrides;
    assert_memory_equal(cpuid, leaves, sizeof(leaves));
    s->ovr_leaf = ovr[0].leaf;
    if (s->refuse == KILN_REC_HEADER) {
        snprintf(err, errlen, "CPUID leaf 7 ebx: the source has bits the destination lacks");
        return -EOPNOTSUPP;
    }
    return 0;
}

static int cb_pages(void *ctx, const struct kiln_stream_page *p, uint32_t n, char *err,
                    size_t errlen)
{
    struct seen *s = ctx;
    (void)err;
    (void)errlen;
    s->page_ok = 1;
    for (uint32_t i = 0; i < n; i++) {
        s->gfns[s->npages++] = p[i].gfn;
        if (!p[i].data)
            s->nzero++;
        else if (memcmp(p[i].data, p[i].gfn == 0 ? page_a : page_b, 4096))
            s->page_ok = 0;
    }
    return 0;
}

static int cb_vcpu(void *ctx, const struct kiln_vcpu_state *st, char *err, size_t errlen)
{
    struct seen *s = ctx;
    (void)err;
    (void)errlen;
    s->rip[st->vcpu] = st->rip;
    s->r15[st->vcpu] = st->r15;
    s->vcpus++;
    return 0;
}

static int cb_platform(void *ctx, const struct kiln_stream_platform *p, const void *data,
                       char *err, size_t errlen)
{
    struct seen *s = ctx;
    (void)err;
    (void)errlen;
    s->platforms++;
    s->dev = p->device;
    s->dev_len = p->length;
    memcpy(s->dev_data, data, p->length < 8 ? p->length : 8);
    return 0;
}

static int cb_end(void *ctx, const struct kiln_stream_end *e, char *err, size_t errlen)
{
    struct seen *s = ctx;
    (void)err;
    (void)errlen;
    s->ends++;
    s->paused = e->paused_wall_ns;
    s->paused_for = e->paused_for_ns;
    s->clock = e->guest_clock_ns;
    return 0;
}

static const struct kiln_stream_ops ops = { cb_header, cb_pages, cb_vcpu, cb_platform, cb_end };
static char err[512];

static int read_mem(const struct mem *m, size_t len, struct seen *s)
{
    struct kiln_stream_membuf src = { .data = m->buf, .len = len };
    return kiln_stream_read(kiln_stream_mem_read, &src, &ops, s, err, sizeof(err));
}

static void expect(const struct mem *m, int code, const char *text)
{
    struct seen s = { 0 };
    int rc = read_mem(m, m->len, &s);
    if (rc != code || !strstr(err, text))
        fail_msg("expected %d \"%s\", got %d \"%s\"", code, text, rc, err);
}

static int setup(void **state)
{
    (void)state;
    for (int i = 0; i < 4096; i++) {
        page_a[i] = (uint8_t)(i * 7 + 1);
        page_b[i] = (uint8_t)(i ^ 0x5a);
    }
    return 0;
}

/* ---- tests ------------------------------------------------------------------- */

static void crc32c_known_values(void **state)
{
    uint8_t buf[1000];
    (void)state;
    assert_int_equal(kiln_crc32c(0, "123456789", 9), 0xe3069283);
    assert_int_equal(kiln_crc32c_sw(0, "123456789", 9), 0xe3069283);
    assert_int_equal(kiln_crc32c(0, "", 0), 0);
    for (size_t i = 0; i < sizeof(buf); i++)
        buf[i] = (uint8_t)(i * 31 + 7);
    /* Every length and alignment: the hardware path equals the table. */
    for (size_t start = 0; start < 9; start++)
        for (size_t len = 0; len + start <= 64; len++)
            assert_int_equal(kiln_crc32c(0, buf + start, len), kiln_crc32c_sw(0, buf + start, len));
    /* Continuing a CRC equals computing it in one go. */
    assert_int_equal(kiln_crc32c(kiln_crc32c(0, buf, 333), buf + 333, 667), kiln_crc32c(0, buf, 1000));
}

static void round_trip_every_record_kind(void **state)
{
    struct mem m = build();
    struct seen s = { 0 };
    (void)state;
    assert_int_equal(read_mem(&m, m.len, &s), 0);
    assert_string_equal(err, "");
    assert_int_equal(s.headers, 1);
    assert_string_equal(s.name, "guest");
    assert_int_equal(s.ncpuid, 2);
    assert_int_equal(s.novr, 1);
    assert_int_equal(s.ovr_leaf, 7);
    assert_int_equal(s.npages, 3);
    assert_int_equal(s.nzero, 1);
    assert_int_equal(s.gfns[0], 0);
    assert_int_equal(s.gfns[1], 5);
    assert_int_equal(s.gfns[2], 15);
    assert_true(s.page_ok);
    assert_int_equal(s.vcpus, 2);
    assert_int_equal(s.rip[0], 0x100000);
    assert_int_equal(s.rip[1], 0x100001);
    assert_int_equal(s.r15[1], 0x1515151515151516ull);
    assert_int_equal(s.platforms, 1);
    assert_int_equal(s.dev, KILN_DEV_UART);
    assert_int_equal(s.dev_len, 5);
    assert_memory_equal(s.dev_data, blob, 5);
    assert_int_equal(s.ends, 1);
    assert_int_equal(s.paused, 1234);
    assert_int_equal(s.paused_for, 56);
    assert_int_equal(s.clock, 78);
    /* The zero page costs no data: preamble + 6 records, 2 pages of data. */
    assert_true(m.len < 16 + 6 * 16 + 2 * 4096 + 2 * sizeof(struct kiln_vcpu_state) + 400);
    free(m.buf);
}

static void writer_refuses_out_of_place_records(void **state)
{
    struct mem m = { 0 };
    struct kiln_stream_writer w;
    struct kiln_stream_header h = header(1, 0), bad = h;
    struct kiln_vcpu_state s = vcpu_state(0), s1 = vcpu_state(1);
    uint64_t gfn = 0, far = 16;
    const void *data = page_a;
    (void)state;

    assert_int_equal(kiln_stream_writer_init(&w, mem_write, &m), 0);
    assert_int_equal(kiln_stream_write_pages(&w, &gfn, &data, 1), -EINVAL);   /* before HEADER */
    assert_int_equal(kiln_stream_write_vcpu(&w, &s), -EINVAL);
    bad.nr_pages = 17;
    assert_int_equal(kiln_stream_write_header(&w, &bad, NULL, NULL), -EINVAL);
    assert_int_equal(kiln_stream_write_header(&w, &h, NULL, leaves), 0);
    assert_int_equal(kiln_stream_write_header(&w, &h, NULL, leaves), -EINVAL);  /* twice */
    assert_int_equal(kiln_stream_write_pages(&w, &far, &data, 1), -EINVAL);    /* GFN range */
    assert_int_equal(kiln_stream_write_pages(&w, &gfn, &data, 0), -EINVAL);
    assert_int_equal(kiln_stream_write_end(&w, 0, 0, 0), -EINVAL);      /* vCPU 0 missing */
    assert_int_equal(kiln_stream_write_vcpu(&w, &s1), -EINVAL);   /* only 1 vCPU */
    assert_int_equal(kiln_stream_write_vcpu(&w, &s), 0);
    assert_int_equal(kiln_stream_write_vcpu(&w, &s), -EINVAL);    /* twice */
    assert_int_equal(kiln_stream_write_platform(&w, 0, 1, 0, blob, 5), -EINVAL);
    assert_int_equal(kiln_stream_write_platform(&w, KILN_DEV_PIT, 0, 0, blob, 5), -EINVAL);
    assert_int_equal(kiln_stream_write_end(&w, 0, 0, 0), 0);
    assert_int_equal(kiln_stream_write_pages(&w, &gfn, &data, 1), -EINVAL);   /* after END */
    assert_int_equal(kiln_stream_write_end(&w, 0, 0, 0), -EINVAL);
    free(m.buf);
}

static void truncation_at_every_offset(void **state)
{
    struct mem m = build();
    (void)state;
    for (size_t len = 0; len < m.len; len++) {
        struct seen s = { 0 };
        int rc = read_mem(&m, len, &s);
        if (rc != -ENODATA)
            fail_msg("truncated at %zu of %zu: got %d \"%s\"", len, m.len, rc, err);
        assert_int_equal(s.ends, 0);
    }
    /* At a record boundary the message says the END record is missing. */
    struct seen s = { 0 };
    assert_int_equal(read_mem(&m, off_end, &s), -ENODATA);
    assert_non_null(strstr(err, "without an END record"));
    char want[64];
    snprintf(want, sizeof(want), "record PAGES at offset %zu: truncated", off_pages);
    assert_int_equal(read_mem(&m, off_pages + 100, &s), -ENODATA);
    assert_non_null(strstr(err, want));
    free(m.buf);
}

static void bad_magic_and_version(void **state)
{
    struct mem m = build();
    (void)state;
    m.buf[0] = 'X';
    expect(&m, -EPROTO, "bad magic");
    m.buf[0] = 'K';
    ((struct kiln_stream_preamble *)m.buf)->version = 2;
    expect(&m, -EPROTO, "stream version 2, this reader knows version 1");
    ((struct kiln_stream_preamble *)m.buf)->version = 1;
    ((struct kiln_stream_preamble *)m.buf)->flags = 1;
    expect(&m, -EPROTO, "unknown preamble flags");
    free(m.buf);
}

static void bad_lengths(void **state)
{
    struct mem m = build();
    struct kiln_stream_rec *vrec = (void *)(m.buf + off_vcpu0);
    struct kiln_stream_rec *prec = (void *)(m.buf + off_pages);
    char want[80];
    (void)state;

    vrec->length -= 8;                       /* a fixed-size record one word short */
    snprintf(want, sizeof(want), "record VCPU at offset %zu: bad length", off_vcpu0);
    expect(&m, -EINVAL, want);
    vrec->length += 8;
    prec->length += 4;                       /* not a multiple of 8 */
    expect(&m, -EINVAL, "record PAGES at offset");
    prec->length = 1ull << 40;               /* huge: refused before any read or allocation */
    expect(&m, -EINVAL, "bad length 1099511627776");
    prec->length -= (1ull << 40) - 8 - 24 - 4096;   /* one page of data missing */
    fix_crcs(&m);
    expect(&m, -EINVAL, "does not match 3 entries, 2 with data");
    free(m.buf);
}

static void pages_checks(void **state)
{
    struct mem m = build();
    struct kiln_stream_pages *p = (void *)(m.buf + off_pages + 16);
    uint64_t *e = (uint64_t *)(p + 1);
    char want[80];
    (void)state;

    e[2] = 16;                               /* GFN one past the domain's last page */
    fix_crcs(&m);
    snprintf(want, sizeof(want), "record PAGES at offset %zu: GFN 0x10 outside the domain (16 pages)",
             off_pages);
    expect(&m, -EINVAL, want);
    e[2] = 15 | (1ull << 55);                /* unknown flag bit */
    fix_crcs(&m);
    expect(&m, -EINVAL, "unknown flag bits");
    e[2] = 15;
    p->count = 0;
    fix_crcs(&m);
    expect(&m, -EINVAL, "page count 0");
    p->count = 3;
    p->_pad = 1;
    fix_crcs(&m);
    expect(&m, -EINVAL, "page count 3");
    free(m.buf);
}

static void header_checks(void **state)
{
    struct mem m = build();
    struct kiln_stream_header *h = (void *)(m.buf + off_header + 16);
    struct kiln_stream_header keep = *h;
    (void)state;

    memset(h->name, 'x', sizeof(h->name));
    fix_crcs(&m);
    expect(&m, -EINVAL, "record HEADER at offset 16: domain name empty or not NUL-terminated");
    *h = keep;
    strcpy(h->name, "a\nb");
    fix_crcs(&m);
    expect(&m, -EINVAL, "domain name has characters other than");
    *h = keep;
    h->nr_pages = 15;
    fix_crcs(&m);
    expect(&m, -EINVAL, "not a valid domain size");
    *h = keep;
    h->vcpus = 0;
    fix_crcs(&m);
    expect(&m, -EINVAL, "0 vCPUs");
    *h = keep;
    h->nr_cpuid = 3;                         /* the body holds 2 + 1 */
    fix_crcs(&m);
    expect(&m, -EINVAL, "does not match 3 CPUID leaves");
    *h = keep;
    h->weight = 0;
    fix_crcs(&m);
    expect(&m, -EINVAL, "credit weight 0");
    free(m.buf);
}

static void vcpu_checks(void **state)
{
    struct mem m = build();
    struct kiln_vcpu_state *s1 = (void *)(m.buf + off_vcpu1 + 16);
    (void)state;

    s1->vcpu = 2;
    fix_crcs(&m);
    expect(&m, -EINVAL, "vCPU 2 out of range (the domain has 2)");
    s1->vcpu = 0;
    fix_crcs(&m);
    expect(&m, -EINVAL, "vCPU 0's state a second time");
    s1->vcpu = 1;
    s1->fpu_format = 2;
    fix_crcs(&m);
    expect(&m, -EINVAL, "FPU area format 2");
    s1->fpu_format = KILN_FPU_FXSAVE;
    s1->size = 8;
    fix_crcs(&m);
    expect(&m, -EINVAL, "state size 8");
    /* A vCPU record turned into a second HEADER. */
    s1->size = sizeof(*s1);
    ((struct kiln_stream_rec *)(m.buf + off_vcpu1))->type = KILN_REC_HEADER;
    fix_crcs(&m);
    expect(&m, -EINVAL, "record HEADER at offset");
    free(m.buf);
}

static void platform_checks(void **state)
{
    struct mem m = build();
    struct kiln_stream_platform *p = (void *)(m.buf + off_platform + 16);
    uint8_t *data = (uint8_t *)(p + 1);
    (void)state;

    p->device = 99;
    fix_crcs(&m);
    expect(&m, -EINVAL, "record PLATFORM at offset");
    expect(&m, -EINVAL, "unknown device 99");
    p->device = KILN_DEV_UART;
    p->version = 0;
    fix_crcs(&m);
    expect(&m, -EINVAL, "state version 0");
    p->version = 1;
    p->length = 9;
    fix_crcs(&m);
    expect(&m, -EINVAL, "blob length 9 does not match");
    p->length = 5;
    data[6] = 1;
    fix_crcs(&m);
    expect(&m, -EINVAL, "non-zero padding");
    free(m.buf);
}

static void end_checks(void **state)
{
    struct mem m = build();
    struct kiln_stream_end *e = (void *)(m.buf + off_end + 16);
    struct kiln_stream_rec *rec = (void *)(m.buf + off_end);
    char want[80];
    (void)state;

    e->pages = 4;                            /* END checked against what came */
    rec->crc = 0;
    rec->crc = kiln_crc32c(0, rec, 16 + sizeof(*e));
    snprintf(want, sizeof(want), "record END at offset %zu: says 5 records and 4 pages, the stream had 5 and 3", off_end);
    expect(&m, -EINVAL, want);
    fix_crcs(&m);
    /* The END record moved before vCPU 1's state. */
    struct mem cut = { 0 };
    mem_write(&cut, m.buf, off_vcpu1);
    mem_write(&cut, m.buf + off_end, m.len - off_end);
    fix_crcs(&cut);
    {
        struct seen s = { 0 };
        assert_int_equal(read_mem(&cut, cut.len, &s), -EINVAL);
        assert_non_null(strstr(err, "without vCPU 1's state"));
    }
    free(cut.buf);
    free(m.buf);
}

static void checksum_mismatches(void **state)
{
    struct mem m = build();
    size_t data_off = off_pages + 16 + 8 + 3 * 8 + 100;
    char want[80];
    (void)state;

    m.buf[data_off] ^= 1;                    /* one bit of page data */
    snprintf(want, sizeof(want), "record PAGES at offset %zu: record CRC mismatch", off_pages);
    expect(&m, -EBADMSG, want);
    /* Corruption whose record CRC was recomputed (a forger, or a bug in
     * a writer): the whole-stream CRC in END still catches it. */
    struct kiln_stream_rec *rec = (void *)(m.buf + off_pages);
    rec->crc = 0;
    rec->crc = kiln_crc32c(0, rec, 16 + rec->length);
    expect(&m, -EBADMSG, "stream checksum mismatch");
    free(m.buf);
}

static void duplicate_end_and_record_after_end(void **state)
{
    struct mem m = build();
    size_t end_len = m.len - off_end;
    struct mem dup = { 0 }, after = { 0 };
    (void)state;

    mem_write(&dup, m.buf, m.len);
    mem_write(&dup, m.buf + off_end, end_len);
    {
        struct seen s = { 0 };
        char want[80];
        assert_int_equal(read_mem(&dup, dup.len, &s), -EINVAL);
        snprintf(want, sizeof(want), "record END at offset %zu: a second END record", m.len);
        assert_non_null(strstr(err, want));
    }
    mem_write(&after, m.buf, m.len);
    mem_write(&after, m.buf + off_vcpu0, off_vcpu1 - off_vcpu0);
    expect(&after, -EINVAL, "record VCPU");
    expect(&after, -EINVAL, "record after the END record");
    /* A few stray bytes after END are a truncated record, not silence. */
    struct mem tail = { 0 };
    mem_write(&tail, m.buf, m.len);
    mem_write(&tail, "junk", 4);
    expect(&tail, -ENODATA, "truncated record header");
    free(dup.buf);
    free(after.buf);
    free(tail.buf);
    free(m.buf);
}

static void unknown_type_and_order(void **state)
{
    struct mem m = build();
    char want[80];
    (void)state;

    ((struct kiln_stream_rec *)(m.buf + off_platform))->type = 9;
    snprintf(want, sizeof(want), "at offset %zu: unknown record type 9", off_platform);
    expect(&m, -EINVAL, want);
    free(m.buf);
    /* PAGES before the HEADER. */
    m = build();
    struct mem swapped = { 0 };
    mem_write(&swapped, m.buf, off_header);
    mem_write(&swapped, m.buf + off_pages, off_vcpu0 - off_pages);
    mem_write(&swapped, m.buf + off_header, off_pages - off_header);
    mem_write(&swapped, m.buf + off_vcpu0, m.len - off_vcpu0);
    fix_crcs(&swapped);
    expect(&swapped, -EINVAL, "record PAGES at offset 16: comes before the HEADER");
    free(swapped.buf);
    free(m.buf);
}

static void receiver_refusal_is_named(void **state)
{
    struct mem m = build();
    struct seen s = { .refuse = KILN_REC_HEADER };
    (void)state;
    assert_int_equal(read_mem(&m, m.len, &s), -EOPNOTSUPP);
    assert_string_equal(err, "record HEADER at offset 16: CPUID leaf 7 ebx: the source has bits "
                             "the destination lacks");
    assert_int_equal(s.npages, 0);           /* nothing after the refusal was handed on */
    free(m.buf);
}

static long failing_read(void *ctx, void *buf, size_t len)
{
    (void)ctx;
    (void)buf;
    (void)len;
    return -ECONNRESET;
}

static void read_errors_are_passed_on(void **state)
{
    (void)state;
    assert_int_equal(kiln_stream_read(failing_read, NULL, &ops, NULL, err, sizeof(err)), -ECONNRESET);
    assert_non_null(strstr(err, "read error"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(crc32c_known_values),
        cmocka_unit_test(round_trip_every_record_kind),
        cmocka_unit_test(writer_refuses_out_of_place_records),
        cmocka_unit_test(truncation_at_every_offset),
        cmocka_unit_test(bad_magic_and_version),
        cmocka_unit_test(bad_lengths),
        cmocka_unit_test(pages_checks),
        cmocka_unit_test(header_checks),
        cmocka_unit_test(vcpu_checks),
        cmocka_unit_test(platform_checks),
        cmocka_unit_test(end_checks),
        cmocka_unit_test(checksum_mismatches),
        cmocka_unit_test(duplicate_end_and_record_after_end),
        cmocka_unit_test(unknown_type_and_order),
        cmocka_unit_test(receiver_refusal_is_named),
        cmocka_unit_test(read_errors_are_passed_on),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
