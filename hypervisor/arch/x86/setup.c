/*
 * setup.c - the boot CPU's path from head.S to the idle loop.
 *
 * The order matters: per-CPU pointer first (printk uses it), the UART,
 * traps (so any later bug gives a dump), the clock (so every line has a
 * timestamp), the boot information, memory, interrupts, the other CPUs,
 * and finally whatever the rest of Kiln wants to run (start_domains()).
 */
#include <kiln/arch.h>
#include <kiln/boot.h>
#include <kiln/cmdline.h>
#include <kiln/console.h>
#include <kiln/mm.h>
#include <kiln/multiboot.h>
#include <kiln/selftest.h>
#include <kiln/serial.h>
#include <kiln/smp.h>
#include <kiln/time.h>
#include <kiln/traps.h>
#include <kiln/lib.h>
#include <kiln/x86.h>
#include <public/kiln.h>

/* FNV-1a over a module, so tests can check it arrived intact (debug only:
 * it reads every byte, which costs time on big modules under TCG). */
static u32 module_hash(const struct boot_module *m)
{
    const u8 *p = phys_to_virt(m->start);
    u32 h = 2166136261u;
    for (paddr_t i = 0; i < m->end - m->start; i++)
        h = (h ^ p[i]) * 16777619u;
    return h;
}

static void log_boot_info(void)
{
    pr_info("loader: %s", multiboot_loader_name());
    pr_info("command line: %s", cmdline_raw());
    const char *key, *value;
    for (unsigned int i = 0; cmdline_option(i, &key, &value) == 0; i++)
        pr_debug("option %u: '%s' = '%s'", i, key, value);
    for (unsigned int i = 0; i < boot_memmap_count(); i++) {
        const struct boot_mem_range *m = boot_memmap_get(i);
        pr_info("memory map: %016llx-%016llx type %u%s",
                (unsigned long long)m->start, (unsigned long long)m->end - 1, m->type,
                m->type == 1 ? " (RAM)" : "");
    }
    pr_info("%u module(s)", boot_module_count());
    for (unsigned int i = 0; i < boot_module_count(); i++) {
        const struct boot_module *m = boot_module_get(i);
        pr_info("module %u: %llx-%llx (%llu bytes) '%s'", i,
                (unsigned long long)m->start, (unsigned long long)m->end,
                (unsigned long long)(m->end - m->start), m->string);
        if (console_loglevel() >= LOG_DEBUG)
            pr_debug("module %u: fnv1a %08x", i, module_hash(m));
    }
}

static __noreturn void start_kiln_late(void);

static void check_console_option(void)
{
    const char *c = cmdline_get("console");
    if (c && kstrcmp(c, "com1"))
        pr_warn("console=%s not supported, using com1", c);
}

static __noreturn void run_on_stack(void *top, void (*fn)(void))
{
    /* rbp = 0 ends backtraces at fn. */
    __asm__ __volatile__("movq %0, %%rsp\n\t"
                         "xorl %%ebp, %%ebp\n\t"
                         "call *%1\n\t"
                         "ud2" :: "r"(top), "r"(fn) : "memory");
    __builtin_unreachable();
}

/* The rest of boot, on a guarded stack like every other CPU's. */
static __noreturn void start_kiln_late(void)
{
    struct acpi_info acpi;

    pic_disable();
    if (acpi_init(&acpi) < 0)
        panic("ACPI: no usable MADT, cannot find the CPUs");
    lapic_init();
    smp_ipi_init();
    lapic_timer_init();
    smp_boot_aps(&acpi);
    paging_drop_identity();
    pr_info("%u CPUs online", smp_nr_cpus());
    pr_info("memory: %llu pages free of %llu after boot",
            (unsigned long long)mm_free_pages(), (unsigned long long)mm_total_pages());

    selftest_run(cmdline_get("selftest"));
    start_domains();
    cpu_idle_loop();
}

void start_kiln(u32 mb_magic, u32 mb_info);
void start_kiln(u32 mb_magic, u32 mb_info)
{
    cpu_early_init(0);
    serial_init();
    /* Traps before anything can fault: an early bug must give a report,
     * not a triple-fault reset. */
    traps_init();
    if (cpu_tables_init(0) < 0)
        panic("boot CPU descriptor tables");
    time_init();
    if (multiboot_parse(mb_magic, mb_info) < 0)
        panic("not started by a Multiboot loader (magic %x)", mb_magic);
    pr_info("Kiln hypervisor starting (ABI %u.%u)", KILN_ABI_MAJOR, KILN_ABI_MINOR);
    check_console_option();
    log_boot_info();
    cpu_features_log();

    mm_init();
    void *stack = stack_alloc(STACK_ORDER);
    if (!stack)
        panic("no memory for the boot CPU's stack");
    this_cpu()->stack_top = stack;
    run_on_stack(stack, start_kiln_late);
}
