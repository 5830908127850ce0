/*
 * selftest.h - deliberate failures for the test harness (selftest= option).
 */
#ifndef KILN_SELFTEST_H
#define KILN_SELFTEST_H

/* what: NULL (nothing), "fault" (#PF), "ud" (#UD), "panic", "appanic"
 * (panic on the last CPU while the boot CPU waits for it), "stack"
 * (overflows the stack into its guard page), "timer"
 * (checks the per-CPU timers and IPIs on every CPU) or "mm" (allocates,
 * touches and frees every free page); the checks log their result. */
void selftest_run(const char *what);

#endif
