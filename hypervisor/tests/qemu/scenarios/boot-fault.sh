#!/usr/bin/env bash
# boot-fault.sh - an exception in the hypervisor produces a full report
# (vector, error code, registers, control registers, symbolised backtrace)
# and a non-zero exit, never a silent reset; panic() likewise.
. "$(dirname "$0")/../lib.sh"

kiln_boot -smp 2 -timeout 30 "exit_when_idle selftest=fault"
expect_log '\(kiln\) ERROR: FATAL EXCEPTION 14 \(#PF page fault\) error code 0x2 on CPU 0 in hypervisor context' "#PF reported with vector and error code"
expect_log 'ERROR: RAX [0-9a-f]{16} RBX [0-9a-f]{16} RCX [0-9a-f]{16}' "#PF: general registers dumped"
expect_log 'ERROR: R13 [0-9a-f]{16} R14 [0-9a-f]{16} R15 [0-9a-f]{16}' "#PF: extended registers dumped"
expect_log 'ERROR: CR0 [0-9a-f]{16} CR2 0000000000000010 CR3 [0-9a-f]{16} CR4' "#PF: CR2 holds the faulting address"
expect_log 'ERROR:   at ffffffff8[0-9a-f]{7} selftest_fault_deep\+0x' "#PF: faulting function named"
expect_log 'ERROR:   #0 ffffffff8[0-9a-f]{7} selftest_fault\+0x' "#PF: backtrace names the caller"
expect_log 'ERROR:   #[0-9] ffffffff8[0-9a-f]{7} start_kiln\+0x' "#PF: backtrace reaches start_kiln"
expect_count 'SeaBIOS' 1 "#PF: no reset (firmware ran once)"
expect_exit 3 "#PF: QEMU exits with status 3 (panic)"

kiln_boot -smp 1 -timeout 30 "exit_when_idle selftest=ud"
expect_log 'FATAL EXCEPTION 6 \(#UD invalid opcode\)' "#UD reported"
expect_log 'ERROR: PANIC on CPU 0: fatal exception 6' "#UD: panic follows the dump"
expect_exit 3 "#UD: QEMU exits with status 3"

kiln_boot -smp 1 -timeout 30 "exit_when_idle selftest=panic"
expect_log 'ERROR: PANIC on CPU 0: selftest=panic requested' "panic() message"
expect_log 'ERROR:   #0 ffffffff8[0-9a-f]{7} [a-z_]+\+0x' "panic() backtrace"
expect_exit 3 "panic: QEMU exits with status 3"

kiln_boot -smp 2 -timeout 30 "exit_when_idle selftest=stack"
expect_log 'FATAL EXCEPTION 8 \(#DF double fault\)' "stack overflow: double fault on the IST stack"
expect_log 'ERROR: STACK OVERFLOW: RSP ffffc[0-9a-f]{11} ran into the guard page' "stack overflow diagnosed"
expect_log 'ERROR:   #0 ffffffff8[0-9a-f]{7} selftest_recurse\+0x' "stack overflow: backtrace through the stack"
expect_exit 3 "stack overflow: QEMU exits with status 3"

kiln_boot -smp 4 -timeout 30 "exit_when_idle selftest=appanic"
expect_log 'ERROR: PANIC on CPU 3: selftest=appanic requested' "panic on an AP"
if kiln_log | grep -q 'PANIC on CPU 3' && ! kiln_log | sed -n '/PANIC on CPU 3/,$p' | grep -q 'CPU 0 alive'; then
    if kiln_log | grep -q 'CPU 0 alive'; then tap_ok "AP panic stops the other CPUs first"
    else tap_fail "AP panic stops the other CPUs first" "CPU 0 never logged"; fi
else
    tap_fail "AP panic stops the other CPUs first" "CPU 0 kept logging after the panic message"
fi
expect_exit 3 "AP panic: QEMU exits with status 3"
