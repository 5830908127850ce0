#!/usr/bin/env bash
# vmx-models.sh - Kiln boots and runs the hello guest under VT-x on the
# other Intel CPU models Bochs offers with EPT, VPID and unrestricted
# guest (vmx-boot.sh covers corei7_skylake_x).
. "$(dirname "$0")/../lib.sh"

for model in tigerlake corei7_icelake_u; do
    bochs_boot -cpu "$model" -timeout 90 "exit_when_idle" \
        "build/guests/hello.elf name=hello mem=4M"
    expect_log '\(kiln\) vmx: VT-x with EPT' "$model: VT-x backend chosen"
    expect_log '\(d1\) ok 1 - version hypercall' "$model: hello's hypercall answered"
    expect_log '\(kiln\) d1 destroyed: shutdown \(poweroff\)' "$model: hello powered off cleanly"
    expect_kiln_exit 0 "$model: hypervisor exits cleanly"
done
