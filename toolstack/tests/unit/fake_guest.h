/*
 * fake_guest.h - a pretend guest for kiln-devd's unit tests: a buffer of
 * "guest RAM" and the driver side of virtio-mmio and split virtqueues,
 * written directly into that buffer, so tests can both play a well-behaved
 * driver and corrupt any ring field a hostile one could.
 */
#ifndef FAKE_GUEST_H
#define FAKE_GUEST_H

#include <stdbool.h>
#include <stdint.h>
#include "gram.h"
#include "vmmio.h"

#define FG_RAM      (1u << 20)
#define FG_DATA     0x80000u        /* free space for buffers */

struct fguest {
    uint8_t *mem;
    struct gram ram;
    unsigned irq_raised;            /* set(true) calls */
    bool irq_level;
};

/* Driver view of one queue (placed at 0x10000 * (index + 1)). */
struct fq {
    unsigned index;
    uint16_t size;
    uint64_t desc, avail, used;
    uint16_t avail_idx;
};

void fg_init(struct fguest *g);
void fg_free(struct fguest *g);
struct vmmio_irq fg_irq(struct fguest *g);

uint32_t fg_rd(struct vmmio *m, uint32_t off);
void fg_wr(struct vmmio *m, uint32_t off, uint32_t val);
/* ACKNOWLEDGE, DRIVER, features (must be accepted), FEATURES_OK, queues
 * 0..nq-1 of size qsize set up and ready, DRIVER_OK.  Asserts each step. */
void fg_start(struct fguest *g, struct vmmio *m, uint64_t features, struct fq *qs,
              unsigned nq, uint16_t qsize);
/* Writes descriptor i of q's table. */
void fq_desc(struct fguest *g, struct fq *q, unsigned i, uint64_t addr, uint32_t len,
             uint16_t flags, uint16_t next);
/* Publishes head in the available ring. */
void fq_publish(struct fguest *g, struct fq *q, uint16_t head);
uint16_t fq_used_idx(struct fguest *g, const struct fq *q);
/* Used element n: its id and length. */
void fq_used(struct fguest *g, const struct fq *q, uint16_t n, uint32_t *id, uint32_t *len);

#endif /* FAKE_GUEST_H */
