/*
 * gram.h - a guest's RAM as kiln-devd sees it: a short table of regions,
 * each a range of guest-physical addresses backed by memory in this process.
 *
 * Every access a device makes to guest memory goes through gram_read /
 * gram_write, which copy (never hand out pointers into guest memory): the
 * guest can change its memory at any moment, so a value is fetched once into
 * devd's own memory and checked there.  An access is refused unless the whole
 * range lies inside the regions, so no guest-supplied address or length can
 * make devd touch anything but the guest's RAM.
 *
 * Two kinds of backing: fixed regions (tests use plain buffers) and a
 * mapper for a domain's RAM [0, size) that maps pages on demand.  The mapper
 * exists because the hypervisor's foreign-mapping window is small (4 MiB for
 * the whole host), so devd cannot map a guest's RAM at once: it keeps a few
 * chunks mapped (GRAM_CACHE_SLOTS of GRAM_CHUNK_PAGES pages, least recently
 * used replaced).  In production the mapper is libkiln's kiln_map_foreign
 * (gram_kiln.c).
 */
#ifndef DEVD_GRAM_H
#define DEVD_GRAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GRAM_MAX_REGIONS 64
#define GRAM_PAGE        4096u
#define GRAM_CHUNK_PAGES 16u
#define GRAM_CACHE_SLOTS 16u

struct gram_region {
    uint64_t gpa;       /* first guest-physical address */
    uint64_t size;      /* bytes, > 0 */
    uint8_t *host;      /* where those bytes are in this process */
};

struct gram_mapper {
    /* Maps nr pages from frame gfn; 0 and *host, or -errno. */
    int (*map)(void *ctx, uint64_t gfn, size_t nr, void **host);
    void (*unmap)(void *ctx, void *host, size_t nr);
    void *ctx;
};

struct gram_slot {
    uint8_t *host;              /* NULL = free */
    uint64_t chunk;             /* gpa / (GRAM_CHUNK_PAGES * GRAM_PAGE) */
    size_t pages;               /* mapped there (the last chunk may be short) */
    uint64_t used;              /* last use, for LRU */
};

struct gram {
    size_t n;                                   /* regions, sorted by gpa */
    struct gram_region r[GRAM_MAX_REGIONS];
    uint64_t end;                               /* highest gpa + 1 */
    /* mapped-on-demand RAM [0, mapped_size), if a mapper is set */
    struct gram_mapper mapper;
    uint64_t mapped_size;
    uint64_t clock;
    struct gram_slot slot[GRAM_CACHE_SLOTS];
};

void gram_init(struct gram *g);
/* Adds a region; -EINVAL if empty, overflowing or overlapping another,
 * -ENOSPC if the table is full. */
int gram_add(struct gram *g, uint64_t gpa, uint64_t size, void *host);
/* Sets the on-demand RAM [0, size) (page-aligned, not overlapping a
 * region); -EINVAL otherwise. */
int gram_set_mapper(struct gram *g, uint64_t size, const struct gram_mapper *m);
/* Unmaps every cached chunk (on exit, or before the domain goes away). */
void gram_release(struct gram *g);
/* True if [gpa, gpa + len) is entirely guest RAM (len 0: gpa itself must be
 * RAM or the end of a region).  Overflow-safe for any 64-bit inputs. */
bool gram_valid(const struct gram *g, uint64_t gpa, uint64_t len);
/* Copy between guest RAM and buf; -EFAULT (and nothing copied) unless
 * gram_valid(g, gpa, len); a failed on-demand mapping returns its error
 * (a part of the range may have been copied then). */
int gram_read(struct gram *g, uint64_t gpa, void *buf, size_t len);
int gram_write(struct gram *g, uint64_t gpa, const void *buf, size_t len);

#endif /* DEVD_GRAM_H */
