/*
 * panic.c - stop everything when an invariant is broken.
 *
 * The other CPUs are stopped first (an NMI each: it gets through even with
 * interrupts off), so nothing keeps running on a broken hypervisor.  Then
 * the message and a backtrace go to the log, and machine_exit() makes QEMU
 * exit with a non-zero status: a test sees a failure, never a hang or a
 * silent reboot.
 */
#include <kiln/boot.h>
#include <kiln/console.h>
#include <kiln/irq.h>
#include <kiln/lib.h>
#include <kiln/percpu.h>
#include <kiln/smp.h>
#include <kiln/traps.h>
#include <kiln/x86.h>

static int panicking;

bool panic_in_progress(void)
{
    return __atomic_load_n(&panicking, __ATOMIC_ACQUIRE) != 0;
}

static __noreturn void vpanic(u64 rbp, const char *fmt, va_list ap)
{
    char msg[512];

    local_irq_disable();
    if (__atomic_exchange_n(&panicking, 1, __ATOMIC_ACQ_REL)) {
        /* Another CPU is already reporting; let it finish. */
        for (;;)
            halt();
    }
    smp_stop_others();
    console_panic_mode();
    kvsnprintf(msg, sizeof(msg), fmt, ap);
    pr_err("PANIC on CPU %u: %s", smp_processor_id(), msg);
    backtrace_print(rbp);
    machine_exit(1);
}

void panic(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vpanic(read_rbp(), fmt, ap);
}

void panic_frame(u64 rbp, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vpanic(rbp, fmt, ap);
}
