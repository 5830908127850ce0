#!/usr/bin/env bash
# pvh-domu.sh - a PVH kernel (an ELF with Xen's PHYS32_ENTRY note) booted
# as a PC domU: the guest (guests/tests/pvhinfo.c) checks EBX =
# hvm_start_info (magic, version 1), its entry state, the command line,
# its module (the next boot module, modules=1), the memory map,
# rsdp_paddr and the ACPI tables it finds by the RSDP scan.
. "$(dirname "$0")/../lib.sh"

modlen=$(stat -c %s "$KILN_DIR/build/guests/hello.elf")
kiln_boot -smp 2 -timeout 60 "exit_when_idle" \
    "build/guests/pvhinfo.elf name=pvh mem=24M vcpus=3 modules=1 -- expect_kib=24576 expect_vcpus=3 expect_modlen=$modlen" \
    "build/guests/hello.elf module data"

guest_tap all "pvh"
expect_log '\(kiln\) pvh: PVH kernel at 100000-1[0-9a-f]{5}, entry 100000, start info at [0-9a-f]+, 1 module' \
    "the kernel loaded by its PT_LOAD segments, entered at the note's address"
expect_log '\(kiln\) d1 created: name=pvh mem=24576K vcpus=3 pc$' "a PC domain"
expect_log '\(kiln\) d1 destroyed: shutdown \(poweroff\)' "the PVH domU powered off cleanly"
expect_exit 1 "hypervisor exits cleanly when the guest is gone"
