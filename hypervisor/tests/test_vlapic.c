/*
 * test_vlapic.c - unit tests of the virtual local APIC model
 * (arch/x86/hvm/vlapic.c) against the Intel SDM vol. 3 ch. 10/11.
 *
 * The hooks record what the model asks of the glue (IPIs sent, level EOIs,
 * wake-ups) and the clock is a plain variable, so each test states exactly
 * what a guest did, when, and what it must observe.  The guest TSC runs at
 * 2 GHz here (tsc_to_ns = tsc / 2) so the TSC-deadline conversion is seen.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <kiln/compiler.h>
#include "../arch/x86/hvm/vlapic.c"

#define NSEC_PER_SEC_TEST 1000000000ull

/* ---- harness ------------------------------------------------------------ */

#define MAX_REC 64

struct rec {
    struct vlapic_ipi ipi[MAX_REC];
    int nipi;
    u8 eoi[MAX_REC];
    int neoi;
    int notify;
    /* When set, send_ipi plays the glue delivering ALL_INCL to the sender. */
    struct vlapic *loopback;
};

static struct rec rec;
static struct vlapic L;
static u64 now;

static void h_send_ipi(void *ctx, const struct vlapic_ipi *ipi)
{
    struct rec *r = ctx;
    assert_true(r->nipi < MAX_REC);
    r->ipi[r->nipi++] = *ipi;
    if (r->loopback && ipi->shorthand == VLAPIC_SH_ALL_INCL)
        vlapic_accept_irq(r->loopback, ipi->vector, false);
}

static void h_eoi(void *ctx, u8 vector)
{
    struct rec *r = ctx;
    assert_true(r->neoi < MAX_REC);
    r->eoi[r->neoi++] = vector;
}

static void h_notify(void *ctx)
{
    ((struct rec *)ctx)->notify++;
}

static u64 h_tsc_to_ns(void *ctx, u64 tsc)
{
    (void)ctx;
    return tsc / 2;
}

static const struct vlapic_hooks hooks = {
    .send_ipi = h_send_ipi,
    .eoi = h_eoi,
    .notify = h_notify,
    .tsc_to_ns = h_tsc_to_ns,
};

static void setup_cfg(u32 id, bool bsp, bool x2apic, bool tscd)
{
    struct vlapic_config cfg = {
        .apic_id = id, .bsp = bsp, .x2apic = x2apic, .tsc_deadline = tscd,
        .maxphyaddr = 40,
    };
    memset(&rec, 0, sizeof(rec));
    memset(&L, 0xa5, sizeof(L));   /* init must not rely on zeroed memory */
    now = 1000000;
    vlapic_init(&L, &cfg, &hooks, &rec);
}

/* An AP with id 3, x2APIC and TSC-deadline offered. */
static void setup(void)
{
    setup_cfg(3, false, true, true);
}

static u32 rd(u32 off)
{
    return (u32)vlapic_mmio_read(&L, off, 4, now);
}

static void wr(u32 off, u32 val)
{
    vlapic_mmio_write(&L, off, 4, val, now);
}

static u64 msr_rd(u32 msr)
{
    u64 v;
    assert_int_equal(vlapic_msr_read(&L, msr, &v, now), 0);
    return v;
}

static void msr_wr(u32 msr, u64 v)
{
    assert_int_equal(vlapic_msr_write(&L, msr, v, now), 0);
}

static bool msr_rd_gp(u32 msr)
{
    u64 v;
    return vlapic_msr_read(&L, msr, &v, now) == VLAPIC_GP;
}

static bool msr_wr_gp(u32 msr, u64 v)
{
    return vlapic_msr_write(&L, msr, v, now) == VLAPIC_GP;
}

static void enable_sw(void)
{
    if (vlapic_x2apic_mode(&L))
        msr_wr(0x80f, 0x1ff);
    else
        wr(REG_SVR, 0x1ff);
}

static void to_x2apic(void)
{
    msr_wr(VLAPIC_MSR_APIC_BASE, VLAPIC_DEFAULT_BASE | VLAPIC_BASE_EN | VLAPIC_BASE_EXTD);
    assert_true(vlapic_x2apic_mode(&L));
}

static u32 esr_latch(void)
{
    wr(REG_ESR, 0);
    return rd(REG_ESR);
}

static bool irr_has(u8 v) { return test_vec(L.irr, v); }
static bool isr_has(u8 v) { return test_vec(L.isr, v); }

/* Takes the pending interrupt the way the glue does, returns it. */
static int take(void)
{
    int v = vlapic_pending_vector(&L);
    if (v >= 0)
        vlapic_ack(&L, (u8)v);
    return v;
}

/* ---- reset -------------------------------------------------------------- */

static void check_reset_registers(u32 id, bool bsp)
{
    u64 base = 0;
    assert_true(vlapic_mmio_active(&L, &base));
    assert_int_equal(base, VLAPIC_DEFAULT_BASE);
    assert_int_equal(rd(REG_ID), id << 24);
    assert_int_equal(rd(REG_VERSION), 0x00050014);
    assert_int_equal(rd(REG_TPR), 0);
    assert_int_equal(rd(REG_APR), 0);
    assert_int_equal(rd(REG_PPR), 0);
    assert_int_equal(rd(REG_LDR), 0);
    assert_int_equal(rd(REG_DFR), 0xffffffff);
    assert_int_equal(rd(REG_SVR), 0xff);
    for (u32 i = 0; i < 8; i++) {
        assert_int_equal(rd(REG_ISR + i * 0x10), 0);
        assert_int_equal(rd(REG_TMR + i * 0x10), 0);
        assert_int_equal(rd(REG_IRR + i * 0x10), 0);
    }
    assert_int_equal(rd(REG_ESR), 0);
    assert_int_equal(rd(REG_ICR_LO), 0);
    assert_int_equal(rd(REG_ICR_HI), 0);
    for (u32 i = 0; i < VLAPIC_NR_LVT; i++) {
        u32 want = (bsp && i == VLAPIC_LVT_LINT0) ? 0x700 : 0x10000;
        assert_int_equal(rd(REG_LVT + i * 0x10), want);
        assert_int_equal(vlapic_lvt(&L, i), want);
    }
    assert_int_equal(rd(REG_TMICT), 0);
    assert_int_equal(rd(REG_TMCCT), 0);
    assert_int_equal(rd(REG_TDCR), 0);
    assert_int_equal(vlapic_pending_vector(&L), -1);
    assert_int_equal(vlapic_next_deadline(&L), 0);
    assert_int_equal(vlapic_get_cr8(&L), 0);
    assert_int_equal(esr_latch(), 0);
}

static void test_reset_values(void **state)
{
    (void)state;
    setup_cfg(0, true, true, true);
    assert_int_equal(msr_rd(VLAPIC_MSR_APIC_BASE), 0xfee00900);
    assert_true(vlapic_hw_enabled(&L));
    assert_false(vlapic_x2apic_mode(&L));
    assert_int_equal(vlapic_initial_id(&L), 0);
    check_reset_registers(0, true);
    assert_true(vlapic_accepts_pic_intr(&L));    /* BSP: ExtINT LINT0 */

    setup_cfg(5, false, false, false);
    assert_int_equal(msr_rd(VLAPIC_MSR_APIC_BASE), 0xfee00800);
    assert_int_equal(vlapic_initial_id(&L), 5);
    check_reset_registers(5, false);
    assert_false(vlapic_accepts_pic_intr(&L));
}

static void test_init_signal(void **state)
{
    (void)state;
    setup();
    enable_sw();
    wr(REG_ID, 7u << 24);
    wr(REG_TPR, 0x20);
    wr(REG_LDR, 0x40000000);
    wr(REG_DFR, 0x0fffffff);
    wr(REG_LVT + 0x10 * VLAPIC_LVT_TIMER, 0x20040);
    wr(REG_TDCR, 0xb);
    wr(REG_TMICT, 1000);
    wr(REG_ICR_HI, 0x01000000);
    assert_true(vlapic_accept_irq(&L, 0x80, true));
    assert_int_equal(take(), 0x80);
    assert_true(vlapic_accept_irq(&L, 0x90, false));
    msr_wr(VLAPIC_MSR_APIC_BASE, 0xfed00000 | VLAPIC_BASE_EN);

    vlapic_init_signal(&L);
    /* ID and APIC base survive INIT; everything else is reset. */
    assert_int_equal(msr_rd(VLAPIC_MSR_APIC_BASE), 0xfed00000 | VLAPIC_BASE_EN);
    assert_int_equal(rd(REG_ID), 7u << 24);
    assert_int_equal(rd(REG_TPR), 0);
    assert_int_equal(rd(REG_LDR), 0);
    assert_int_equal(rd(REG_DFR), 0xffffffff);
    assert_int_equal(rd(REG_SVR), 0xff);
    assert_int_equal(rd(REG_ISR + 0x40), 0);
    assert_int_equal(rd(REG_TMR + 0x40), 0);
    assert_int_equal(rd(REG_IRR + 0x40), 0);
    assert_int_equal(rd(REG_LVT), 0x10000);
    assert_int_equal(rd(REG_TMICT), 0);
    assert_int_equal(rd(REG_TDCR), 0);
    assert_int_equal(rd(REG_ICR_HI), 0);
    assert_int_equal(vlapic_next_deadline(&L), 0);
    assert_int_equal(vlapic_pending_vector(&L), -1);

    /* In x2APIC mode INIT keeps x2APIC mode. */
    msr_wr(VLAPIC_MSR_APIC_BASE, VLAPIC_DEFAULT_BASE | VLAPIC_BASE_EN | VLAPIC_BASE_EXTD);
    msr_wr(0x808, 0x30);
    vlapic_init_signal(&L);
    assert_true(vlapic_x2apic_mode(&L));
    assert_int_equal(msr_rd(0x808), 0);
    assert_int_equal(msr_rd(0x802), 3);
    assert_int_equal(msr_rd(0x80d), (0u << 16) | (1u << 3));

    /* A BSP's LINT0 is ExtINT again after INIT. */
    setup_cfg(0, true, true, true);
    wr(REG_LVT + 0x10 * VLAPIC_LVT_LINT0, 0x10000);
    vlapic_init_signal(&L);
    assert_int_equal(rd(REG_LVT + 0x10 * VLAPIC_LVT_LINT0), 0x700);
}

/* ---- xAPIC MMIO ----------------------------------------------------------- */

static void test_mmio_writable_registers(void **state)
{
    (void)state;
    setup();
    enable_sw();
    static const struct { u32 reg, wrote, reads; } cases[] = {
        { REG_ID,        0xffffffff, 0xff000000 },
        { REG_ID,        0x12345678, 0x12000000 },
        { REG_TPR,       0xffffffff, 0x000000ff },
        { REG_LDR,       0xffffffff, 0xff000000 },
        { REG_DFR,       0x00000000, 0x0fffffff },
        { REG_DFR,       0xffffffff, 0xffffffff },
        { REG_SVR,       0xffffffff, 0x000003ff },
        { REG_SVR,       0x000001ff, 0x000001ff },
        { REG_ICR_HI,    0xffffffff, 0xff000000 },
        { REG_ICR_HI,    0x00000000, 0x00000000 },
        { REG_LVT + 0x10, 0xffffffff, 0x000107ff },   /* thermal */
        { REG_LVT + 0x20, 0xffffffff, 0x000107ff },   /* perf */
        { REG_LVT + 0x30, 0xffffffff, 0x0001a7ff },   /* LINT0 */
        { REG_LVT + 0x40, 0xffffffff, 0x0001a7ff },   /* LINT1 */
        { REG_LVT + 0x50, 0xffffffff, 0x000100ff },   /* error */
        { REG_LVT + 0x50, 0x000000fe, 0x000000fe },
        { REG_TMICT,     0x00000000, 0x00000000 },
        { REG_TDCR,      0xffffffff, 0x0000000b },
        { REG_TDCR,      0x00000000, 0x00000000 },
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        wr(cases[i].reg, cases[i].wrote);
        assert_int_equal(rd(cases[i].reg), cases[i].reads);
    }
    /* The timer LVT: vector, mask, mode; mode 11b is ignored. */
    wr(REG_LVT, 0xffffffff);
    assert_int_equal(rd(REG_LVT), 0x000100ff);
    wr(REG_LVT, 0x000200ef);
    assert_int_equal(rd(REG_LVT), 0x000200ef);
    wr(REG_LVT, 0x000600ef);
    assert_int_equal(rd(REG_LVT), 0x000200ef);
    wr(REG_LVT, 0x000400ef);
    assert_int_equal(rd(REG_LVT), 0x000400ef);
    /* Initial count (one-shot mode again: TSC-deadline ignores it). */
    wr(REG_LVT, 0x000000ef);
    wr(REG_TMICT, 0xffffffff);
    assert_int_equal(rd(REG_TMICT), 0xffffffff);
    /* ICR low: delivery status and reserved bits read 0 (mode 7 sends
     * nothing). */
    wr(REG_ICR_LO, 0xffffffff);
    assert_int_equal(rd(REG_ICR_LO), 0x000ccfff);
    assert_int_equal(rec.nipi, 0);
    /* EOI reads 0 and writes are accepted. */
    wr(REG_EOI, 0x12345678);
    assert_int_equal(rd(REG_EOI), 0);
    assert_int_equal(esr_latch(), 0);
}

static void test_mmio_read_only_registers(void **state)
{
    (void)state;
    setup();
    enable_sw();
    wr(REG_TPR, 0x20);
    assert_true(vlapic_accept_irq(&L, 0x31, true));
    assert_true(vlapic_accept_irq(&L, 0x41, false));
    assert_int_equal(take(), 0x41);
    wr(REG_TDCR, 0xb);
    wr(REG_TMICT, 1000);
    now += 100;

    static const u32 ro[] = {
        REG_VERSION, REG_APR, REG_PPR, REG_RRD,
        REG_ISR, REG_ISR + 0x20, REG_ISR + 0x70,
        REG_TMR, REG_TMR + 0x10, REG_TMR + 0x70,
        REG_IRR, REG_IRR + 0x10, REG_IRR + 0x70,
        REG_TMCCT,
    };
    u32 before[ARRAY_SIZE(ro)];
    for (size_t i = 0; i < ARRAY_SIZE(ro); i++)
        before[i] = rd(ro[i]);
    assert_int_equal(before[0], 0x50014);
    assert_int_equal(before[2], 0x40);            /* PPR = ISR class */
    assert_int_equal(before[5], 1u << 1);         /* ISR 0x41 */
    assert_int_equal(before[8], 1u << 17);        /* TMR 0x31 */
    assert_int_equal(before[11], 1u << 17);       /* IRR 0x31 */
    assert_int_equal(before[13], 900);
    for (size_t i = 0; i < ARRAY_SIZE(ro); i++)
        wr(ro[i], 0xa5a5a5a5);
    for (size_t i = 0; i < ARRAY_SIZE(ro); i++)
        assert_int_equal(rd(ro[i]), before[i]);
    /* Read-only is not "illegal register address". */
    assert_int_equal(esr_latch(), 0);
}

static void test_mmio_reserved_offsets(void **state)
{
    (void)state;
    static const u32 reserved[] = {
        0x000, 0x010, 0x040, 0x050, 0x060, 0x070, 0x2a0, 0x2e0,
        0x2f0 /* CMCI: not implemented */, 0x3a0, 0x3b0, 0x3c0, 0x3d0,
        0x3f0 /* SELF IPI: x2APIC only */, 0x400, 0x800, 0xff0,
    };
    setup();
    for (size_t i = 0; i < ARRAY_SIZE(reserved); i++) {
        assert_int_equal(rd(reserved[i]), 0);
        assert_int_equal(esr_latch(), VLAPIC_ESR_ILLEGAL_REG);
        wr(reserved[i], 0xffffffff);
        assert_int_equal(esr_latch(), VLAPIC_ESR_ILLEGAL_REG);
        assert_int_equal(esr_latch(), 0);
        assert_int_equal(rd(reserved[i]), 0);
        esr_latch();
    }
    /* Offsets beyond the page are nothing. */
    assert_int_equal(vlapic_mmio_read(&L, 0x1000, 4, now), 0xffffffff);
    assert_int_equal(esr_latch(), 0);
}

static void test_mmio_narrow_and_unaligned(void **state)
{
    (void)state;
    setup();
    wr(REG_TPR, 0xab);
    /* Reads cover the bytes they touch; bytes 4-15 of a slot are 0. */
    assert_int_equal(vlapic_mmio_read(&L, REG_VERSION, 1, now), 0x14);
    assert_int_equal(vlapic_mmio_read(&L, REG_VERSION + 1, 1, now), 0x00);
    assert_int_equal(vlapic_mmio_read(&L, REG_VERSION + 2, 1, now), 0x05);
    assert_int_equal(vlapic_mmio_read(&L, REG_VERSION + 2, 2, now), 0x0005);
    assert_int_equal(vlapic_mmio_read(&L, REG_VERSION + 1, 4, now), 0x000500);
    assert_int_equal(vlapic_mmio_read(&L, REG_VERSION, 8, now), 0x50014);
    assert_int_equal(vlapic_mmio_read(&L, REG_VERSION + 4, 4, now), 0);
    assert_int_equal(vlapic_mmio_read(&L, REG_VERSION + 12, 4, now), 0);
    assert_int_equal(vlapic_mmio_read(&L, REG_TPR, 2, now), 0xab);
    assert_int_equal(vlapic_mmio_read(&L, REG_ID + 3, 1, now), 3);
    assert_int_equal(vlapic_mmio_read(&L, REG_TPR, 0, now), 0);
    assert_int_equal(vlapic_mmio_read(&L, REG_TPR, 9, now), 0);
    /* Writes other than aligned 4-byte ones are ignored. */
    vlapic_mmio_write(&L, REG_TPR, 1, 0x11, now);
    vlapic_mmio_write(&L, REG_TPR, 2, 0x11, now);
    vlapic_mmio_write(&L, REG_TPR, 8, 0x11, now);
    vlapic_mmio_write(&L, REG_TPR + 1, 4, 0x11, now);
    vlapic_mmio_write(&L, REG_TPR + 4, 4, 0x11, now);
    assert_int_equal(rd(REG_TPR), 0xab);
    assert_int_equal(esr_latch(), 0);
}

static void test_mmio_inactive(void **state)
{
    (void)state;
    u64 base;
    setup();
    wr(REG_TPR, 0x20);
    to_x2apic();
    assert_false(vlapic_mmio_active(&L, &base));
    assert_int_equal(vlapic_mmio_read(&L, REG_VERSION, 4, now), 0xffffffff);
    assert_int_equal(vlapic_mmio_read(&L, REG_VERSION, 1, now), 0xff);
    assert_int_equal(vlapic_mmio_read(&L, REG_VERSION, 8, now), ~0ull);
    wr(REG_TPR, 0x50);
    assert_int_equal(msr_rd(0x808), 0x20);

    msr_wr(VLAPIC_MSR_APIC_BASE, VLAPIC_DEFAULT_BASE);
    assert_false(vlapic_mmio_active(&L, &base));
    assert_int_equal(rd(REG_VERSION), 0xffffffff);
}

/* ---- IA32_APIC_BASE ------------------------------------------------------- */

static void test_apic_base_validation(void **state)
{
    (void)state;
    const u64 en = VLAPIC_BASE_EN, extd = VLAPIC_BASE_EXTD;
    setup();
    u64 base = VLAPIC_DEFAULT_BASE;
    for (int b = 0; b < 8; b++)
        assert_true(msr_wr_gp(VLAPIC_MSR_APIC_BASE, base | en | (1ull << b)));
    assert_true(msr_wr_gp(VLAPIC_MSR_APIC_BASE, base | en | (1ull << 9)));
    for (int b = 40; b < 64; b++)   /* maxphyaddr 40 */
        assert_true(msr_wr_gp(VLAPIC_MSR_APIC_BASE, base | en | (1ull << b)));
    assert_true(msr_wr_gp(VLAPIC_MSR_APIC_BASE, base | extd));   /* invalid */
    assert_int_equal(msr_rd(VLAPIC_MSR_APIC_BASE), base | en);

    /* Highest address bit below maxphyaddr is fine. */
    msr_wr(VLAPIC_MSR_APIC_BASE, (1ull << 39) | en);
    assert_true(vlapic_mmio_active(&L, &base));
    assert_int_equal(base, 1ull << 39);

    /* The BSP bit is not the guest's to change. */
    msr_wr(VLAPIC_MSR_APIC_BASE, VLAPIC_DEFAULT_BASE | en | VLAPIC_BASE_BSP);
    assert_int_equal(msr_rd(VLAPIC_MSR_APIC_BASE), VLAPIC_DEFAULT_BASE | en);
    setup_cfg(0, true, true, true);
    msr_wr(VLAPIC_MSR_APIC_BASE, VLAPIC_DEFAULT_BASE | en);
    assert_int_equal(msr_rd(VLAPIC_MSR_APIC_BASE), VLAPIC_DEFAULT_BASE | en | VLAPIC_BASE_BSP);

    /* maxphyaddr outside 32..52 is taken as the nearest bound. */
    struct vlapic_config cfg = { .apic_id = 1, .x2apic = true, .maxphyaddr = 0 };
    vlapic_init(&L, &cfg, &hooks, &rec);
    assert_true(msr_wr_gp(VLAPIC_MSR_APIC_BASE, (1ull << 32) | en));
    msr_wr(VLAPIC_MSR_APIC_BASE, 0x80000000ull | en);
    cfg.maxphyaddr = 64;
    vlapic_init(&L, &cfg, &hooks, &rec);
    assert_true(msr_wr_gp(VLAPIC_MSR_APIC_BASE, (1ull << 52) | en));
    msr_wr(VLAPIC_MSR_APIC_BASE, (1ull << 51) | en);

    /* Without x2APIC in CPUID, EXTD is reserved. */
    setup_cfg(1, false, false, true);
    assert_true(msr_wr_gp(VLAPIC_MSR_APIC_BASE, VLAPIC_DEFAULT_BASE | en | extd));
    assert_false(vlapic_x2apic_mode(&L));
    for (u32 msr = 0x800; msr <= 0x8ff; msr++)
        assert_true(msr_rd_gp(msr));
}

static void test_apic_base_transitions(void **state)
{
    (void)state;
    const u64 base = VLAPIC_DEFAULT_BASE, en = VLAPIC_BASE_EN, extd = VLAPIC_BASE_EXTD;
    u64 mmio;
    setup();

    /* The sequence kvm-unit-tests' apic test checks. */
    to_x2apic();
    assert_true(msr_wr_gp(VLAPIC_MSR_APIC_BASE, base | extd));       /* -> invalid */
    assert_true(msr_wr_gp(VLAPIC_MSR_APIC_BASE, base | en));         /* -> xAPIC */
    assert_true(vlapic_x2apic_mode(&L));
    msr_wr(VLAPIC_MSR_APIC_BASE, base);                              /* -> disabled */
    assert_false(vlapic_hw_enabled(&L));
    assert_true(msr_wr_gp(VLAPIC_MSR_APIC_BASE, base | extd));       /* -> invalid */
    assert_true(msr_wr_gp(VLAPIC_MSR_APIC_BASE, base | en | extd));  /* -> x2APIC */
    assert_false(vlapic_hw_enabled(&L));
    msr_wr(VLAPIC_MSR_APIC_BASE, base | en);                         /* -> xAPIC */
    assert_true(vlapic_mmio_active(&L, &mmio));
    assert_true(msr_wr_gp(VLAPIC_MSR_APIC_BASE, base | extd));       /* -> invalid */

    /* Relocation, in xAPIC mode and while disabled. */
    msr_wr(VLAPIC_MSR_APIC_BASE, 0xfed40000 | en);
    assert_true(vlapic_mmio_active(&L, &mmio));
    assert_int_equal(mmio, 0xfed40000);
    assert_int_equal(rd(REG_VERSION), 0x50014);
    msr_wr(VLAPIC_MSR_APIC_BASE, 0xfec00000);
    msr_wr(VLAPIC_MSR_APIC_BASE, VLAPIC_DEFAULT_BASE | en);
    assert_true(vlapic_mmio_active(&L, &mmio));
    assert_int_equal(mmio, VLAPIC_DEFAULT_BASE);
    /* x2APIC mode may rewrite the (unused) base too. */
    to_x2apic();
    msr_wr(VLAPIC_MSR_APIC_BASE, 0xfed40000 | en | extd);
    assert_true(vlapic_x2apic_mode(&L));
    assert_int_equal(msr_rd(VLAPIC_MSR_APIC_BASE), 0xfed40000 | en | extd);
}

static void test_apic_disable_resets(void **state)
{
    (void)state;
    setup();
    enable_sw();
    wr(REG_ID, 9u << 24);
    wr(REG_TPR, 0x40);
    wr(REG_LVT, 0x20030);
    wr(REG_TMICT, 100000);
    assert_true(vlapic_accept_irq(&L, 0x77, false));
    assert_int_equal(vlapic_pending_vector(&L), 0x77);

    msr_wr(VLAPIC_MSR_APIC_BASE, VLAPIC_DEFAULT_BASE);
    /* A disabled APIC takes nothing, delivers nothing, matches nothing. */
    assert_int_equal(vlapic_pending_vector(&L), -1);
    assert_false(vlapic_accept_irq(&L, 0x78, false));
    assert_false(vlapic_match_dest(&L, 0xff, false, false));
    assert_false(vlapic_match_dest(&L, 3, false, false));
    assert_true(vlapic_accepts_pic_intr(&L));      /* INTR pin goes straight through */
    assert_int_equal(vlapic_next_deadline(&L), 0);

    /* Re-enabled: power-up state, the APIC ID included. */
    msr_wr(VLAPIC_MSR_APIC_BASE, VLAPIC_DEFAULT_BASE | VLAPIC_BASE_EN);
    check_reset_registers(3, false);

    /* x2APIC -> disabled -> xAPIC also ends in the power-up state. */
    enable_sw();
    to_x2apic();
    msr_wr(0x808, 0x50);
    msr_wr(VLAPIC_MSR_APIC_BASE, VLAPIC_DEFAULT_BASE);
    msr_wr(VLAPIC_MSR_APIC_BASE, VLAPIC_DEFAULT_BASE | VLAPIC_BASE_EN);
    check_reset_registers(3, false);
}

/* ---- x2APIC MSRs ---------------------------------------------------------- */

static bool x2_readable(u32 msr)
{
    switch (msr) {
    case 0x802: case 0x803: case 0x808: case 0x80a: case 0x80d: case 0x80f:
    case 0x828: case 0x830: case 0x832: case 0x833: case 0x834: case 0x835:
    case 0x836: case 0x837: case 0x838: case 0x839: case 0x83e:
        return true;
    default:
        return msr >= 0x810 && msr <= 0x827;   /* ISR, TMR, IRR */
    }
}

static bool x2_writable(u32 msr)
{
    switch (msr) {
    case 0x808: case 0x80b: case 0x80f: case 0x828: case 0x830: case 0x832:
    case 0x833: case 0x834: case 0x835: case 0x836: case 0x837: case 0x838:
    case 0x83e: case 0x83f:
        return true;
    default:
        return false;
    }
}

static void test_x2apic_msr_map(void **state)
{
    (void)state;
    setup();
    /* Not in x2APIC mode: every x2APIC MSR is #GP. */
    for (u32 msr = VLAPIC_MSR_X2APIC_FIRST; msr <= VLAPIC_MSR_X2APIC_LAST; msr++) {
        assert_true(msr_rd_gp(msr));
        assert_true(msr_wr_gp(msr, 0));
    }
    assert_int_equal(rec.nipi, 0);
    to_x2apic();
    enable_sw();
    for (u32 msr = VLAPIC_MSR_X2APIC_FIRST; msr <= VLAPIC_MSR_X2APIC_LAST; msr++) {
        assert_int_equal(!msr_rd_gp(msr), x2_readable(msr));
        assert_int_equal(!msr_wr_gp(msr, 0), x2_writable(msr));
    }
    assert_true(vlapic_msr_is_ours(0x1b));
    assert_true(vlapic_msr_is_ours(0x6e0));
    assert_true(vlapic_msr_is_ours(0x800));
    assert_true(vlapic_msr_is_ours(0xbff));
    assert_false(vlapic_msr_is_ours(0x7ff));
    assert_false(vlapic_msr_is_ours(0xc00));
    assert_false(vlapic_msr_is_ours(0x10));
    u64 v;
    assert_int_equal(vlapic_msr_read(&L, 0x10, &v, now), VLAPIC_GP);
    assert_int_equal(vlapic_msr_write(&L, 0x10, 0, now), VLAPIC_GP);
    assert_int_equal(vlapic_msr_read(&L, 0xc00, &v, now), VLAPIC_GP);
    assert_int_equal(vlapic_msr_write(&L, 0xc00, 0, now), VLAPIC_GP);
}

static void test_x2apic_registers(void **state)
{
    (void)state;
    setup_cfg(0x12345, false, true, true);
    wr(REG_ID, 0x77000000);          /* the xAPIC ID is not the x2APIC ID */
    to_x2apic();
    assert_int_equal(msr_rd(0x802), 0x12345);
    assert_int_equal(msr_rd(0x803), 0x50014);
    assert_int_equal(msr_rd(0x80d), (0x1234u << 16) | (1u << 5));

    msr_wr(0x80f, 0x1ff);
    assert_int_equal(msr_rd(0x80f), 0x1ff);
    msr_wr(0x808, 0xff);
    assert_int_equal(msr_rd(0x808), 0xff);
    assert_int_equal(msr_rd(0x80a), 0xff);
    msr_wr(0x808, 0x1ff);            /* reserved low bits: ignored */
    assert_int_equal(msr_rd(0x808), 0xff);
    msr_wr(0x808, 0);

    /* Bits 63:32 are reserved (but the ICR's). */
    assert_true(msr_wr_gp(0x808, 1ull << 32));
    assert_true(msr_wr_gp(0x838, 1ull << 63));
    assert_true(msr_wr_gp(0x80f, 0x1ff | 1ull << 40));
    assert_int_equal(msr_rd(0x80f), 0x1ff);
    /* EOI and ESR take 0 only, SELF IPI a vector only. */
    assert_true(msr_wr_gp(0x80b, 1));
    assert_true(msr_wr_gp(0x828, 1));
    assert_true(msr_wr_gp(0x83f, 0x100));
    msr_wr(0x80b, 0);
    msr_wr(0x828, 0);
    /* Write-only registers: read #GP. */
    assert_true(msr_rd_gp(0x80b));
    assert_true(msr_rd_gp(0x83f));
    /* Not in x2APIC mode: APR, RRD, DFR, ICR high half, CMCI. */
    assert_true(msr_rd_gp(0x809));
    assert_true(msr_rd_gp(0x80c));
    assert_true(msr_rd_gp(0x80e));
    assert_true(msr_wr_gp(0x80e, 0));
    assert_true(msr_rd_gp(0x831));
    assert_true(msr_rd_gp(0x82f));
    /* Read-only registers: write #GP, value unchanged. */
    assert_true(msr_wr_gp(0x802, 5));
    assert_int_equal(msr_rd(0x802), 0x12345);
    assert_true(msr_wr_gp(0x80d, 0));
    assert_int_equal(msr_rd(0x80d), (0x1234u << 16) | (1u << 5));
    assert_true(msr_wr_gp(0x80a, 0));
    assert_true(msr_wr_gp(0x803, 0));
    assert_true(msr_wr_gp(0x810, 0));
    assert_true(msr_wr_gp(0x818, 0));
    assert_true(msr_wr_gp(0x820, 0));
    assert_true(msr_wr_gp(0x839, 0));

    /* Interrupt state is visible through the MSRs. */
    assert_true(vlapic_accept_irq(&L, 0x61, true));
    assert_int_equal(msr_rd(0x820 + 3), 1u << 1);
    assert_int_equal(msr_rd(0x818 + 3), 1u << 1);
    assert_int_equal(take(), 0x61);
    assert_int_equal(msr_rd(0x810 + 3), 1u << 1);
    assert_int_equal(msr_rd(0x80a), 0x60);
    msr_wr(0x80b, 0);
    assert_int_equal(rec.neoi, 1);
    assert_int_equal(rec.eoi[0], 0x61);
    assert_int_equal(msr_rd(0x810 + 3), 0);

    /* LVTs, timer registers. */
    msr_wr(0x835, 0x700);
    assert_int_equal(msr_rd(0x835), 0x700);
    assert_int_equal(vlapic_lvt(&L, VLAPIC_LVT_LINT0), 0x700);
    msr_wr(0x83e, 0xb);
    msr_wr(0x832, 0x40);
    msr_wr(0x838, 5000);
    now += 1000;
    assert_int_equal(msr_rd(0x839), 4000);
    assert_int_equal(msr_rd(0x838), 5000);
    assert_int_equal(msr_rd(0x83e), 0xb);
}

static void test_x2apic_ldr_formula(void **state)
{
    (void)state;
    static const u32 ids[] = { 0, 1, 0xf, 0x10, 0x1f, 0x20, 0xff, 0x100, 0xabcdef };
    for (size_t i = 0; i < ARRAY_SIZE(ids); i++) {
        setup_cfg(ids[i], false, true, true);
        to_x2apic();
        assert_int_equal(msr_rd(0x802), ids[i]);
        assert_int_equal(msr_rd(0x80d), ((ids[i] >> 4) << 16) | (1u << (ids[i] & 0xf)));
    }
}

/* ---- timer ------------------------------------------------------------------ */

static void test_timer_one_shot(void **state)
{
    (void)state;
    setup();
    enable_sw();
    wr(REG_LVT, 0x40);               /* one-shot, vector 0x40 */
    wr(REG_TDCR, 0xb);               /* divide by 1: 1 count = 1 ns */
    u64 t0 = now;
    wr(REG_TMICT, 1000);
    assert_int_equal(vlapic_next_deadline(&L), t0 + 1000);
    assert_int_equal(rd(REG_TMCCT), 1000);
    now = t0 + 250;
    assert_int_equal(rd(REG_TMCCT), 750);
    now = t0 + 999;
    assert_int_equal(rd(REG_TMCCT), 1);
    vlapic_advance(&L, now);
    assert_false(irr_has(0x40));
    assert_int_equal(rec.notify, 0);

    now = t0 + 1000;
    vlapic_advance(&L, now);
    assert_true(irr_has(0x40));
    assert_int_equal(rec.notify, 1);
    assert_int_equal(vlapic_pending_vector(&L), 0x40);
    assert_int_equal(rd(REG_TMCCT), 0);
    assert_int_equal(rd(REG_TMICT), 1000);
    assert_int_equal(vlapic_next_deadline(&L), 0);

    /* Exactly once. */
    assert_int_equal(take(), 0x40);
    wr(REG_EOI, 0);
    for (now = t0 + 1000; now < t0 + 10000; now += 100)
        vlapic_advance(&L, now);
    assert_false(irr_has(0x40));
    assert_int_equal(vlapic_pending_vector(&L), -1);

    /* A late advance fires it too, once. */
    wr(REG_TMICT, 10);
    now += 5000;
    vlapic_advance(&L, now);
    vlapic_advance(&L, now + 1);
    assert_true(irr_has(0x40));
    assert_int_equal(take(), 0x40);
    vlapic_advance(&L, now + 100);
    assert_false(irr_has(0x40));

    /* Writing the initial count restarts; 0 stops. */
    wr(REG_TMICT, 500);
    now += 400;
    wr(REG_TMICT, 500);
    assert_int_equal(vlapic_next_deadline(&L), now + 500);
    wr(REG_TMICT, 0);
    assert_int_equal(vlapic_next_deadline(&L), 0);
    assert_int_equal(rd(REG_TMCCT), 0);
    vlapic_advance(&L, now + 1000000);
    assert_false(irr_has(0x40));
}

static void test_timer_divide_values(void **state)
{
    (void)state;
    static const struct { u32 dcr; u64 div; } divs[] = {
        { 0x0, 2 }, { 0x1, 4 }, { 0x2, 8 }, { 0x3, 16 },
        { 0x8, 32 }, { 0x9, 64 }, { 0xa, 128 }, { 0xb, 1 },
    };
    for (size_t i = 0; i < ARRAY_SIZE(divs); i++) {
        setup();
        enable_sw();
        wr(REG_LVT, 0x41);
        wr(REG_TDCR, divs[i].dcr | 0xfffffff4u);   /* other bits ignored */
        assert_int_equal(rd(REG_TDCR), divs[i].dcr);
        u64 t0 = now;
        wr(REG_TMICT, 1000);
        assert_int_equal(vlapic_next_deadline(&L), t0 + 1000 * divs[i].div);
        now = t0 + 250 * divs[i].div;
        assert_int_equal(rd(REG_TMCCT), 750);
        now = t0 + 1000 * divs[i].div - 1;
        assert_int_equal(rd(REG_TMCCT), 1);
        vlapic_advance(&L, now);
        assert_false(irr_has(0x41));
        now++;
        vlapic_advance(&L, now);
        assert_true(irr_has(0x41));
    }
}

static void test_timer_divide_change_mid_count(void **state)
{
    (void)state;
    setup();
    enable_sw();
    wr(REG_LVT, 0x42);
    wr(REG_TDCR, 0xb);
    u64 t0 = now;
    wr(REG_TMICT, 1000000);
    now = t0 + 400000;
    wr(REG_TDCR, 0x0);               /* divide by 2: the rest runs at half rate */
    assert_int_equal(rd(REG_TMCCT), 600000);
    assert_int_equal(vlapic_next_deadline(&L), now + 1200000);
    now += 600000;
    assert_int_equal(rd(REG_TMCCT), 300000);
}

static void test_timer_periodic(void **state)
{
    (void)state;
    setup();
    enable_sw();
    wr(REG_LVT, 0x20043);            /* periodic, vector 0x43 */
    wr(REG_TDCR, 0xb);
    u64 t0 = now;
    wr(REG_TMICT, 1000000);          /* 1 ms */
    assert_int_equal(vlapic_next_deadline(&L), t0 + 1000000);
    now = t0 + 1000000;
    vlapic_advance(&L, now);
    assert_true(irr_has(0x43));
    assert_int_equal(rec.notify, 1);
    /* Reloaded: counting down from the initial count again. */
    assert_int_equal(vlapic_next_deadline(&L), t0 + 2000000);
    now = t0 + 1250000;
    assert_int_equal(rd(REG_TMCCT), 750000);
    assert_int_equal(take(), 0x43);
    wr(REG_EOI, 0);

    /* Late by 3.5 periods: one interrupt, the phase kept, the rest dropped. */
    now = t0 + 5500000;
    vlapic_advance(&L, now);
    assert_true(irr_has(0x43));
    assert_int_equal(vlapic_next_deadline(&L), t0 + 6000000);
    assert_int_equal(rd(REG_TMCCT), 500000);

    /* Never more than one pending: the guest does not take it. */
    for (int i = 0; i < 10; i++) {
        now = vlapic_next_deadline(&L);
        vlapic_advance(&L, now);
    }
    assert_true(irr_has(0x43));
    assert_int_equal(L.irr[2], 1u << 3);
    assert_int_equal(L.isr[2], 0);
    assert_int_equal(take(), 0x43);
    assert_int_equal(vlapic_pending_vector(&L), -1);
    wr(REG_EOI, 0);
    now = vlapic_next_deadline(&L);
    vlapic_advance(&L, now);
    assert_int_equal(take(), 0x43);
}

static void test_timer_periodic_clamp(void **state)
{
    (void)state;
    setup();
    enable_sw();
    wr(REG_LVT, 0x20044);
    wr(REG_TDCR, 0xb);
    u64 t0 = now;
    wr(REG_TMICT, 1000);             /* 1 us asked, 200 us given */
    assert_int_equal(vlapic_next_deadline(&L), t0 + VLAPIC_MIN_PERIOD_NS);
    assert_int_equal(rd(REG_TMCCT), 1000);
    now = t0 + VLAPIC_MIN_PERIOD_NS / 2;
    assert_int_equal(rd(REG_TMCCT), 500);   /* counts down, just slower */
    vlapic_advance(&L, t0 + 1000);
    assert_false(irr_has(0x44));
    now = t0 + VLAPIC_MIN_PERIOD_NS;
    vlapic_advance(&L, now);
    assert_true(irr_has(0x44));
    assert_int_equal(vlapic_next_deadline(&L), t0 + 2 * VLAPIC_MIN_PERIOD_NS);
    assert_int_equal(rd(REG_TMCCT), 1000);

    /* A hostile 1-count timer over one second: at most 5000 interrupts,
     * however often the glue looks. */
    setup();
    enable_sw();
    wr(REG_LVT, 0x20045);
    wr(REG_TDCR, 0xb);
    t0 = now;
    wr(REG_TMICT, 1);
    int fired = 0;
    for (now = t0; now <= t0 + NSEC_PER_SEC_TEST; now += 1000) {
        vlapic_advance(&L, now);
        if (take() == 0x45) {
            fired++;
            wr(REG_EOI, 0);
        }
    }
    assert_int_equal(fired, NSEC_PER_SEC_TEST / VLAPIC_MIN_PERIOD_NS);

    /* Clamping is about the product count x divider. */
    wr(REG_TDCR, 0xa);               /* 128 */
    wr(REG_TMICT, 100);              /* 12.8 us: clamped */
    assert_int_equal(vlapic_next_deadline(&L), now + VLAPIC_MIN_PERIOD_NS);
    wr(REG_TMICT, 2000);             /* 256 us: not */
    assert_int_equal(vlapic_next_deadline(&L), now + 256000);
    /* A one-shot is never clamped (each one costs the guest an exit). */
    wr(REG_LVT, 0x45);
    wr(REG_TDCR, 0xb);
    wr(REG_TMICT, 1);
    assert_int_equal(vlapic_next_deadline(&L), now + 1);

    /* Leaving a clamped periodic for one-shot: the counts left run out at
     * the true rate. */
    wr(REG_LVT, 0x20045);
    t0 = now;
    wr(REG_TMICT, 1000);
    now = t0 + VLAPIC_MIN_PERIOD_NS / 4;
    assert_int_equal(rd(REG_TMCCT), 750);
    wr(REG_LVT, 0x45);
    assert_int_equal(rd(REG_TMCCT), 750);
    assert_int_equal(vlapic_next_deadline(&L), now + 750);
    now += 700;
    assert_int_equal(rd(REG_TMCCT), 50);
    /* And the other way: a short one-shot turned periodic is clamped. */
    wr(REG_TMICT, 1000);
    now += 500;
    wr(REG_LVT, 0x20045);
    assert_int_equal(rd(REG_TMCCT), 500);
    assert_int_equal(vlapic_next_deadline(&L), now + VLAPIC_MIN_PERIOD_NS / 2);
}

static void test_timer_masked(void **state)
{
    (void)state;
    setup();
    enable_sw();
    wr(REG_TDCR, 0xb);
    /* A masked one-shot still counts and expires, silently. */
    wr(REG_LVT, 0x10046);
    u64 t0 = now;
    wr(REG_TMICT, 1000);
    assert_int_equal(vlapic_next_deadline(&L), 0);    /* nothing to deliver */
    now = t0 + 500;
    assert_int_equal(rd(REG_TMCCT), 500);
    now = t0 + 2000;
    assert_int_equal(rd(REG_TMCCT), 0);
    wr(REG_LVT, 0x46);                                /* unmask after expiry */
    vlapic_advance(&L, now + 5000);
    assert_false(irr_has(0x46));
    assert_int_equal(rec.notify, 0);

    /* A masked periodic keeps its phase; unmasking brings no stale tick. */
    wr(REG_LVT, 0x30046);
    t0 = now;
    wr(REG_TMICT, 1000000);
    assert_int_equal(vlapic_next_deadline(&L), 0);
    now = t0 + 3400000;
    assert_int_equal(rd(REG_TMCCT), 600000);
    wr(REG_LVT, 0x20046);
    assert_false(irr_has(0x46));
    assert_int_equal(vlapic_next_deadline(&L), t0 + 4000000);
    now = t0 + 4000000;
    vlapic_advance(&L, now);
    assert_true(irr_has(0x46));
}

/* kvm-unit-tests' "apic change mode" semantics. */
static void test_timer_mode_change(void **state)
{
    (void)state;
    setup();
    enable_sw();
    wr(REG_LVT, 0x47);
    wr(REG_TDCR, 0xb);
    u64 t0 = now;
    wr(REG_TMICT, 1000000);
    wr(REG_LVT, 0x20047);            /* -> periodic: keeps counting */
    assert_int_equal(rd(REG_TMICT), 1000000);
    now = t0 + 600000;
    assert_int_equal(rd(REG_TMCCT), 400000);
    now = t0 + 1000000;
    vlapic_advance(&L, now);
    assert_true(irr_has(0x47));
    now = t0 + 1100000;
    assert_int_equal(rd(REG_TMCCT), 900000);   /* reloaded */
    now = t0 + 1700000;
    wr(REG_LVT, 0x47);               /* -> one-shot: runs out and stops */
    assert_int_equal(rd(REG_TMCCT), 300000);
    now = t0 + 2000000;
    assert_int_equal(rd(REG_TMCCT), 0);
    now = t0 + 2100000;
    wr(REG_LVT, 0x20047);            /* expired one-shot -> periodic: stays 0 */
    assert_int_equal(rd(REG_TMCCT), 0);
    assert_int_equal(vlapic_next_deadline(&L), 0);
}

static void test_timer_tsc_deadline(void **state)
{
    (void)state;
    setup();
    enable_sw();
    wr(REG_LVT, 0x40048);            /* TSC-deadline, vector 0x48 */
    u64 tsc = (now + 1000) * 2;
    msr_wr(VLAPIC_MSR_TSC_DEADLINE, tsc);
    assert_int_equal(msr_rd(VLAPIC_MSR_TSC_DEADLINE), tsc);
    assert_int_equal(vlapic_next_deadline(&L), now + 1000);
    /* Initial count is ignored, current count reads 0. */
    wr(REG_TMICT, 5);
    assert_int_equal(rd(REG_TMICT), 0);
    assert_int_equal(rd(REG_TMCCT), 0);
    vlapic_advance(&L, now + 999);
    assert_false(irr_has(0x48));
    now += 1000;
    vlapic_advance(&L, now);
    assert_true(irr_has(0x48));
    assert_int_equal(rec.notify, 1);
    assert_int_equal(msr_rd(VLAPIC_MSR_TSC_DEADLINE), 0);
    assert_int_equal(vlapic_next_deadline(&L), 0);
    assert_int_equal(take(), 0x48);
    wr(REG_EOI, 0);

    /* A deadline already past fires during the write. */
    msr_wr(VLAPIC_MSR_TSC_DEADLINE, 2 * now - 2);
    assert_true(irr_has(0x48));
    assert_int_equal(msr_rd(VLAPIC_MSR_TSC_DEADLINE), 0);
    assert_int_equal(take(), 0x48);
    wr(REG_EOI, 0);
    /* Tiny TSC values (before boot) fire too. */
    msr_wr(VLAPIC_MSR_TSC_DEADLINE, 1);
    assert_int_equal(take(), 0x48);
    wr(REG_EOI, 0);

    /* Writing 0 disarms. */
    msr_wr(VLAPIC_MSR_TSC_DEADLINE, (now + 500) * 2);
    msr_wr(VLAPIC_MSR_TSC_DEADLINE, 0);
    assert_int_equal(vlapic_next_deadline(&L), 0);
    vlapic_advance(&L, now + 100000);
    assert_false(irr_has(0x48));

    /* Masked: expires (reads 0), no interrupt. */
    wr(REG_LVT, 0x50048);
    msr_wr(VLAPIC_MSR_TSC_DEADLINE, (now + 500) * 2);
    assert_int_equal(vlapic_next_deadline(&L), 0);
    now += 500;
    assert_int_equal(msr_rd(VLAPIC_MSR_TSC_DEADLINE), 0);
    assert_false(irr_has(0x48));

    /* Leaving TSC-deadline mode disarms; outside it the MSR reads 0 and
     * ignores writes. */
    wr(REG_LVT, 0x40048);
    msr_wr(VLAPIC_MSR_TSC_DEADLINE, (now + 500) * 2);
    wr(REG_LVT, 0x48);
    assert_int_equal(vlapic_next_deadline(&L), 0);
    assert_int_equal(msr_rd(VLAPIC_MSR_TSC_DEADLINE), 0);
    msr_wr(VLAPIC_MSR_TSC_DEADLINE, (now + 500) * 2);
    assert_int_equal(msr_rd(VLAPIC_MSR_TSC_DEADLINE), 0);
    assert_int_equal(vlapic_next_deadline(&L), 0);
    wr(REG_LVT, 0x40048);
    assert_int_equal(msr_rd(VLAPIC_MSR_TSC_DEADLINE), 0);

    /* Entering it disarms a running one-shot. */
    wr(REG_LVT, 0x48);
    wr(REG_TMICT, 100000);
    wr(REG_LVT, 0x40048);
    assert_int_equal(rd(REG_TMICT), 0);
    assert_int_equal(vlapic_next_deadline(&L), 0);
    vlapic_advance(&L, now + 1000000);
    assert_false(irr_has(0x48));

    /* Not offered by CPUID: the MSR is #GP and the mode cannot be set. */
    setup_cfg(1, false, true, false);
    u64 v;
    assert_int_equal(vlapic_msr_read(&L, VLAPIC_MSR_TSC_DEADLINE, &v, now), VLAPIC_GP);
    assert_int_equal(vlapic_msr_write(&L, VLAPIC_MSR_TSC_DEADLINE, 1, now), VLAPIC_GP);
    enable_sw();
    wr(REG_LVT, 0x40048);
    assert_int_equal(rd(REG_LVT), 0x48);
}

/* ---- priorities, acceptance, EOI ---------------------------------------- */

static void test_tpr_ppr(void **state)
{
    (void)state;
    setup();
    enable_sw();
    wr(REG_TPR, 0x50);
    assert_int_equal(vlapic_get_cr8(&L), 5);
    assert_true(vlapic_accept_irq(&L, 0x55, false));
    assert_int_equal(rec.notify, 0);                 /* not deliverable */
    assert_int_equal(vlapic_pending_vector(&L), -1); /* class 5 == TPR class */
    assert_true(vlapic_accept_irq(&L, 0x5f, false));
    assert_int_equal(vlapic_pending_vector(&L), -1);
    wr(REG_TPR, 0x4f);                               /* sub-class ignored */
    assert_int_equal(rec.notify, 1);
    assert_int_equal(vlapic_pending_vector(&L), 0x5f);
    assert_int_equal(rd(REG_PPR), 0x4f);

    /* CR8 is TPR[7:4]. */
    assert_int_equal(vlapic_set_cr8(&L, 6), 0);
    assert_int_equal(rd(REG_TPR), 0x60);
    assert_int_equal(vlapic_pending_vector(&L), -1);
    assert_int_equal(vlapic_set_cr8(&L, 0x10), VLAPIC_GP);
    assert_int_equal(vlapic_set_cr8(&L, 1ull << 63), VLAPIC_GP);
    assert_int_equal(rd(REG_TPR), 0x60);
    int n = rec.notify;
    assert_int_equal(vlapic_set_cr8(&L, 0), 0);
    assert_int_equal(rec.notify, n + 1);
    assert_int_equal(vlapic_get_cr8(&L), 0);

    /* PPR = max(TPR, ISR class). */
    assert_int_equal(take(), 0x5f);
    assert_int_equal(rd(REG_PPR), 0x50);
    assert_int_equal(vlapic_arb_priority(&L), 0x50);
    wr(REG_TPR, 0x32);
    assert_int_equal(rd(REG_PPR), 0x50);
    wr(REG_TPR, 0x72);
    assert_int_equal(rd(REG_PPR), 0x72);
    assert_int_equal(vlapic_arb_priority(&L), 0x72);
    wr(REG_TPR, 0x50);
    assert_int_equal(rd(REG_PPR), 0x50);
    /* 0x55 is below the in-service 0x5f's class: waits for the EOI. */
    assert_int_equal(vlapic_pending_vector(&L), -1);
    wr(REG_TPR, 0);
    wr(REG_EOI, 0);
    assert_int_equal(rd(REG_PPR), 0);
    assert_int_equal(take(), 0x55);
}

static void test_nested_isr_eoi(void **state)
{
    (void)state;
    setup();
    enable_sw();
    assert_true(vlapic_accept_irq(&L, 0x40, false));
    assert_int_equal(take(), 0x40);
    assert_true(isr_has(0x40));
    assert_false(irr_has(0x40));
    /* Same or lower class waits; a higher class nests. */
    assert_true(vlapic_accept_irq(&L, 0x30, false));
    assert_true(vlapic_accept_irq(&L, 0x4a, false));
    assert_int_equal(vlapic_pending_vector(&L), -1);
    assert_true(vlapic_accept_irq(&L, 0x80, false));
    assert_int_equal(take(), 0x80);
    assert_int_equal(rd(REG_PPR), 0x80);
    assert_true(vlapic_accept_irq(&L, 0x90, false));
    assert_int_equal(take(), 0x90);
    /* EOIs retire the highest in-service vector first. */
    wr(REG_EOI, 0);
    assert_false(isr_has(0x90));
    assert_true(isr_has(0x80));
    assert_true(isr_has(0x40));
    assert_int_equal(vlapic_pending_vector(&L), -1);
    wr(REG_EOI, 0);
    assert_false(isr_has(0x80));
    assert_true(isr_has(0x40));
    assert_int_equal(rd(REG_PPR), 0x40);
    int n = rec.notify;
    wr(REG_EOI, 0);
    assert_int_equal(rec.notify, n + 1);   /* 0x4a and 0x30 now deliverable */
    assert_int_equal(take(), 0x4a);
    assert_int_equal(vlapic_pending_vector(&L), -1);
    wr(REG_EOI, 0);
    assert_int_equal(take(), 0x30);
    wr(REG_EOI, 0);
    assert_int_equal(rd(REG_PPR), 0);
    /* An EOI with nothing in service does nothing. */
    wr(REG_EOI, 0);
    assert_int_equal(rec.neoi, 0);
    /* Ack of a vector not requested is ignored. */
    vlapic_ack(&L, 0x77);
    assert_false(isr_has(0x77));
    /* The same vector pending again while in service. */
    assert_true(vlapic_accept_irq(&L, 0x60, false));
    assert_int_equal(take(), 0x60);
    assert_true(vlapic_accept_irq(&L, 0x60, false));
    assert_true(irr_has(0x60));
    assert_int_equal(vlapic_pending_vector(&L), -1);
    wr(REG_EOI, 0);
    assert_int_equal(take(), 0x60);
}

static void test_level_eoi_hook(void **state)
{
    (void)state;
    setup();
    enable_sw();
    assert_true(vlapic_accept_irq(&L, 0x61, true));
    assert_int_equal(rd(REG_TMR + 0x30), 1u << 1);
    assert_true(vlapic_accept_irq(&L, 0x71, false));
    assert_int_equal(take(), 0x71);
    assert_int_equal(take(), -1);
    wr(REG_EOI, 0);                           /* edge: no hook */
    assert_int_equal(rec.neoi, 0);
    assert_int_equal(take(), 0x61);
    wr(REG_EOI, 0);
    assert_int_equal(rec.neoi, 1);
    assert_int_equal(rec.eoi[0], 0x61);
    /* An edge acceptance of the vector clears its TMR bit. */
    assert_true(vlapic_accept_irq(&L, 0x61, false));
    assert_int_equal(rd(REG_TMR + 0x30), 0);
    assert_int_equal(take(), 0x61);
    wr(REG_EOI, 0);
    assert_int_equal(rec.neoi, 1);
    /* Nested level interrupts: each EOI reports its own vector. */
    assert_true(vlapic_accept_irq(&L, 0x51, true));
    assert_int_equal(take(), 0x51);
    assert_true(vlapic_accept_irq(&L, 0xa1, true));
    assert_int_equal(take(), 0xa1);
    wr(REG_EOI, 0);
    wr(REG_EOI, 0);
    assert_int_equal(rec.neoi, 3);
    assert_int_equal(rec.eoi[1], 0xa1);
    assert_int_equal(rec.eoi[2], 0x51);
}

static void test_accept_rules(void **state)
{
    (void)state;
    setup();
    /* Software-disabled after reset: fixed interrupts are dropped. */
    assert_false(vlapic_accept_irq(&L, 0x40, false));
    assert_int_equal(rd(REG_IRR + 0x20), 0);
    enable_sw();
    assert_true(vlapic_accept_irq(&L, 0x40, false));
    assert_int_equal(rec.notify, 1);
    assert_true(vlapic_accept_irq(&L, 0xff, false));
    assert_int_equal(take(), 0xff);
    wr(REG_EOI, 0);
    assert_int_equal(take(), 0x40);
    wr(REG_EOI, 0);
    /* Vectors 0-15 are illegal: dropped, "receive illegal vector". */
    for (int v = 0; v < 16; v++) {
        assert_false(vlapic_accept_irq(&L, (u8)v, false));
        assert_int_equal(esr_latch(), VLAPIC_ESR_RECV_ILLEGAL);
    }
    assert_int_equal(L.irr[0], 0);
    assert_true(vlapic_accept_irq(&L, 16, false));
    assert_int_equal(esr_latch(), 0);
}

static void test_esr(void **state)
{
    (void)state;
    setup();
    enable_sw();
    /* Errors accumulate unseen until a write latches them. */
    assert_false(vlapic_accept_irq(&L, 3, false));
    assert_int_equal(rd(REG_ESR), 0);
    rd(0x40);
    assert_int_equal(rd(REG_ESR), 0);
    wr(REG_ESR, 0xffffffff);         /* the value written does not matter */
    assert_int_equal(rd(REG_ESR), VLAPIC_ESR_RECV_ILLEGAL | VLAPIC_ESR_ILLEGAL_REG);
    assert_int_equal(rd(REG_ESR), VLAPIC_ESR_RECV_ILLEGAL | VLAPIC_ESR_ILLEGAL_REG);
    wr(REG_ESR, 0);
    assert_int_equal(rd(REG_ESR), 0);

    /* The error LVT raises its vector on each error. */
    wr(REG_LVT + 0x50, 0xfe);
    assert_false(vlapic_accept_irq(&L, 1, false));
    assert_true(irr_has(0xfe));
    assert_int_equal(take(), 0xfe);
    wr(REG_EOI, 0);
    /* An illegal error vector only adds "receive illegal". */
    wr(REG_LVT + 0x50, 0x05);
    rd(0x50);
    assert_int_equal(esr_latch(), VLAPIC_ESR_RECV_ILLEGAL | VLAPIC_ESR_ILLEGAL_REG);
    assert_int_equal(L.irr[0], 0);
    /* A timer LVT with an illegal vector: error, no IRR bit. */
    wr(REG_LVT + 0x50, 0x10000);
    wr(REG_LVT, 0x07);
    wr(REG_TDCR, 0xb);
    wr(REG_TMICT, 10);
    now += 10;
    vlapic_advance(&L, now);
    assert_int_equal(L.irr[0], 0);
    assert_int_equal(esr_latch(), VLAPIC_ESR_RECV_ILLEGAL);
}

static void test_software_disable(void **state)
{
    (void)state;
    setup();
    enable_sw();
    for (u32 i = 0; i < VLAPIC_NR_LVT; i++)
        wr(REG_LVT + i * 0x10, 0x30 + i);
    assert_true(vlapic_accept_irq(&L, 0x50, false));
    wr(REG_SVR, 0xff);               /* software-disable */
    for (u32 i = 0; i < VLAPIC_NR_LVT; i++) {
        assert_int_equal(rd(REG_LVT + i * 0x10), 0x10030 + i);
        wr(REG_LVT + i * 0x10, 0x40 + i);    /* cannot unmask */
        assert_int_equal(rd(REG_LVT + i * 0x10), 0x10040 + i);
    }
    /* Held interrupts stay deliverable; new ones are refused. */
    assert_int_equal(vlapic_pending_vector(&L), 0x50);
    assert_false(vlapic_accept_irq(&L, 0x60, false));
    assert_false(irr_has(0x60));
    /* A self IPI is dropped too. */
    wr(REG_ICR_LO, 0x40070);
    assert_false(irr_has(0x70));
    assert_int_equal(rec.nipi, 0);
    /* Other IPIs still go out. */
    wr(REG_ICR_LO, 0xc4400);
    assert_int_equal(rec.nipi, 1);
    /* Re-enabled: the masks stay until software clears them. */
    enable_sw();
    assert_int_equal(rd(REG_LVT), 0x10040);
    wr(REG_LVT, 0x40);
    assert_int_equal(rd(REG_LVT), 0x40);
    assert_int_equal(rd(REG_SVR), 0x1ff);
}

/* ---- IPIs --------------------------------------------------------------- */

static void test_icr_decode_xapic(void **state)
{
    (void)state;
    setup();
    enable_sw();
    static const struct {
        u32 lo;
        u8 mode, shorthand, vector;
        bool logical, level, trig;
    } cases[] = {
        { 0x00000031, VLAPIC_DM_FIXED,  VLAPIC_SH_NONE,     0x31, false, false, false },
        { 0x00004831, VLAPIC_DM_FIXED,  VLAPIC_SH_NONE,     0x31, true,  true,  false },
        { 0x00000132, VLAPIC_DM_LOWEST, VLAPIC_SH_NONE,     0x32, false, false, false },
        { 0x00000200, VLAPIC_DM_SMI,    VLAPIC_SH_NONE,     0x00, false, false, false },
        { 0x00004400, VLAPIC_DM_NMI,    VLAPIC_SH_NONE,     0x00, false, true,  false },
        { 0x0000c500, VLAPIC_DM_INIT,   VLAPIC_SH_NONE,     0x00, false, true,  true  },
        { 0x00008500, VLAPIC_DM_INIT_DEASSERT, VLAPIC_SH_NONE, 0x00, false, false, true },
        { 0x00004500, VLAPIC_DM_INIT,   VLAPIC_SH_NONE,     0x00, false, true,  false },
        { 0x0000469a, VLAPIC_DM_SIPI,   VLAPIC_SH_NONE,     0x9a, false, true,  false },
        { 0x00080033, VLAPIC_DM_FIXED,  VLAPIC_SH_ALL_INCL, 0x33, false, false, false },
        { 0x000c0034, VLAPIC_DM_FIXED,  VLAPIC_SH_ALL_EXCL, 0x34, false, false, false },
        { 0x000c4400, VLAPIC_DM_NMI,    VLAPIC_SH_ALL_EXCL, 0x00, false, true,  false },
        { 0x000c4500, VLAPIC_DM_INIT,   VLAPIC_SH_ALL_EXCL, 0x00, false, true,  false },
        { 0x000c4608, VLAPIC_DM_SIPI,   VLAPIC_SH_ALL_EXCL, 0x08, false, true,  false },
        { 0x000c0135, VLAPIC_DM_LOWEST, VLAPIC_SH_ALL_EXCL, 0x35, false, false, false },
        { 0x00044400, VLAPIC_DM_NMI,    VLAPIC_SH_SELF,     0x00, false, true,  false },
        { 0x00088400, VLAPIC_DM_NMI,    VLAPIC_SH_ALL_INCL, 0x00, false, false, true  },
    };
    wr(REG_ICR_HI, 0x0f000000);
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        rec.nipi = 0;
        wr(REG_ICR_LO, cases[i].lo | (1u << 12));     /* delivery status: RO */
        assert_int_equal(rec.nipi, 1);
        const struct vlapic_ipi *ipi = &rec.ipi[0];
        assert_int_equal(ipi->dest, 0x0f);
        assert_false(ipi->x2apic);
        assert_int_equal(ipi->mode, cases[i].mode);
        assert_int_equal(ipi->shorthand, cases[i].shorthand);
        assert_int_equal(ipi->vector, cases[i].vector);
        assert_int_equal(ipi->logical, cases[i].logical);
        assert_int_equal(ipi->level, cases[i].level);
        assert_int_equal(ipi->trigger_level, cases[i].trig);
        assert_int_equal(rd(REG_ICR_LO), cases[i].lo);   /* status reads 0 */
        assert_int_equal(rd(REG_ICR_HI), 0x0f000000);
    }
    assert_int_equal(esr_latch(), 0);

    /* The destination comes from ICR high at the time of the low write. */
    rec.nipi = 0;
    wr(REG_ICR_HI, 0xfe000000);
    assert_int_equal(rec.nipi, 0);
    wr(REG_ICR_LO, 0x4040);
    assert_int_equal(rec.ipi[0].dest, 0xfe);

    /* Self fixed IPIs stay inside: no hook, IRR set, the guest woken. */
    rec.nipi = 0;
    int n = rec.notify;
    wr(REG_ICR_LO, 0x40051);
    assert_int_equal(rec.nipi, 0);
    assert_true(irr_has(0x51));
    assert_int_equal(rec.notify, n + 1);
    assert_int_equal(take(), 0x51);

    /* Reserved delivery modes send nothing. */
    wr(REG_ICR_LO, 0x4351);
    wr(REG_ICR_LO, 0x4751);
    assert_int_equal(rec.nipi, 0);

    /* Illegal vectors: "send illegal vector", still sent. */
    wr(REG_ICR_LO, 0x4005);
    assert_int_equal(rec.nipi, 1);
    assert_int_equal(esr_latch(), VLAPIC_ESR_SEND_ILLEGAL);
    wr(REG_ICR_LO, 0x4105);
    assert_int_equal(rec.nipi, 2);
    assert_int_equal(esr_latch(), VLAPIC_ESR_SEND_ILLEGAL);
    wr(REG_ICR_LO, 0x40005);         /* self: both errors, no IRR */
    assert_int_equal(rec.nipi, 2);
    assert_int_equal(esr_latch(), VLAPIC_ESR_SEND_ILLEGAL | VLAPIC_ESR_RECV_ILLEGAL);
    assert_int_equal(L.irr[0], 0);
    wr(REG_ICR_LO, 0x4405);          /* NMI: vector unused, no error */
    assert_int_equal(esr_latch(), 0);
}

static void test_icr_decode_x2apic(void **state)
{
    (void)state;
    setup();
    to_x2apic();
    enable_sw();
    msr_wr(0x830, 0x12345678ull << 32 | 0x4831);
    assert_int_equal(rec.nipi, 1);
    assert_int_equal(rec.ipi[0].dest, 0x12345678);
    assert_true(rec.ipi[0].x2apic);
    assert_true(rec.ipi[0].logical);
    assert_int_equal(rec.ipi[0].mode, VLAPIC_DM_FIXED);
    assert_int_equal(rec.ipi[0].vector, 0x31);
    assert_int_equal(msr_rd(0x830), 0x12345678ull << 32 | 0x4831);
    /* Reserved low bits and the delivery status are dropped. */
    msr_wr(0x830, 0xffffffffull << 32 | 0xfffff6ff);
    assert_int_equal(msr_rd(0x830), 0xffffffffull << 32 | 0x000cc6ff);
    assert_int_equal(rec.ipi[1].dest, 0xffffffff);
    assert_int_equal(rec.ipi[1].mode, VLAPIC_DM_SIPI);
    assert_int_equal(rec.ipi[1].shorthand, VLAPIC_SH_ALL_EXCL);

    static const struct { u32 lo; u8 mode, shorthand; } cases[] = {
        { 0x00000130, VLAPIC_DM_LOWEST, VLAPIC_SH_NONE },
        { 0x00000200, VLAPIC_DM_SMI,    VLAPIC_SH_NONE },
        { 0x00004400, VLAPIC_DM_NMI,    VLAPIC_SH_NONE },
        { 0x00004500, VLAPIC_DM_INIT,   VLAPIC_SH_NONE },
        { 0x00008500, VLAPIC_DM_INIT_DEASSERT, VLAPIC_SH_NONE },
        { 0x00004610, VLAPIC_DM_SIPI,   VLAPIC_SH_NONE },
        { 0x00080030, VLAPIC_DM_FIXED,  VLAPIC_SH_ALL_INCL },
        { 0x000c0030, VLAPIC_DM_FIXED,  VLAPIC_SH_ALL_EXCL },
        { 0x00044400, VLAPIC_DM_NMI,    VLAPIC_SH_SELF },
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        rec.nipi = 0;
        msr_wr(0x830, 7ull << 32 | cases[i].lo);
        assert_int_equal(rec.nipi, 1);
        assert_int_equal(rec.ipi[0].dest, 7);
        assert_true(rec.ipi[0].x2apic);
        assert_int_equal(rec.ipi[0].mode, cases[i].mode);
        assert_int_equal(rec.ipi[0].shorthand, cases[i].shorthand);
    }

    /* Self fixed through the ICR and through SELF IPI: internal. */
    rec.nipi = 0;
    msr_wr(0x830, 0x40052);
    assert_true(irr_has(0x52));
    msr_wr(0x83f, 0x53);
    assert_true(irr_has(0x53));
    assert_int_equal(rec.nipi, 0);
    assert_int_equal(take(), 0x53);
    assert_int_equal(take(), -1);
    msr_wr(0x80b, 0);
    assert_int_equal(take(), 0x52);
    /* SELF IPI with an illegal vector. */
    msr_wr(0x83f, 0x0e);
    assert_int_equal(L.irr[0], 0);
    msr_wr(0x828, 0);
    assert_int_equal(msr_rd(0x828), VLAPIC_ESR_SEND_ILLEGAL | VLAPIC_ESR_RECV_ILLEGAL);
}

/* The glue may deliver an all-including-self IPI back into the sender
 * from inside the ICR write. */
static void test_ipi_loopback_reentry(void **state)
{
    (void)state;
    setup();
    enable_sw();
    rec.loopback = &L;
    wr(REG_ICR_LO, 0x80066);
    assert_int_equal(rec.nipi, 1);
    assert_true(irr_has(0x66));
    assert_int_equal(rd(REG_ICR_LO), 0x80066);
    assert_int_equal(take(), 0x66);
}

/* ---- destinations --------------------------------------------------------- */

static void test_match_physical(void **state)
{
    (void)state;
    setup();
    assert_true(vlapic_match_dest(&L, 3, false, false));
    assert_false(vlapic_match_dest(&L, 4, false, false));
    assert_true(vlapic_match_dest(&L, 0xff, false, false));
    assert_true(vlapic_match_dest(&L, 0xffffffff, false, true));
    assert_true(vlapic_match_dest(&L, 3, false, true));
    assert_false(vlapic_match_dest(&L, 0x103, false, true));
    assert_false(vlapic_match_dest(&L, 0x103, false, false));
    /* The xAPIC ID register is what matches, aliases included. */
    wr(REG_ID, 0);
    assert_true(vlapic_match_dest(&L, 0, false, false));
    assert_false(vlapic_match_dest(&L, 3, false, false));

    /* x2APIC: the 32-bit ID. */
    setup_cfg(0x1234, false, true, true);
    to_x2apic();
    assert_true(vlapic_match_dest(&L, 0x1234, false, true));
    assert_false(vlapic_match_dest(&L, 0x34, false, true));
    assert_false(vlapic_match_dest(&L, 0x34, false, false));
    assert_true(vlapic_match_dest(&L, 0xffffffff, false, true));
    assert_true(vlapic_match_dest(&L, 0xff, false, false));   /* 8-bit broadcast */
    assert_false(vlapic_match_dest(&L, 0xff, false, true));
    setup_cfg(5, false, true, true);
    to_x2apic();
    assert_true(vlapic_match_dest(&L, 5, false, false));      /* IOAPIC/MSI */
}

static void test_match_logical_flat(void **state)
{
    (void)state;
    setup();
    assert_false(vlapic_match_dest(&L, 0x01, true, false));   /* LDR 0 */
    assert_true(vlapic_match_dest(&L, 0xff, true, false));    /* broadcast */
    for (int bit = 0; bit < 8; bit++) {
        wr(REG_LDR, (1u << bit) << 24);
        for (u32 d = 0; d < 0xff; d++)
            assert_int_equal(vlapic_match_dest(&L, d, true, false), (d >> bit) & 1);
        assert_true(vlapic_match_dest(&L, 0xff, true, false));
    }
    wr(REG_LDR, 0x05000000);
    assert_true(vlapic_match_dest(&L, 0x04, true, false));
    assert_true(vlapic_match_dest(&L, 0x03, true, false));
    assert_false(vlapic_match_dest(&L, 0x0a, true, false));
    assert_false(vlapic_match_dest(&L, 0x105, true, true));
}

static void test_match_logical_cluster(void **state)
{
    (void)state;
    setup();
    wr(REG_DFR, 0x0fffffff);
    for (u32 c = 0; c < 0xf; c++) {
        for (int bit = 0; bit < 4; bit++) {
            wr(REG_LDR, ((c << 4) | (1u << bit)) << 24);
            for (u32 d = 0; d < 0xff; d++) {
                bool want = (d >> 4) == c && ((d >> bit) & 1);
                assert_int_equal(vlapic_match_dest(&L, d, true, false), want);
            }
            assert_true(vlapic_match_dest(&L, 0xff, true, false));
        }
    }
    /* DFR models other than flat and cluster match nothing. */
    wr(REG_DFR, 0x5fffffff);
    wr(REG_LDR, 0x11000000);
    assert_false(vlapic_match_dest(&L, 0x11, true, false));
    assert_true(vlapic_match_dest(&L, 0xff, true, false));
}

static void test_match_logical_x2apic(void **state)
{
    (void)state;
    setup_cfg(0x35, false, true, true);   /* cluster 3, bit 5 */
    to_x2apic();
    assert_true(vlapic_match_dest(&L, 0x00030020, true, true));
    assert_true(vlapic_match_dest(&L, 0x0003ffff, true, true));
    assert_false(vlapic_match_dest(&L, 0x0003ffdf, true, true));
    assert_false(vlapic_match_dest(&L, 0x00020020, true, true));
    assert_false(vlapic_match_dest(&L, 0x00130020, true, true));
    assert_true(vlapic_match_dest(&L, 0xffffffff, true, true));
    /* The xAPIC LDR/DFR play no part. */
    setup_cfg(0x35, false, true, true);
    wr(REG_LDR, 0xff000000);
    to_x2apic();
    assert_false(vlapic_match_dest(&L, 0x01, true, false));
}

static void test_pic_routing(void **state)
{
    (void)state;
    setup_cfg(0, true, true, true);
    assert_true(vlapic_accepts_pic_intr(&L));
    enable_sw();
    wr(REG_LVT + 0x30, 0x10700);          /* masked ExtINT */
    assert_false(vlapic_accepts_pic_intr(&L));
    wr(REG_LVT + 0x30, 0x00030);          /* fixed */
    assert_false(vlapic_accepts_pic_intr(&L));
    wr(REG_LVT + 0x30, 0x00700);
    assert_true(vlapic_accepts_pic_intr(&L));
    wr(REG_LVT + 0x40, 0x00400);          /* LINT1: NMI */
    assert_int_equal(vlapic_lvt(&L, VLAPIC_LVT_LINT1), 0x400);
    assert_int_equal(vlapic_lvt(&L, VLAPIC_NR_LVT), 0);
    msr_wr(VLAPIC_MSR_APIC_BASE, VLAPIC_DEFAULT_BASE | VLAPIC_BASE_BSP);
    assert_true(vlapic_accepts_pic_intr(&L));
}

/* ---- a hostile guest ------------------------------------------------------ */

static u64 rng_state = 0x9e3779b97f4a7c15ull;

static u64 rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

/* Random values at random registers, in both modes, interleaved with
 * interrupts, acks, EOIs and time: the model must keep its invariants
 * (no vector below 16 anywhere, a sane pending vector, and a timer that
 * after advance() never asks to run again at or before `now`, so the glue
 * cannot spin). */
static void test_random_guest(void **state)
{
    (void)state;
    static const u32 msrs[] = { 0x1b, 0x6e0, 0x802, 0x808, 0x80b, 0x80f, 0x828,
                                0x830, 0x832, 0x838, 0x83e, 0x83f, 0x8ff };
    setup();
    for (int i = 0; i < 300000; i++) {
        u64 r = rnd(), v = rnd();
        rec.nipi = 0;
        rec.neoi = 0;
        switch (r % 8) {
        case 0:
        case 1:
            vlapic_mmio_write(&L, (u32)(v >> 32) & 0x3ff0, 4,
                              (r >> 8) % 4 ? (u32)v : (u32)v & 0x000e00ff, now);
            break;
        case 2:
            vlapic_mmio_read(&L, (u32)v & 0xfff, 1u << ((r >> 8) % 4), now);
            break;
        case 3: {
            u64 val;
            u32 msr = msrs[(r >> 8) % ARRAY_SIZE(msrs)];
            if (msr == 0x1b)   /* mostly valid transitions */
                v = VLAPIC_DEFAULT_BASE | (v & (VLAPIC_BASE_EN | VLAPIC_BASE_EXTD));
            if ((r >> 16) & 1)
                vlapic_msr_read(&L, msr, &val, now);
            else
                vlapic_msr_write(&L, msr, (r >> 17) & 1 ? v : (v & 0xfffff), now);
            break;
        }
        case 4:
            vlapic_accept_irq(&L, (u8)v, (r >> 8) & 1);
            break;
        case 5:
            take();
            break;
        case 6:
            vlapic_set_cr8(&L, v & 0x1f);
            break;
        default:
            now += v % ((r >> 8) & 1 ? 1000 : 3000000);
            break;
        }
        vlapic_match_dest(&L, (u32)v, (r >> 20) & 1, (r >> 21) & 1);
        vlapic_advance(&L, now);
        u64 next = vlapic_next_deadline(&L);
        assert_true(next == 0 || next > now);
        assert_int_equal(L.irr[0] & 0xffff, 0);
        assert_int_equal(L.isr[0] & 0xffff, 0);
        int p = vlapic_pending_vector(&L);
        if (p >= 0) {
            assert_true(test_vec(L.irr, (u8)p));
            assert_true(((u32)p & 0xf0) > (ppr(&L) & 0xf0));
        }
        if (vlapic_hw_enabled(&L) && !vlapic_x2apic_mode(&L))
            assert_int_equal(rd(REG_TMCCT) <= rd(REG_TMICT), true);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reset_values),
        cmocka_unit_test(test_init_signal),
        cmocka_unit_test(test_mmio_writable_registers),
        cmocka_unit_test(test_mmio_read_only_registers),
        cmocka_unit_test(test_mmio_reserved_offsets),
        cmocka_unit_test(test_mmio_narrow_and_unaligned),
        cmocka_unit_test(test_mmio_inactive),
        cmocka_unit_test(test_apic_base_validation),
        cmocka_unit_test(test_apic_base_transitions),
        cmocka_unit_test(test_apic_disable_resets),
        cmocka_unit_test(test_x2apic_msr_map),
        cmocka_unit_test(test_x2apic_registers),
        cmocka_unit_test(test_x2apic_ldr_formula),
        cmocka_unit_test(test_timer_one_shot),
        cmocka_unit_test(test_timer_divide_values),
        cmocka_unit_test(test_timer_divide_change_mid_count),
        cmocka_unit_test(test_timer_periodic),
        cmocka_unit_test(test_timer_periodic_clamp),
        cmocka_unit_test(test_timer_masked),
        cmocka_unit_test(test_timer_mode_change),
        cmocka_unit_test(test_timer_tsc_deadline),
        cmocka_unit_test(test_tpr_ppr),
        cmocka_unit_test(test_nested_isr_eoi),
        cmocka_unit_test(test_level_eoi_hook),
        cmocka_unit_test(test_accept_rules),
        cmocka_unit_test(test_esr),
        cmocka_unit_test(test_software_disable),
        cmocka_unit_test(test_icr_decode_xapic),
        cmocka_unit_test(test_icr_decode_x2apic),
        cmocka_unit_test(test_ipi_loopback_reentry),
        cmocka_unit_test(test_match_physical),
        cmocka_unit_test(test_match_logical_flat),
        cmocka_unit_test(test_match_logical_cluster),
        cmocka_unit_test(test_match_logical_x2apic),
        cmocka_unit_test(test_pic_routing),
        cmocka_unit_test(test_random_guest),
    };
    return cmocka_run_group_tests_name("vlapic", tests, NULL, NULL);
}
