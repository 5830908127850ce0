/*
 * virtq.c - the device side of split virtqueues, checking everything the
 * guest wrote (the rules are listed in virtq.h).
 *
 * Ring layout (virtio 1.2, 2.7): descriptor table of 16-byte entries
 * {addr u64, len u32, flags u16, next u16}, 16-byte aligned; available ring
 * {flags u16, idx u16, ring[size] u16}, 2-byte aligned; used ring
 * {flags u16, idx u16, ring[size] {id u32, len u32}}, 4-byte aligned.  All
 * little-endian, as is this host (x86-64).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "virtq.h"

struct desc {
    uint64_t addr;
    uint32_t len;
    uint16_t flags;
    uint16_t next;
};
_Static_assert(sizeof(struct desc) == 16, "virtq descriptor is 16 bytes");

void virtq_reset(struct virtq *vq, struct gram *ram)
{
    memset(vq, 0, sizeof(*vq));
    vq->ram = ram;
}

void virtq_break(struct virtq *vq, const char *fmt, ...)
{
    va_list ap;

    vq->broken = true;
    va_start(ap, fmt);
    vsnprintf(vq->error, sizeof(vq->error), fmt, ap);
    va_end(ap);
}

int virtq_enable(struct virtq *vq)
{
    uint64_t n = vq->size;

    if (n == 0 || n > VIRTQ_MAX_SIZE || (n & (n - 1))) {
        snprintf(vq->error, sizeof(vq->error), "queue size %u is not a power of two up to %u",
                 vq->size, VIRTQ_MAX_SIZE);
        return -EINVAL;
    }
    if ((vq->desc & 15) || (vq->avail & 1) || (vq->used & 3)) {
        snprintf(vq->error, sizeof(vq->error),
                 "misaligned ring: desc 0x%llx avail 0x%llx used 0x%llx",
                 (unsigned long long)vq->desc, (unsigned long long)vq->avail,
                 (unsigned long long)vq->used);
        return -EINVAL;
    }
    /* flags, idx, ring[n] and the event word after it (kept in bounds even
     * though devd does not negotiate VIRTIO_F_EVENT_IDX). */
    if (!gram_valid(vq->ram, vq->desc, 16 * n) || !gram_valid(vq->ram, vq->avail, 6 + 2 * n) ||
        !gram_valid(vq->ram, vq->used, 6 + 8 * n)) {
        snprintf(vq->error, sizeof(vq->error),
                 "ring outside guest RAM: desc 0x%llx avail 0x%llx used 0x%llx size %u",
                 (unsigned long long)vq->desc, (unsigned long long)vq->avail,
                 (unsigned long long)vq->used, vq->size);
        return -EINVAL;
    }
    vq->enabled = true;
    vq->broken = false;
    vq->error[0] = '\0';
    return 0;
}

static int read16(struct virtq *vq, uint64_t gpa, uint16_t *v)
{
    if (gram_read(vq->ram, gpa, v, sizeof(*v))) {
        virtq_break(vq, "ring word at 0x%llx is not guest RAM", (unsigned long long)gpa);
        return -EIO;
    }
    return 0;
}

/* Follows one chain from head; everything read is checked (virtq.h). */
static int walk(struct virtq *vq, uint16_t head, struct virtq_chain *ch)
{
    uint64_t table = vq->desc;
    uint32_t table_n = vq->size, visited = 0;
    bool indirect = false;
    uint32_t i = head;
    struct desc d;

    ch->head = head;
    ch->n_out = ch->n_in = 0;
    ch->out_len = ch->in_len = 0;
    for (;;) {
        /* A chain that visits more entries than its table has loops. */
        if (++visited > table_n) {
            virtq_break(vq, "chain from head %u is longer than its %s table of %u (a loop)",
                        head, indirect ? "indirect" : "descriptor", table_n);
            return -EIO;
        }
        if (gram_read(vq->ram, table + 16ull * i, &d, sizeof(d))) {
            virtq_break(vq, "descriptor %u at 0x%llx is not guest RAM", i,
                        (unsigned long long)(table + 16ull * i));
            return -EIO;
        }
        if (d.flags & VIRTQ_DESC_F_INDIRECT) {
            if (!vq->indirect_ok) {
                virtq_break(vq, "descriptor %u is indirect but VIRTIO_F_INDIRECT_DESC "
                            "was not negotiated", i);
                return -EIO;
            }
            if (indirect) {
                virtq_break(vq, "indirect descriptor %u inside an indirect table", i);
                return -EIO;
            }
            if (d.flags & VIRTQ_DESC_F_NEXT) {
                virtq_break(vq, "descriptor %u is both indirect and chained", i);
                return -EIO;
            }
            if (d.len == 0 || d.len % 16 || d.len / 16 > VIRTQ_MAX_SEGS) {
                virtq_break(vq, "indirect table of descriptor %u has length %u "
                            "(not a multiple of 16 in 16..%u)", i, d.len, 16 * VIRTQ_MAX_SEGS);
                return -EIO;
            }
            if (!gram_valid(vq->ram, d.addr, d.len)) {
                virtq_break(vq, "indirect table 0x%llx+%u of descriptor %u is outside guest RAM",
                            (unsigned long long)d.addr, d.len, i);
                return -EIO;
            }
            table = d.addr;
            table_n = d.len / 16;
            visited = 0;
            indirect = true;
            i = 0;
            continue;
        }
        if (!gram_valid(vq->ram, d.addr, d.len)) {
            virtq_break(vq, "buffer 0x%llx+%u of descriptor %u is outside guest RAM",
                        (unsigned long long)d.addr, d.len, i);
            return -EIO;
        }
        if (ch->n_out + ch->n_in == VIRTQ_MAX_SEGS) {
            virtq_break(vq, "chain from head %u has more than %u buffers", head, VIRTQ_MAX_SEGS);
            return -EIO;
        }
        if (d.flags & VIRTQ_DESC_F_WRITE) {
            ch->in_len += d.len;
            ch->n_in++;
        } else {
            if (ch->n_in) {
                virtq_break(vq, "chain from head %u has a readable buffer after a writable one",
                            head);
                return -EIO;
            }
            ch->out_len += d.len;
            ch->n_out++;
        }
        ch->seg[ch->n_out + ch->n_in - 1] = (struct virtq_seg){ .gpa = d.addr, .len = d.len };
        if (!(d.flags & VIRTQ_DESC_F_NEXT))
            return 0;
        if (d.next >= table_n) {
            virtq_break(vq, "descriptor %u links to %u, outside its table of %u", i, d.next,
                        table_n);
            return -EIO;
        }
        i = d.next;
    }
}

int virtq_pop(struct virtq *vq, struct virtq_chain *ch)
{
    uint16_t idx, pending, head;

    if (!vq->enabled || vq->broken)
        return 0;
    if (read16(vq, vq->avail + 2, &idx))
        return -EIO;
    pending = (uint16_t)(idx - vq->last_avail);
    if (pending == 0)
        return 0;
    if (pending > vq->size) {
        virtq_break(vq, "available index jumped from %u to %u (queue size %u)",
                    vq->last_avail, idx, vq->size);
        return -EIO;
    }
    /* The ring entries are read only after the index that published them. */
    __atomic_thread_fence(__ATOMIC_ACQUIRE);
    if (read16(vq, vq->avail + 4 + 2ull * (vq->last_avail & (vq->size - 1)), &head))
        return -EIO;
    if (head >= vq->size) {
        virtq_break(vq, "available entry %u names head %u, queue size is %u",
                    vq->last_avail, head, vq->size);
        return -EIO;
    }
    if (walk(vq, head, ch))
        return -EIO;
    vq->last_avail++;
    return 1;
}

int virtq_push(struct virtq *vq, uint16_t head, uint32_t len)
{
    struct { uint32_t id, len; } elem = { head, len };
    uint64_t slot = vq->used + 4 + 8ull * (vq->used_idx & (vq->size - 1));
    uint16_t next = vq->used_idx + 1;

    if (!vq->enabled || vq->broken)
        return -EIO;
    if (gram_write(vq->ram, slot, &elem, sizeof(elem))) {
        virtq_break(vq, "used ring at 0x%llx is not guest RAM", (unsigned long long)slot);
        return -EIO;
    }
    /* The element must be visible before the index that publishes it. */
    __atomic_thread_fence(__ATOMIC_RELEASE);
    if (gram_write(vq->ram, vq->used + 2, &next, sizeof(next))) {
        virtq_break(vq, "used index at 0x%llx is not guest RAM", (unsigned long long)(vq->used + 2));
        return -EIO;
    }
    vq->used_idx = next;
    return 0;
}

bool virtq_want_interrupt(struct virtq *vq)
{
    uint16_t flags;

    /* Our used index store must be ordered before reading the driver's flags. */
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    if (!vq->enabled || gram_read(vq->ram, vq->avail, &flags, sizeof(flags)))
        return true;
    return !(flags & VIRTQ_AVAIL_F_NO_INTERRUPT);
}

/* Copies between buf and the byte range [off, off + len) of the chain's
 * readable (out) or writable (in) buffers. */
static int chain_copy(const struct virtq *vq, const struct virtq_chain *ch, uint64_t off,
                      void *buf, uint64_t len, bool to_guest)
{
    unsigned first = to_guest ? ch->n_out : 0;
    unsigned n = to_guest ? ch->n_in : ch->n_out;
    uint64_t total = to_guest ? ch->in_len : ch->out_len;
    uint8_t *p = buf;

    if (off > total || len > total - off)
        return -EFAULT;
    for (unsigned s = first; s < first + n && len; s++) {
        const struct virtq_seg *sg = &ch->seg[s];
        uint64_t take;
        int r;

        if (off >= sg->len) {
            off -= sg->len;
            continue;
        }
        take = sg->len - off < len ? sg->len - off : len;
        r = to_guest ? gram_write(vq->ram, sg->gpa + off, p, take)
                     : gram_read(vq->ram, sg->gpa + off, p, take);
        if (r)
            return r;
        p += take;
        len -= take;
        off = 0;
    }
    return 0;
}

int virtq_chain_read(const struct virtq *vq, const struct virtq_chain *ch, uint64_t off,
                     void *buf, uint64_t len)
{
    return chain_copy(vq, ch, off, buf, len, false);
}

int virtq_chain_write(const struct virtq *vq, const struct virtq_chain *ch, uint64_t off,
                      const void *buf, uint64_t len)
{
    return chain_copy(vq, ch, off, (void *)buf, len, true);
}
