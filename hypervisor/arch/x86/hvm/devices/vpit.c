/*
 * vpit.c - the 8254 interval timer of a PC domU (channels 0-2 at ports
 * 0x40-0x42, control word at 0x43) and system control port B (0x61),
 * whose bits 0 and 5 are channel 2's gate and output.
 *
 * Facts from the 8254 data sheet: modes 0-5, binary or BCD counting,
 * LSB/MSB/LSB-then-MSB access, the counter latch and read-back commands,
 * the status byte, a count of 0 meaning 65536 (10000 in BCD), 1.193182 MHz.
 * Counters are computed from time, never stepped: a read at time now gives
 * what the chip would show then.  Modes 2 and 3 reload N; modes 0 and 4
 * (and 1 and 5 once triggered by a rising gate) count down once and wrap.
 * A gate low stops modes 0, 2, 3 and 4 (2 and 3 with OUT high, restarting
 * from N on the rising edge).  Simplifications: a count takes effect when
 * it is written (not at the next clock, nor at the end of the current
 * period in modes 2 and 3), and writing the first byte of an LSB-then-MSB
 * count does not stop the counter.  With an odd N, mode 3 reads the
 * values of the even-N sequence (N - 2d mod N), not the chip's exact ones.
 *
 * IRQ0: channel 0 raises the line at its terminal count in modes 0 and 1
 * (and holds it until reprogrammed, like OUT), and pulses it (high, then
 * low) at the end of each period in modes 2 and 3 and at the terminal
 * count of modes 4 and 5.  At most one edge per DEV_MIN_TIMER_PERIOD_NS:
 * periods that end in between are merged into the next edge.
 *
 * Port 0x61: bits 0-3 read back, bit 4 toggles every 15.085 us (the DRAM
 * refresh request), bit 5 is OUT of channel 2, bits 6-7 read 0.
 */
#include <kiln/devices/dev_util.h>
#include <kiln/devices/vpit.h>

#define CTRL_BCD         0x01
#define CTRL_ACCESS(c)   (((c) >> 4) & 3)
#define ACCESS_LSB       1
#define ACCESS_MSB       2
#define ACCESS_WORD      3
#define REFRESH_NS       15085

static unsigned int mode(const struct vpit_channel *c)
{
    unsigned int m = (c->ctrl >> 1) & 7;
    return m > 5 ? m & 3 : m;           /* 6 and 7 are 2 and 3 */
}

static bool periodic(const struct vpit_channel *c)
{
    return mode(c) == 2 || mode(c) == 3;
}

static u32 modulus(const struct vpit_channel *c)
{
    return (c->ctrl & CTRL_BCD) ? 10000 : 65536;
}

/* The chip's clock runs from time 0, so counts change on the same ticks. */
static u64 ticks(u64 now)
{
    return dev_ns_to_ticks(now, VPIT_HZ);
}

static u64 elapsed(const struct vpit_channel *c, u64 now)
{
    return ticks(now) > c->start_tick ? ticks(now) - c->start_tick : 0;
}

/* The counting element at now, 0..modulus (modulus: just reloaded with 0). */
static u32 counter(const struct vpit_channel *c, u64 now)
{
    if (!c->running)
        return c->held;
    u64 d = elapsed(c, now);
    u32 n = c->reload, m = modulus(c);
    switch (mode(c)) {
    case 2:
        return n - (u32)(d % n);
    case 3:
        return n - (u32)((2 * (d % n)) % n);
    default:
        return (c->start_count + m - (u32)(d % m)) % m;
    }
}

/* Whether a one-shot mode's terminal count has passed by now. */
static bool tc_passed(const struct vpit_channel *c, u64 now)
{
    return c->tc_done || (c->running && elapsed(c, now) >= c->start_count);
}

static bool out(const struct vpit_channel *c, u64 now)
{
    if (!c->running)
        return c->out_held;
    u64 d = elapsed(c, now);
    u32 n = c->reload;
    switch (mode(c)) {
    case 0:
    case 1:
        return tc_passed(c, now);
    case 2:
        return d % n != n - 1;
    case 3:
        return d % n < (n + 1) / 2;
    default:                            /* 4, 5: low for the one clock of TC */
        return c->tc_done || d != c->start_count;
    }
}

static u16 to_bcd(u32 v)
{
    return (u16)((v % 10) | (v / 10 % 10) << 4 | (v / 100 % 10) << 8 | (v / 1000 % 10) << 12);
}

/* Invalid BCD digits count at face value; the result is taken modulo 10000. */
static u32 from_bcd(u16 v)
{
    return ((v & 0xf) + ((v >> 4) & 0xf) * 10 + ((v >> 8) & 0xf) * 100 + (v >> 12) * 1000) % 10000;
}

/* What a read of the counter returns: 16 bits, BCD-coded in BCD mode. */
static u16 read_value(const struct vpit_channel *c, u64 now)
{
    u32 v = counter(c, now) % modulus(c);
    return (c->ctrl & CTRL_BCD) ? to_bcd(v) : (u16)v;
}

static void set_irq(struct vpit *pit, bool level)
{
    if (pit->irq_level == level)
        return;
    pit->irq_level = level;
    if (pit->hooks.irq0)
        pit->hooks.irq0(pit->hooks.ctx, level);
}

/* Channel 0 (re)started: its IRQ0 edges count from here. */
static void irq_restart(struct vpit *pit, struct vpit_channel *c)
{
    if (c != &pit->ch[0])
        return;
    pit->irq_done = 0;
    set_irq(pit, false);
}

static void start(struct vpit *pit, struct vpit_channel *c, u32 count, u64 now)
{
    c->running = true;
    c->start_tick = ticks(now);
    c->start_count = count;
    c->null_count = false;
    irq_restart(pit, c);
}

/* Stops a counting channel where it is. */
static void hold(struct vpit_channel *c, u64 now)
{
    c->held = counter(c, now);
    c->out_held = periodic(c) || out(c, now);
    c->tc_done = tc_passed(c, now);
    c->running = false;
}

static void load_count(struct vpit *pit, struct vpit_channel *c, u16 val, u64 now)
{
    u32 n = (c->ctrl & CTRL_BCD) ? from_bcd(val) : val;
    c->reload = n ? n : modulus(c);
    c->null_count = true;
    c->tc_done = false;
    switch (mode(c)) {
    case 1:
    case 5:                             /* waits for a rising gate */
        break;
    default:
        if (c->gate) {
            start(pit, c, c->reload, now);
        } else {                        /* loaded, but held by the gate */
            c->held = c->reload;
            c->out_held = mode(c) != 0;
            c->null_count = false;
            irq_restart(pit, c);
        }
        break;
    }
}

static void set_gate(struct vpit *pit, struct vpit_channel *c, bool gate, u64 now)
{
    if (gate == c->gate)
        return;
    c->gate = gate;
    if (!c->reload)
        return;                         /* no count written yet */
    switch (mode(c)) {
    case 1:
    case 5:
        if (gate) {
            c->tc_done = false;
            start(pit, c, c->reload, now);
        }
        break;
    case 0:
    case 4:
        if (!gate && c->running)
            hold(c, now);
        else if (gate && !c->running)
            start(pit, c, c->held ? c->held : modulus(c), now);
        break;
    default:                            /* 2, 3 */
        if (!gate && c->running)
            hold(c, now);
        else if (gate)
            start(pit, c, c->reload, now);
        break;
    }
}

static void control_word(struct vpit *pit, u8 val, u64 now)
{
    unsigned int sc = val >> 6;
    if (sc == 3) {                      /* read-back */
        for (unsigned int i = 0; i < 3; i++) {
            struct vpit_channel *c = &pit->ch[i];
            if (!(val & (2u << i)))
                continue;
            if (!(val & 0x10) && !c->status_latched) {
                c->latched_status = (u8)(out(c, now) << 7 | c->null_count << 6 | c->ctrl);
                c->status_latched = true;
            }
            if (!(val & 0x20) && !c->count_latched) {
                c->latched_count = read_value(c, now);
                c->count_latched = true;
                c->latch_msb_next = false;
            }
        }
        return;
    }
    struct vpit_channel *c = &pit->ch[sc];
    if (CTRL_ACCESS(val) == 0) {        /* counter latch */
        if (!c->count_latched) {
            c->latched_count = read_value(c, now);
            c->count_latched = true;
            c->latch_msb_next = false;
        }
        return;
    }
    *c = (struct vpit_channel){
        .ctrl = val & 0x3f, .gate = c->gate, .null_count = true,
        .out_held = ((val >> 1) & 7) != 0,
    };
    irq_restart(pit, c);
}

static u8 read_counter(struct vpit_channel *c, u64 now)
{
    if (c->status_latched) {
        c->status_latched = false;
        return c->latched_status;
    }
    u16 v;
    bool msb;
    if (c->count_latched) {
        v = c->latched_count;
        msb = CTRL_ACCESS(c->ctrl) == ACCESS_MSB ||
              (CTRL_ACCESS(c->ctrl) == ACCESS_WORD && c->latch_msb_next);
        if (CTRL_ACCESS(c->ctrl) == ACCESS_WORD && !c->latch_msb_next)
            c->latch_msb_next = true;
        else
            c->count_latched = false;
    } else {
        v = read_value(c, now);
        msb = CTRL_ACCESS(c->ctrl) == ACCESS_MSB ||
              (CTRL_ACCESS(c->ctrl) == ACCESS_WORD && c->read_msb_next);
        if (CTRL_ACCESS(c->ctrl) == ACCESS_WORD)
            c->read_msb_next = !c->read_msb_next;
    }
    return msb ? (u8)(v >> 8) : (u8)v;
}

static void write_counter(struct vpit *pit, struct vpit_channel *c, u8 val, u64 now)
{
    switch (CTRL_ACCESS(c->ctrl)) {
    case ACCESS_LSB:
        load_count(pit, c, val, now);
        break;
    case ACCESS_MSB:
        load_count(pit, c, (u16)(val << 8), now);
        break;
    default:
        if (!c->write_msb_next) {
            c->write_lsb = val;
            c->write_msb_next = true;
        } else {
            c->write_msb_next = false;
            load_count(pit, c, (u16)(c->write_lsb | val << 8), now);
        }
        break;
    }
}

void vpit_init(struct vpit *pit, const struct vpit_hooks *hooks, u64 now)
{
    *pit = (struct vpit){ .hooks = *hooks };
    for (unsigned int i = 0; i < 3; i++) {
        struct vpit_channel *c = &pit->ch[i];
        c->gate = i != 2;
        control_word(pit, (u8)(i << 6 | ACCESS_WORD << 4 | 3 << 1), now);
        load_count(pit, c, 0, now);
    }
}

static u8 read_byte(struct vpit *pit, u16 port, u64 now)
{
    switch (port) {
    case VPIT_PORT:
    case VPIT_PORT + 1:
    case VPIT_PORT + 2:
        return read_counter(&pit->ch[port - VPIT_PORT], now);
    case VPIT_PORT_61:
        return (u8)((pit->port61 & 0x0f) | ((now / REFRESH_NS) & 1) << 4 |
                    out(&pit->ch[2], now) << 5);
    default:                            /* the control word is write-only */
        return 0xff;
    }
}

static void write_byte(struct vpit *pit, u16 port, u8 val, u64 now)
{
    switch (port) {
    case VPIT_PORT:
    case VPIT_PORT + 1:
    case VPIT_PORT + 2:
        write_counter(pit, &pit->ch[port - VPIT_PORT], val, now);
        break;
    case VPIT_PORT_CONTROL:
        control_word(pit, val, now);
        break;
    case VPIT_PORT_61:
        pit->port61 = val & 0x0f;
        set_gate(pit, &pit->ch[2], val & 1, now);
        break;
    default:
        break;
    }
}

u32 vpit_io_read(struct vpit *pit, u16 port, unsigned int size, u64 now)
{
    if (!dev_port_size_ok(size))
        return ~0u;
    u32 val = 0;
    for (unsigned int i = 0; i < size; i++)
        val |= (u32)read_byte(pit, (u16)(port + i), now) << (8 * i);
    return val;
}

void vpit_io_write(struct vpit *pit, u16 port, unsigned int size, u32 val, u64 now)
{
    if (!dev_port_size_ok(size))
        return;
    for (unsigned int i = 0; i < size; i++)
        write_byte(pit, (u16)(port + i), (u8)(val >> (8 * i)), now);
}

/* When channel 0's next IRQ0 edge falls due (ignoring the rate limit), or 0. */
static u64 irq_due(const struct vpit *pit)
{
    const struct vpit_channel *c = &pit->ch[0];
    if (!c->running)
        return 0;
    u64 tick;
    if (periodic(c)) {
        tick = (pit->irq_done + 1) * c->reload;
    } else {
        if (pit->irq_done || c->tc_done)
            return 0;
        tick = c->start_count;
    }
    return dev_ticks_to_ns(c->start_tick + tick, VPIT_HZ);
}

u64 vpit_next_deadline(const struct vpit *pit)
{
    u64 due = irq_due(pit);
    if (!due)
        return 0;
    return due > pit->irq_next_ok ? due : pit->irq_next_ok;
}

void vpit_advance(struct vpit *pit, u64 now)
{
    u64 due = irq_due(pit);
    if (!due || now < due || now < pit->irq_next_ok)
        return;
    struct vpit_channel *c = &pit->ch[0];
    pit->irq_next_ok = now + DEV_MIN_TIMER_PERIOD_NS;
    if (periodic(c)) {
        pit->irq_done = elapsed(c, now) / c->reload;    /* missed periods merge */
    } else {
        pit->irq_done = 1;
        if (mode(c) <= 1) {
            set_irq(pit, true);         /* OUT stays high */
            return;
        }
    }
    set_irq(pit, true);
    set_irq(pit, false);
}
