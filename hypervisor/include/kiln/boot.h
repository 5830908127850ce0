/*
 * boot.h - what the boot loader handed over, the hooks other components
 * plug into the boot sequence, and leaving the machine.
 */
#ifndef KILN_BOOT_H
#define KILN_BOOT_H

#include <kiln/compiler.h>
#include <kiln/types.h>

/* One Multiboot module: physical range [start, end) and its string. */
struct boot_module {
    paddr_t start, end;
    const char *string;   /* e.g. "guest-cpuid.elf name=cpuid weight=256" */
};

/* Multiboot memory map entry: [start, end), type 1 = usable RAM. */
struct boot_mem_range {
    paddr_t start, end;
    u32 type;
};

#define BOOT_MAX_MODULES   32
#define BOOT_MAX_MEMRANGES 64

unsigned int boot_module_count(void);
const struct boot_module *boot_module_get(unsigned int i);   /* NULL if out of range */
unsigned int boot_memmap_count(void);
const struct boot_mem_range *boot_memmap_get(unsigned int i);

/*
 * Called once on the boot CPU when the platform is up (console, memory,
 * traps, every CPU online and idle, timers): brings up the virtualisation
 * backend and starts the boot domains (common/domain_boot.c).
 */
void start_domains(void);

/*
 * Stops the machine: under QEMU with isa-debug-exit at 0x501 the process
 * exits with status (code << 1) | 1; elsewhere all CPUs halt.  code 0 means
 * a clean exit, anything else a failure.
 */
__noreturn void machine_exit(int code);

#endif
