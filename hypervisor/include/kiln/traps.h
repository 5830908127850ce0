/*
 * traps.h - CPU exceptions and interrupts: the saved register frame, the
 * hooks other components plug in, and backtraces.
 */
#ifndef KILN_TRAPS_H
#define KILN_TRAPS_H

#include <kiln/compiler.h>
#include <kiln/types.h>

/* Saved by arch/x86/entry.S on every trap; layout matches the pushes there. */
struct cpu_regs {
    u64 r15, r14, r13, r12, r11, r10, r9, r8;
    u64 rbp, rdi, rsi, rdx, rcx, rbx, rax;
    u64 vector, error_code;
    /* pushed by the CPU */
    u64 rip, cs, rflags, rsp, ss;
};

/* Handler for an interrupt vector (32..255), called with interrupts off;
 * the LAPIC EOI is sent by the caller afterwards. */
typedef void (*irq_handler_t)(struct cpu_regs *regs);
int irq_set_handler(u8 vector, irq_handler_t fn);

/* Prints a frame-pointer backtrace starting at frame pointer rbp. */
void backtrace_print(u64 rbp);

/* panic() with the backtrace taken from frame pointer rbp (a trap frame's)
 * instead of the caller's. */
__noreturn void panic_frame(u64 rbp, const char *fmt, ...) __printf(2, 3);

void traps_init(void);          /* builds the IDT (boot CPU, once) */
void traps_load(void);          /* loads the IDT on this CPU */

#endif
