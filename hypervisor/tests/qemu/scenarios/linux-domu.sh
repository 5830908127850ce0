#!/usr/bin/env bash
# linux-domu.sh - a Linux bzImage (toolstack's dom0 kernel, Debian's) booted
# as a PC domU through the 64-bit boot protocol, without a dom0 (the
# module option domu): Linux must report the command line, the e820 map
# and the ACPI tables Kiln built for it, then, on the platform (LAPIC,
# IOAPIC, PIT, PM timer, COM1), come up to mounting its root file system,
# which it does not have: panic=-1 makes it reset, which ends the domain.
# Skipped when the toolstack has not been built (KILN_LINUX_KERNEL names
# another bzImage).
. "$(dirname "$0")/../lib.sh"

KERNEL=${KILN_LINUX_KERNEL:-$KILN_DIR/../toolstack/build/dom0/vmlinuz}
NAMES=("kernel loaded" "command line" "e820 low RAM" "e820 reserved" "e820 high RAM"
       "RSDP" "XSDT" "FADT" "MADT" "DSDT" "IOAPIC routing" "serial driver" "root mount"
       "domain ended" "hypervisor exit")
if [ ! -f "$KERNEL" ]; then
    for n in "${NAMES[@]}"; do tap_skip "linux domU: $n" "no Linux kernel (toolstack not built)"; done
    exit 0
fi

kiln_boot -smp 2 -timeout 90 "exit_when_idle" \
    "$KERNEL domu name=lx mem=256M -- earlyprintk=ttyS0 console=ttyS0 panic=-1"

P='\(d1\) \[ *[0-9.]+\]'
expect_log '\(kiln\) lx: Linux boot protocol 2\.[0-9]+, kernel at 1000000' "linux domU: kernel loaded"
expect_log "$P Command line: earlyprintk=ttyS0 console=ttyS0 panic=-1\$" "linux domU: command line"
expect_log "$P BIOS-e820: \[mem 0x0000000000000000-0x000000000009fbff\] usable" "linux domU: e820 low RAM"
expect_log "$P BIOS-e820: \[mem 0x000000000009fc00-0x00000000000fffff\] reserved" "linux domU: e820 reserved"
expect_log "$P BIOS-e820: \[mem 0x0000000000100000-0x000000000fffffff\] usable" "linux domU: e820 high RAM"
expect_log "$P ACPI: RSDP 0x00000000000E0000 000024 \(v02 KILN  \)" "linux domU: RSDP"
expect_log "$P ACPI: XSDT 0x[0-9A-F]+ [0-9A-F]+ \(v01 KILN   KILNXSDT" "linux domU: XSDT"
expect_log "$P ACPI: FACP 0x[0-9A-F]+ 000114 \(v06 KILN   KILNFADT" "linux domU: FADT"
expect_log "$P ACPI: APIC 0x[0-9A-F]+ [0-9A-F]+ \(v04 KILN   KILNMADT" "linux domU: MADT"
expect_log "$P ACPI: DSDT 0x[0-9A-F]+ [0-9A-F]+ \(v02 KILN   KILNDSDT" "linux domU: DSDT"
expect_log "$P ACPI: Using IOAPIC for interrupt routing" "linux domU: IOAPIC routing"
expect_log "$P serial8250: ttyS0 at I/O 0x3f8 \(irq = 4, base_baud = 115200\) is a 16550A" \
    "linux domU: serial driver"
expect_log "$P Kernel panic - not syncing: VFS: Unable to mount root fs" "linux domU: root mount"
expect_log '\(kiln\) d1 destroyed: reset' "linux domU: domain ended"
expect_exit 1 "linux domU: hypervisor exit"
