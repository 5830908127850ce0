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
 * In production the regions are foreign mappings of the domain's pages
 * (gram_map_domain, through libkiln); in tests they are plain buffers.
 */
#ifndef DEVD_GRAM_H
#define DEVD_GRAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GRAM_MAX_REGIONS 64

struct gram_region {
    uint64_t gpa;       /* first guest-physical address */
    uint64_t size;      /* bytes, > 0 */
    uint8_t *host;      /* where those bytes are in this process */
};

struct gram {
    size_t n;                                   /* regions, sorted by gpa */
    struct gram_region r[GRAM_MAX_REGIONS];
    uint64_t end;                               /* highest gpa + 1 */
};

void gram_init(struct gram *g);
/* Adds a region; -EINVAL if empty, overflowing or overlapping another,
 * -ENOSPC if the table is full. */
int gram_add(struct gram *g, uint64_t gpa, uint64_t size, void *host);
/* True if [gpa, gpa + len) is entirely guest RAM (len 0: gpa itself must be
 * RAM or the end of a region).  Overflow-safe for any 64-bit inputs. */
bool gram_valid(const struct gram *g, uint64_t gpa, uint64_t len);
/* Copy between guest RAM and buf; -EFAULT (and nothing copied) unless
 * gram_valid(g, gpa, len). */
int gram_read(const struct gram *g, uint64_t gpa, void *buf, size_t len);
int gram_write(const struct gram *g, uint64_t gpa, const void *buf, size_t len);

#endif /* DEVD_GRAM_H */
