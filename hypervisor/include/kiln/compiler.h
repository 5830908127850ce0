/*
 * compiler.h - attributes and small compiler idioms in one place, so the
 * rest of the code does not spell out __attribute__ everywhere.
 */
#ifndef KILN_COMPILER_H
#define KILN_COMPILER_H

#define __noreturn     __attribute__((noreturn))
#define __packed       __attribute__((packed))
#define __aligned(n)   __attribute__((aligned(n)))
#define __section(s)   __attribute__((section(s)))
#define __weak         __attribute__((weak))
#define __unused       __attribute__((unused))
#define __printf(a, b) __attribute__((format(printf, a, b)))

#define likely(x)   __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Round x up/down to a multiple of a, which must be a power of two. */
#define ALIGN_UP(x, a)   (((x) + ((a) - 1)) & ~((__typeof__(x))(a) - 1))
#define ALIGN_DOWN(x, a) ((x) & ~((__typeof__(x))(a) - 1))

#define container_of(ptr, type, member) \
    ((type *)((char *)(ptr) - __builtin_offsetof(type, member)))

/* Stops the compiler from caching or reordering memory accesses across it. */
#define barrier() __asm__ __volatile__("" ::: "memory")

#define READ_ONCE(x)     __atomic_load_n(&(x), __ATOMIC_RELAXED)
#define WRITE_ONCE(x, v) __atomic_store_n(&(x), (v), __ATOMIC_RELAXED)

#define BUILD_BUG_ON(cond) _Static_assert(!(cond), #cond)

#endif
