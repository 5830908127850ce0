/*
 * vuart.c - the 16550A UART a PC domU finds on COM1: its console.
 *
 * Facts from the 16550A data sheet and the PC's wiring: RBR/THR, IER,
 * IIR with its priorities (line status > received data / character
 * timeout > THR empty > modem status), FCR (FIFO enable and reset,
 * receive trigger at 1, 4, 8 or 14 bytes), LCR with DLAB over DLL/DLM,
 * MCR (OUT2 gates the interrupt onto the ISA line, as every PC does;
 * loopback feeds THR into RBR and MCR into MSR), LSR, MSR, SCR.
 *
 * Transmission takes no time: a THR write hands the byte to the tx hook
 * and THR is empty again at once, so THRE and TEMT always read 1 and a
 * THRE interrupt is pending after each write (and when IER.THRE is
 * enabled) until IIR reports it or the next write.  Not done: the
 * four-character timeout of the FIFO (data below the trigger level is
 * reported as a timeout at once), parity, framing and break (PE, FE, BI,
 * LSR bit 7 never set), DMA mode and baud rates (DLL/DLM only read back).
 * Outside loopback the modem inputs read as a connected terminal: DCD,
 * DSR and CTS set, RI clear.  In loopback OUT2 is held inactive on the
 * pin, so on a PC the interrupt line stays low.
 */
#include <kiln/devices/dev_util.h>
#include <kiln/devices/vuart.h>

#define MSR_IDLE_LINES  0xb0        /* DCD, DSR, CTS */

static unsigned int rx_capacity(const struct vuart *u)
{
    return u->fifo ? VUART_FIFO_SIZE : 1;
}

/* The highest-priority interrupt source (IIR bits 3:0). */
static u8 source(const struct vuart *u)
{
    if ((u->ier & VUART_IER_RLS) && u->lsr_errors)
        return VUART_IIR_RLS;
    if ((u->ier & VUART_IER_RDA) && u->rx_count)
        return !u->fifo || u->rx_count >= u->rx_trigger ? VUART_IIR_RDA : VUART_IIR_TIMEOUT;
    if ((u->ier & VUART_IER_THRE) && u->thr_ipending)
        return VUART_IIR_THRE;
    if ((u->ier & VUART_IER_MSR) && u->msr_delta)
        return VUART_IIR_MSR;
    return VUART_IIR_NONE;
}

static void update_irq(struct vuart *u)
{
    bool level = (u->mcr & (VUART_MCR_OUT2 | VUART_MCR_LOOP)) == VUART_MCR_OUT2 &&
                 source(u) != VUART_IIR_NONE;
    if (level == u->irq_level)
        return;
    u->irq_level = level;
    if (u->hooks.irq)
        u->hooks.irq(u->hooks.ctx, level);
}

/* MSR bits 7:4 as the modem lines (or MCR in loopback) give them. */
static u8 modem_lines(const struct vuart *u)
{
    if (!(u->mcr & VUART_MCR_LOOP))
        return MSR_IDLE_LINES;
    u8 m = u->mcr;
    return (u8)((m & VUART_MCR_RTS ? 0x10 : 0) | (m & VUART_MCR_DTR ? 0x20 : 0) |
                (m & VUART_MCR_OUT1 ? 0x40 : 0) | (m & VUART_MCR_OUT2 ? 0x80 : 0));
}

static void set_modem_lines(struct vuart *u)
{
    u8 now = modem_lines(u), changed = now ^ u->msr_lines;
    u8 delta = (changed & 0xb0) >> 4;                   /* DCTS, DDSR, DDCD */
    if ((changed & 0x40) && !(now & 0x40))
        delta |= 0x04;                                  /* TERI: RI went away */
    u->msr_delta |= delta;
    u->msr_lines = now;
}

static void rx_clear(struct vuart *u)
{
    u->rx_head = 0;
    u->rx_count = 0;
}

void vuart_init(struct vuart *uart, u16 base, const struct vuart_hooks *hooks)
{
    *uart = (struct vuart){
        .hooks = *hooks, .base = base, .rx_trigger = 1, .dll = 1,
        .msr_lines = MSR_IDLE_LINES,
    };
}

bool vuart_can_receive(const struct vuart *uart)
{
    return uart->rx_count < rx_capacity(uart);
}

static void receive(struct vuart *u, u8 byte)
{
    if (u->rx_count < rx_capacity(u)) {
        u->rx[(u->rx_head + u->rx_count) % VUART_FIFO_SIZE] = byte;
        u->rx_count++;
        return;
    }
    u->lsr_errors |= VUART_LSR_OE;
    if (!u->fifo)
        u->rx[u->rx_head] = byte;   /* the holding register is overwritten */
}

void vuart_receive(struct vuart *uart, u8 byte)
{
    receive(uart, byte);
    update_irq(uart);
}

static u8 read_reg(struct vuart *u, unsigned int reg)
{
    bool dlab = u->lcr & VUART_LCR_DLAB;
    u8 v;
    switch (reg) {
    case VUART_RBR_THR:
        if (dlab)
            return u->dll;
        v = 0;
        if (u->rx_count) {
            v = u->rx[u->rx_head];
            u->rx_head = (u8)((u->rx_head + 1) % VUART_FIFO_SIZE);
            u->rx_count--;
        }
        return v;
    case VUART_IER:
        return dlab ? u->dlm : u->ier;
    case VUART_IIR_FCR:
        v = source(u);
        if (v == VUART_IIR_THRE)
            u->thr_ipending = false;    /* reading IIR acknowledges THRE */
        return v | (u->fifo ? VUART_IIR_FIFO : 0);
    case VUART_LCR:
        return u->lcr;
    case VUART_MCR:
        return u->mcr;
    case VUART_LSR:
        v = (u->rx_count ? VUART_LSR_DR : 0) | u->lsr_errors | VUART_LSR_THRE | VUART_LSR_TEMT;
        u->lsr_errors = 0;
        return v;
    case VUART_MSR:
        v = u->msr_lines | u->msr_delta;
        u->msr_delta = 0;
        return v;
    default:
        return u->scr;
    }
}

static void write_fcr(struct vuart *u, u8 v)
{
    static const u8 triggers[4] = { 1, 4, 8, 14 };
    bool enable = v & 1;
    if (enable != u->fifo)
        rx_clear(u);                    /* switching mode empties the FIFOs */
    u->fifo = enable;
    if (!enable)
        return;                         /* the other bits need FIFO enable */
    if (v & 0x02)
        rx_clear(u);
    u->rx_trigger = triggers[v >> 6];
}

static void write_reg(struct vuart *u, unsigned int reg, u8 v)
{
    bool dlab = u->lcr & VUART_LCR_DLAB;
    switch (reg) {
    case VUART_RBR_THR:
        if (dlab) {
            u->dll = v;
            break;
        }
        if (u->mcr & VUART_MCR_LOOP)
            receive(u, v);
        else if (u->hooks.tx)
            u->hooks.tx(u->hooks.ctx, v);
        u->thr_ipending = true;         /* sent at once: THR empty again */
        break;
    case VUART_IER:
        if (dlab) {
            u->dlm = v;
            break;
        }
        if ((v & VUART_IER_THRE) && !(u->ier & VUART_IER_THRE))
            u->thr_ipending = true;     /* enabling it with THR empty interrupts */
        u->ier = v & 0x0f;
        break;
    case VUART_IIR_FCR:
        write_fcr(u, v);
        break;
    case VUART_LCR:
        u->lcr = v;
        break;
    case VUART_MCR:
        u->mcr = v & 0x1f;
        set_modem_lines(u);
        break;
    case VUART_SCR:
        u->scr = v;
        break;
    default:                            /* LSR and MSR are read-only */
        break;
    }
}

u32 vuart_io_read(struct vuart *uart, u16 port, unsigned int size)
{
    if (!dev_port_size_ok(size))
        return ~0u;
    u32 val = 0;
    for (unsigned int i = 0; i < size; i++) {
        unsigned int reg = (u16)(port + i - uart->base);
        u32 byte = reg < 8 ? read_reg(uart, reg) : 0xff;
        val |= byte << (8 * i);
    }
    update_irq(uart);
    return val;
}

void vuart_io_write(struct vuart *uart, u16 port, unsigned int size, u32 val)
{
    if (!dev_port_size_ok(size))
        return;
    for (unsigned int i = 0; i < size; i++) {
        unsigned int reg = (u16)(port + i - uart->base);
        if (reg < 8)
            write_reg(uart, reg, (u8)(val >> (8 * i)));
    }
    update_irq(uart);
}
