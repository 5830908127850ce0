/*
 * fake_guest.c - the pretend guest of kiln-devd's unit tests (fake_guest.h).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "fake_guest.h"
#include "virtio.h"

static void irq_set(void *ctx, bool level)
{
    struct fguest *g = ctx;

    if (level)
        g->irq_raised++;
    g->irq_level = level;
}

void fg_init(struct fguest *g)
{
    memset(g, 0, sizeof(*g));
    g->mem = calloc(1, FG_RAM);
    assert_non_null(g->mem);
    gram_init(&g->ram);
    assert_int_equal(gram_add(&g->ram, 0, FG_RAM, g->mem), 0);
}

void fg_free(struct fguest *g)
{
    free(g->mem);
    g->mem = NULL;
}

struct vmmio_irq fg_irq(struct fguest *g)
{
    return (struct vmmio_irq){ .set = irq_set, .ctx = g };
}

uint32_t fg_rd(struct vmmio *m, uint32_t off)
{
    return (uint32_t)vmmio_read(m, off, 4);
}

void fg_wr(struct vmmio *m, uint32_t off, uint32_t val)
{
    vmmio_write(m, off, 4, val);
}

void fg_start(struct fguest *g, struct vmmio *m, uint64_t features, struct fq *qs,
              unsigned nq, uint16_t qsize)
{
    uint32_t st = VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER;

    fg_wr(m, VIRTIO_MMIO_STATUS, 0);
    fg_wr(m, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE);
    fg_wr(m, VIRTIO_MMIO_STATUS, st);
    fg_wr(m, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
    fg_wr(m, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)features);
    fg_wr(m, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
    fg_wr(m, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)(features >> 32));
    st |= VIRTIO_STATUS_FEATURES_OK;
    fg_wr(m, VIRTIO_MMIO_STATUS, st);
    assert_int_equal(fg_rd(m, VIRTIO_MMIO_STATUS), st);
    for (unsigned i = 0; i < nq; i++) {
        struct fq *q = &qs[i];
        uint64_t base = 0x10000ull * (i + 1);

        *q = (struct fq){ .index = i, .size = qsize, .desc = base, .avail = base + 0x4000,
                          .used = base + 0x8000 };
        memset(g->mem + base, 0, 0x10000);
        fg_wr(m, VIRTIO_MMIO_QUEUE_SEL, i);
        assert_true(fg_rd(m, VIRTIO_MMIO_QUEUE_NUM_MAX) >= qsize);
        fg_wr(m, VIRTIO_MMIO_QUEUE_NUM, qsize);
        fg_wr(m, VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)q->desc);
        fg_wr(m, VIRTIO_MMIO_QUEUE_DESC_HIGH, 0);
        fg_wr(m, VIRTIO_MMIO_QUEUE_DRIVER_LOW, (uint32_t)q->avail);
        fg_wr(m, VIRTIO_MMIO_QUEUE_DRIVER_HIGH, 0);
        fg_wr(m, VIRTIO_MMIO_QUEUE_DEVICE_LOW, (uint32_t)q->used);
        fg_wr(m, VIRTIO_MMIO_QUEUE_DEVICE_HIGH, 0);
        fg_wr(m, VIRTIO_MMIO_QUEUE_READY, 1);
        assert_int_equal(fg_rd(m, VIRTIO_MMIO_QUEUE_READY), 1);
    }
    st |= VIRTIO_STATUS_DRIVER_OK;
    fg_wr(m, VIRTIO_MMIO_STATUS, st);
    assert_int_equal(fg_rd(m, VIRTIO_MMIO_STATUS), st);
}

void fq_desc(struct fguest *g, struct fq *q, unsigned i, uint64_t addr, uint32_t len,
             uint16_t flags, uint16_t next)
{
    uint8_t *d = g->mem + q->desc + 16 * i;

    memcpy(d, &addr, 8);
    memcpy(d + 8, &len, 4);
    memcpy(d + 12, &flags, 2);
    memcpy(d + 14, &next, 2);
}

void fq_publish(struct fguest *g, struct fq *q, uint16_t head)
{
    memcpy(g->mem + q->avail + 4 + 2 * (q->avail_idx % q->size), &head, 2);
    q->avail_idx++;
    memcpy(g->mem + q->avail + 2, &q->avail_idx, 2);
}

uint16_t fq_used_idx(struct fguest *g, const struct fq *q)
{
    uint16_t idx;

    memcpy(&idx, g->mem + q->used + 2, 2);
    return idx;
}

void fq_used(struct fguest *g, const struct fq *q, uint16_t n, uint32_t *id, uint32_t *len)
{
    const uint8_t *e = g->mem + q->used + 4 + 8 * (n % q->size);

    memcpy(id, e, 4);
    memcpy(len, e + 4, 4);
}
