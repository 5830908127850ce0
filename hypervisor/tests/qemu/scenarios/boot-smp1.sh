#!/usr/bin/env bash
# boot-smp1.sh - Kiln boots on one CPU under QEMU -kernel, parses what the
# loader gave it, and exits cleanly when there is nothing to run.
. "$(dirname "$0")/../lib.sh"

echo "module payload" > "$KILN_TMP/mod.txt"
kiln_boot -smp 1 "loglvl=debug dom0_cpus=1 sched=credit exit_when_idle" \
    "$KILN_TMP/mod.txt name=m0 weight=256"

expect_log '^\[ +[0-9]+\.[0-9]{6}\] \(kiln\) Kiln hypervisor starting' "banner with timestamp"
expect_log '\(kiln\) command line: .*dom0_cpus=1 sched=credit exit_when_idle' "command line logged"
expect_log "\(kiln\) option 1: 'dom0_cpus' = '1'" "options split into key and value"
expect_log "\(kiln\) option 3: 'exit_when_idle' = ''" "bare flag option"
expect_no_log "\(kiln\) option [0-9]+: '.*kiln.elf'" "image name is not an option"
expect_log '\(kiln\) memory map: 0000000000100000-[0-9a-f]+ type 1 \(RAM\)' "memory map parsed"
expect_log "\(kiln\) module 0: [0-9a-f]+-[0-9a-f]+ \(15 bytes\) '.*mod.txt name=m0 weight=256'" "module and its string"
expect_log "\(kiln\) module 0: fnv1a $(fnv1a "$KILN_TMP/mod.txt")" "module content intact"
expect_log '\(kiln\) memory: 10[0-9]{2} MiB managed, [0-9]+ pages free' "page allocator covers RAM"
expect_log '\(kiln\) 1 CPUs online' "one CPU online"
expect_exit 1 "clean exit through isa-debug-exit"
