#!/usr/bin/env bash
# Boot test of dom0's image under plain QEMU (no Kiln): the kernel reaches
# /init, the virtio drivers load, kiln.ko refuses to load with its clear
# message (there is no hypervisor), the network and dropbear come up, a root
# login with the build's key runs a command, and dom0 powers off on request.
# The login is checked with OpenSSH's client and with ssh-exec (libssh2, the
# way the farm logs in).  Prints TAP only.  Usage: dom0-boot.sh DOM0_DIR SSH_EXEC
set -uo pipefail
DOM0=$1
SSH_EXEC=$2
. "$(dirname "$0")/dom0-qemu.sh"

log=$DOM0/boot-test.serial.log
trap dom0_stop EXIT

echo "1..12"
if ! dom0_start "$log"; then
    for t in $(seq 1 12); do result 1 "dom0 test $t" "QEMU did not start"; done
    exit 1
fi
dom0_wait_for 'kiln-dom0: init reached' 60; result $? "dom0 kernel starts /init" "see $log"
dom0_wait_for 'kiln-dom0: sshd up' 60; up=$?
nmods=$(wc -l < "$DOM0/root/etc/kiln/modules")
grep -qE "kiln-dom0: drivers loaded: $nmods of $nmods\s*$" "$log"
result $? "all $nmods virtio drivers load" "$(grep -a 'insmod\|drivers' "$log")"
grep -q 'kiln-dom0: kiln.ko not loaded: .*kiln: not running on Kiln' "$log"
result $? "kiln.ko refuses to load off Kiln with a clear message" "$(grep 'kiln' "$log" | head -n3)"
grep -q 'kiln-dom0: network up: 10.0.2.15/' "$log"; result $? "eth0 configured by DHCP"
result $up "dropbear starts"
kver=$(cat "$DOM0/kver")
got=$(dom0_ssh uname -r 2>&1)
[[ "$got" == "$kver" ]]; result $? "root logs in over SSH with the build's key (uname -r)" "got: $got"
keys=$DOM0/keys
got=$("$SSH_EXEC" -p "$SSH_PORT" -i "$keys/id_ed25519" -k "$keys/host_ed25519.pub" -t 20 \
      127.0.0.1 'uname -r; exit 7' 2>&1)
status=$?
[[ $status == 7 && "$got" == "$kver" ]]
result $? "ssh-exec (libssh2) runs a command in dom0 and returns its status" "status $status, got: $got"
"$SSH_EXEC" -p "$SSH_PORT" -i "$keys/id_ed25519" -k "$keys/id_ed25519.pub" -t 20 127.0.0.1 true >/dev/null 2>&1
[[ $? == 255 ]]; result $? "ssh-exec refuses a host key other than the pinned one"
# Files go in through the command's standard input (-s); compare checksums.
sum=$(sha256sum < "$DOM0/initramfs.cpio.xz" | cut -d' ' -f1)
got=$("$SSH_EXEC" -s -p "$SSH_PORT" -i "$keys/id_ed25519" -k "$keys/host_ed25519.pub" -t 20 \
      127.0.0.1 'cat > /tmp/pushed && sha256sum /tmp/pushed' < "$DOM0/initramfs.cpio.xz" 2>&1)
[[ "$got" == "$sum  /tmp/pushed" ]]
result $? "ssh-exec -s copies a file into dom0 intact" "want $sum, got: $got"
# kl is static and in dom0; off Kiln it must say why it cannot work.
got=$(dom0_ssh 'kl list 2>&1; echo "status=$?"' 2>&1)
[[ "$got" == *"cannot open /dev/kiln"*"kiln.ko not loaded"*"status=1"* ]]
result $? "kl runs in dom0 and reports the missing /dev/kiln" "got: $got"
# kiln-devd is in dom0 beside the domU image it serves devices to.
got=$(dom0_ssh 'kiln-devd -n /usr/share/kiln/guests/hello.cfg && ls /usr/share/kiln/domu' 2>&1)
[[ "$got" == *"cmdline  virtio_mmio.device=512@0xfeb00000:16"*"initramfs.cpio.xz"* ]]
result $? "kiln-devd runs in dom0 and the domU initramfs is shipped" "got: $got"
dom0_ssh poweroff -f >/dev/null 2>&1
status=1
for _ in $(seq 1 100); do
    kill -0 "$QEMU_PID" 2>/dev/null || { wait "$QEMU_PID"; status=$?; break; }
    sleep 0.1
done
result $status "dom0 powers off on request"
exit $(( failed > 0 ))
