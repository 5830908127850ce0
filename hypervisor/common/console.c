/*
 * console.c - printk: timestamped log lines to COM1 and to the log ring.
 *
 * One lock serialises output so lines from different CPUs never interleave.
 * The lock remembers its owner CPU: if that CPU faults while printing, the
 * trap handler's printk must not deadlock on it, so a nested entry on the
 * owner CPU prints without taking the lock again.  During a panic the other
 * CPUs are stopped, possibly holding the lock, so it is no longer taken.
 */
#include <kiln/cmdline.h>
#include <kiln/console.h>
#include <kiln/irq.h>
#include <kiln/lib.h>
#include <kiln/percpu.h>
#include <kiln/serial.h>
#include <kiln/spinlock.h>
#include <kiln/time.h>

#define RING_SIZE (128 * 1024)   /* power of two: offsets wrap with a mask */
#define LINE_MAX  1024

static char ring[RING_SIZE];
static u64 ring_head;            /* bytes ever written; ring holds the last RING_SIZE */
static spinlock_t console_lock = SPINLOCK_INIT;
static int console_owner = -1;   /* CPU id holding console_lock */
static bool console_lockless;    /* panic: the lock holder may be stopped */
static enum log_level loglevel = LOG_INFO;
static bool loglevel_parsed;
/* Under console_lock: dom0's last byte to the transmitter was not '\n';
 * dom0_cpu is where its accesses came from (where it runs). */
static bool dom0_midline;
static int dom0_cpu = -1;

enum log_level console_loglevel(void)
{
    static const char *const names[] = { "error", "warn", "info", "debug" };

    if (!loglevel_parsed) {
        const char *v = cmdline_get("loglvl");
        for (unsigned i = 0; v && i < ARRAY_SIZE(names); i++) {
            if (!kstrcmp(v, names[i]))
                loglevel = (enum log_level)i;
        }
        loglevel_parsed = cmdline_raw() != NULL;
    }
    return loglevel;
}

/* Takes the console; returns false when this CPU already holds it. */
static bool console_enter(unsigned long *flags)
{
    int me = (int)smp_processor_id();

    *flags = local_irq_save();
    if (__atomic_load_n(&console_owner, __ATOMIC_RELAXED) == me ||
        __atomic_load_n(&console_lockless, __ATOMIC_ACQUIRE))
        return false;
    spin_lock(&console_lock);
    __atomic_store_n(&console_owner, me, __ATOMIC_RELAXED);
    return true;
}

static void console_leave(bool locked, unsigned long flags)
{
    if (locked) {
        __atomic_store_n(&console_owner, -1, __ATOMIC_RELAXED);
        spin_unlock(&console_lock);
    }
    local_irq_restore(flags);
}

/*
 * console_enter() for printing a line: first lets dom0 finish a line it is
 * in the middle of (console.h).  The lock is dropped while waiting, since
 * dom0 needs it to write the rest of its line.
 */
static bool console_enter_line(unsigned long *flags)
{
    bool locked = console_enter(flags);
    u64 deadline = 0;

    while (locked && dom0_midline && (int)smp_processor_id() != dom0_cpu) {
        console_leave(locked, *flags);
        u64 now = now_ns();
        if (!deadline)
            deadline = now + CONSOLE_DOM0_WAIT_NS;
        cpu_relax();
        locked = console_enter(flags);
        if (now >= deadline)
            break;
    }
    if (dom0_midline) {
        serial_write("\n", 1);
        dom0_midline = false;
    }
    return locked;
}

u32 console_dom0_uart(unsigned int reg, unsigned int size, bool in, u32 val)
{
    unsigned long flags;
    bool locked = console_enter(&flags);

    dom0_cpu = (int)smp_processor_id();
    if (in) {
        val = serial_reg_read(reg, size);
    } else {
        if (reg == 0 && !serial_dlab_open())
            dom0_midline = (u8)val != '\n';   /* a wider OUT: low byte to THR */
        serial_reg_write(reg, size, val);
    }
    console_leave(locked, flags);
    return val;
}

static void emit(const char *s, size_t len)
{
    serial_write(s, len);
    for (size_t i = 0; i < len; i++)
        ring[(ring_head + i) & (RING_SIZE - 1)] = s[i];
    ring_head += len;
}

/* Emits text as lines, each "[sssss.uuuuuu] <tag> line\n". */
static void emit_lines(const char *tag, const char *text, size_t len)
{
    u64 ns = now_ns();
    char prefix[48];
    int plen = ksnprintf(prefix, sizeof(prefix), "[%5llu.%06llu] %s ",
                         (unsigned long long)(ns / 1000000000ull),
                         (unsigned long long)(ns / 1000ull % 1000000ull), tag);

    while (len) {
        size_t n = 0;
        while (n < len && text[n] != '\n')
            n++;
        emit(prefix, (size_t)plen);
        emit(text, n);
        emit("\n", 1);
        if (n < len)
            n++;   /* the '\n' itself */
        text += n;
        len -= n;
    }
}

void console_panic_mode(void)
{
    __atomic_store_n(&console_lockless, true, __ATOMIC_RELEASE);
}

void vprintk(enum log_level level, const char *fmt, va_list ap)
{
    char line[LINE_MAX];
    unsigned long flags;

    if (level > console_loglevel())
        return;
    int n = kvsnprintf(line, sizeof(line), fmt, ap);
    size_t len = n < (int)sizeof(line) ? (size_t)n : sizeof(line) - 1;
    if (len && line[len - 1] == '\n')
        len--;

    bool locked = console_enter_line(&flags);
    emit_lines(level == LOG_ERR ? "(kiln) ERROR:" : level == LOG_WARN ? "(kiln) WARN:" : "(kiln)",
               line, len);
    console_leave(locked, flags);
}

void printk(enum log_level level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vprintk(level, fmt, ap);
    va_end(ap);
}

void console_guest_write(u16 domid, const char *buf, size_t len)
{
    char tag[16];
    unsigned long flags;

    ksnprintf(tag, sizeof(tag), "(d%u)", domid);
    if (len && buf[len - 1] == '\n')
        len--;
    bool locked = console_enter_line(&flags);
    emit_lines(tag, buf, len);
    console_leave(locked, flags);
}

size_t console_ring_read(char *buf, size_t len, u64 *offset)
{
    unsigned long flags;
    size_t n = 0;

    bool locked = console_enter(&flags);
    u64 oldest = ring_head > RING_SIZE ? ring_head - RING_SIZE : 0;
    u64 pos = *offset < oldest ? oldest : *offset;
    while (n < len && pos < ring_head)
        buf[n++] = ring[pos++ & (RING_SIZE - 1)];
    *offset = pos;
    console_leave(locked, flags);
    return n;
}
