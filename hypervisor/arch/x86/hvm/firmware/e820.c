/*
 * e820.c - the memory map of a PC domU.
 *
 * A domU's RAM is one run of guest-physical pages from 0.  What a PC's
 * firmware would report for it: conventional memory up to the EBDA
 * (FW_LOW_RAM_END, 639 KiB), then reserved up to 1 MiB (EBDA, VGA hole,
 * option ROMs and the BIOS area, which here holds the ACPI tables: Linux
 * keeps reserved memory out of its allocator and still reads the tables
 * there), then RAM from 1 MiB to the top.  Multiboot's memory map and
 * PVH's hvm_start_info carry the same entries.
 */
#include <kiln/firmware.h>
#include <public/kiln.h>

int fw_e820_build(u64 ram_bytes, struct e820_entry *out, unsigned int max)
{
    if (max < FW_E820_ENTRIES || ram_bytes < 2 * FW_HIGH_RAM_START ||
        ram_bytes > FW_MMIO_HOLE_START)
        return -KILN_EINVAL;
    out[0] = (struct e820_entry){ 0, FW_LOW_RAM_END, E820_RAM };
    out[1] = (struct e820_entry){ FW_BIOS_START, FW_HIGH_RAM_START - FW_BIOS_START,
                                  E820_RESERVED };
    out[2] = (struct e820_entry){ FW_HIGH_RAM_START, ram_bytes - FW_HIGH_RAM_START, E820_RAM };
    return FW_E820_ENTRIES;
}
