#!/usr/bin/env bash
# boot-smp4.sh - with -smp 4 every CPU of the MADT comes up, and each one
# takes its own LAPIC timer interrupt and a kick IPI (selftest=timer).
. "$(dirname "$0")/../lib.sh"

kiln_boot -smp 4 "exit_when_idle selftest=timer"

expect_log '\(kiln\) ACPI: .*MADT lists 4 CPU' "MADT enumerates 4 CPUs"
expect_count '\(kiln\) SMP: CPU [1-3] \(APIC id [0-9]+\) online' 3 "three APs started"
expect_log '\(kiln\) 4 CPUs online' "4 CPUs online"
expect_log '\(kiln\) selftest timer: 4/4 CPUs took their timer, 4/4 took a kick IPI' "timers and IPIs on every CPU"
expect_log '\(kiln\) selftest cpus: 4/4 run with caches on' "every CPU runs with caches on (CR0.CD/NW clear)"
expect_no_log 'ERROR|WARN' "no errors or warnings"
expect_exit 1 "clean exit"
