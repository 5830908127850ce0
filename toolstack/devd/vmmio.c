/*
 * vmmio.c - the virtio-mmio register file and device status state machine
 * (see vmmio.h).  Register facts from virtio 1.2 section 4.2.2: all
 * registers below the config space are 32 bits wide and must be accessed as
 * such; the config space takes 8/16/32-bit (and here 64-bit) accesses.
 */
#include <stdio.h>
#include <string.h>
#include "log.h"
#include "virtio.h"
#include "vmmio.h"

void vmmio_init(struct vmmio *m, const struct vdev_ops *ops, void *dev, struct gram *ram,
                struct vmmio_irq irq)
{
    memset(m, 0, sizeof(*m));
    m->ops = ops;
    m->dev = dev;
    m->ram = ram;
    m->irq = irq;
    for (unsigned i = 0; i < VMMIO_MAX_QUEUES; i++)
        virtq_reset(&m->q[i], ram);
}

uint64_t vmmio_offered(const struct vmmio *m)
{
    return m->ops->features | (1ull << VIRTIO_F_VERSION_1);
}

bool vmmio_negotiated(const struct vmmio *m, unsigned bit)
{
    return bit < 64 && (m->driver_features >> bit) & 1;
}

bool vmmio_live(const struct vmmio *m)
{
    return (m->status & VIRTIO_STATUS_DRIVER_OK) && !m->broken &&
           !(m->status & VIRTIO_STATUS_FAILED);
}

static void raise_irq(struct vmmio *m, uint32_t bits)
{
    m->interrupt_status |= bits;
    if (m->irq.set)
        m->irq.set(m->irq.ctx, true);
}

static void ack_irq(struct vmmio *m, uint32_t bits)
{
    uint32_t was = m->interrupt_status;

    m->interrupt_status &= ~bits;
    if (was && !m->interrupt_status && m->irq.set)
        m->irq.set(m->irq.ctx, false);
}

void vmmio_fail(struct vmmio *m, const char *why)
{
    if (m->broken)
        return;
    devd_log("%s: device broken, needs reset: %s", m->ops->name, why);
    m->broken = true;
    m->status |= VIRTIO_STATUS_DEVICE_NEEDS_RESET;
    /* 2.1.2: a device that sets DEVICE_NEEDS_RESET after DRIVER_OK must
     * send a configuration change notification. */
    if (m->status & VIRTIO_STATUS_DRIVER_OK)
        raise_irq(m, VIRTIO_MMIO_INT_CONFIG);
}

void vmmio_config_changed(struct vmmio *m)
{
    m->config_generation++;
    if (m->status & VIRTIO_STATUS_DRIVER_OK)
        raise_irq(m, VIRTIO_MMIO_INT_CONFIG);
}

int vmmio_pop(struct vmmio *m, unsigned q, struct virtq_chain *ch)
{
    struct virtq *vq = &m->q[q];
    char why[200];
    int r;

    if (q >= m->ops->num_queues || !vmmio_live(m))
        return 0;
    r = virtq_pop(vq, ch);
    if (r < 0) {
        snprintf(why, sizeof(why), "queue %u: %s", q, vq->error);
        vmmio_fail(m, why);
        return -1;
    }
    return r;
}

int vmmio_push(struct vmmio *m, unsigned q, uint16_t head, uint32_t len)
{
    struct virtq *vq = &m->q[q];

    if (q >= m->ops->num_queues || m->broken)
        return -1;
    if (virtq_push(vq, head, len)) {
        vmmio_fail(m, vq->error);
        return -1;
    }
    if (virtq_want_interrupt(vq))
        raise_irq(m, VIRTIO_MMIO_INT_VRING);
    return 0;
}

static void reset(struct vmmio *m)
{
    uint32_t had_irq = m->interrupt_status;

    m->status = 0;
    m->dev_features_sel = m->drv_features_sel = m->queue_sel = m->shm_sel = 0;
    m->driver_features = 0;
    m->interrupt_status = 0;
    m->broken = false;
    for (unsigned i = 0; i < VMMIO_MAX_QUEUES; i++)
        virtq_reset(&m->q[i], m->ram);
    if (had_irq && m->irq.set)
        m->irq.set(m->irq.ctx, false);
    if (m->ops->reset)
        m->ops->reset(m);
}

/* FEATURES_OK is accepted only for a subset of what was offered that
 * includes VIRTIO_F_VERSION_1 (devd has no legacy interface). */
static bool features_acceptable(const struct vmmio *m)
{
    return !(m->driver_features & ~vmmio_offered(m)) &&
           vmmio_negotiated(m, VIRTIO_F_VERSION_1);
}

/* The driver may only add status bits, in the order of 3.1.1; bits out of
 * order are not taken (the driver sees that when it reads Status back). */
static void write_status(struct vmmio *m, uint32_t val)
{
    uint32_t old = m->status, add;

    if (val == 0) {
        reset(m);
        return;
    }
    if (old & ~val & ~(uint32_t)VIRTIO_STATUS_DEVICE_NEEDS_RESET) {
        devd_log("%s: driver cleared status bits (0x%x -> 0x%x), ignored", m->ops->name, old, val);
        return;
    }
    add = val & ~old;
    if (add & VIRTIO_STATUS_ACKNOWLEDGE)
        m->status |= VIRTIO_STATUS_ACKNOWLEDGE;
    if ((add & VIRTIO_STATUS_DRIVER) && (m->status & VIRTIO_STATUS_ACKNOWLEDGE))
        m->status |= VIRTIO_STATUS_DRIVER;
    if ((add & VIRTIO_STATUS_FEATURES_OK) && (m->status & VIRTIO_STATUS_DRIVER)) {
        if (features_acceptable(m))
            m->status |= VIRTIO_STATUS_FEATURES_OK;
        else
            devd_log("%s: driver features 0x%llx refused (offered 0x%llx, VERSION_1 required)",
                     m->ops->name, (unsigned long long)m->driver_features,
                     (unsigned long long)vmmio_offered(m));
    }
    if ((add & VIRTIO_STATUS_DRIVER_OK) && (m->status & VIRTIO_STATUS_FEATURES_OK))
        m->status |= VIRTIO_STATUS_DRIVER_OK;
    if (add & VIRTIO_STATUS_FAILED)
        m->status |= VIRTIO_STATUS_FAILED;
}

/* The selected queue, or NULL if QueueSel names none. */
static struct virtq *selected(struct vmmio *m)
{
    return m->queue_sel < m->ops->num_queues ? &m->q[m->queue_sel] : NULL;
}

static void queue_ready(struct vmmio *m, struct virtq *vq, uint32_t val)
{
    char why[200];

    if (!val) {
        vq->enabled = false;
        return;
    }
    if (vq->enabled)
        return;
    if ((m->status & (VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK)) !=
        VIRTIO_STATUS_FEATURES_OK) {
        devd_log("%s: queue %u made ready outside queue setup (status 0x%x), ignored",
                 m->ops->name, m->queue_sel, m->status);
        return;
    }
    if (vq->size > m->ops->queue_max) {
        snprintf(why, sizeof(why), "queue %u size %u exceeds QueueNumMax %u", m->queue_sel,
                 vq->size, m->ops->queue_max);
        vmmio_fail(m, why);
        return;
    }
    vq->indirect_ok = vmmio_negotiated(m, VIRTIO_F_INDIRECT_DESC);
    if (virtq_enable(vq)) {
        snprintf(why, sizeof(why), "queue %u: %s", m->queue_sel, vq->error);
        vmmio_fail(m, why);
    }
}

/* A 32-bit half of a 64-bit queue address, writable only while the queue
 * is not ready. */
static void set_half(uint64_t *addr, bool high, uint32_t val)
{
    if (high)
        *addr = (*addr & 0xffffffffull) | ((uint64_t)val << 32);
    else
        *addr = (*addr & ~0xffffffffull) | val;
}

static uint64_t config_read(struct vmmio *m, uint32_t off, unsigned size)
{
    uint64_t v = 0;

    if (off > m->ops->config_size || size > m->ops->config_size - off || off % size) {
        devd_log("%s: config read of %u bytes at 0x%x outside its %u bytes, or misaligned",
                 m->ops->name, size, off, m->ops->config_size);
        return 0;
    }
    m->ops->config_read(m, off, &v, size);
    return v;
}

static void config_write(struct vmmio *m, uint32_t off, unsigned size, uint64_t val)
{
    if (!m->ops->config_write || off > m->ops->config_size ||
        size > m->ops->config_size - off || off % size) {
        devd_log("%s: config write of %u bytes at 0x%x refused", m->ops->name, size, off);
        return;
    }
    m->ops->config_write(m, off, &val, size);
}

uint64_t vmmio_read(struct vmmio *m, uint32_t off, unsigned size)
{
    struct virtq *vq = selected(m);

    if (size != 1 && size != 2 && size != 4 && size != 8)
        return 0;
    if (off >= VIRTIO_MMIO_CONFIG && off < VIRTIO_MMIO_SIZE)
        return config_read(m, off - VIRTIO_MMIO_CONFIG, size);
    if (size != 4 || off % 4) {
        devd_log("%s: %u-byte read at register 0x%x (only aligned 32-bit reads), gave 0",
                 m->ops->name, size, off);
        return 0;
    }
    switch (off) {
    case VIRTIO_MMIO_MAGIC_VALUE:       return VIRTIO_MMIO_MAGIC;
    case VIRTIO_MMIO_VERSION:           return 2;
    case VIRTIO_MMIO_DEVICE_ID:         return m->ops->device_id;
    case VIRTIO_MMIO_VENDOR_ID:         return VMMIO_VENDOR_ID;
    case VIRTIO_MMIO_DEVICE_FEATURES:
        return m->dev_features_sel < 2 ? (uint32_t)(vmmio_offered(m) >> (32 * m->dev_features_sel)) : 0;
    case VIRTIO_MMIO_QUEUE_NUM_MAX:     return vq ? m->ops->queue_max : 0;
    case VIRTIO_MMIO_QUEUE_READY:       return vq && vq->enabled;
    case VIRTIO_MMIO_INTERRUPT_STATUS:  return m->interrupt_status;
    case VIRTIO_MMIO_STATUS:            return m->status;
    case VIRTIO_MMIO_SHM_LEN_LOW:
    case VIRTIO_MMIO_SHM_LEN_HIGH:
    case VIRTIO_MMIO_SHM_BASE_LOW:
    case VIRTIO_MMIO_SHM_BASE_HIGH:     return 0xffffffffu;  /* no shared memory regions */
    case VIRTIO_MMIO_QUEUE_RESET:       return 0;
    case VIRTIO_MMIO_CONFIG_GENERATION: return m->config_generation;
    }
    devd_log("%s: read of write-only or unknown register 0x%x, gave 0", m->ops->name, off);
    return 0;
}

void vmmio_write(struct vmmio *m, uint32_t off, unsigned size, uint64_t val64)
{
    struct virtq *vq = selected(m);
    uint32_t val = (uint32_t)val64;
    bool setup;

    if (size != 1 && size != 2 && size != 4 && size != 8)
        return;
    if (off >= VIRTIO_MMIO_CONFIG && off < VIRTIO_MMIO_SIZE) {
        config_write(m, off - VIRTIO_MMIO_CONFIG, size, val64);
        return;
    }
    if (size != 4 || off % 4) {
        devd_log("%s: %u-byte write at register 0x%x (only aligned 32-bit writes), ignored",
                 m->ops->name, size, off);
        return;
    }
    /* Queue registers may change only during setup and while not ready. */
    setup = vq && !vq->enabled && (m->status & VIRTIO_STATUS_FEATURES_OK) &&
            !(m->status & VIRTIO_STATUS_DRIVER_OK);
    switch (off) {
    case VIRTIO_MMIO_DEVICE_FEATURES_SEL: m->dev_features_sel = val; return;
    case VIRTIO_MMIO_DRIVER_FEATURES_SEL: m->drv_features_sel = val; return;
    case VIRTIO_MMIO_DRIVER_FEATURES:
        if ((m->status & (VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK)) !=
                VIRTIO_STATUS_DRIVER || m->drv_features_sel >= 2)
            break;
        set_half(&m->driver_features, m->drv_features_sel == 1, val);
        return;
    case VIRTIO_MMIO_QUEUE_SEL:           m->queue_sel = val; return;
    case VIRTIO_MMIO_QUEUE_NUM:
        if (!setup)
            break;
        /* checked (power of two, <= QueueNumMax) when the queue is made ready */
        vq->size = val > 0xffff ? 0 : (uint16_t)val;
        return;
    case VIRTIO_MMIO_QUEUE_READY:
        if (!vq)
            break;
        queue_ready(m, vq, val);
        return;
    case VIRTIO_MMIO_QUEUE_DESC_LOW:
    case VIRTIO_MMIO_QUEUE_DESC_HIGH:
        if (!setup)
            break;
        set_half(&vq->desc, off == VIRTIO_MMIO_QUEUE_DESC_HIGH, val);
        return;
    case VIRTIO_MMIO_QUEUE_DRIVER_LOW:
    case VIRTIO_MMIO_QUEUE_DRIVER_HIGH:
        if (!setup)
            break;
        set_half(&vq->avail, off == VIRTIO_MMIO_QUEUE_DRIVER_HIGH, val);
        return;
    case VIRTIO_MMIO_QUEUE_DEVICE_LOW:
    case VIRTIO_MMIO_QUEUE_DEVICE_HIGH:
        if (!setup)
            break;
        set_half(&vq->used, off == VIRTIO_MMIO_QUEUE_DEVICE_HIGH, val);
        return;
    case VIRTIO_MMIO_QUEUE_NOTIFY:
        if (val < m->ops->num_queues && vmmio_live(m) && m->q[val].enabled) {
            m->ops->notify(m, val);
            return;
        }
        /* a kick before DRIVER_OK or after breakage is harmless: drop it */
        return;
    case VIRTIO_MMIO_INTERRUPT_ACK:       ack_irq(m, val); return;
    case VIRTIO_MMIO_STATUS:              write_status(m, val & 0xff); return;
    case VIRTIO_MMIO_SHM_SEL:             m->shm_sel = val; return;
    }
    devd_log("%s: write of 0x%x to register 0x%x refused (read-only, unknown, or not now; "
             "status 0x%x)", m->ops->name, val, off, m->status);
}
