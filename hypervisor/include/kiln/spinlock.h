/*
 * spinlock.h - ticket spinlock.
 *
 * A ticket lock hands the lock out in arrival order, so no CPU starves under
 * contention (fairness matters more here than the last nanosecond).  Built
 * on __atomic builtins; in unit tests it works the same, single-threaded.
 *
 * Use spin_lock_irqsave() for any lock also taken from an interrupt handler
 * (timer callbacks, IPIs), otherwise the handler can deadlock on its own CPU.
 */
#ifndef KILN_SPINLOCK_H
#define KILN_SPINLOCK_H

#include <kiln/irq.h>
#include <kiln/types.h>

typedef struct {
    u16 next;   /* ticket the next arriving CPU takes */
    u16 owner;  /* ticket currently allowed in */
} spinlock_t;

#define SPINLOCK_INIT { 0, 0 }
#define DEFINE_SPINLOCK(name) spinlock_t name = SPINLOCK_INIT

static inline void cpu_relax(void)
{
#ifndef KILN_UNIT_TEST
    __asm__ __volatile__("pause" ::: "memory");
#endif
}

static inline void spin_lock_init(spinlock_t *l)
{
    l->next = 0;
    l->owner = 0;
}

static inline void spin_lock(spinlock_t *l)
{
    u16 ticket = __atomic_fetch_add(&l->next, 1, __ATOMIC_RELAXED);
    while (__atomic_load_n(&l->owner, __ATOMIC_ACQUIRE) != ticket)
        cpu_relax();
}

static inline bool spin_trylock(spinlock_t *l)
{
    u16 owner = __atomic_load_n(&l->owner, __ATOMIC_RELAXED);
    u16 expect = owner;
    /* Only succeed when nobody holds or waits: next == owner. */
    return __atomic_compare_exchange_n(&l->next, &expect, (u16)(owner + 1), false,
                                       __ATOMIC_ACQUIRE, __ATOMIC_RELAXED);
}

static inline void spin_unlock(spinlock_t *l)
{
    __atomic_store_n(&l->owner, (u16)(l->owner + 1), __ATOMIC_RELEASE);
}

static inline bool spin_is_locked(spinlock_t *l)
{
    return __atomic_load_n(&l->next, __ATOMIC_RELAXED) !=
           __atomic_load_n(&l->owner, __ATOMIC_RELAXED);
}

static inline unsigned long spin_lock_irqsave(spinlock_t *l)
{
    unsigned long flags = local_irq_save();
    spin_lock(l);
    return flags;
}

static inline void spin_unlock_irqrestore(spinlock_t *l, unsigned long flags)
{
    spin_unlock(l);
    local_irq_restore(flags);
}

#endif
