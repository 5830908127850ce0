/*
 * kiln_stream.h - the save/migration stream: a domain's memory and state as
 * one byte stream (a file for `kl save`, a TCP connection for `kl migrate`).
 *
 * The format is specified in toolstack/docs/migration-stream.md; this header
 * is its C form.  All integers are little-endian (Kiln is x86-only), every
 * record body is a multiple of 8 bytes, and every structure has explicit
 * padding.  A writer produces only well-formed streams; the reader checks
 * every record (its CRC, its length, its fields, its place in the stream)
 * before it hands the record to the caller, and any error stops the read
 * with a message naming the record kind and its byte offset.
 */
#ifndef KILN_STREAM_H
#define KILN_STREAM_H

#include <stddef.h>
#include <stdint.h>
#include "kiln.h"

#define KILN_STREAM_MAGIC   "KILNSTRM"     /* 8 bytes, no NUL */
#define KILN_STREAM_VERSION 1

/* The first 16 bytes of a stream. */
struct kiln_stream_preamble {
    char     magic[8];
    uint32_t version;          /* KILN_STREAM_VERSION */
    uint32_t flags;            /* 0: none defined */
};

enum kiln_stream_type {
    KILN_REC_HEADER   = 1,     /* domain config + source CPUID, exactly once, first */
    KILN_REC_PAGES    = 2,     /* a batch of guest pages */
    KILN_REC_VCPU     = 3,     /* one vCPU's state (struct kiln_vcpu_state) */
    KILN_REC_PLATFORM = 4,     /* one emulated device's state, an opaque versioned blob */
    KILN_REC_END      = 5,     /* totals and the whole stream's checksum, last */
};

/* Every record: this header, then `length` bytes of body.  crc is the
 * CRC32C of the header (with crc = 0) followed by the body. */
struct kiln_stream_rec {
    uint32_t type;             /* enum kiln_stream_type */
    uint32_t crc;
    uint64_t length;           /* body bytes, a multiple of 8 */
};

/* ---- HEADER ---------------------------------------------------------------- */

#define KILN_STREAM_CPUID_MAX 80   /* leaves per list (the hypervisor's policy size) */

struct kiln_stream_cpuid {
    uint32_t leaf, subleaf;
    uint32_t eax, ebx, ecx, edx;
};

/* Body: this, then nr_cpuid + nr_overrides struct kiln_stream_cpuid. */
struct kiln_stream_header {
    char     name[KILN_NAME_MAX];  /* NUL-terminated, 1..31 characters */
    uint64_t memory_kib;           /* multiple of 4 */
    uint64_t nr_pages;             /* memory_kib / 4: every GFN is below it */
    uint32_t vcpus;                /* 1..KILN_MAX_VCPUS */
    uint32_t flags;                /* KILN_CPUID_F_* the domain was created with */
    uint32_t weight;               /* credit weight, 1..65535 */
    uint32_t cap;                  /* percent of one CPU, 0 = none */
    uint64_t cpus;                 /* vCPU affinity mask, 0 = any */
    uint64_t tsc_khz;              /* the source's TSC frequency */
    uint32_t nr_cpuid;             /* the source host's CPUID leaves (as its dom0 sees them) */
    uint32_t nr_overrides;         /* the domain's CPUID overrides (SET_CPUID) */
};

/* ---- PAGES ----------------------------------------------------------------- */

#define KILN_STREAM_BATCH_MAX 1024u        /* pages per record */
#define KILN_STREAM_PAGE_SIZE 4096u
#define KILN_STREAM_PFN_ZERO  (1ull << 63) /* all-zero page: no data in the record */
#define KILN_STREAM_PFN_MASK  ((1ull << 52) - 1)

/* Body: this, count uint64_t entries (GFN | KILN_STREAM_PFN_ZERO), then
 * 4096 bytes for each entry without the ZERO bit, in entry order. */
struct kiln_stream_pages {
    uint32_t count;                /* 1..KILN_STREAM_BATCH_MAX */
    uint32_t _pad;
};

/* ---- PLATFORM -------------------------------------------------------------- */

enum kiln_stream_device {
    KILN_DEV_LAPIC   = 1,          /* instance = vCPU */
    KILN_DEV_IOAPIC  = 2,
    KILN_DEV_PIC     = 3,          /* the 8259 pair */
    KILN_DEV_PIT     = 4,
    KILN_DEV_RTC     = 5,
    KILN_DEV_UART    = 6,          /* instance = COM port number - 1 */
    KILN_DEV_PMTIMER = 7,
    KILN_DEV_MAX     = 7,
};
#define KILN_STREAM_PLATFORM_MAX 65536u    /* bytes of one device's blob */

/* Body: this, then `length` bytes of the device's own versioned format,
 * zero-padded to a multiple of 8. */
struct kiln_stream_platform {
    uint32_t device;               /* enum kiln_stream_device */
    uint32_t version;              /* the device model's state version, >= 1 */
    uint32_t instance;
    uint32_t length;               /* <= KILN_STREAM_PLATFORM_MAX */
};

/* ---- END ------------------------------------------------------------------- */

struct kiln_stream_end {
    uint64_t records;              /* records before this one, HEADER included */
    uint64_t pages;                /* page entries in all PAGES records */
    uint64_t paused_wall_ns;       /* CLOCK_REALTIME when the source paused the guest, 0 = unknown */
    uint64_t paused_for_ns;        /* how long the guest had been paused when END was written */
    uint64_t guest_clock_ns;       /* the domain's clock (KILN_HC_TIME) at the pause */
    uint32_t stream_crc;           /* CRC32C of every byte before this record's header */
    uint32_t _pad;
};

/* The format is fixed: a layout change is a new stream version. */
_Static_assert(sizeof(struct kiln_stream_preamble) == 16, "stream layout");
_Static_assert(sizeof(struct kiln_stream_rec) == 16, "stream layout");
_Static_assert(sizeof(struct kiln_stream_header) == 88, "stream layout");
_Static_assert(sizeof(struct kiln_stream_cpuid) == 24, "stream layout");
_Static_assert(sizeof(struct kiln_stream_pages) == 8, "stream layout");
_Static_assert(sizeof(struct kiln_vcpu_state) == 1008, "stream layout");
_Static_assert(sizeof(struct kiln_stream_platform) == 16, "stream layout");
_Static_assert(sizeof(struct kiln_stream_end) == 48, "stream layout");

/* ---- CRC32C (Castagnoli) ----------------------------------------------------- */

/* Continues crc (start with 0) over len bytes: crc32c("123456789") = 0xe3069283.
 * Uses SSE4.2's CRC32 instruction when the CPU has it. */
uint32_t kiln_crc32c(uint32_t crc, const void *buf, size_t len);
/* The same, table-driven only (tests compare the two). */
uint32_t kiln_crc32c_sw(uint32_t crc, const void *buf, size_t len);

/* ---- writer ------------------------------------------------------------------- */

/* Writes all len bytes or fails: 0 or -errno. */
typedef int (*kiln_stream_write_fn)(void *ctx, const void *buf, size_t len);

struct kiln_stream_writer {
    kiln_stream_write_fn write;
    void *ctx;
    uint32_t crc;                  /* over everything written so far */
    uint64_t offset;
    uint64_t records;
    uint64_t pages;
    uint64_t nr_pages;             /* from the header: GFN bound */
    uint32_t vcpus;
    uint64_t vcpus_written;        /* bit n: vCPU n's state is in the stream */
    int state;                     /* 0 before HEADER, 1 after, 2 after END */
};

/* Each returns 0 or -errno (-EINVAL for a record the stream may not hold
 * there: pages before the header, a vCPU twice, END before every vCPU's
 * state, anything after END); after an error, stop writing. */
int kiln_stream_writer_init(struct kiln_stream_writer *w, kiln_stream_write_fn fn, void *ctx);
int kiln_stream_write_header(struct kiln_stream_writer *w, const struct kiln_stream_header *h,
                             const struct kiln_stream_cpuid *cpuid,
                             const struct kiln_stream_cpuid *overrides);
/* n pages (1..KILN_STREAM_BATCH_MAX): gfns[i]'s 4096 bytes at data[i];
 * all-zero pages are written as ZERO entries without data.  The data is
 * read twice (CRC, then output) and must not change during the call: copy
 * a running guest's pages first. */
int kiln_stream_write_pages(struct kiln_stream_writer *w, const uint64_t *gfns,
                            const void *const *data, uint32_t n);
int kiln_stream_write_vcpu(struct kiln_stream_writer *w, const struct kiln_vcpu_state *s);
int kiln_stream_write_platform(struct kiln_stream_writer *w, uint32_t device, uint32_t version,
                               uint32_t instance, const void *data, uint32_t len);
int kiln_stream_write_end(struct kiln_stream_writer *w, uint64_t paused_wall_ns,
                          uint64_t paused_for_ns, uint64_t guest_clock_ns);

/* ---- reader ------------------------------------------------------------------- */

/* Reads up to len bytes: the count (0 at the end of the stream) or -errno. */
typedef long (*kiln_stream_read_fn)(void *ctx, void *buf, size_t len);

/* One page of a PAGES record; data NULL for a zero page. */
struct kiln_stream_page {
    uint64_t gfn;
    const uint8_t *data;
};

/* Called with records that passed every check.  Each returns 0 to go on,
 * or a negative errno to stop, having written why into err (the reader
 * prefixes the record kind and offset).  Pointers are valid during the
 * call only.  NULL callbacks accept the record. */
struct kiln_stream_ops {
    int (*header)(void *ctx, const struct kiln_stream_header *h,
                  const struct kiln_stream_cpuid *cpuid,
                  const struct kiln_stream_cpuid *overrides, char *err, size_t errlen);
    int (*pages)(void *ctx, const struct kiln_stream_page *pages, uint32_t count,
                 char *err, size_t errlen);
    int (*vcpu)(void *ctx, const struct kiln_vcpu_state *s, char *err, size_t errlen);
    int (*platform)(void *ctx, const struct kiln_stream_platform *p, const void *data,
                    char *err, size_t errlen);
    int (*end)(void *ctx, const struct kiln_stream_end *e, char *err, size_t errlen);
};

/* Reads a whole stream, calling ops for each record, and checks nothing
 * follows the END record.  0 when the stream was complete and valid;
 * otherwise a negative errno (-EINVAL malformed, -EPROTO wrong version or
 * magic, -EBADMSG checksum, -ENODATA truncated, or the callback's or the
 * read function's error) and one line in err, e.g.
 * "record PAGES at offset 4136: GFN 0x4000 outside the domain (1024 pages)". */
int kiln_stream_read(kiln_stream_read_fn rd, void *rdctx, const struct kiln_stream_ops *ops,
                     void *ctx, char *err, size_t errlen);

/* A reader over a memory buffer (tests, the fuzzer). */
struct kiln_stream_membuf {
    const uint8_t *data;
    size_t len, pos;
};
long kiln_stream_mem_read(void *ctx, void *buf, size_t len);

/* A stream over a file descriptor (file, pipe, socket), written through a
 * buffer so the writer's small pieces (record headers) cost no syscall
 * each.  lib/stream_fd.c. */
struct kiln_stream_fd {
    int fd;
    uint8_t *buf;
    size_t len, cap;
};
/* 0 or -ENOMEM. */
int kiln_stream_fd_init(struct kiln_stream_fd *f, int fd);
int kiln_stream_fd_write(void *ctx, const void *buf, size_t len);   /* a kiln_stream_write_fn */
int kiln_stream_fd_flush(struct kiln_stream_fd *f);                /* 0 or -errno */
long kiln_stream_fd_read(void *ctx, void *buf, size_t len);        /* a kiln_stream_read_fn */
void kiln_stream_fd_free(struct kiln_stream_fd *f);

/* "HEADER", "PAGES", ..., or "unknown". */
const char *kiln_stream_type_name(uint32_t type);

#endif /* KILN_STREAM_H */
