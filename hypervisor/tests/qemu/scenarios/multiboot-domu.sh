#!/usr/bin/env bash
# multiboot-domu.sh - a Multiboot1 kernel booted as a PC domU: the guest
# (guests/tests/mbinfo.c) checks EAX/EBX, its entry state, the Multiboot
# info and memory map, and the ACPI tables it finds by the RSDP scan; a
# kt test guest beside it still boots as before, and a PC domain too
# small for its kernel is refused without harm to the others.  The PC
# domU is given the next boot module (a copy of hello.elf) as its
# Multiboot module, which is then not started as a domain.
. "$(dirname "$0")/../lib.sh"

modlen=$(stat -c %s "$KILN_DIR/build/guests/hello.elf")
kiln_boot -smp 2 -timeout 60 "exit_when_idle" \
    "build/guests/mbinfo.elf name=mb mem=16M vcpus=2 testdev modules=1 -- expect_kib=16384 expect_vcpus=2 expect_modlen=$modlen" \
    "build/guests/hello.elf module data" \
    "build/guests/hello.elf name=hello mem=4M" \
    "build/guests/mbinfo.elf name=tiny mem=1M"

guest_tap all "multiboot"
expect_log '\(kiln\) mb: Multiboot1 a.out kernel at 100000-1[0-9a-f]{5}, entry 100020, info at [0-9a-f]+, 1 module' \
    "the Multiboot kernel loaded by its a.out-kludge header"
expect_log '\(kiln\) d1 created: name=mb mem=16384K vcpus=2 pc testdev$' "a PC domain, with the test devices asked for"
expect_log '\(kiln\) d2 created: name=hello mem=4096K vcpus=1$' "the kt guest is no PC domain (nor was the module started)"
expect_log '\(kiln\) d1 destroyed: shutdown \(poweroff\)' "the PC domU powered off cleanly"
expect_log '\(kiln\) d2 destroyed: shutdown \(poweroff\)' "the kt guest beside it still boots and powers off"
expect_log '\(kiln\) (ERROR: )?module 3: cannot start .*name=tiny' "a PC domain too small for its kernel is refused"
expect_exit 1 "hypervisor exits cleanly when the guests are gone"
