/*
 * lib.h - the handful of string and memory helpers the hypervisor needs.
 *
 * Named k* so a hosted unit test can include both these and libc without
 * clashes.  Implemented in common/lib.c (pure C, host-testable).
 */
#ifndef KILN_LIB_H
#define KILN_LIB_H

#include <stdarg.h>
#include <kiln/compiler.h>
#include <kiln/types.h>

void *kmemcpy(void *dst, const void *src, size_t n);
void *kmemmove(void *dst, const void *src, size_t n);
void *kmemset(void *dst, int c, size_t n);
int kmemcmp(const void *a, const void *b, size_t n);
size_t kstrlen(const char *s);
size_t kstrnlen(const char *s, size_t max);
int kstrcmp(const char *a, const char *b);
int kstrncmp(const char *a, const char *b, size_t n);
char *kstrchr(const char *s, int c);
/* Copies at most size-1 bytes and always terminates; returns kstrlen(src). */
size_t kstrlcpy(char *dst, const char *src, size_t size);

/*
 * Parses an unsigned number in base 10, or base 16 with a 0x prefix, with
 * an optional K/M/G suffix (binary multiples).  Returns 0 and stores the
 * value on success, -1 if s is not entirely such a number (or overflows).
 */
int kparse_u64(const char *s, size_t len, u64 *out);

/*
 * printf-style formatting into buf (always terminated when size > 0).
 * Supports %d %i %u %x %X %p %s %c %% with flags '-', '0', width, and the
 * length modifiers l, ll, z.  Returns the length the full output would have.
 */
int kvsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int ksnprintf(char *buf, size_t size, const char *fmt, ...) __printf(3, 4);

#endif
