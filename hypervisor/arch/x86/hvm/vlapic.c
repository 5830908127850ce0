/*
 * vlapic.c - the virtual local APIC of one domU vCPU.
 *
 * A pure model (Intel SDM vol. 3 ch. 10/11): registers in xAPIC (MMIO) and
 * x2APIC (MSR) form, interrupt acceptance, priorities and EOI, IPI
 * decoding and the timer in one-shot, periodic and TSC-deadline modes.
 * Time comes in as an argument and the outside world is reached only
 * through the hooks given at init, so the platform glue owns delivery and
 * scheduling and the unit tests (tests/test_vlapic.c) drive every path.
 * The choices the SDM leaves open are listed in include/kiln/vlapic.h.
 *
 * Every value a guest writes is masked to the register's defined bits
 * before it is stored; register offsets are matched exactly, so no guest
 * value indexes an array except through a bounded (reg - base) >> 4.
 */
#include <kiln/vlapic.h>

/* xAPIC register offsets (the x2APIC MSR is 0x800 + offset / 16). */
#define REG_ID        0x020
#define REG_VERSION   0x030
#define REG_TPR       0x080
#define REG_APR       0x090
#define REG_PPR       0x0a0
#define REG_EOI       0x0b0
#define REG_RRD       0x0c0
#define REG_LDR       0x0d0
#define REG_DFR       0x0e0
#define REG_SVR       0x0f0
#define REG_ISR       0x100   /* 8 registers, 0x100-0x170 */
#define REG_TMR       0x180
#define REG_IRR       0x200
#define REG_ESR       0x280
#define REG_ICR_LO    0x300
#define REG_ICR_HI    0x310
#define REG_LVT       0x320   /* 6 registers, 0x320-0x370 */
#define REG_TMICT     0x380
#define REG_TMCCT     0x390
#define REG_TDCR      0x3e0
#define REG_SELF_IPI  0x3f0   /* x2APIC only */

#define SVR_MASK          0x3ffu      /* vector, enable, focus check */
#define SVR_ENABLE        0x100u
#define DFR_MODEL_MASK    0xf0000000u
#define DFR_FLAT          0xfu
#define DFR_CLUSTER       0x0u
#define ICR_LO_MASK       0x000ccfffu /* vector, mode, dest mode, level, trigger, shorthand */
#define ICR_HI_XAPIC_MASK 0xff000000u
#define ICR_DEST_LOGICAL  (1u << 11)
#define ICR_LEVEL_ASSERT  (1u << 14)
#define ICR_TRIGGER_LEVEL (1u << 15)
#define TDCR_MASK         0xbu

#define LVT_TIMER_MODE_SHIFT 17
#define LVT_TIMER_PERIODIC   1u
#define LVT_TIMER_TSC        2u
#define LVT_TIMER_RESERVED   3u

/* Writable bits of each LVT (the timer's mode bits are handled apart). */
static const u32 lvt_mask[VLAPIC_NR_LVT] = {
    [VLAPIC_LVT_TIMER]   = VLAPIC_LVT_VECTOR | VLAPIC_LVT_MASKED,
    [VLAPIC_LVT_THERMAL] = VLAPIC_LVT_VECTOR | VLAPIC_LVT_DM_MASK | VLAPIC_LVT_MASKED,
    [VLAPIC_LVT_PERF]    = VLAPIC_LVT_VECTOR | VLAPIC_LVT_DM_MASK | VLAPIC_LVT_MASKED,
    /* + input polarity (13) and trigger mode (15); remote IRR reads 0 */
    [VLAPIC_LVT_LINT0]   = 0x0000a7ffu | VLAPIC_LVT_MASKED,
    [VLAPIC_LVT_LINT1]   = 0x0000a7ffu | VLAPIC_LVT_MASKED,
    [VLAPIC_LVT_ERROR]   = VLAPIC_LVT_VECTOR | VLAPIC_LVT_MASKED,
};

/* What a PC BIOS leaves in the BSP's LINT0: ExtINT, unmasked. */
#define LINT0_BSP_RESET (VLAPIC_DM_EXTINT << VLAPIC_LVT_DM_SHIFT)

/* ---- bit arrays and priorities ------------------------------------------ */

static bool test_vec(const u32 *bits, u8 v) { return bits[v >> 5] & (1u << (v & 31)); }
static void set_vec(u32 *bits, u8 v)        { bits[v >> 5] |= 1u << (v & 31); }
static void clear_vec(u32 *bits, u8 v)      { bits[v >> 5] &= ~(1u << (v & 31)); }

static int highest_vec(const u32 *bits)
{
    for (int i = 7; i >= 0; i--)
        if (bits[i])
            return i * 32 + 31 - __builtin_clz(bits[i]);
    return -1;
}

static u32 ppr(const struct vlapic *l)
{
    int isrv = highest_vec(l->isr);
    u32 isr_class = isrv < 0 ? 0 : (u32)isrv & 0xf0;
    return (l->tpr & 0xf0) >= isr_class ? l->tpr : isr_class;
}

/* ---- modes -------------------------------------------------------------- */

bool vlapic_hw_enabled(const struct vlapic *l)
{
    return l->apic_base & VLAPIC_BASE_EN;
}

bool vlapic_x2apic_mode(const struct vlapic *l)
{
    return vlapic_hw_enabled(l) && (l->apic_base & VLAPIC_BASE_EXTD);
}

static bool sw_enabled(const struct vlapic *l)
{
    return l->svr & SVR_ENABLE;
}

bool vlapic_mmio_active(const struct vlapic *l, u64 *base)
{
    if (!vlapic_hw_enabled(l) || vlapic_x2apic_mode(l))
        return false;
    *base = l->apic_base & ~0xfffull;
    return true;
}

u32 vlapic_initial_id(const struct vlapic *l)
{
    return l->cfg.apic_id;
}

static u32 x2apic_ldr(const struct vlapic *l)
{
    u32 id = l->cfg.apic_id;
    return ((id >> 4) << 16) | (1u << (id & 0xf));
}

/* ---- interrupt state ---------------------------------------------------- */

int vlapic_pending_vector(const struct vlapic *l)
{
    if (!vlapic_hw_enabled(l))
        return -1;
    int v = highest_vec(l->irr);
    if (v < 0 || ((u32)v & 0xf0) <= (ppr(l) & 0xf0))
        return -1;
    return v;
}

static void notify_if_pending(struct vlapic *l)
{
    if (vlapic_pending_vector(l) >= 0)
        l->hooks->notify(l->ctx);
}

static void set_irr(struct vlapic *l, u8 vector, bool level)
{
    set_vec(l->irr, vector);
    if (level)
        set_vec(l->tmr, vector);
    else
        clear_vec(l->tmr, vector);
    notify_if_pending(l);
}

/* Latches errors for the next ESR write and raises the LVT error
 * interrupt; an illegal error vector only adds its own error bit. */
static void apic_error(struct vlapic *l, u32 bits)
{
    u32 lvt = l->lvt[VLAPIC_LVT_ERROR];
    l->esr_pending |= bits;
    if (lvt & VLAPIC_LVT_MASKED)
        return;
    u8 v = lvt & VLAPIC_LVT_VECTOR;
    if (v < 16)
        l->esr_pending |= VLAPIC_ESR_RECV_ILLEGAL;
    else
        set_irr(l, v, false);
}

/* An interrupt from this APIC's own LVT or a self IPI (edge). */
static void raise_local(struct vlapic *l, u8 vector)
{
    if (vector < 16)
        apic_error(l, VLAPIC_ESR_RECV_ILLEGAL);
    else
        set_irr(l, vector, false);
}

bool vlapic_accept_irq(struct vlapic *l, u8 vector, bool level)
{
    if (!vlapic_hw_enabled(l) || !sw_enabled(l))
        return false;
    if (vector < 16) {
        apic_error(l, VLAPIC_ESR_RECV_ILLEGAL);
        return false;
    }
    set_irr(l, vector, level);
    return true;
}

void vlapic_ack(struct vlapic *l, u8 vector)
{
    if (!test_vec(l->irr, vector))
        return;
    clear_vec(l->irr, vector);
    set_vec(l->isr, vector);
}

static void eoi(struct vlapic *l)
{
    int v = highest_vec(l->isr);
    if (v < 0)
        return;
    clear_vec(l->isr, (u8)v);
    if (test_vec(l->tmr, (u8)v))
        l->hooks->eoi(l->ctx, (u8)v);
    notify_if_pending(l);
}

u8 vlapic_get_cr8(const struct vlapic *l)
{
    return (l->tpr >> 4) & 0xf;
}

static void set_tpr(struct vlapic *l, u32 value)
{
    l->tpr = value & 0xff;
    notify_if_pending(l);
}

int vlapic_set_cr8(struct vlapic *l, u64 value)
{
    if (value > 0xf)
        return VLAPIC_GP;
    set_tpr(l, (u32)value << 4);
    return 0;
}

u8 vlapic_arb_priority(const struct vlapic *l)
{
    return (u8)ppr(l);
}

u32 vlapic_lvt(const struct vlapic *l, enum vlapic_lvt which)
{
    return (unsigned int)which < VLAPIC_NR_LVT ? l->lvt[which] : 0;
}

bool vlapic_accepts_pic_intr(const struct vlapic *l)
{
    u32 lint0 = l->lvt[VLAPIC_LVT_LINT0];
    if (!vlapic_hw_enabled(l))
        return true;
    return !(lint0 & VLAPIC_LVT_MASKED) &&
           (lint0 & VLAPIC_LVT_DM_MASK) >> VLAPIC_LVT_DM_SHIFT == VLAPIC_DM_EXTINT;
}

bool vlapic_match_dest(const struct vlapic *l, u32 dest, bool logical, bool wide)
{
    if (!vlapic_hw_enabled(l))
        return false;
    if (dest == (wide ? 0xffffffffu : 0xffu))
        return true;

    if (vlapic_x2apic_mode(l)) {
        if (!logical)
            return dest == l->cfg.apic_id;
        u32 ldr = x2apic_ldr(l);
        return (dest >> 16) == (ldr >> 16) && (dest & ldr & 0xffff) != 0;
    }

    if (dest > 0xff)
        return false;
    if (!logical)
        return dest == l->xapic_id;
    u32 ldr = l->ldr >> 24;
    switch (l->dfr >> 28) {
    case DFR_FLAT:
        return (ldr & dest) != 0;
    case DFR_CLUSTER:
        return (ldr >> 4) == (dest >> 4) && (ldr & dest & 0xf) != 0;
    default:
        return false;
    }
}

/* ---- timer -------------------------------------------------------------- */

static u32 timer_mode(const struct vlapic *l)
{
    return (l->lvt[VLAPIC_LVT_TIMER] >> LVT_TIMER_MODE_SHIFT) & 3;
}

/* Divide configuration bits 3,1:0 -> 2, 4, 8, 16, 32, 64, 128, 1. */
static u64 timer_divisor(const struct vlapic *l)
{
    u32 code = ((l->timer_dcr >> 1) & 4) | (l->timer_dcr & 3);
    return 1ull << ((code + 1) & 7);
}

/* A periodic timer whose true period is below the floor. */
static bool timer_clamped(const struct vlapic *l)
{
    return timer_mode(l) == LVT_TIMER_PERIODIC && l->timer_icr &&
           (u64)l->timer_icr * timer_divisor(l) < VLAPIC_MIN_PERIOD_NS;
}

static void timer_set_period(struct vlapic *l)
{
    l->timer_period = timer_clamped(l) ? VLAPIC_MIN_PERIOD_NS
                                       : (u64)l->timer_icr * timer_divisor(l);
}

/* Time for `counts` counts; a clamped timer spreads its counts over the
 * floor period (icr < VLAPIC_MIN_PERIOD_NS there, so nothing overflows). */
static u64 counts_to_ns(const struct vlapic *l, u64 counts)
{
    if (timer_clamped(l))
        return counts * VLAPIC_MIN_PERIOD_NS / l->timer_icr;
    return counts * timer_divisor(l);
}

static u32 current_count(const struct vlapic *l, u64 now)
{
    if (timer_mode(l) == LVT_TIMER_TSC || !l->timer_deadline || now >= l->timer_deadline)
        return 0;
    u64 left = l->timer_deadline - now, counts;
    if (timer_clamped(l))
        counts = (left * l->timer_icr + VLAPIC_MIN_PERIOD_NS - 1) / VLAPIC_MIN_PERIOD_NS;
    else
        counts = (left + timer_divisor(l) - 1) / timer_divisor(l);
    return (u32)counts;
}

static void timer_expire(struct vlapic *l, u64 now)
{
    switch (timer_mode(l)) {
    case LVT_TIMER_PERIODIC: {
        /* The next period boundary after now: missed ones are dropped.
         * A running periodic timer has icr != 0, so a period >= 1 ns. */
        u64 missed = (now - l->timer_deadline) / l->timer_period;
        l->timer_deadline += (missed + 1) * l->timer_period;
        break;
    }
    case LVT_TIMER_TSC:
        l->tsc_deadline = 0;
        l->timer_deadline = 0;
        break;
    default:                    /* one-shot */
        l->timer_deadline = 0;
        break;
    }
    u32 lvt = l->lvt[VLAPIC_LVT_TIMER];
    if (!(lvt & VLAPIC_LVT_MASKED))
        raise_local(l, lvt & VLAPIC_LVT_VECTOR);
}

void vlapic_advance(struct vlapic *l, u64 now)
{
    if (l->timer_deadline && now >= l->timer_deadline)
        timer_expire(l, now);
}

u64 vlapic_next_deadline(const struct vlapic *l)
{
    if (l->lvt[VLAPIC_LVT_TIMER] & VLAPIC_LVT_MASKED)
        return 0;
    return l->timer_deadline;
}

static void timer_disarm(struct vlapic *l)
{
    l->timer_icr = 0;
    l->timer_deadline = 0;
    l->timer_period = 0;
    l->tsc_deadline = 0;
}

/* A new mode or divider applies from now on to the counts still left. */
static void timer_retime(struct vlapic *l, u32 left, u64 now)
{
    timer_set_period(l);
    if (left)
        l->timer_deadline = now + counts_to_ns(l, left);
}

static void write_lvt_timer(struct vlapic *l, u32 value, u64 now)
{
    u32 old_mode = timer_mode(l), left = current_count(l, now);
    u32 mode_bits = l->cfg.tsc_deadline ? 3 : 1;
    u32 mode = (value >> LVT_TIMER_MODE_SHIFT) & mode_bits;
    if (mode == LVT_TIMER_RESERVED)
        mode = old_mode;

    l->lvt[VLAPIC_LVT_TIMER] = (value & lvt_mask[VLAPIC_LVT_TIMER]) |
                               mode << LVT_TIMER_MODE_SHIFT;
    if (mode == old_mode)
        return;
    if (mode == LVT_TIMER_TSC || old_mode == LVT_TIMER_TSC)
        timer_disarm(l);
    else
        timer_retime(l, left, now);   /* one-shot <-> periodic: keeps counting */
}

static void write_tmict(struct vlapic *l, u32 value, u64 now)
{
    if (timer_mode(l) == LVT_TIMER_TSC)
        return;
    l->timer_icr = value;
    timer_set_period(l);
    l->timer_deadline = value ? now + l->timer_period : 0;
}

static void write_tdcr(struct vlapic *l, u32 value, u64 now)
{
    u32 left = current_count(l, now);
    l->timer_dcr = value & TDCR_MASK;
    timer_retime(l, left, now);
}

static int tsc_deadline_write(struct vlapic *l, u64 value, u64 now)
{
    if (!l->cfg.tsc_deadline)
        return VLAPIC_GP;
    if (timer_mode(l) != LVT_TIMER_TSC)
        return 0;
    l->tsc_deadline = value;
    if (!value) {
        l->timer_deadline = 0;
        return 0;
    }
    u64 ns = l->hooks->tsc_to_ns(l->ctx, value);
    l->timer_deadline = ns ? ns : 1;
    vlapic_advance(l, now);
    return 0;
}

/* ---- reset -------------------------------------------------------------- */

static void reset_registers(struct vlapic *l, bool keep_id)
{
    if (!keep_id)
        l->xapic_id = (u8)l->cfg.apic_id;
    l->tpr = 0;
    l->ldr = 0;
    l->dfr = 0xffffffffu;
    l->svr = 0xff;
    l->esr = 0;
    l->esr_pending = 0;
    l->icr_lo = 0;
    l->icr_hi = 0;
    for (int i = 0; i < 8; i++) {
        l->irr[i] = 0;
        l->isr[i] = 0;
        l->tmr[i] = 0;
    }
    for (int i = 0; i < VLAPIC_NR_LVT; i++)
        l->lvt[i] = VLAPIC_LVT_MASKED;
    if (l->apic_base & VLAPIC_BASE_BSP)
        l->lvt[VLAPIC_LVT_LINT0] = LINT0_BSP_RESET;
    l->timer_dcr = 0;
    timer_disarm(l);
}

void vlapic_init(struct vlapic *l, const struct vlapic_config *cfg,
                 const struct vlapic_hooks *hooks, void *ctx)
{
    l->cfg = *cfg;
    if (l->cfg.maxphyaddr < 32)
        l->cfg.maxphyaddr = 32;
    if (l->cfg.maxphyaddr > 52)
        l->cfg.maxphyaddr = 52;
    l->hooks = hooks;
    l->ctx = ctx;
    l->apic_base = VLAPIC_DEFAULT_BASE | VLAPIC_BASE_EN |
                   (cfg->bsp ? VLAPIC_BASE_BSP : 0);
    reset_registers(l, false);
}

void vlapic_init_signal(struct vlapic *l)
{
    reset_registers(l, true);
}

static int set_apic_base(struct vlapic *l, u64 value)
{
    u64 reserved = 0xffull | (1ull << 9) | ~((1ull << l->cfg.maxphyaddr) - 1);
    bool en = value & VLAPIC_BASE_EN, extd = value & VLAPIC_BASE_EXTD;

    if ((value & reserved) || (extd && !l->cfg.x2apic) || (extd && !en))
        return VLAPIC_GP;
    if (vlapic_x2apic_mode(l) && en && !extd)
        return VLAPIC_GP;                   /* x2APIC -> xAPIC: via disabled */
    if (!vlapic_hw_enabled(l) && extd)
        return VLAPIC_GP;                   /* disabled -> x2APIC: via xAPIC */

    bool was_enabled = vlapic_hw_enabled(l);
    l->apic_base = (value & ~VLAPIC_BASE_BSP) | (l->apic_base & VLAPIC_BASE_BSP);
    if (was_enabled && !en)
        reset_registers(l, false);
    return 0;
}

/* ---- IPIs --------------------------------------------------------------- */

static void send_icr(struct vlapic *l, u32 lo, u32 dest, bool wide)
{
    struct vlapic_ipi ipi = {
        .dest = dest,
        .x2apic = wide,
        .logical = lo & ICR_DEST_LOGICAL,
        .shorthand = (lo >> 18) & 3,
        .mode = (lo >> 8) & 7,
        .vector = lo & 0xff,
        .level = lo & ICR_LEVEL_ASSERT,
        .trigger_level = lo & ICR_TRIGGER_LEVEL,
    };

    if (ipi.mode == 3 || ipi.mode == 7)
        return;
    if (ipi.mode == VLAPIC_DM_INIT && ipi.trigger_level && !ipi.level)
        ipi.mode = VLAPIC_DM_INIT_DEASSERT;
    if ((ipi.mode == VLAPIC_DM_FIXED || ipi.mode == VLAPIC_DM_LOWEST) && ipi.vector < 16)
        apic_error(l, VLAPIC_ESR_SEND_ILLEGAL);
    if (ipi.shorthand == VLAPIC_SH_SELF && ipi.mode == VLAPIC_DM_FIXED) {
        if (sw_enabled(l))
            raise_local(l, ipi.vector);
        return;
    }
    l->hooks->send_ipi(l->ctx, &ipi);
}

/* ---- registers ---------------------------------------------------------- */

static bool in_bank(u32 reg, u32 base, u32 count)
{
    return reg >= base && reg < base + count * 0x10;
}

/* Registers that read the same in both modes. */
static bool read_common(struct vlapic *l, u32 reg, u32 *val, u64 now)
{
    if (in_bank(reg, REG_ISR, 8))
        *val = l->isr[(reg - REG_ISR) >> 4];
    else if (in_bank(reg, REG_TMR, 8))
        *val = l->tmr[(reg - REG_TMR) >> 4];
    else if (in_bank(reg, REG_IRR, 8))
        *val = l->irr[(reg - REG_IRR) >> 4];
    else if (in_bank(reg, REG_LVT, VLAPIC_NR_LVT))
        *val = l->lvt[(reg - REG_LVT) >> 4];
    else {
        switch (reg) {
        case REG_VERSION: *val = VLAPIC_VERSION; break;
        case REG_TPR:     *val = l->tpr; break;
        case REG_PPR:     *val = ppr(l); break;
        case REG_SVR:     *val = l->svr; break;
        case REG_ESR:     *val = l->esr; break;
        case REG_TMICT:   *val = l->timer_icr; break;
        case REG_TMCCT:   *val = current_count(l, now); break;
        case REG_TDCR:    *val = l->timer_dcr; break;
        default:          return false;
        }
    }
    return true;
}

/* Registers that write the same in both modes. */
static bool write_common(struct vlapic *l, u32 reg, u32 val, u64 now)
{
    if (in_bank(reg, REG_LVT, VLAPIC_NR_LVT)) {
        u32 i = (reg - REG_LVT) >> 4;
        if (!sw_enabled(l))
            val |= VLAPIC_LVT_MASKED;
        if (i == VLAPIC_LVT_TIMER)
            write_lvt_timer(l, val, now);
        else
            l->lvt[i] = val & lvt_mask[i];
        return true;
    }
    switch (reg) {
    case REG_TPR:
        set_tpr(l, val);
        break;
    case REG_EOI:
        eoi(l);
        break;
    case REG_SVR:
        l->svr = val & SVR_MASK;
        if (!sw_enabled(l))
            for (int i = 0; i < VLAPIC_NR_LVT; i++)
                l->lvt[i] |= VLAPIC_LVT_MASKED;
        break;
    case REG_ESR:
        l->esr = l->esr_pending;
        l->esr_pending = 0;
        break;
    case REG_TMICT:
        write_tmict(l, val, now);
        break;
    case REG_TDCR:
        write_tdcr(l, val, now);
        break;
    default:
        return false;
    }
    return true;
}

static bool xapic_read(struct vlapic *l, u32 reg, u32 *val, u64 now)
{
    if (read_common(l, reg, val, now))
        return true;
    switch (reg) {
    case REG_ID:     *val = (u32)l->xapic_id << 24; break;
    case REG_APR:    *val = 0; break;
    case REG_EOI:    *val = 0; break;
    case REG_RRD:    *val = 0; break;
    case REG_LDR:    *val = l->ldr; break;
    case REG_DFR:    *val = l->dfr; break;
    case REG_ICR_LO: *val = l->icr_lo; break;
    case REG_ICR_HI: *val = l->icr_hi; break;
    default:         return false;
    }
    return true;
}

static void xapic_write(struct vlapic *l, u32 reg, u32 val, u64 now)
{
    u32 ignored;

    if (write_common(l, reg, val, now))
        return;
    switch (reg) {
    case REG_ID:
        l->xapic_id = val >> 24;
        break;
    case REG_LDR:
        l->ldr = val & 0xff000000u;
        break;
    case REG_DFR:
        l->dfr = (val & DFR_MODEL_MASK) | ~DFR_MODEL_MASK;
        break;
    case REG_ICR_HI:
        l->icr_hi = val & ICR_HI_XAPIC_MASK;
        break;
    case REG_ICR_LO:
        l->icr_lo = val & ICR_LO_MASK;
        send_icr(l, l->icr_lo, l->icr_hi >> 24, false);
        break;
    default:
        /* Read-only registers ignore writes; anything else is reserved. */
        if (!xapic_read(l, reg, &ignored, now))
            apic_error(l, VLAPIC_ESR_ILLEGAL_REG);
        break;
    }
}

u64 vlapic_mmio_read(struct vlapic *l, u32 offset, unsigned int size, u64 now)
{
    u64 base;
    u32 val;

    if (size == 0 || size > 8)
        return 0;
    u64 ones = size == 8 ? ~0ull : (1ull << (size * 8)) - 1;
    if (!vlapic_mmio_active(l, &base) || offset > 0xfff)
        return ones;
    vlapic_advance(l, now);
    if (!xapic_read(l, offset & 0xff0, &val, now)) {
        apic_error(l, VLAPIC_ESR_ILLEGAL_REG);
        return 0;
    }
    u32 byte = offset & 0xf;
    if (byte >= 4)
        return 0;
    return ((u64)val >> (byte * 8)) & ones;
}

void vlapic_mmio_write(struct vlapic *l, u32 offset, unsigned int size,
                       u64 value, u64 now)
{
    u64 base;

    if (!vlapic_mmio_active(l, &base) || offset > 0xfff)
        return;
    vlapic_advance(l, now);
    if (size != 4 || (offset & 0xf))
        return;
    xapic_write(l, offset, (u32)value, now);
}

bool vlapic_msr_is_ours(u32 msr)
{
    return msr == VLAPIC_MSR_APIC_BASE || msr == VLAPIC_MSR_TSC_DEADLINE ||
           (msr >= VLAPIC_MSR_X2APIC_FIRST && msr <= VLAPIC_MSR_X2APIC_LAST);
}

int vlapic_msr_read(struct vlapic *l, u32 msr, u64 *value, u64 now)
{
    u32 reg = (msr - VLAPIC_MSR_X2APIC_FIRST) << 4, val;

    *value = 0;
    if (msr == VLAPIC_MSR_APIC_BASE) {
        *value = l->apic_base;
        return 0;
    }
    vlapic_advance(l, now);
    if (msr == VLAPIC_MSR_TSC_DEADLINE) {
        if (!l->cfg.tsc_deadline)
            return VLAPIC_GP;
        if (timer_mode(l) == LVT_TIMER_TSC)
            *value = l->tsc_deadline;
        return 0;
    }
    if (msr < VLAPIC_MSR_X2APIC_FIRST || msr > VLAPIC_MSR_X2APIC_LAST ||
        !vlapic_x2apic_mode(l))
        return VLAPIC_GP;

    if (read_common(l, reg, &val, now)) {
        *value = val;
        return 0;
    }
    switch (reg) {
    case REG_ID:
        *value = l->cfg.apic_id;
        return 0;
    case REG_LDR:
        *value = x2apic_ldr(l);
        return 0;
    case REG_ICR_LO:
        *value = (u64)l->icr_hi << 32 | l->icr_lo;
        return 0;
    default:
        return VLAPIC_GP;   /* reserved, or write-only (EOI, SELF IPI) */
    }
}

int vlapic_msr_write(struct vlapic *l, u32 msr, u64 value, u64 now)
{
    u32 reg = (msr - VLAPIC_MSR_X2APIC_FIRST) << 4;

    if (msr == VLAPIC_MSR_APIC_BASE)
        return set_apic_base(l, value);
    vlapic_advance(l, now);
    if (msr == VLAPIC_MSR_TSC_DEADLINE)
        return tsc_deadline_write(l, value, now);
    if (msr < VLAPIC_MSR_X2APIC_FIRST || msr > VLAPIC_MSR_X2APIC_LAST ||
        !vlapic_x2apic_mode(l))
        return VLAPIC_GP;

    if (reg == REG_ICR_LO) {
        l->icr_lo = (u32)value & ICR_LO_MASK;
        l->icr_hi = value >> 32;
        send_icr(l, l->icr_lo, l->icr_hi, true);
        return 0;
    }
    if (value >> 32)
        return VLAPIC_GP;
    if ((reg == REG_EOI || reg == REG_ESR) && value)
        return VLAPIC_GP;
    if (reg == REG_SELF_IPI) {
        if (value > 0xff)
            return VLAPIC_GP;
        send_icr(l, (u32)value | VLAPIC_SH_SELF << 18, 0, true);
        return 0;
    }
    /* Read-only (ID, version, PPR, LDR, ISR/TMR/IRR, current count) and
     * reserved registers are not in write_common: #GP. */
    return write_common(l, reg, (u32)value, now) ? 0 : VLAPIC_GP;
}
