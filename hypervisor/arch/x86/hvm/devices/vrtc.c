/*
 * vrtc.c - the MC146818 real-time clock and its CMOS memory, as a PC domU
 * sees them at ports 0x70 (index; bit 7 masks NMIs) and 0x71 (data).
 *
 * Facts from the MC146818A data sheet: seconds to year, alarm registers
 * with "don't care" values 0xc0-0xff, register A (UIP, divider, rate
 * select), B (SET, PIE, AIE, UIE, binary/BCD, 24/12 hours with bit 7 of
 * the hour as PM), C (IRQF, PF, AF, UF; read-only, cleared by reading) and
 * D (VRT always 1); the 114 bytes after register D are memory, except the
 * century byte at 0x32, which the PC uses and which this clock keeps with
 * the time, in the same format.
 *
 * The time is computed from a base (Unix seconds at some now_ns()) rather
 * than ticked: the registers shown at time now are those of base +
 * (now - base_ns) whole seconds, in the format register B asks for when
 * read.  Updates happen on the whole seconds after base_ns; UIP reads 1
 * during the VRTC_UIP_NS before each.  SET (or the divider held in reset,
 * DV = 11x) freezes the registers: they read back as written, and clearing
 * SET restarts the clock from them, the first update a second later.  A
 * time register written while the clock runs changes the time at once.
 * The day of week is computed from the date while the clock runs.
 * Changing the data format converts nothing (as on the chip): registers
 * written in one format and read back in another mean something else.
 *
 * Flags are updated whenever the guest touches the clock and when
 * vrtc_advance() runs: UF once per update, AF when the time after the most
 * recent update matches the alarm (an alarm second the clock passed while
 * nothing looked at it for more than a second is missed), PF once per
 * period of the rate in register A.  IRQF is those flags ANDed with
 * their enables in register B, and IRQ8 follows it: raised while it is
 * set, lowered by reading register C (or clearing the enable).  It rises
 * at most once per DEV_MIN_TIMER_PERIOD_NS (rate 3, 8192 Hz, is slowed to
 * 5000 Hz).
 * Not done: daylight saving (DSE), the square-wave output, divider
 * settings other than 32.768 kHz and reset (they run at 32.768 kHz), and
 * the half second before the first update after the divider leaves reset.
 */
#include <kiln/devices/dev_util.h>
#include <kiln/devices/vrtc.h>

#define DV_MASK         0x70
#define A_DEFAULT       0x26        /* 32.768 kHz time base, 1024 Hz */
#define RTC_HZ          32768ull
#define SECS_PER_DAY    86400
#define DONT_CARE       0xc0

struct rtc_time {
    unsigned int sec, min, hour, wday, mday, month;
    s64 year;
};

/* Days since 1970-01-01 of the first of month (1-12) of year. */
static s64 days_from_civil(s64 year, unsigned int month)
{
    year -= month <= 2;
    s64 era = (year >= 0 ? year : year - 399) / 400;
    s64 yoe = year - era * 400;                             /* 0..399 */
    s64 doy = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5;
    s64 doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static struct rtc_time time_from_secs(s64 secs)
{
    struct rtc_time t;
    s64 days = secs / SECS_PER_DAY, rem = secs % SECS_PER_DAY;
    if (rem < 0) {
        rem += SECS_PER_DAY;
        days--;
    }
    t.sec = (unsigned int)(rem % 60);
    t.min = (unsigned int)(rem / 60 % 60);
    t.hour = (unsigned int)(rem / 3600);
    t.wday = (unsigned int)(((days % 7) + 7 + 4) % 7) + 1;  /* 1970-01-01: Thursday; Sunday is 1 */

    s64 z = days + 719468;
    s64 era = (z >= 0 ? z : z - 146096) / 146097;
    s64 doe = z - era * 146097;
    s64 yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    s64 doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    s64 mp = (5 * doy + 2) / 153;
    t.mday = (unsigned int)(doy - (153 * mp + 2) / 5 + 1);
    t.month = (unsigned int)(mp < 10 ? mp + 3 : mp - 9);
    t.year = yoe + era * 400 + (t.month <= 2);
    return t;
}

static bool binary(const struct vrtc *rtc)
{
    return rtc->cmos[VRTC_REG_B] & VRTC_B_BINARY;
}

static u8 encode(const struct vrtc *rtc, unsigned int v)
{
    return binary(rtc) ? (u8)v : (u8)((v / 10 % 10) << 4 | v % 10);
}

/* Invalid BCD digits count at face value. */
static unsigned int decode(const struct vrtc *rtc, u8 v)
{
    return binary(rtc) ? v : (v >> 4) * 10u + (v & 0xf);
}

static u8 encode_hour(const struct vrtc *rtc, unsigned int hour)
{
    if (rtc->cmos[VRTC_REG_B] & VRTC_B_24H)
        return encode(rtc, hour);
    unsigned int h12 = hour % 12 ? hour % 12 : 12;
    return (u8)(encode(rtc, h12) | (hour >= 12 ? 0x80 : 0));
}

static unsigned int decode_hour(const struct vrtc *rtc, u8 v)
{
    if (rtc->cmos[VRTC_REG_B] & VRTC_B_24H)
        return decode(rtc, v);
    return decode(rtc, v & 0x7f) % 12 + (v & 0x80 ? 12 : 0);
}

/* Fills the time registers of regs (indexed like cmos) with secs. */
static void secs_to_regs(const struct vrtc *rtc, s64 secs, u8 *regs)
{
    struct rtc_time t = time_from_secs(secs);
    s64 year = t.year < 0 ? 0 : t.year % 10000;
    regs[VRTC_SECONDS] = encode(rtc, t.sec);
    regs[VRTC_MINUTES] = encode(rtc, t.min);
    regs[VRTC_HOURS] = encode_hour(rtc, t.hour);
    regs[VRTC_WEEKDAY] = encode(rtc, t.wday);
    regs[VRTC_DAY] = encode(rtc, t.mday);
    regs[VRTC_MONTH] = encode(rtc, t.month);
    regs[VRTC_YEAR] = encode(rtc, (unsigned int)(year % 100));
    regs[VRTC_CENTURY] = encode(rtc, (unsigned int)(year / 100));
}

/* The time the registers in regs say; out-of-range values are clamped or carried. */
static s64 regs_to_secs(const struct vrtc *rtc, const u8 *regs)
{
    unsigned int month = decode(rtc, regs[VRTC_MONTH]);
    month = month < 1 ? 1 : month > 12 ? 12 : month;
    s64 year = (s64)decode(rtc, regs[VRTC_CENTURY]) * 100 + decode(rtc, regs[VRTC_YEAR]);
    s64 days = days_from_civil(year, month) + (s64)decode(rtc, regs[VRTC_DAY]) - 1;
    return days * SECS_PER_DAY + (s64)decode_hour(rtc, regs[VRTC_HOURS]) * 3600 +
           (s64)decode(rtc, regs[VRTC_MINUTES]) * 60 + decode(rtc, regs[VRTC_SECONDS]);
}

static bool is_time_reg(u8 index)
{
    return index == VRTC_SECONDS || index == VRTC_MINUTES || index == VRTC_HOURS ||
           (index >= VRTC_WEEKDAY && index <= VRTC_YEAR) || index == VRTC_CENTURY;
}

static u64 since_base(const struct vrtc *rtc, u64 now)
{
    return now > rtc->base_ns ? now - rtc->base_ns : 0;
}

s64 vrtc_unix_time(const struct vrtc *rtc, u64 now)
{
    if (rtc->frozen)
        return regs_to_secs(rtc, rtc->cmos);
    return rtc->base_secs + (s64)(since_base(rtc, now) / NSEC_PER_SEC);
}

/* Restarts the clock at secs now, the next update a second later. */
static void rebase(struct vrtc *rtc, s64 secs, u64 now)
{
    rtc->base_secs = secs;
    rtc->base_ns = now;
    rtc->updates_seen = 0;
}

static bool divider_reset(const struct vrtc *rtc)
{
    return (rtc->cmos[VRTC_REG_A] & 0x60) == 0x60;
}

/* The periodic rate in 32.768 kHz cycles; 0 when off. */
static u64 period_cycles(const struct vrtc *rtc)
{
    unsigned int rs = rtc->cmos[VRTC_REG_A] & 0x0f;
    if (!rs || divider_reset(rtc))
        return 0;
    return rs <= 2 ? 1ull << (rs + 6) : 1ull << (rs - 1);
}

static u64 periods_at(const struct vrtc *rtc, u64 now)
{
    u64 since = now > rtc->div_ns ? now - rtc->div_ns : 0;
    return dev_ns_to_ticks(since, RTC_HZ) / period_cycles(rtc);
}

static bool alarm_matches(const struct vrtc *rtc, const u8 *regs)
{
    static const u8 pairs[3][2] = {
        { VRTC_SECONDS_ALARM, VRTC_SECONDS },
        { VRTC_MINUTES_ALARM, VRTC_MINUTES },
        { VRTC_HOURS_ALARM, VRTC_HOURS },
    };
    for (unsigned int i = 0; i < 3; i++) {
        u8 alarm = rtc->cmos[pairs[i][0]];
        if ((alarm & DONT_CARE) != DONT_CARE && alarm != regs[pairs[i][1]])
            return false;
    }
    return true;
}

static void set_irq(struct vrtc *rtc, bool level)
{
    if (rtc->irq_level == level)
        return;
    rtc->irq_level = level;
    if (rtc->hooks.irq8)
        rtc->hooks.irq8(rtc->hooks.ctx, level);
}

/* IRQF: a flag of register C whose interrupt register B enables. */
static bool irqf(const struct vrtc *rtc)
{
    return rtc->cmos[VRTC_REG_C] & rtc->cmos[VRTC_REG_B] & (VRTC_C_PF | VRTC_C_AF | VRTC_C_UF);
}

/* Brings the flags of register C and IRQ8 up to time now. */
static void sync(struct vrtc *rtc, u64 now)
{
    u8 *c = &rtc->cmos[VRTC_REG_C];
    if (!rtc->frozen) {
        u64 k = since_base(rtc, now) / NSEC_PER_SEC;
        if (k > rtc->updates_seen) {
            u8 regs[VRTC_CMOS_SIZE];
            rtc->updates_seen = k;
            *c |= VRTC_C_UF;
            secs_to_regs(rtc, rtc->base_secs + (s64)k, regs);
            if (alarm_matches(rtc, regs))
                *c |= VRTC_C_AF;
        }
    }
    if (period_cycles(rtc)) {
        u64 n = periods_at(rtc, now);
        if (n > rtc->periods_seen) {
            rtc->periods_seen = n;
            *c |= VRTC_C_PF;
        }
    }
    if (!irqf(rtc))
        set_irq(rtc, false);            /* the guest disabled the interrupt */
    else if (!rtc->irq_level && now >= rtc->irq_next_ok) {
        rtc->irq_next_ok = now + DEV_MIN_TIMER_PERIOD_NS;
        set_irq(rtc, true);
    }
}

void vrtc_init(struct vrtc *rtc, const struct vrtc_hooks *hooks, s64 unix_secs,
               u64 base_ns, u64 ram_below_4g, u64 ram_above_4g)
{
    *rtc = (struct vrtc){ .hooks = *hooks, .div_ns = base_ns };
    rtc->cmos[VRTC_REG_A] = A_DEFAULT;
    rtc->cmos[VRTC_REG_B] = VRTC_B_24H;
    rtc->cmos[VRTC_REG_D] = 0x80;
    rebase(rtc, unix_secs, base_ns);

    u64 base_kib = 640, ext_kib = ram_below_4g / 1024 > 1024 ? ram_below_4g / 1024 - 1024 : 0;
    u64 above_16m = ram_below_4g > (16ull << 20) ? (ram_below_4g - (16ull << 20)) >> 16 : 0;
    u64 above_4g = ram_above_4g >> 16;
    ext_kib = ext_kib > 0xffff ? 0xffff : ext_kib;
    above_16m = above_16m > 0xffff ? 0xffff : above_16m;
    above_4g = above_4g > 0xffffff ? 0xffffff : above_4g;
    rtc->cmos[0x15] = (u8)base_kib;
    rtc->cmos[0x16] = (u8)(base_kib >> 8);
    rtc->cmos[0x17] = rtc->cmos[0x30] = (u8)ext_kib;
    rtc->cmos[0x18] = rtc->cmos[0x31] = (u8)(ext_kib >> 8);
    rtc->cmos[0x34] = (u8)above_16m;
    rtc->cmos[0x35] = (u8)(above_16m >> 8);
    rtc->cmos[0x5b] = (u8)above_4g;
    rtc->cmos[0x5c] = (u8)(above_4g >> 8);
    rtc->cmos[0x5d] = (u8)(above_4g >> 16);
}

/* SET or the divider reset started or ended: freeze or restart the clock. */
static void update_frozen(struct vrtc *rtc, u64 now)
{
    bool frozen = (rtc->cmos[VRTC_REG_B] & VRTC_B_SET) || divider_reset(rtc);
    if (frozen == rtc->frozen)
        return;
    if (frozen) {
        secs_to_regs(rtc, vrtc_unix_time(rtc, now), rtc->cmos);
        rtc->frozen = true;
    } else {
        rtc->frozen = false;
        rebase(rtc, regs_to_secs(rtc, rtc->cmos), now);
    }
}

static u8 read_data(struct vrtc *rtc, u64 now)
{
    u8 i = rtc->index, v;
    sync(rtc, now);
    if (is_time_reg(i) && !rtc->frozen) {
        u8 regs[VRTC_CMOS_SIZE];
        secs_to_regs(rtc, vrtc_unix_time(rtc, now), regs);
        return regs[i];
    }
    switch (i) {
    case VRTC_REG_A:
        v = rtc->cmos[i];
        if (!rtc->frozen && since_base(rtc, now) % NSEC_PER_SEC >= NSEC_PER_SEC - VRTC_UIP_NS)
            v |= VRTC_A_UIP;
        return v;
    case VRTC_REG_C:
        v = rtc->cmos[i] | (irqf(rtc) ? VRTC_C_IRQF : 0);
        rtc->cmos[i] = 0;
        set_irq(rtc, false);
        return v;
    default:
        return rtc->cmos[i];
    }
}

static void write_data(struct vrtc *rtc, u8 v, u64 now)
{
    u8 i = rtc->index;
    sync(rtc, now);
    if (is_time_reg(i) && !rtc->frozen) {
        u8 regs[VRTC_CMOS_SIZE];
        u64 whole = since_base(rtc, now) / NSEC_PER_SEC;
        secs_to_regs(rtc, vrtc_unix_time(rtc, now), regs);
        regs[i] = v;
        rtc->base_secs = regs_to_secs(rtc, regs) - (s64)whole;  /* same phase */
        return;
    }
    switch (i) {
    case VRTC_REG_A: {
        bool was_reset = divider_reset(rtc);
        rtc->cmos[i] = v & (u8)~VRTC_A_UIP;
        if (was_reset && !divider_reset(rtc))
            rtc->div_ns = now;
        if (period_cycles(rtc))
            rtc->periods_seen = periods_at(rtc, now);
        update_frozen(rtc, now);
        break;
    }
    case VRTC_REG_B:
        if (v & VRTC_B_SET)
            v &= (u8)~VRTC_B_UIE;
        rtc->cmos[i] = v;
        update_frozen(rtc, now);
        break;
    case VRTC_REG_C:
    case VRTC_REG_D:
        return;                         /* read-only */
    default:
        rtc->cmos[i] = v;
        break;
    }
    sync(rtc, now);                     /* e.g. PIE set while PF is pending */
}

static u8 read_byte(struct vrtc *rtc, u16 port, u64 now)
{
    return port == VRTC_PORT_DATA ? read_data(rtc, now) : 0xff;
}

static void write_byte(struct vrtc *rtc, u16 port, u8 v, u64 now)
{
    if (port == VRTC_PORT_INDEX) {
        rtc->index = v & 0x7f;
        rtc->nmi_masked = v & 0x80;
    } else if (port == VRTC_PORT_DATA) {
        write_data(rtc, v, now);
    }
}

u32 vrtc_io_read(struct vrtc *rtc, u16 port, unsigned int size, u64 now)
{
    if (!dev_port_size_ok(size))
        return ~0u;
    u32 val = 0;
    for (unsigned int i = 0; i < size; i++)
        val |= (u32)read_byte(rtc, (u16)(port + i), now) << (8 * i);
    return val;
}

void vrtc_io_write(struct vrtc *rtc, u16 port, unsigned int size, u32 val, u64 now)
{
    if (!dev_port_size_ok(size))
        return;
    for (unsigned int i = 0; i < size; i++)
        write_byte(rtc, (u16)(port + i), (u8)(val >> (8 * i)), now);
}

bool vrtc_nmi_masked(const struct vrtc *rtc)
{
    return rtc->nmi_masked;
}

static u64 earliest(u64 a, u64 b)
{
    return !a ? b : !b ? a : a < b ? a : b;
}

u64 vrtc_next_deadline(const struct vrtc *rtc)
{
    if (rtc->irq_level)
        return 0;                       /* nothing more until register C is read */
    u8 enabled = rtc->cmos[VRTC_REG_B];
    u64 due = 0;
    if (irqf(rtc))
        due = rtc->irq_next_ok;         /* due, but held back by the rate limit */
    if (!rtc->frozen && (enabled & (VRTC_B_UIE | VRTC_B_AIE)))
        due = earliest(due, rtc->base_ns + (rtc->updates_seen + 1) * NSEC_PER_SEC);
    if ((enabled & VRTC_B_PIE) && period_cycles(rtc))
        due = earliest(due, rtc->div_ns +
                       dev_ticks_to_ns((rtc->periods_seen + 1) * period_cycles(rtc), RTC_HZ));
    if (due && due < rtc->irq_next_ok)
        due = rtc->irq_next_ok;
    return due;
}

void vrtc_advance(struct vrtc *rtc, u64 now)
{
    sync(rtc, now);
}
