/*
 * kiln_migrate.h - saving a domain into a stream and restoring one from it
 * (kl save / kl restore, and both ends of kl migrate).
 *
 * Save writes the stream (kiln_stream.h) through any write function: a
 * file or a socket.  Non-live, it pauses the guest and sends everything;
 * live, it runs the pre-copy rounds of kiln_precopy.h with log-dirty mode
 * and pauses only for the last one.  Either way the guest is left paused
 * on success (the caller destroys it, or unpauses it to keep it), and on
 * failure it is left as it was (running if it ran): a failed or aborted
 * save never costs the guest.
 *
 * Restore checks the stream as it reads it (kiln_stream_read) and builds
 * a new domain from it (never a privileged one: a stream asking for that
 * is refused); the guest starts only after the END record and its
 * checksum were verified.  Any failure destroys the half-built domain.
 */
#ifndef KILN_MIGRATE_H
#define KILN_MIGRATE_H

#include <stddef.h>
#include <stdint.h>
#include "kiln_precopy.h"
#include "kiln_stream.h"
#include "libkiln.h"

struct kiln_save_opts {
    int live;                          /* pre-copy rounds with the guest running */
    struct kiln_precopy_policy policy; /* live only; zeros = the defaults */
    /* Live only, optional: called after each live round's pages went into
     * the stream, before the guest is paused for the dirty bitmap.  A
     * network sender waits here until its data has left: what is still
     * queued when the guest pauses for the last time delays its paused
     * round, and so adds to the downtime.  0 or -errno (ends the save). */
    int (*round_sent)(void *ctx);
    void *round_ctx;
};

struct kiln_save_stats {
    uint32_t rounds;                   /* live rounds (0 for a non-live save) */
    uint64_t pages[KILN_PRECOPY_MAX_ROUNDS + 1]; /* per round; the paused one last */
    uint64_t pages_total;
    uint64_t bytes;                    /* stream length */
    uint64_t total_ns;                 /* the whole save */
    uint64_t paused_ns;                /* pause to END written (the source's share of downtime) */
    uint64_t paused_wall_ns;           /* CLOCK_REALTIME at the pause */
};

/* Saves domid (running or paused) into the stream written by fn(ctx).
 * 0, or -errno with a one-line reason in err. */
int kiln_domain_save(kiln_handle *h, uint32_t domid, kiln_stream_write_fn fn, void *ctx,
                     const struct kiln_save_opts *opts, struct kiln_save_stats *stats,
                     char *err, size_t errlen);

struct kiln_restore_opts {
    const char *name;                  /* NULL: the name in the stream */
    int paused;                        /* leave the restored guest paused */
    /* How far the guest's TSC moves on: 0 (a file) by the wall clock
     * since the source paused it (the same host, or hosts whose clocks
     * agree); 1 (a migration) by the time the source reports it paused
     * when END was sent plus the time here since END arrived, which needs
     * no clock shared between the hosts. */
    int live;
};

struct kiln_restore_stats {
    uint64_t pages;                    /* page entries received */
    uint64_t bytes;
    uint64_t total_ns;                 /* first byte to the guest started */
    uint64_t paused_wall_ns;           /* from the stream's END */
    uint64_t resumed_wall_ns;          /* CLOCK_REALTIME when it was unpaused (0 if -paused) */
};

/* Builds a domain from the stream read by fn(ctx); *domid gets its id.
 * 0, or -errno with a one-line reason in err (the stream reader's own
 * "record KIND at offset N: ..." for a bad stream). */
int kiln_domain_restore(kiln_handle *h, kiln_stream_read_fn fn, void *ctx,
                        const struct kiln_restore_opts *opts, uint32_t *domid,
                        struct kiln_restore_stats *stats, char *err, size_t errlen);

/* ---- CPUID compatibility (lib/cpuid_compat.c) ---------------------------- */

#define KILN_CPUID_HOST_LEAVES 6
/* This host's CPUID leaves a stream header carries, as dom0 sees them:
 * 0, 1, 7.0, 0xd.1, 0x80000000, 0x80000001.  Returns how many (all). */
size_t kiln_cpuid_host_leaves(struct kiln_stream_cpuid *out);
/* 0 when a guest that found src may run where dst is seen: same vendor,
 * and every feature bit of leaves 1, 7.0, 0xd.1 and 0x80000001 that src
 * has, dst has too (a leaf missing from a list reads as zeros).  Else
 * -EOPNOTSUPP and err names the leaf, register and bits. */
int kiln_cpuid_compatible(const struct kiln_stream_cpuid *src, size_t nsrc,
                          const struct kiln_stream_cpuid *dst, size_t ndst,
                          char *err, size_t errlen);

#endif /* KILN_MIGRATE_H */
