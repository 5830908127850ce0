#!/usr/bin/env bash
# sched-credit2.sh - the credit2 scheduler (sched=credit2) on the real
# hypervisor keeps the promises sched-weights.sh and sched-cap.sh check for
# credit, with the same guests and the same observer: three CPU-bound
# guests pinned to CPU 1 with weights 256/512/1024 within 10% of 1:2:4
# over 20 s, and a guest capped at 25% within 5 points.  Then an unknown
# sched= name is logged and credit used.  About a minute (75 s with the
# host at load 11).
. "$(dirname "$0")/../lib.sh"

echo "host load before: $(cut -d" " -f1-3 /proc/loadavg), $(nproc) cores"

kiln_boot -smp 2 -timeout 60 "sched=credit2 exit_when_idle" \
    "build/guests/schedobs.elf name=observer cpus=0 priv" \
    "build/guests/spin.elf name=w256 weight=256 cpus=1" \
    "build/guests/spin.elf name=w512 weight=512 cpus=1" \
    "build/guests/spin.elf name=w1024 weight=1024 cpus=1"
expect_log '\(kiln\) scheduler: credit2$' "credit2 chosen by sched=credit2"
guest_tap all "credit2 weights"
expect_exit 1 "hypervisor exits cleanly after the credit2 weights test"

kiln_boot -smp 2 -timeout 60 "sched=credit2 exit_when_idle" \
    "build/guests/schedobs.elf name=observer cpus=0 priv" \
    "build/guests/spin.elf name=cap25 cap=25 cpus=1"
guest_tap all "credit2 cap"
expect_exit 1 "hypervisor exits cleanly after the credit2 cap test"

kiln_boot -smp 2 -timeout 30 "sched=nosuch exit_when_idle" "build/guests/hello.elf name=hello"
expect_log '\(kiln\) WARN: sched=nosuch: no such scheduler, using credit' "unknown scheduler name logged"
expect_log '\(kiln\) scheduler: credit$' "credit used instead"
expect_exit 1 "hypervisor exits cleanly with the default scheduler"

echo "host load after: $(cut -d" " -f1-3 /proc/loadavg)"
