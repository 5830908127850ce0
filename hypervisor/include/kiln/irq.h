/*
 * irq.h - enabling, disabling and saving the local CPU's interrupt flag.
 *
 * In a hosted unit-test build (KILN_UNIT_TEST) there is no interrupt flag:
 * the helpers become no-ops so code under test that takes irq-safe locks
 * still compiles and runs single-threaded.
 */
#ifndef KILN_IRQ_H
#define KILN_IRQ_H

#include <kiln/types.h>

#define X86_EFLAGS_IF (1ul << 9)

#ifdef KILN_UNIT_TEST
static inline void local_irq_enable(void) {}
static inline void local_irq_disable(void) {}
static inline unsigned long local_irq_save(void) { return 0; }
static inline void local_irq_restore(unsigned long flags) { (void)flags; }
static inline bool local_irq_enabled(void) { return false; }
#else
static inline void local_irq_enable(void)
{
    __asm__ __volatile__("sti" ::: "memory");
}

static inline void local_irq_disable(void)
{
    __asm__ __volatile__("cli" ::: "memory");
}

/* Disables interrupts and returns the previous RFLAGS for local_irq_restore. */
static inline unsigned long local_irq_save(void)
{
    unsigned long flags;
    __asm__ __volatile__("pushfq; popq %0; cli" : "=r"(flags) : : "memory");
    return flags;
}

static inline void local_irq_restore(unsigned long flags)
{
    if (flags & X86_EFLAGS_IF)
        local_irq_enable();
}

static inline bool local_irq_enabled(void)
{
    unsigned long flags;
    __asm__ __volatile__("pushfq; popq %0" : "=r"(flags));
    return (flags & X86_EFLAGS_IF) != 0;
}
#endif

#endif
