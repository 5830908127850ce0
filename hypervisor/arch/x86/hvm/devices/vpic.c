/*
 * vpic.c - the two cascaded 8259A interrupt controllers of a PC domU.
 *
 * Facts from the 8259A data sheet and the PIIX ELCR: ICW1-ICW4, OCW1 (IMR),
 * OCW2 (EOI, specific EOI, rotation, set priority), OCW3 (IRR/ISR read,
 * poll, special mask mode), auto-EOI with optional rotation, special fully
 * nested mode, per-IR edge or level triggering from the ELCR (IR0-2 of the
 * master and IR0 and IR5 of the slave are always edge, as on PIIX).
 *
 * Edge inputs latch a request in IRR on a rising edge (it stays latched
 * if the line falls before INTA, unlike a real 8259A, which would then
 * give IR7); level inputs request while high.  The master's IR2 follows
 * the slave's INT output as a level, so a request the slave withdraws
 * before INTA also disappears from the master and no spurious IR15 occurs.
 * The cascade is fixed on IR2 whatever ICW3 says, the chips always run in
 * 8086 mode, and ICW1's LTIM bit is ignored (the ELCR decides): that is
 * what a PC offers.  Wide port accesses act on consecutive ports, as the
 * ISA bus splits them; other ports read 0xff.
 */
#include <kiln/devices/dev_util.h>
#include <kiln/devices/vpic.h>

#define MASTER 0
#define SLAVE  1

static u8 level_mask(const struct vpic_chip *c, unsigned int which)
{
    return c->elcr | (which == MASTER ? 1u << VPIC_CASCADE_IRQ : 0);
}

/* The IRR as software reads it: latched edges plus asserted level lines. */
static u8 requests(const struct vpic_chip *c, unsigned int which)
{
    u8 level = level_mask(c, which);
    return (u8)((c->irr & ~level) | (c->lines & level));
}

/* Priority (0 highest) of the highest-priority IR set in mask; 8 if none. */
static unsigned int priority(const struct vpic_chip *c, u8 mask)
{
    for (unsigned int p = 0; p < 8; p++)
        if (mask & (1u << ((p + c->lowest + 1) & 7)))
            return p;
    return 8;
}

static unsigned int ir_at(const struct vpic_chip *c, unsigned int p)
{
    return (p + c->lowest + 1) & 7;
}

/* The IR this chip presents to its INT output now, or -1. */
static int pending(const struct vpic_chip *c, unsigned int which)
{
    unsigned int p = priority(c, requests(c, which) & ~c->imr);
    if (p == 8)
        return -1;
    u8 in_service = c->isr;
    if (c->special_mask)
        in_service &= ~c->imr;
    if (which == MASTER && c->fully_nested)
        in_service &= ~(1u << VPIC_CASCADE_IRQ);
    return p < priority(c, in_service) ? (int)ir_at(c, p) : -1;
}

static void set_input(struct vpic_chip *c, unsigned int which, unsigned int ir, bool level)
{
    u8 bit = 1u << ir;
    if (level && !(c->lines & bit) && !(level_mask(c, which) & bit))
        c->irr |= bit;
    if (level)
        c->lines |= bit;
    else
        c->lines &= ~bit;
}

static void update(struct vpic *pic)
{
    set_input(&pic->chip[MASTER], MASTER, VPIC_CASCADE_IRQ, pending(&pic->chip[SLAVE], SLAVE) >= 0);
    bool intr = pending(&pic->chip[MASTER], MASTER) >= 0;
    if (intr == pic->intr)
        return;
    pic->intr = intr;
    if (pic->hooks.intr)
        pic->hooks.intr(pic->hooks.ctx, intr);
}

/* ICW1: the chip's reset, keeping its ELCR and input lines. */
static void chip_reset(struct vpic_chip *c)
{
    *c = (struct vpic_chip){
        .lines = c->lines, .elcr = c->elcr, .elcr_mask = c->elcr_mask,
        .base = c->base, .lowest = 7,
    };
}

void vpic_init(struct vpic *pic, const struct vpic_hooks *hooks)
{
    *pic = (struct vpic){ .hooks = *hooks };
    struct vpic_chip *m = &pic->chip[MASTER], *s = &pic->chip[SLAVE];
    chip_reset(m);
    chip_reset(s);
    m->base = 0x08;
    s->base = 0x70;
    m->imr = (u8)~(1u << VPIC_CASCADE_IRQ);
    s->imr = 0xff;
    m->elcr_mask = 0xf8;
    s->elcr_mask = 0xde;
}

static void intack(struct vpic_chip *c, unsigned int which, unsigned int ir)
{
    u8 bit = 1u << ir;
    if (!c->auto_eoi)
        c->isr |= bit;
    else if (c->rotate_on_aeoi)
        c->lowest = (u8)ir;
    if (!(level_mask(c, which) & bit))
        c->irr &= ~bit;
}

u8 vpic_ack(struct vpic *pic)
{
    struct vpic_chip *m = &pic->chip[MASTER], *s = &pic->chip[SLAVE];
    int ir = pending(m, MASTER);
    u8 vector;
    if (ir < 0) {
        vector = m->base + 7;           /* spurious: no ISR bit */
    } else if (ir == VPIC_CASCADE_IRQ) {
        int sir = pending(s, SLAVE);    /* >= 0: IR2 follows the slave's INT */
        if (sir >= 0)
            intack(s, SLAVE, (unsigned int)sir);
        vector = s->base + (sir >= 0 ? (u8)sir : 7);
        intack(m, MASTER, (unsigned int)ir);
    } else {
        vector = m->base + (u8)ir;
        intack(m, MASTER, (unsigned int)ir);
    }
    update(pic);
    return vector;
}

bool vpic_intr(const struct vpic *pic)
{
    return pic->intr;
}

void vpic_set_line(struct vpic *pic, unsigned int irq, bool level)
{
    if (irq >= 16 || irq == VPIC_CASCADE_IRQ)
        return;
    unsigned int which = irq >> 3;
    set_input(&pic->chip[which], which, irq & 7, level);
    update(pic);
}

static void write_ocw2(struct vpic_chip *c, u8 val)
{
    unsigned int ir = val & 7;
    switch (val >> 5) {
    case 0:                             /* rotate in auto-EOI: clear */
    case 4:                             /* rotate in auto-EOI: set */
        c->rotate_on_aeoi = val >> 7;
        break;
    case 1:                             /* non-specific EOI */
    case 5: {                           /* rotate on non-specific EOI */
        unsigned int p = priority(c, c->isr);
        if (p == 8)
            break;
        ir = ir_at(c, p);
        c->isr &= ~(1u << ir);
        if (val >> 7)
            c->lowest = (u8)ir;
        break;
    }
    case 3:                             /* specific EOI */
        c->isr &= ~(1u << ir);
        break;
    case 7:                             /* rotate on specific EOI */
        c->isr &= ~(1u << ir);
        c->lowest = (u8)ir;
        break;
    case 6:                             /* set priority */
        c->lowest = (u8)ir;
        break;
    default:                            /* 2: no operation */
        break;
    }
}

static void write_cmd(struct vpic_chip *c, u8 val)
{
    if (val & 0x10) {                   /* ICW1 */
        chip_reset(c);
        c->init_step = 1;
        c->icw4 = val & 1;
        c->single = val & 2;
    } else if (val & 0x08) {            /* OCW3 */
        if (val & 0x04)
            c->poll = true;
        if (val & 0x02)
            c->read_isr = val & 1;
        if (val & 0x40)
            c->special_mask = val & 0x20;
    } else {
        write_ocw2(c, val);
    }
}

static void write_data(struct vpic_chip *c, u8 val)
{
    switch (c->init_step) {
    case 1:                             /* ICW2 */
        c->base = val & 0xf8;
        c->init_step = c->single ? (c->icw4 ? 3 : 0) : 2;
        break;
    case 2:                             /* ICW3: the cascade is fixed */
        c->init_step = c->icw4 ? 3 : 0;
        break;
    case 3:                             /* ICW4 */
        c->auto_eoi = val & 0x02;
        c->fully_nested = val & 0x10;
        c->init_step = 0;
        break;
    default:                            /* OCW1 */
        c->imr = val;
        break;
    }
}

/* The poll command's read: an INTA of this chip, as a status byte. */
static u8 poll_read(struct vpic_chip *c, unsigned int which)
{
    c->poll = false;
    int ir = pending(c, which);
    if (ir < 0)
        return 0;
    intack(c, which, (unsigned int)ir);
    return 0x80 | (u8)ir;
}

static u8 read_byte(struct vpic *pic, u16 port)
{
    unsigned int which;
    switch (port) {
    case VPIC_MASTER_PORT:
    case VPIC_SLAVE_PORT:
        which = port == VPIC_SLAVE_PORT;
        if (pic->chip[which].poll) {
            u8 v = poll_read(&pic->chip[which], which);
            update(pic);
            return v;
        }
        return pic->chip[which].read_isr ? pic->chip[which].isr
                                         : requests(&pic->chip[which], which);
    case VPIC_MASTER_PORT + 1:
    case VPIC_SLAVE_PORT + 1:
        return pic->chip[port == VPIC_SLAVE_PORT + 1].imr;
    case VPIC_ELCR_PORT:
    case VPIC_ELCR_PORT + 1:
        return pic->chip[port - VPIC_ELCR_PORT].elcr;
    default:
        return 0xff;
    }
}

static void write_byte(struct vpic *pic, u16 port, u8 val)
{
    struct vpic_chip *c;
    switch (port) {
    case VPIC_MASTER_PORT:
    case VPIC_SLAVE_PORT:
        write_cmd(&pic->chip[port == VPIC_SLAVE_PORT], val);
        break;
    case VPIC_MASTER_PORT + 1:
    case VPIC_SLAVE_PORT + 1:
        write_data(&pic->chip[port == VPIC_SLAVE_PORT + 1], val);
        break;
    case VPIC_ELCR_PORT:
    case VPIC_ELCR_PORT + 1:
        c = &pic->chip[port - VPIC_ELCR_PORT];
        c->elcr = val & c->elcr_mask;
        c->irr &= ~c->elcr;             /* level inputs latch nothing */
        break;
    default:
        return;
    }
    update(pic);
}

u32 vpic_io_read(struct vpic *pic, u16 port, unsigned int size)
{
    if (!dev_port_size_ok(size))
        return ~0u;
    u32 val = 0;
    for (unsigned int i = 0; i < size; i++)
        val |= (u32)read_byte(pic, (u16)(port + i)) << (8 * i);
    return val;
}

void vpic_io_write(struct vpic *pic, u16 port, unsigned int size, u32 val)
{
    if (!dev_port_size_ok(size))
        return;
    for (unsigned int i = 0; i < size; i++)
        write_byte(pic, (u16)(port + i), (u8)(val >> (8 * i)));
}
