#!/usr/bin/env bash
# dom0-ipxe.sh - what a farm host does: iPXE fetches Kiln and dom0's kernel
# and initramfs over HTTP (QEMU user network, the host is 10.0.2.2) and
# boots them as Multiboot modules; dom0 comes up on the same NIC, takes a
# DHCP lease, and the host reaches it over SSH through a forwarded port.
# Uses toolstack/'s build; skipped if it is missing.
. "$(dirname "$0")/../lib.sh"

ONKILN_TOOLSTACK=$(cd "$KILN_DIR/../toolstack" && pwd)
ONKILN_ELF=$KILN_ELF
. "$ONKILN_TOOLSTACK/tests/on-kiln/kiln-dom0.sh"

CHECKS=("Kiln loaded by iPXE with dom0's modules" "dom0 reaches init after an iPXE boot"
        "kiln.ko loads" "dom0 reachable over SSH, kl list shows it" "dom0 powers the machine off")
if ! onkiln_ready; then
    for c in "${CHECKS[@]}"; do tap_skip "$c" "toolstack not built (make -C toolstack)"; done
    exit 0
fi

www=$KILN_TMP/www
mkdir -p "$www"
cp "$KILN_ELF" "$www/kiln.elf"
cp "$ONKILN_DOM0/vmlinuz" "$ONKILN_DOM0/initramfs.cpio.xz" "$www/"
py=$(python3 -c 'import sys; print(sys.executable)')
"$py" -u -m http.server 0 --bind 127.0.0.1 --directory "$www" > "$KILN_TMP/http.log" 2>&1 &
http_pid=$!
trap 'onkiln_stop; kill $http_pid 2>/dev/null' EXIT
port=
for _ in $(seq 50); do
    port=$(sed -n 's/.*port \([0-9][0-9]*\).*/\1/p' "$KILN_TMP/http.log" | head -1)
    [ -n "$port" ] && break
    sleep 0.1
done
cat > "$www/boot.ipxe" <<EOF
#!ipxe
kernel http://10.0.2.2:$port/kiln.elf console=com1
module http://10.0.2.2:$port/vmlinuz console=ttyS0 quiet panic=-1
module http://10.0.2.2:$port/initramfs.cpio.xz
boot
EOF

ONKILN_LOG=$KILN_LOG
for try in 1 2 3; do
    ONKILN_PORT=$(( 20000 + (RANDOM % 20000) ))
    timeout --foreground -k 5 150 qemu-system-x86_64 -accel tcg -cpu max -m 1G -smp 2 -nographic -no-reboot \
        -monitor none -serial "file:$KILN_LOG" -device isa-debug-exit,iobase=0x501 -boot n \
        -netdev "user,id=n0,bootfile=http://10.0.2.2:$port/boot.ipxe,hostfwd=tcp:127.0.0.1:$ONKILN_PORT-:22" \
        -device virtio-net-pci,netdev=n0 </dev/null > "$KILN_TMP/qemu.out" 2>&1 &
    ONKILN_PID=$!
    sleep 0.3
    kill -0 "$ONKILN_PID" 2>/dev/null && break
done

check() {
    local name=$1
    shift
    if "$@"; then tap_ok "$name"; else tap_fail "$name" "failed: $*"; fi
}
booted() {
    onkiln_wait_for '\(kiln\) dom0: entering Linux on CPU 0' 60 && kiln_log | grep -q '(kiln) loader: iPXE'
}
check "${CHECKS[0]}" booted
check "${CHECKS[1]}" onkiln_wait_for 'kiln-dom0: init reached' 60
check "${CHECKS[2]}" onkiln_wait_for 'kiln-dom0: kiln.ko loaded' 20
if ! onkiln_wait_for 'kiln-dom0: sshd up' 30; then
    echo "# last console lines:"; kiln_log | tail -15 | sed 's/^/#   /'
    for c in "${CHECKS[@]:3}"; do tap_fail "$c" "dom0's sshd never came up"; done
    exit 0
fi
list=$(onkiln_ssh 'kl list')
check "${CHECKS[3]}" grep -Eq '^0 +dom0 +running' <<<"$list"
onkiln_ssh 'poweroff -f' >/dev/null 2>&1
deadline=$(( $(date +%s) + 20 ))
while kill -0 "$ONKILN_PID" 2>/dev/null && [ "$(date +%s)" -lt "$deadline" ]; do sleep 0.2; done
check "${CHECKS[4]}" bash -c '! kill -0 "$1" 2>/dev/null' _ "$ONKILN_PID"
