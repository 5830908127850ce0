#!/usr/bin/env bash
# boot-mem.sh - with RAM above 4 GiB, the direct map and the page allocator
# cover all of it: every free page can be allocated, written through the
# direct map, read back and freed, and the free count returns to baseline.
# QEMU backs guest RAM with transparent huge pages, so touching every 2 MiB
# block makes the host allocate all of it: keep it small by putting only
# 1 GiB below 4 GiB (max-ram-below-4g) and 512 MiB above.
. "$(dirname "$0")/../lib.sh"

kiln_boot -smp 2 -mem 1536M -timeout 60 -qemu -machine -qemu pc,max-ram-below-4g=1G \
    "exit_when_idle selftest=mm"
expect_log '\(kiln\) memory map: 0000000100000000-000000011fffffff type 1 \(RAM\)' "RAM above 4 GiB reported"
expect_log '\(kiln\) memory: 153[0-9] MiB managed, [0-9]+ pages free, top of RAM 120000000' "allocator manages all 1.5 GiB"
expect_log '\(kiln\) selftest mm: took [0-9]+ pages \(highest at 11[0-9a-f]{7}\), 0 corrupted, free count back to baseline' "every free page usable, incl. above 4 GiB"
expect_no_log 'selftest mm: FAILED' "selftest took every free page"
expect_exit 1 "clean exit"
