/*
 * boot_hooks.c - what happens after the platform is up when no other
 * component has taken over: nothing to run, so either exit (exit_when_idle,
 * as the tests ask) or idle.  HV-VIRT overrides start_domains().
 */
#include <kiln/boot.h>
#include <kiln/cmdline.h>
#include <kiln/console.h>

__weak void start_domains(void)
{
    if (cmdline_has("exit_when_idle")) {
        pr_info("no domains to run, exiting (exit_when_idle)");
        machine_exit(0);
    }
    pr_info("no domains to run, idling");
}
