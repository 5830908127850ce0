/*
 * kt.c - the test-guest runtime: start-up, console formatting, TAP output.
 *
 * Output is assembled into one page-aligned buffer per line, because the
 * console hypercall takes a buffer that must not cross a page boundary.
 */
#include "kt.h"

void kt_start(void);

static char line[KILN_CONSOLE_MAX] __attribute__((aligned(KILN_CONSOLE_MAX)));
static unsigned int tap_next = 1, tap_failed;

void *kt_memset(void *d, int c, size_t n)
{
    u8 *p = d;
    while (n--)
        *p++ = (u8)c;
    return d;
}

void *kt_memcpy(void *d, const void *s, size_t n)
{
    u8 *p = d;
    const u8 *q = s;
    while (n--)
        *p++ = *q++;
    return d;
}

/* The compiler may emit calls to these for struct copies and zeroing. */
void *memset(void *d, int c, size_t n) { return kt_memset(d, c, n); }
void *memcpy(void *d, const void *s, size_t n) { return kt_memcpy(d, s, n); }

int kt_strcmp(const char *a, const char *b)
{
    while (*a && *a == *b)
        a++, b++;
    return (u8)*a - (u8)*b;
}

struct out { char *buf; size_t size, len; };

static void put(struct out *o, char c)
{
    if (o->len + 1 < o->size)
        o->buf[o->len] = c;
    o->len++;
}

static void put_num(struct out *o, u64 v, unsigned int base, bool neg, int width,
                    char pad, bool alt)
{
    char tmp[24];
    int n = 0;
    do {
        tmp[n++] = "0123456789abcdef"[v % base];
        v /= base;
    } while (v);
    if (alt && base == 16) {
        tmp[n++] = 'x';
        tmp[n++] = '0';
    }
    if (neg)
        tmp[n++] = '-';
    for (int i = n; i < width; i++)
        put(o, pad);
    while (n)
        put(o, tmp[--n]);
}

/* %d %u %x %s %c %% with '#', '0', width and the l/ll/z modifiers. */
int kt_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
    struct out o = { buf, size, 0 };
    for (; *fmt; fmt++) {
        if (*fmt != '%') {
            put(&o, *fmt);
            continue;
        }
        bool alt = false, lng = false;
        char pad = ' ';
        int width = 0;
        fmt++;
        if (*fmt == '#')
            alt = true, fmt++;
        if (*fmt == '0')
            pad = '0', fmt++;
        while (*fmt >= '0' && *fmt <= '9')
            width = width * 10 + (*fmt++ - '0');
        while (*fmt == 'l' || *fmt == 'z')
            lng = true, fmt++;
        switch (*fmt) {
        case 'd': {
            s64 v = lng ? va_arg(ap, s64) : va_arg(ap, int);
            put_num(&o, v < 0 ? (u64)-v : (u64)v, 10, v < 0, width, pad, false);
            break;
        }
        case 'u':
            put_num(&o, lng ? va_arg(ap, u64) : va_arg(ap, unsigned int), 10, false,
                    width, pad, false);
            break;
        case 'x':
            put_num(&o, lng ? va_arg(ap, u64) : va_arg(ap, unsigned int), 16, false,
                    width, pad, alt);
            break;
        case 's': {
            const char *s = va_arg(ap, const char *);
            while (*s)
                put(&o, *s++);
            break;
        }
        case 'c':
            put(&o, (char)va_arg(ap, int));
            break;
        case '%':
            put(&o, '%');
            break;
        default:
            put(&o, '%');
            if (*fmt)
                put(&o, *fmt);
            else
                fmt--;
        }
    }
    if (size)
        buf[o.len < size ? o.len : size - 1] = '\0';
    return (int)o.len;
}

int kt_snprintf(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = kt_vsnprintf(buf, size, fmt, ap);
    va_end(ap);
    return n;
}

static void vprint(const char *prefix, const char *fmt, va_list ap)
{
    size_t n = 0;
    while (*prefix && n < sizeof(line) - 1)
        line[n++] = *prefix++;
    int m = kt_vsnprintf(line + n, sizeof(line) - n, fmt, ap);
    n += (size_t)m < sizeof(line) - n ? (size_t)m : sizeof(line) - n - 1;
    kt_hc_console_write(line, n);
}

void kt_printf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vprint("", fmt, ap);
    va_end(ap);
}

void kt_plan(unsigned int n)
{
    kt_printf("1..%u\n", n);
}

bool kt_ok(bool cond, const char *fmt, ...)
{
    char prefix[32];
    kt_snprintf(prefix, sizeof(prefix), "%sok %u - ", cond ? "" : "not ", tap_next++);
    if (!cond)
        tap_failed++;
    char name[256];
    va_list ap;
    va_start(ap, fmt);
    kt_vsnprintf(name, sizeof(name), fmt, ap);
    va_end(ap);
    kt_printf("%s%s\n", prefix, name);
    return cond;
}

void kt_diag(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vprint("# ", fmt, ap);
    kt_hc_console_write("\n", 1);
    va_end(ap);
}

unsigned int kt_failures(void)
{
    return tap_failed;
}

void kt_shutdown(u32 reason)
{
    for (;;)
        kt_hypercall(KILN_HC_SHUTDOWN, reason, 0, 0, 0, 0);
}

void kt_sleep_ns(u64 ns)
{
    u64 until = (u64)kt_hc_time() + ns;
    while ((u64)kt_hc_time() < until)
        kt_hc_block(until);
}

void kt_start(void)
{
    kt_main();
    kt_shutdown(KILN_SHUTDOWN_POWEROFF);
}

s64 kt_write_mem(struct kiln_domctl *op, u32 domid, u64 dest_gpa, const void *src, u32 len)
{
    kt_memset(op, 0, sizeof(*op));
    op->cmd = KILN_DOMCTL_WRITE_MEM;
    op->domid = domid;
    op->u.write_mem.dest_gpa = dest_gpa;
    op->u.write_mem.src_gpa = (u64)(uintptr_t)src;
    op->u.write_mem.len = len;
    return kt_hc_domctl(op);
}
