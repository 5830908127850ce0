#!/usr/bin/env bash
# Boots the domU image (domu/: Debian's kernel + the domU initramfs) under
# plain QEMU's microvm machine, whose devices are virtio-mmio like those
# kiln-devd serves: a console (virtconsole), a read-write and a read-only
# disk, and a network interface.  Checks the marker lines of domu/init: all
# drivers loaded, both disks seen with their sizes and the read-only flag,
# eth0 up, and a line written to hvc0 arriving through virtio-console.
# TAP on stdout.  Usage: domu-boot.sh DOMU-DIR
set -uo pipefail
domu=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

echo "1..5"
truncate -s 8M "$tmp/rw.img"
truncate -s 1M "$tmp/ro.img"
# microvm has no reference clock besides the PIT (no HPET, no PM timer): on a
# loaded host the TSC calibration against it fails and boot stalls, so the
# TSC frequency is given instead (its exact value does not matter here).
start=$(date +%s)
timeout 60 qemu-system-x86_64 -M microvm -accel tcg -cpu max -m 256M -nographic -no-reboot \
    -kernel "$domu/vmlinuz" -initrd "$domu/initramfs.cpio.xz" \
    -append "console=ttyS0 quiet panic=-1 tsc_early_khz=1000000 kiln.halt kiln.ip=10.0.2.15/24" \
    -device virtio-serial-device -chardev "file,id=hvc,path=$tmp/hvc.log" \
    -device virtconsole,chardev=hvc \
    -drive "if=none,id=d0,file=$tmp/rw.img,format=raw" -device virtio-blk-device,drive=d0 \
    -drive "if=none,id=d1,file=$tmp/ro.img,format=raw,readonly=on" -device virtio-blk-device,drive=d1 \
    -netdev user,id=n -device virtio-net-device,netdev=n \
    < /dev/null > "$tmp/serial.log" 2>&1
rc=$?
secs=$(( $(date +%s) - start ))

check() {   # check N DESCRIPTION PATTERN FILE
    if grep -qE "$3" "$4"; then
        echo "ok $1 - domU image: $2"
    else
        echo "not ok $1 - domU image: $2"
        sed 's/^/# /' "$4" | tail -n 15
    fi
}
check 1 "init reached (QEMU exit $rc, $secs s)" '^kiln-domu: init reached' "$tmp/serial.log"
check 2 "every virtio driver loaded" '^kiln-domu: drivers loaded: ([0-9]+) of \1' "$tmp/serial.log"
check 3 "both disks, sizes and read-only flag" \
    '^kiln-domu: disks: vda\(16384 sectors\) vdb\(2048 sectors, ro\)' "$tmp/serial.log"
check 4 "eth0 up with its address" '^kiln-domu: net: eth0 [0-9a-f:]{17} 10\.0\.2\.15/24' "$tmp/serial.log"
check 5 "hvc0 reaches the host" '^kiln-domu: hello on hvc0' "$tmp/hvc.log"
