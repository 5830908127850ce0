#!/usr/bin/env bash
# The test guest that dom0's `kl create` starts (hello64.elf), run on the
# real hypervisor today as a boot domain: Kiln starts boot domains exactly as
# the builder will (32-bit flat entry, RDI = RAM KiB, RSI = vCPU), so this
# checks the image and its hypercalls against Kiln itself.  Skipped (not
# passed) when the hypervisor has not been built.  Prints TAP only.
# Usage: guest-on-kiln.sh KILN_ELF GUEST_ELF
set -uo pipefail
kiln=$1 guest=$2

echo "1..1"
name="hello64.elf as a Kiln domain prints its console line and powers off"
if [[ ! -f "$kiln" ]]; then
    echo "ok 1 - $name # SKIP $kiln is not built (make -C hypervisor)"
    exit 0
fi
log=$(mktemp)
timeout 60 qemu-system-x86_64 -accel tcg -cpu max -m 256M -smp 2 -nographic -no-reboot \
    -device isa-debug-exit,iobase=0x501 -kernel "$kiln" -append "console=com1 exit_when_idle" \
    -initrd "$guest name=hello" < /dev/null > "$log" 2>&1
status=$?
# isa-debug-exit: QEMU exits with (code << 1) | 1, so 1 is Kiln's clean exit.
if [[ $status == 1 ]] && grep -q '(d1) hello from a Kiln test guest (ELF64)' "$log" &&
   grep -q 'd1 destroyed: shutdown (poweroff)' "$log"; then
    echo "ok 1 - $name"
    rm -f "$log"
    exit 0
fi
echo "not ok 1 - $name"
echo "# QEMU status $status; last lines of the serial log:"
tr -d '\r' < "$log" | tail -n 8 | sed 's/^/# /'
rm -f "$log"
exit 1
