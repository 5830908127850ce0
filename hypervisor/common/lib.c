/*
 * lib.c - string, memory and formatting helpers (see include/kiln/lib.h).
 *
 * Pure C with no platform dependency, so unit tests can include it.  The
 * compiler may turn loops into memcpy/memset calls, so this file also
 * provides those two symbols for the freestanding build.
 */
#include <kiln/lib.h>

/* Eight bytes per step when both ends allow it: big copies (dom0's 14 MB
 * kernel, zeroed guest RAM) are 8x fewer iterations.  Not REP MOVSB/STOSB:
 * under QEMU TCG those cost a translated-block round trip per byte. */
void *kmemcpy(void *dst, const void *src, size_t n)
{
    unsigned char *d = dst;
    const unsigned char *s = src;
    if ((((uintptr_t)d | (uintptr_t)s) & 7) == 0) {
        for (; n >= 8; n -= 8, d += 8, s += 8)
            *(u64 *)(void *)d = *(const u64 *)(const void *)s;
    }
    while (n--)
        *d++ = *s++;
    return dst;
}

void *kmemmove(void *dst, const void *src, size_t n)
{
    unsigned char *d = dst;
    const unsigned char *s = src;
    if (d < s) {
        while (n--)
            *d++ = *s++;
    } else {
        while (n--)
            d[n] = s[n];
    }
    return dst;
}

void *kmemset(void *dst, int c, size_t n)
{
    unsigned char *d = dst;
    if (((uintptr_t)d & 7) == 0) {
        u64 v = 0x0101010101010101ull * (unsigned char)c;
        for (; n >= 8; n -= 8, d += 8)
            *(u64 *)(void *)d = v;
    }
    while (n--)
        *d++ = (unsigned char)c;
    return dst;
}

int kmemcmp(const void *a, const void *b, size_t n)
{
    const unsigned char *x = a, *y = b;
    for (size_t i = 0; i < n; i++) {
        if (x[i] != y[i])
            return x[i] < y[i] ? -1 : 1;
    }
    return 0;
}

size_t kstrlen(const char *s)
{
    size_t n = 0;
    while (s[n])
        n++;
    return n;
}

size_t kstrnlen(const char *s, size_t max)
{
    size_t n = 0;
    while (n < max && s[n])
        n++;
    return n;
}

int kstrcmp(const char *a, const char *b)
{
    while (*a && *a == *b) {
        a++;
        b++;
    }
    return (unsigned char)*a - (unsigned char)*b;
}

int kstrncmp(const char *a, const char *b, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (a[i] != b[i] || !a[i])
            return (unsigned char)a[i] - (unsigned char)b[i];
    }
    return 0;
}

char *kstrchr(const char *s, int c)
{
    for (;; s++) {
        if (*s == (char)c)
            return (char *)s;
        if (!*s)
            return NULL;
    }
}

size_t kstrlcpy(char *dst, const char *src, size_t size)
{
    size_t len = kstrlen(src);
    if (size) {
        size_t n = len < size - 1 ? len : size - 1;
        kmemcpy(dst, src, n);
        dst[n] = '\0';
    }
    return len;
}

int kparse_u64(const char *s, size_t len, u64 *out)
{
    unsigned base = 10;
    size_t i = 0;
    u64 v = 0;

    if (len >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        base = 16;
        i = 2;
    }
    if (i == len)
        return -1;
    for (; i < len; i++) {
        char c = s[i];
        unsigned d;
        if (c >= '0' && c <= '9')
            d = (unsigned)(c - '0');
        else if (base == 16 && c >= 'a' && c <= 'f')
            d = (unsigned)(c - 'a' + 10);
        else if (base == 16 && c >= 'A' && c <= 'F')
            d = (unsigned)(c - 'A' + 10);
        else
            break;
        if (v > (UINT64_MAX - d) / base)
            return -1;
        v = v * base + d;
    }
    if (i < len) {
        unsigned shift;
        switch (s[i]) {
        case 'k': case 'K': shift = 10; break;
        case 'm': case 'M': shift = 20; break;
        case 'g': case 'G': shift = 30; break;
        default: return -1;
        }
        if (i + 1 != len || v > (UINT64_MAX >> shift))
            return -1;
        v <<= shift;
    }
    *out = v;
    return 0;
}

/* Output cursor for kvsnprintf: counts everything, stores what fits. */
struct outbuf {
    char *buf;
    size_t size, pos;
};

static void put(struct outbuf *o, char c)
{
    if (o->pos + 1 < o->size)
        o->buf[o->pos] = c;
    o->pos++;
}

static void put_padded(struct outbuf *o, const char *s, size_t len, int width,
                       bool left, char pad)
{
    int fill = width > (int)len ? width - (int)len : 0;
    if (!left && pad == '0' && len && (*s == '-')) {
        /* Sign goes before zero padding. */
        put(o, *s++);
        len--;
    }
    if (!left)
        while (fill-- > 0)
            put(o, pad);
    while (len--)
        put(o, *s++);
    if (left)
        while (fill-- > 0)
            put(o, ' ');
}

static size_t utoa(char *tmp, u64 v, unsigned base, bool upper)
{
    const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    char rev[24];
    size_t n = 0, i;
    do {
        rev[n++] = digits[v % base];
        v /= base;
    } while (v);
    for (i = 0; i < n; i++)
        tmp[i] = rev[n - 1 - i];
    return n;
}

int kvsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
    struct outbuf o = { buf, size, 0 };

    for (; *fmt; fmt++) {
        bool left = false, is_signed = false;
        char pad = ' ';
        int width = 0, lng = 0;
        unsigned base = 10;
        bool upper = false;
        char tmp[24];
        size_t n;
        u64 v;

        if (*fmt != '%') {
            put(&o, *fmt);
            continue;
        }
        fmt++;
        for (;; fmt++) {
            if (*fmt == '-')
                left = true;
            else if (*fmt == '0')
                pad = '0';
            else
                break;
        }
        while (*fmt >= '0' && *fmt <= '9')
            width = width * 10 + (*fmt++ - '0');
        while (*fmt == 'l' || *fmt == 'z') {
            lng++;
            fmt++;
        }

        switch (*fmt) {
        case '\0':
            fmt--;   /* stray '%' at the end: let the loop terminate */
            continue;
        case '%':
            put(&o, '%');
            continue;
        case 'c':
            tmp[0] = (char)va_arg(ap, int);
            put_padded(&o, tmp, 1, width, left, ' ');
            continue;
        case 's': {
            const char *s = va_arg(ap, const char *);
            if (!s)
                s = "(null)";
            put_padded(&o, s, kstrlen(s), width, left, ' ');
            continue;
        }
        case 'p':
            v = (u64)(uintptr_t)va_arg(ap, void *);
            tmp[0] = '0';
            tmp[1] = 'x';
            n = 2 + utoa(tmp + 2, v, 16, false);
            put_padded(&o, tmp, n, width, left, ' ');
            continue;
        case 'd':
        case 'i':
            is_signed = true;
            break;
        case 'u':
            break;
        case 'X':
            upper = true;
            base = 16;
            break;
        case 'x':
            base = 16;
            break;
        default:
            put(&o, '%');
            put(&o, *fmt);
            continue;
        }

        if (is_signed) {
            s64 sv = lng ? va_arg(ap, long long) : va_arg(ap, int);
            if (sv < 0) {
                tmp[0] = '-';
                n = 1 + utoa(tmp + 1, (u64)0 - (u64)sv, 10, false);
            } else {
                n = utoa(tmp, (u64)sv, 10, false);
            }
        } else {
            v = lng ? va_arg(ap, unsigned long long) : va_arg(ap, unsigned int);
            n = utoa(tmp, v, base, upper);
        }
        put_padded(&o, tmp, n, width, left, pad);
    }
    if (size)
        buf[o.pos < size ? o.pos : size - 1] = '\0';
    return (int)o.pos;
}

int ksnprintf(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = kvsnprintf(buf, size, fmt, ap);
    va_end(ap);
    return n;
}

#ifndef KILN_UNIT_TEST
/* GCC may emit calls to these for struct copies and zeroing loops. */
void *memcpy(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
void *memmove(void *dst, const void *src, size_t n);
int memcmp(const void *a, const void *b, size_t n);

void *memcpy(void *dst, const void *src, size_t n) { return kmemcpy(dst, src, n); }
void *memset(void *dst, int c, size_t n) { return kmemset(dst, c, n); }
void *memmove(void *dst, const void *src, size_t n) { return kmemmove(dst, src, n); }
int memcmp(const void *a, const void *b, size_t n) { return kmemcmp(a, b, n); }
#endif
