#!/usr/bin/env bash
# banner-dom0.sh: how long a developer waits for dom0, through the real
# daemon: submission of a dom0-smoke flight to dom0's SSH answering the
# farm (the dom0-<host> step passing) and to the flight's verdict.  Two
# flights of the same revision: the first builds the hypervisor and dom0's
# image (cold: Debian packages fetched into a fresh cache), the second
# reuses the artifacts.  Baseline, measured in the same run: QEMU booting
# the same kiln.elf with dom0's kernel and initramfs as -initrd modules
# (no firmware network boot, no farm) until dom0 prints "sshd up".
. "$(dirname "$0")/../tests/e2e/lib.bash"
. "$(dirname "$0")/timing.bash"

# dom0_up FLIGHT START: seconds from START until the flight's dom0 step passed.
dom0_up() {
    for _ in $(seq 3000); do
        if [ "$(flight "$1" | jq '[.jobs[].steps[] | select((.name | startswith("dom0-host")) and .status == "pass")] | length')" -gt 0 ]; then
            echo "$(now) - $2" | bc
            return 0
        fi
        sleep 0.1
    done
    echo "timeout"
    return 1
}

setup_farm
start_daemon || { echo "banner-dom0 bench: daemon did not start" >&2; exit 1; }

t0=$(now); F1=$(submit dom0-smoke)
cold=$(dom0_up "$F1" "$t0") || { echo "banner-dom0 bench: dom0 never answered (cold)" >&2; exit 1; }
[ "$(wait_flight "$F1" 200)" = pass ] || echo "# warning: flight $F1 did not pass" >&2
cold_done=$(echo "$(now) - $t0" | bc)
t0=$(now); F2=$(submit dom0-smoke)
warm=$(dom0_up "$F2" "$t0") || { echo "banner-dom0 bench: dom0 never answered (warm)" >&2; exit 1; }
[ "$(wait_flight "$F2" 200)" = pass ] || echo "# warning: flight $F2 did not pass" >&2
warm_done=$(echo "$(now) - $t0" | bc)

# Baseline: the artifacts the flights booted, straight into QEMU.
J=$(flight "$F2")
hv=$E2E_TMP/artifacts/$(echo "$J" | jq -r .artifacts.hypervisor)
mkdir -p "$E2E_TMP/base"
ln -sf "$E2E_TMP/artifacts/$(echo "$J" | jq -r '.artifacts."dom0-kernel"')" "$E2E_TMP/base/vmlinuz"
ln -sf "$E2E_TMP/artifacts/$(echo "$J" | jq -r '.artifacts."dom0-initrd"')" "$E2E_TMP/base/initramfs.cpio.xz"
log=$E2E_TMP/baseline.log
t0=$(now)
timeout -k 2 60 qemu-system-x86_64 -accel tcg -cpu max -smp 2 -m 1024 -nographic -monitor none \
    -no-reboot -serial "file:$log" -device isa-debug-exit,iobase=0x501 \
    -netdev user,id=n0 -device virtio-net-pci,netdev=n0,romfile= \
    -kernel "$hv" -append "loglvl=info" \
    -initrd "$E2E_TMP/base/vmlinuz console=ttyS0 quiet,$E2E_TMP/base/initramfs.cpio.xz" \
    </dev/null >/dev/null 2>&1 &
qpid=$!
base=$(seconds_until_log "$log" "kiln-dom0: sshd up" "$t0" 60)
kill "$qpid" 2>/dev/null
wait "$qpid" 2>/dev/null

printf 'submission to dom0 SSH, cold (build + dom0 image + iPXE boot): %6.2f s\n' "$cold"
printf 'submission to dom0 SSH, reused artifacts:                     %6.2f s\n' "$warm"
printf 'submission to dom0-smoke verdict, cold / reused:      %6.2f s / %6.2f s\n' "$cold_done" "$warm_done"
printf 'baseline: qemu -kernel kiln.elf + dom0 modules to sshd up:    %6.2f s\n' "$base"
if [ "$base" != timeout ]; then
    printf 'ratio reused / baseline: %.1fx   cold / reused: %.1fx\n' \
        "$(echo "$warm / $base" | bc -l)" "$(echo "$cold / $warm" | bc -l)"
fi
