/*
 * qemu_memmap.h - the memory map QEMU's firmware reports for -m 1G (what
 * the Multiboot loader hands Kiln), for the unit tests that place dom0's
 * RAM, its nested page table or the foreign window against it.
 */
#ifndef KILN_TEST_QEMU_MEMMAP_H
#define KILN_TEST_QEMU_MEMMAP_H

#define TOP 0x3ffe0000ul    /* usable RAM ends here; ACPI tables follow */

static const struct boot_mem_range qemu_map[] = {
    { 0x0, 0x9fc00, 1 },
    { 0x9fc00, 0xa0000, 2 },
    { 0xf0000, 0x100000, 2 },
    { 0x100000, TOP, 1 },
    { TOP, 0x40000000, 2 },
    { 0xfffc0000, 0x100000000, 2 },
};
#define QEMU_MAP_ENTRIES (sizeof(qemu_map) / sizeof(qemu_map[0]))

#endif
