/*
 * test_vmmio.c - the virtio-mmio transport against a recording test device:
 * identification registers, feature negotiation (VERSION_1 required, nothing
 * unoffered), the status state machine, queue setup rules, notifications,
 * interrupts and acknowledgement, config space access and generation, and
 * DEVICE_NEEDS_RESET when a queue is corrupt or badly placed.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include "fake_guest.h"
#include "log.h"
#include "virtio.h"
#include "vmmio.h"

static struct fguest g;
static struct vmmio m;
static struct fq qs[2];
static unsigned notified[2], resets;
static uint8_t config[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
static char last_log[512];

static void log_hook(const char *line)
{
    snprintf(last_log, sizeof(last_log), "%s", line);
}

static void t_config_read(struct vmmio *d, uint32_t off, void *buf, uint32_t len)
{
    (void)d;
    memcpy(buf, config + off, len);
}

static void t_config_write(struct vmmio *d, uint32_t off, const void *buf, uint32_t len)
{
    (void)d;
    memcpy(config + off, buf, len);
}

static void t_notify(struct vmmio *d, unsigned q)
{
    (void)d;
    notified[q]++;
}

static void t_reset(struct vmmio *d)
{
    (void)d;
    resets++;
}

static const struct vdev_ops ops = {
    .name = "test",
    .device_id = 42,
    .num_queues = 2,
    .queue_max = 16,
    .features = (1ull << 3) | (1ull << VIRTIO_F_INDIRECT_DESC),
    .config_size = sizeof(config),
    .config_read = t_config_read,
    .config_write = t_config_write,
    .notify = t_notify,
    .reset = t_reset,
};

static const uint64_t VERSION_1 = 1ull << VIRTIO_F_VERSION_1;

static int setup(void **state)
{
    (void)state;
    fg_init(&g);
    vmmio_init(&m, &ops, NULL, &g.ram, fg_irq(&g));
    notified[0] = notified[1] = resets = 0;
    last_log[0] = '\0';
    devd_log_hook = log_hook;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    fg_free(&g);
    devd_log_hook = NULL;
    return 0;
}

static void identification(void **state)
{
    (void)state;
    assert_int_equal(fg_rd(&m, VIRTIO_MMIO_MAGIC_VALUE), 0x74726976);
    assert_int_equal(fg_rd(&m, VIRTIO_MMIO_VERSION), 2);
    assert_int_equal(fg_rd(&m, VIRTIO_MMIO_DEVICE_ID), 42);
    assert_int_equal(fg_rd(&m, VIRTIO_MMIO_VENDOR_ID), VMMIO_VENDOR_ID);
    fg_wr(&m, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
    assert_int_equal(fg_rd(&m, VIRTIO_MMIO_DEVICE_FEATURES), (1u << 3) | (1u << 28));
    fg_wr(&m, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
    assert_int_equal(fg_rd(&m, VIRTIO_MMIO_DEVICE_FEATURES), 1);     /* VERSION_1 */
    fg_wr(&m, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 2);
    assert_int_equal(fg_rd(&m, VIRTIO_MMIO_DEVICE_FEATURES), 0);
    fg_wr(&m, VIRTIO_MMIO_QUEUE_SEL, 1);
    assert_int_equal(fg_rd(&m, VIRTIO_MMIO_QUEUE_NUM_MAX), 16);
    fg_wr(&m, VIRTIO_MMIO_QUEUE_SEL, 2);                                 /* no such queue */
    assert_int_equal(fg_rd(&m, VIRTIO_MMIO_QUEUE_NUM_MAX), 0);
    assert_int_equal(fg_rd(&m, VIRTIO_MMIO_SHM_LEN_LOW), 0xffffffffu);  /* no SHM regions */
}

static void odd_accesses_are_refused(void **state)
{
    (void)state;
    assert_int_equal(vmmio_read(&m, VIRTIO_MMIO_MAGIC_VALUE, 2), 0);
    assert_int_equal(vmmio_read(&m, VIRTIO_MMIO_MAGIC_VALUE + 1, 4), 0);
    assert_int_equal(vmmio_read(&m, VIRTIO_MMIO_MAGIC_VALUE, 3), 0);
    assert_int_equal(vmmio_read(&m, 0x0f0, 4), 0);                      /* no register */
    assert_int_equal(vmmio_read(&m, VIRTIO_MMIO_QUEUE_NOTIFY, 4), 0);   /* write-only */
    vmmio_write(&m, VIRTIO_MMIO_STATUS, 1, VIRTIO_STATUS_ACKNOWLEDGE);  /* byte write */
    assert_int_equal(fg_rd(&m, VIRTIO_MMIO_STATUS), 0);
    assert_non_null(strstr(last_log, "1-byte write at register 0x70"));
    fg_wr(&m, VIRTIO_MMIO_MAGIC_VALUE, 0);                              /* read-only */
    assert_int_equal(fg_rd(&m, VIRTIO_MMIO_MAGIC_VALUE), 0x74726976);
}

static void config_space(void **state)
{
    (void)state;
    assert_int_equal(vmmio_read(&m, VIRTIO_MMIO_CONFIG + 1, 1), 2);
    assert_int_equal(vmmio_read(&m, VIRTIO_MMIO_CONFIG + 2, 2), 0x0403);
    assert_int_equal(vmmio_read(&m, VIRTIO_MMIO_CONFIG + 4, 4), 0x08070605);
    assert_int_equal(vmmio_read(&m, VIRTIO_MMIO_CONFIG, 8), 0x0807060504030201ull);
    assert_int_equal(vmmio_read(&m, VIRTIO_MMIO_CONFIG + 1, 2), 0);     /* misaligned */
    assert_int_equal(vmmio_read(&m, VIRTIO_MMIO_CONFIG + 8, 1), 0);     /* past the end */
    assert_int_equal(vmmio_read(&m, VIRTIO_MMIO_CONFIG + 0xfc, 4), 0);
    vmmio_write(&m, VIRTIO_MMIO_CONFIG + 6, 2, 0xbeef);
    assert_int_equal(config[6], 0xef);
    vmmio_write(&m, VIRTIO_MMIO_CONFIG + 7, 2, 0xbeef);                 /* refused */
    assert_int_equal(config[7], 0xbe);
    assert_int_equal(fg_rd(&m, VIRTIO_MMIO_CONFIG_GENERATION), 0);
    vmmio_config_changed(&m);
    assert_int_equal(fg_rd(&m, VIRTIO_MMIO_CONFIG_GENERATION), 1);
    assert_int_equal(g.irq_raised, 0);          /* no interrupt before DRIVER_OK */
}

static void negotiate(uint64_t features)
{
    fg_wr(&m, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE);
    fg_wr(&m, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
    fg_wr(&m, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
    fg_wr(&m, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)features);
    fg_wr(&m, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
    fg_wr(&m, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)(features >> 32));
    fg_wr(&m, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
                                  VIRTIO_STATUS_FEATURES_OK);
}

static bool features_ok(void)
{
    return fg_rd(&m, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_FEATURES_OK;
}

static void version_1_required(void **state)
{
    (void)state;
    negotiate(1ull << 3);
    assert_false(features_ok());
    assert_non_null(strstr(last_log, "VERSION_1 required"));
}

static void unoffered_features_refused(void **state)
{
    (void)state;
    negotiate(VERSION_1 | (1ull << 4));
    assert_false(features_ok());
    fg_wr(&m, VIRTIO_MMIO_STATUS, 0);
    negotiate(VERSION_1 | (1ull << 3));
    assert_true(features_ok());
    assert_true(vmmio_negotiated(&m, 3));
    assert_false(vmmio_negotiated(&m, VIRTIO_F_INDIRECT_DESC));
    /* features are frozen once FEATURES_OK is set */
    fg_wr(&m, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
    fg_wr(&m, VIRTIO_MMIO_DRIVER_FEATURES, 1u << 28);
    assert_false(vmmio_negotiated(&m, VIRTIO_F_INDIRECT_DESC));
}

static void status_order_enforced(void **state)
{
    (void)state;
    /* DRIVER before ACKNOWLEDGE, DRIVER_OK before FEATURES_OK: not taken */
    fg_wr(&m, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_DRIVER);
    assert_int_equal(fg_rd(&m, VIRTIO_MMIO_STATUS), 0);
    fg_wr(&m, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
                                  VIRTIO_STATUS_DRIVER_OK);
    assert_int_equal(fg_rd(&m, VIRTIO_MMIO_STATUS), VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
    /* the driver may not clear bits other than by reset */
    fg_wr(&m, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE);
    assert_int_equal(fg_rd(&m, VIRTIO_MMIO_STATUS), VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
    /* nor set DEVICE_NEEDS_RESET itself */
    fg_wr(&m, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
                                  VIRTIO_STATUS_DEVICE_NEEDS_RESET);
    assert_int_equal(fg_rd(&m, VIRTIO_MMIO_STATUS), VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
    fg_wr(&m, VIRTIO_MMIO_STATUS, 0);
    assert_int_equal(fg_rd(&m, VIRTIO_MMIO_STATUS), 0);
    assert_int_equal(resets, 1);
}

static void full_start_and_notify(void **state)
{
    (void)state;
    fg_start(&g, &m, VERSION_1 | (1ull << VIRTIO_F_INDIRECT_DESC), qs, 2, 8);
    assert_true(m.q[0].indirect_ok);
    fg_wr(&m, VIRTIO_MMIO_QUEUE_NOTIFY, 1);
    fg_wr(&m, VIRTIO_MMIO_QUEUE_NOTIFY, 1);
    fg_wr(&m, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
    fg_wr(&m, VIRTIO_MMIO_QUEUE_NOTIFY, 7);                             /* no such queue */
    assert_int_equal(notified[0], 1);
    assert_int_equal(notified[1], 2);
}

static void notify_before_driver_ok_dropped(void **state)
{
    (void)state;
    negotiate(VERSION_1);
    fg_wr(&m, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
    assert_int_equal(notified[0], 0);
}

static void queue_registers_only_during_setup(void **state)
{
    (void)state;
    /* before FEATURES_OK */
    fg_wr(&m, VIRTIO_MMIO_QUEUE_NUM, 8);
    assert_int_equal(m.q[0].size, 0);
    fg_start(&g, &m, VERSION_1, qs, 2, 8);
    /* after DRIVER_OK, and while ready */
    fg_wr(&m, VIRTIO_MMIO_QUEUE_SEL, 0);
    fg_wr(&m, VIRTIO_MMIO_QUEUE_DESC_LOW, 0x40000);
    fg_wr(&m, VIRTIO_MMIO_QUEUE_NUM, 4);
    assert_int_equal(m.q[0].desc, qs[0].desc);
    assert_int_equal(m.q[0].size, 8);
}

static void queue_ready_checks_layout(void **state)
{
    (void)state;
    negotiate(VERSION_1);
    fg_wr(&m, VIRTIO_MMIO_QUEUE_SEL, 0);
    fg_wr(&m, VIRTIO_MMIO_QUEUE_NUM, 8);
    fg_wr(&m, VIRTIO_MMIO_QUEUE_DESC_LOW, 0x10000);
    fg_wr(&m, VIRTIO_MMIO_QUEUE_DESC_HIGH, 1);                          /* 4 GiB up: not RAM */
    fg_wr(&m, VIRTIO_MMIO_QUEUE_DRIVER_LOW, 0x14000);
    fg_wr(&m, VIRTIO_MMIO_QUEUE_DEVICE_LOW, 0x18000);
    fg_wr(&m, VIRTIO_MMIO_QUEUE_READY, 1);
    assert_int_equal(fg_rd(&m, VIRTIO_MMIO_QUEUE_READY), 0);
    assert_true(fg_rd(&m, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_DEVICE_NEEDS_RESET);
    assert_non_null(strstr(last_log, "ring outside guest RAM"));
    /* a reset clears it and the device can be set up again */
    fg_start(&g, &m, VERSION_1, qs, 1, 8);
    assert_false(fg_rd(&m, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_DEVICE_NEEDS_RESET);
}

static void queue_size_above_max(void **state)
{
    (void)state;
    negotiate(VERSION_1);
    fg_wr(&m, VIRTIO_MMIO_QUEUE_NUM, 32);
    fg_wr(&m, VIRTIO_MMIO_QUEUE_DESC_LOW, 0x10000);
    fg_wr(&m, VIRTIO_MMIO_QUEUE_DRIVER_LOW, 0x14000);
    fg_wr(&m, VIRTIO_MMIO_QUEUE_DEVICE_LOW, 0x18000);
    fg_wr(&m, VIRTIO_MMIO_QUEUE_READY, 1);
    assert_true(m.broken);
    assert_non_null(strstr(last_log, "exceeds QueueNumMax 16"));
}

static void interrupts_and_ack(void **state)
{
    (void)state;
    fg_start(&g, &m, VERSION_1, qs, 2, 8);
    assert_int_equal(vmmio_push(&m, 1, 0, 0), 0);
    assert_int_equal(g.irq_raised, 1);
    assert_true(g.irq_level);
    assert_int_equal(fg_rd(&m, VIRTIO_MMIO_INTERRUPT_STATUS), 1);
    vmmio_config_changed(&m);
    assert_int_equal(fg_rd(&m, VIRTIO_MMIO_INTERRUPT_STATUS), 3);
    fg_wr(&m, VIRTIO_MMIO_INTERRUPT_ACK, 1);
    assert_true(g.irq_level);                   /* config bit still pending */
    fg_wr(&m, VIRTIO_MMIO_INTERRUPT_ACK, 2);
    assert_false(g.irq_level);
    assert_int_equal(fg_rd(&m, VIRTIO_MMIO_INTERRUPT_STATUS), 0);
    /* the driver can suppress used-buffer interrupts */
    uint16_t flags = VIRTQ_AVAIL_F_NO_INTERRUPT;
    memcpy(g.mem + qs[1].avail, &flags, 2);
    assert_int_equal(vmmio_push(&m, 1, 0, 0), 0);
    assert_int_equal(fg_rd(&m, VIRTIO_MMIO_INTERRUPT_STATUS), 0);
}

static void corrupt_queue_needs_reset(void **state)
{
    struct virtq_chain *ch = test_malloc(sizeof(*ch));

    (void)state;
    fg_start(&g, &m, VERSION_1, qs, 2, 8);
    fq_desc(&g, &qs[0], 0, FG_DATA, 8, VIRTQ_DESC_F_NEXT, 0);            /* self loop */
    fq_publish(&g, &qs[0], 0);
    assert_int_equal(vmmio_pop(&m, 0, ch), -1);
    assert_true(fg_rd(&m, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_DEVICE_NEEDS_RESET);
    /* a configuration change interrupt tells the running driver */
    assert_int_equal(fg_rd(&m, VIRTIO_MMIO_INTERRUPT_STATUS), 2);
    assert_non_null(strstr(last_log, "test: device broken, needs reset: queue 0: chain from head 0"));
    /* nothing more is processed: no notifications, no pops */
    fg_wr(&m, VIRTIO_MMIO_QUEUE_NOTIFY, 1);
    assert_int_equal(notified[1], 0);
    assert_int_equal(vmmio_pop(&m, 1, ch), 0);
    /* the driver resets and starts again */
    fg_start(&g, &m, VERSION_1, qs, 2, 8);
    fq_desc(&g, &qs[0], 0, FG_DATA, 8, 0, 0);
    fq_publish(&g, &qs[0], 0);
    assert_int_equal(vmmio_pop(&m, 0, ch), 1);
    test_free(ch);
}

static void queue_can_be_disabled(void **state)
{
    (void)state;
    fg_start(&g, &m, VERSION_1, qs, 2, 8);
    fg_wr(&m, VIRTIO_MMIO_QUEUE_SEL, 1);
    fg_wr(&m, VIRTIO_MMIO_QUEUE_READY, 0);
    assert_int_equal(fg_rd(&m, VIRTIO_MMIO_QUEUE_READY), 0);
    fg_wr(&m, VIRTIO_MMIO_QUEUE_NOTIFY, 1);
    assert_int_equal(notified[1], 0);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(identification),
        T(odd_accesses_are_refused),
        T(config_space),
        T(version_1_required),
        T(unoffered_features_refused),
        T(status_order_enforced),
        T(full_start_and_notify),
        T(notify_before_driver_ok_dropped),
        T(queue_registers_only_during_setup),
        T(queue_ready_checks_layout),
        T(queue_size_above_max),
        T(interrupts_and_ack),
        T(corrupt_queue_needs_reset),
        T(queue_can_be_disabled),
    };
    return cmocka_run_group_tests_name("vmmio", tests, NULL, NULL);
}
