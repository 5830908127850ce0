/*
 * vdevs.c - a PC domain's ISA devices (the pure models of devices/) on
 * their ports and IRQ lines: the 8259 pair, the PIT and port 0x61, the
 * RTC, COM1's 16550 (its output is the domain's console), the ACPI PM
 * timer and PM1a blocks, port 0x92 and the reset register 0xcf9, the
 * isa-debug-exit port 0xf4, and for `testdev` domains the pc-testdev ports
 * and window and fw_cfg (what kvm-unit-tests expect of QEMU).
 *
 * Every access runs under the platform's lock.  What ends the domain (the
 * debug-exit port, a reset, ACPI S5) is recorded and done by
 * vplatform_unlock(), once the lock is dropped.
 *
 * The guest's RTC starts at VDEVS_RTC_EPOCH: the hypervisor reads no wall
 * clock yet.
 */
#include <kiln/lib.h>
#include <kiln/mm.h>
#include <kiln/time.h>
#include <kiln/firmware.h>
#include <kiln/hvm_mmio.h>
#include "vplatform.h"

#define VDEVS_RTC_EPOCH 1767225600ll   /* 2026-01-01 00:00:00 UTC */

/* ---- the devices' hooks (platform lock held) ---------------------------- */

static void pic_intr(void *ctx, bool level)
{
    struct vplatform *p = ctx;
    __atomic_store_n(&p->pic_intr, level, __ATOMIC_RELEASE);
    if (level)
        p->notify_mask |= 1u;   /* the 8259 is wired to the BSP */
}

static void pit_irq0(void *ctx, bool level)
{
    virq_isa_line(ctx, 0, level);
}

static void rtc_irq8(void *ctx, bool level)
{
    virq_isa_line(ctx, 8, level);
}

static void uart_irq(void *ctx, bool level)
{
    virq_isa_line(ctx, VUART_COM1_IRQ, level);
}

static void uart_tx(void *ctx, u8 byte)
{
    struct vplatform *p = ctx;
    char c = (char)byte;
    domain_console_write(p->d, &c, 1);
}

static void pm_sci(void *ctx, bool level)
{
    virq_isa_line(ctx, FW_SCI_GSI, level);
}

static void pm_power_off(void *ctx)
{
    vplatform_end(ctx, VPLATFORM_END_POWEROFF, 0);
}

static void port92_reset(void *ctx)
{
    vplatform_end(ctx, VPLATFORM_END_RESET, 0);
}

static void debug_exit(void *ctx, u32 code)
{
    vplatform_end(ctx, VPLATFORM_END_EXIT_CODE, code);
}

static void testdev_irq(void *ctx, unsigned int gsi, bool level)
{
    virq_gsi_line(ctx, gsi, level);
}

/* ---- ports ---------------------------------------------------------------- */

static bool in(u16 port, u16 first, u16 count)
{
    return (u16)(port - first) < count;
}

static u32 dev_read(void *ctx, u16 port, unsigned int size)
{
    struct vplatform *p = ctx;
    u64 now = now_ns();
    u32 val = ~0u;
    unsigned long f = vplatform_lock(p);
    if (in(port, VPIC_MASTER_PORT, 2) || in(port, VPIC_SLAVE_PORT, 2) ||
        in(port, VPIC_ELCR_PORT, 2))
        val = vpic_io_read(&p->pic, port, size);
    else if (in(port, VPIT_PORT, 4) || port == VPIT_PORT_61)
        val = vpit_io_read(&p->pit, port, size, now);
    else if (in(port, VRTC_PORT_INDEX, 2))
        val = vrtc_io_read(&p->rtc, port, size, now);
    else if (in(port, VUART_COM1_PORT, 8))
        val = vuart_io_read(&p->uart, port, size);
    else if (in(port, PMTIMER_PM1A_EVT, 12))
        val = pmtimer_io_read(&p->pm, port, size, now);
    else if (port == PORT92_PORT || port == PORT92_RESET_PORT)
        val = port92_io_read(&p->port92, port, size);
    else if (in(port, DEBUG_EXIT_PORT, DEBUG_EXIT_SIZE))
        val = debug_exit_io_read(&p->debug_exit, port, size);
    else if (p->d->testdev && in(port, FWCFG_PORT_SELECTOR, 2))
        val = fwcfg_io_read(&p->fwcfg, port, size);
    else if (p->d->testdev)
        val = testdev_io_read(&p->testdev, port, size);
    vplatform_unlock(p, f);
    return val;
}

static void dev_write(void *ctx, u16 port, unsigned int size, u32 val)
{
    struct vplatform *p = ctx;
    u64 now = now_ns();
    unsigned long f = vplatform_lock(p);
    if (in(port, VPIC_MASTER_PORT, 2) || in(port, VPIC_SLAVE_PORT, 2) ||
        in(port, VPIC_ELCR_PORT, 2))
        vpic_io_write(&p->pic, port, size, val);
    else if (in(port, VPIT_PORT, 4) || port == VPIT_PORT_61)
        vpit_io_write(&p->pit, port, size, val, now);
    else if (in(port, VRTC_PORT_INDEX, 2))
        vrtc_io_write(&p->rtc, port, size, val, now);
    else if (in(port, VUART_COM1_PORT, 8))
        vuart_io_write(&p->uart, port, size, val);
    else if (in(port, PMTIMER_PM1A_EVT, 12))
        pmtimer_io_write(&p->pm, port, size, val, now);
    else if (port == PORT92_PORT || port == PORT92_RESET_PORT)
        port92_io_write(&p->port92, port, size, val);
    else if (in(port, DEBUG_EXIT_PORT, DEBUG_EXIT_SIZE))
        debug_exit_io_write(&p->debug_exit, port, size, val);
    else if (p->d->testdev && in(port, FWCFG_PORT_SELECTOR, 2))
        fwcfg_io_write(&p->fwcfg, port, size, val);
    else if (p->d->testdev)
        testdev_io_write(&p->testdev, port, size, val);
    vplatform_unlock(p, f);
}

static int td_mmio_read(void *dev, struct vcpu *v, u64 gpa, unsigned int size, u64 *val)
{
    (void)v;
    struct vplatform *p = dev;
    unsigned long f = vplatform_lock(p);
    *val = testdev_mmio_read(&p->testdev, gpa - TESTDEV_IOMEM_BASE, size);
    vplatform_unlock(p, f);
    return 0;
}

static int td_mmio_write(void *dev, struct vcpu *v, u64 gpa, unsigned int size, u64 val)
{
    (void)v;
    struct vplatform *p = dev;
    unsigned long f = vplatform_lock(p);
    testdev_mmio_write(&p->testdev, gpa - TESTDEV_IOMEM_BASE, size, val);
    vplatform_unlock(p, f);
    return 0;
}

static const struct hvm_mmio_ops testdev_mmio_ops = {
    .read = td_mmio_read,
    .write = td_mmio_write,
};

int vdevs_init(struct vplatform *p)
{
    struct domain *d = p->d;
    u64 now = now_ns();
    const struct vpic_hooks pic_hooks = { .intr = pic_intr, .ctx = p };
    const struct vpit_hooks pit_hooks = { .irq0 = pit_irq0, .ctx = p };
    const struct vrtc_hooks rtc_hooks = { .irq8 = rtc_irq8, .ctx = p };
    const struct vuart_hooks uart_hooks = { .irq = uart_irq, .tx = uart_tx, .ctx = p };
    const struct pmtimer_hooks pm_hooks = { .sci = pm_sci, .power_off = pm_power_off, .ctx = p };
    const struct port92_hooks port92_hooks = { .reset = port92_reset, .ctx = p };
    const struct debug_exit_hooks exit_hooks = { .exit = debug_exit, .ctx = p };
    /* A PC domain's RAM all lies below the MMIO hole (firmware.h). */
    u64 ram = d->memory_kib * 1024;

    vpic_init(&p->pic, &pic_hooks);
    vpit_init(&p->pit, &pit_hooks, now);
    vrtc_init(&p->rtc, &rtc_hooks, VDEVS_RTC_EPOCH, now, ram, 0);
    vuart_init(&p->uart, VUART_COM1_PORT, &uart_hooks);
    pmtimer_init(&p->pm, &pm_hooks, FW_S5_SLP_TYP, now);
    port92_init(&p->port92, &port92_hooks);
    debug_exit_init(&p->debug_exit, &exit_hooks);

    static const struct { u16 first, count; } ranges[] = {
        { VPIC_MASTER_PORT, 2 }, { VPIC_SLAVE_PORT, 2 }, { VPIC_ELCR_PORT, 2 },
        { VPIT_PORT, 4 }, { VPIT_PORT_61, 1 }, { VRTC_PORT_INDEX, 2 },
        { VUART_COM1_PORT, 8 }, { PMTIMER_PM1A_EVT, 12 }, { PORT92_PORT, 1 },
        { PORT92_RESET_PORT, 1 }, { DEBUG_EXIT_PORT, DEBUG_EXIT_SIZE },
    };
    int rc = 0;
    for (unsigned int i = 0; !rc && i < ARRAY_SIZE(ranges); i++)
        rc = hvm_port_register(d, ranges[i].first, ranges[i].count, dev_read, dev_write, p);
    if (rc || !d->testdev)
        return rc;

    /* kvm-unit-tests' test device: its ports overlap Kiln's test ports,
     * and win; its 64 KiB MMIO window sits at 0xff000000. */
    p->testdev_mem = alloc_pages(VDEVS_TESTDEV_ORDER);
    if (!p->testdev_mem)
        return -KILN_ENOMEM;
    const struct testdev_hooks td_hooks = { .set_irq = testdev_irq, .ctx = p };
    testdev_init(&p->testdev, &td_hooks, p->testdev_mem);
    fwcfg_init(&p->fwcfg, ram, (u16)d->nr_vcpus, (u16)d->nr_vcpus);
    if ((rc = hvm_port_register(d, TESTDEV_PORT_DATA, 12, dev_read, dev_write, p)) ||
        (rc = hvm_port_register(d, TESTDEV_PORT_IRQ, TESTDEV_IRQ_LINES, dev_read, dev_write, p)) ||
        (rc = hvm_port_register(d, FWCFG_PORT_SELECTOR, 2, dev_read, dev_write, p)))
        return rc;
    return hvm_mmio_register(d, TESTDEV_IOMEM_BASE, TESTDEV_IOMEM_SIZE, &testdev_mmio_ops, p);
}

void vdevs_free(struct vplatform *p)
{
    if (p->testdev_mem)
        free_pages(p->testdev_mem, VDEVS_TESTDEV_ORDER);
    p->testdev_mem = NULL;
}

u64 vdevs_advance(struct vplatform *p, u64 now)
{
    vpit_advance(&p->pit, now);
    vrtc_advance(&p->rtc, now);
    pmtimer_advance(&p->pm, now);
    u64 next = 0, d[3] = { vpit_next_deadline(&p->pit), vrtc_next_deadline(&p->rtc),
                           pmtimer_next_deadline(&p->pm) };
    for (unsigned int i = 0; i < 3; i++)
        if (d[i] && (!next || d[i] < next))
            next = d[i];
    return next;
}
