#!/usr/bin/env bash
# evtchn-ioreq.sh - event channels and I/O request forwarding in a running
# hypervisor: a privileged server guest (d1, evserve) connects to three
# clients (d2-d4, evclient) through event channels in their own memory
# (FIFO array and control block), plays 200 ping-pongs with each and
# becomes their I/O server for an MMIO page and four ports.  d2's device
# accesses are answered (the vCPU blocks in each until then); d3's server
# never answers (300 ms timeout) and d4's closes its channel: each of those
# two is crashed alone, mid-instruction, and the server sees them go.
. "$(dirname "$0")/../lib.sh"

kiln_boot -smp 3 -timeout 120 "exit_when_idle" \
    "build/guests/evserve.elf name=server priv" \
    "build/guests/evclient.elf name=client mem=4M" \
    "build/guests/evclient.elf name=silent mem=4M" \
    "build/guests/evclient.elf name=orphan mem=4M"

guest_tap 1 "server"
guest_tap 2 "client"
expect_log '\(kiln\) d2: ioreq server d1, page gfn 0x300, timeout 5000 ms' "d2's I/O server registered"
expect_log '\(kiln\) .*d3 destroyed: its ioreq server d1 did not answer within 300 ms' "d3 crashed when its server did not answer in time"
expect_log '\(kiln\) .*d4 destroyed: its ioreq server d1 closed v0.s channel \(server gone\)' "d4 crashed when its server closed the channel"
expect_count '\(d3\) ok ' 5 "d3 got through its ping-pong before its first MMIO read"
expect_count '\(d4\) ok ' 5 "d4 got through its ping-pong before its first MMIO read"
expect_log '\(kiln\) d2 destroyed: shutdown \(poweroff\)' "d2 finished and powered off"
expect_log '\(kiln\) d1 destroyed: shutdown \(poweroff\)' "the server finished and powered off"
expect_no_log 'PANIC|panic|Exception' "hypervisor never faulted"
expect_exit 1 "hypervisor exits cleanly at the end"
