/*
 * kt.h - the Kiln test-guest runtime ("kt"): everything a tiny guest needs.
 *
 * A test guest is one C file defining kt_main().  The runtime enters it in
 * 64-bit long mode with identity-mapped page tables covering the low 4 GiB,
 * a 16 KiB stack and NO interrupt descriptor table (so any exception is a
 * triple fault) unless the guest calls kt_idt_install().  When kt_main
 * returns, the runtime shuts the domain down cleanly (poweroff).
 *
 * Output goes through the console hypercall; TAP helpers print the
 * "1..N" / "ok N - name" lines the QEMU scenarios collect from the serial
 * log (where they appear as "(dN) ok 1 - ...").
 */
#ifndef KT_H
#define KT_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../../include/public/kiln.h"
#include "../../include/public/testport.h"

typedef uint8_t u8;
typedef uint16_t u16;
typedef uint32_t u32;
typedef uint64_t u64;
typedef int64_t s64;

/* ---- set by the entry stub ---------------------------------------------- */

extern u64 kt_boot_tsc;     /* TSC read by the very first guest instruction */
extern u64 kt_boot_arg;     /* RDI at entry (boot domains: RAM size in KiB) */

void kt_main(void);

/* ---- hypercalls ---------------------------------------------------------- */

static inline s64 kt_hypercall(u64 nr, u64 a1, u64 a2, u64 a3, u64 a4, u64 a5)
{
    register u64 r10 __asm__("r10") = a4;
    register u64 r8 __asm__("r8") = a5;
    __asm__ __volatile__("vmmcall"
                         : "+a"(nr)
                         : "D"(a1), "S"(a2), "d"(a3), "r"(r10), "r"(r8)
                         : "memory");
    return (s64)nr;
}

static inline s64 kt_hc_version(void) { return kt_hypercall(KILN_HC_VERSION, 0, 0, 0, 0, 0); }
static inline s64 kt_hc_time(void) { return kt_hypercall(KILN_HC_TIME, 0, 0, 0, 0, 0); }
static inline s64 kt_hc_yield(void) { return kt_hypercall(KILN_HC_SCHED_YIELD, 0, 0, 0, 0, 0); }
static inline s64 kt_hc_block(u64 deadline_ns)
{
    return kt_hypercall(KILN_HC_SCHED_BLOCK, deadline_ns, 0, 0, 0, 0);
}
static inline s64 kt_hc_vcpu_runtime(void)
{
    return kt_hypercall(KILN_HC_VCPU_RUNTIME, 0, 0, 0, 0, 0);
}
static inline s64 kt_hc_console_write(const void *buf, u64 len)
{
    return kt_hypercall(KILN_HC_CONSOLE_WRITE, (u64)(uintptr_t)buf, len, 0, 0, 0);
}
static inline s64 kt_hc_domctl(struct kiln_domctl *op)
{
    return kt_hypercall(KILN_HC_DOMCTL, (u64)(uintptr_t)op, 0, 0, 0, 0);
}
static inline s64 kt_hc_sysctl(struct kiln_sysctl *op)
{
    return kt_hypercall(KILN_HC_SYSCTL, (u64)(uintptr_t)op, 0, 0, 0, 0);
}
__attribute__((noreturn)) void kt_shutdown(u32 reason);

/* Sleeps (blocked, not spinning) for ns nanoseconds of hypervisor time. */
void kt_sleep_ns(u64 ns);

/* ---- instructions that exit ---------------------------------------------- */

struct kt_cpuid { u32 a, b, c, d; };

static inline struct kt_cpuid kt_cpuid(u32 leaf, u32 subleaf)
{
    struct kt_cpuid r;
    __asm__ __volatile__("cpuid"
                         : "=a"(r.a), "=b"(r.b), "=c"(r.c), "=d"(r.d)
                         : "0"(leaf), "2"(subleaf));
    return r;
}

static inline u64 kt_rdtsc(void)
{
    u32 lo, hi;
    __asm__ __volatile__("rdtsc" : "=a"(lo), "=d"(hi));
    return ((u64)hi << 32) | lo;
}

static inline void kt_outb(u16 port, u8 v) { __asm__ __volatile__("outb %0, %1" :: "a"(v), "Nd"(port)); }
static inline void kt_outl(u16 port, u32 v) { __asm__ __volatile__("outl %0, %1" :: "a"(v), "Nd"(port)); }
static inline u8 kt_inb(u16 port)
{
    u8 v;
    __asm__ __volatile__("inb %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}
static inline u32 kt_inl(u16 port)
{
    u32 v;
    __asm__ __volatile__("inl %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}

/* Reads one of this vCPU's exit counters through KT_PORT_STAT. */
static inline u32 kt_stat(enum kt_stat which)
{
    kt_outl(KT_PORT_STAT, which);
    return kt_inl(KT_PORT_STAT);
}

/* ---- exceptions (only after kt_idt_install) ------------------------------ */

void kt_idt_install(void);
/* Interrupt vectors (32-255), and the NMI (2), go to fn, called with interrupts off in the
 * interrupt's context; one with no handler is an unexpected exception. */
typedef void (*kt_irq_fn)(u8 vector);
void kt_irq_set(u8 vector, kt_irq_fn fn);
/* Vector of the last exception a *_safe helper recovered from, or -1. */
extern volatile int kt_last_vector;
extern volatile u64 kt_last_error;     /* its error code (0 if it has none) */
/* Where the exception handler resumes (set by *_safe helpers, KT_TRY). */
extern u64 kt_fixup_rip;
/* Makes hypercall nr (no arguments) from CPL 3 and returns its result,
 * or KT_USER_NOT_RUN if user mode was not reached; needs kt_idt_install(). */
#define KT_USER_NOT_RUN 0x5a5a5a5a5a5aull
s64 kt_user_vmmcall(u64 nr);
/* Runs the instruction(s) in insn (clobbering rax, rcx, rdx and r11);
 * evaluates to the vector of the exception raised, or -1. */
#define KT_TRY(insn)                                                        \
    __extension__({                                                         \
        kt_last_vector = -1;                                                \
        __asm__ __volatile__("leaq 1f(%%rip), %%r11\n\t"                    \
                             "movq %%r11, kt_fixup_rip(%%rip)\n\t"           \
                             insn "\n"                                       \
                             "1:\n\t"                                        \
                             "movq $0, kt_fixup_rip(%%rip)"                  \
                             ::: "rax", "rcx", "rdx", "r11", "memory");     \
        kt_last_vector;                                                     \
    })
/* RDMSR/WRMSR that return the exception vector (e.g. 13 for #GP) or 0. */
int kt_rdmsr_safe(u32 msr, u64 *val);
int kt_wrmsr_safe(u32 msr, u64 val);

/* rdmsr/wrmsr of an MSR the test knows exists (a #GP is then a failure). */
static inline u64 kt_rdmsr(u32 msr)
{
    u32 lo, hi;
    __asm__ __volatile__("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
    return ((u64)hi << 32) | lo;
}

static inline void kt_wrmsr(u32 msr, u64 v)
{
    __asm__ __volatile__("wrmsr" :: "c"(msr), "a"((u32)v), "d"((u32)(v >> 32)) : "memory");
}

/* ---- console and TAP ----------------------------------------------------- */

int kt_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int kt_snprintf(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void kt_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

void kt_plan(unsigned int n);
/* Prints "ok N - name" or "not ok N - name"; returns cond. */
bool kt_ok(bool cond, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void kt_diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Number of "not ok" results so far. */
unsigned int kt_failures(void);

void *kt_memset(void *d, int c, size_t n);
/* DOMCTL WRITE_MEM: len bytes at src (within one page) into domain domid's
 * RAM at dest_gpa, through the caller's domctl buffer op; 0 or the error. */
s64 kt_write_mem(struct kiln_domctl *op, u32 domid, u64 dest_gpa, const void *src, u32 len);
void *kt_memcpy(void *d, const void *s, size_t n);
int kt_strcmp(const char *a, const char *b);

/* The hypervisor's free page count (PHYSINFO; 0 if the call fails). */
static inline u64 kt_free_pages(void)
{
    static struct kiln_sysctl sc __attribute__((aligned(256)));
    kt_memset(&sc, 0, sizeof(sc));
    sc.cmd = KILN_SYSCTL_PHYSINFO;
    return kt_hc_sysctl(&sc) == 0 ? sc.u.physinfo.free_pages : 0;
}

#endif
