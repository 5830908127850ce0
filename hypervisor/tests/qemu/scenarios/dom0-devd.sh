#!/usr/bin/env bash
# dom0-devd.sh - kiln-devd serving a guest's virtio-mmio console and disk on
# the real hypervisor: in dom0 (Kiln + toolstack's dom0 image, driven over
# SSH), `kl create -p` builds the virtio guest (guests/tests/virtio.c)
# paused, kiln-devd becomes its I/O server (ioreq page at gfn 0x300, the
# device window 0xfeb00000 forwarded) with a 1 MiB image as vda, and the
# guest is started: through MMIO requests answered by devd it sends a line
# that must land in devd's console log and writes a sector that must land in
# the image; then it corrupts each ring, and devd must mark the device
# DEVICE_NEEDS_RESET (logging why) and keep serving after a reset.  Then
# devd is killed (SIGKILL) while the guest keeps using its console: the
# hypervisor must crash that guest alone.  Builds the toolstack if missing.
. "$(dirname "$0")/../lib.sh"

ONKILN_TOOLSTACK=$(cd "$KILN_DIR/../toolstack" && pwd)
ONKILN_ELF=$KILN_ELF
. "$ONKILN_TOOLSTACK/tests/on-kiln/kiln-dom0.sh"
GUEST=$KILN_DIR/build/guests/virtio.elf

NAMES=(
    "the guest's 13 virtio-mmio checks pass with kiln-devd answering its MMIO requests"
    "the line the guest sent through virtio-console is in devd's console log"
    "the sector the guest wrote through virtio-blk is in the image file"
    "devd logs both corrupt rings as broken devices, with the reasons"
    "kill -9 of kiln-devd crashes its guest, alone"
    "the hypervisor never panicked, dom0 alive"
    "dom0 powers the machine off"
)
skip_all() { for n in "${NAMES[@]}"; do tap_skip "$n" "$1"; done; exit 0; }
fail_all() { for n in "${NAMES[@]}"; do tap_fail "$n" "$1"; done; exit 0; }

trap onkiln_stop EXIT
if ! onkiln_ready; then
    make -C "$ONKILN_TOOLSTACK" >"$KILN_TMP/toolstack-build.log" 2>&1
fi
onkiln_ready && [ -f "$GUEST" ] || skip_all "toolstack or guest not built"

log() { tr -d '\r' < "$ONKILN_LOG"; }
onkiln_start "$KILN_TMP/serial.log" 240 || fail_all "QEMU did not start"
if ! onkiln_wait_for 'kiln-dom0: sshd up' 90; then
    echo "# last console lines:"; log | tail -15 | sed 's/^/#   /'
    fail_all "dom0's sshd never came up"
fi
{ onkiln_cfg virtio; echo 'disk = [ "/tmp/vda.img,rw,vda" ]'; } > "$KILN_TMP/virtio.cfg"
onkiln_push "$GUEST" /tmp/virtio.elf && onkiln_push "$KILN_TMP/virtio.cfg" /tmp/virtio.cfg &&
    onkiln_ssh 'dd if=/dev/zero of=/tmp/vda.img bs=1024 count=1024 2>/dev/null' ||
    fail_all "cannot copy the guest into dom0"

# Build paused, start devd in the background (detached from the SSH
# session), then let the guest run.
out=$(onkiln_ssh 'kl create -p /tmp/virtio.cfg 2>&1')
domid=$(sed -n 's/^created domain \([0-9]*\) .*/\1/p' <<<"$out")
[ -n "$domid" ] || fail_all "kl create -p: $out"
onkiln_ssh "setsid kiln-devd -d $domid -i 0x300 -r /tmp/run /tmp/virtio.cfg \
    </dev/null >/tmp/devd.out 2>/tmp/devd.log & echo \$! > /tmp/devd.pid; sleep 1; kl unpause $domid" \
    >/dev/null 2>&1
onkiln_wait_for "\(d$domid\) (not )?ok 13 " 90

oks=$(log | grep -Ec "\(d$domid\) ok [0-9]+ ")
if [ "$oks" = 13 ] && ! log | grep -Eq "\(d$domid\) not ok"; then
    tap_ok "${NAMES[0]}"
else
    tap_fail "${NAMES[0]}" "$oks of 13 ok lines: $(log | grep -E -m1 "\(d$domid\) not ok")"
fi
con=$(onkiln_ssh "cat /tmp/run/$domid.console.log" 2>&1)
if grep -q '^hello from the guest through virtio-console$' <<<"$con"; then
    tap_ok "${NAMES[1]}"
else
    tap_fail "${NAMES[1]}" "console log: $con"
fi
sector=$(onkiln_ssh 'dd if=/tmp/vda.img bs=512 skip=5 count=1 2>/dev/null | od -An -tx1 -N8' 2>&1)
if [ "$(echo $sector)" = "00 07 0e 15 1c 23 2a 31" ]; then
    tap_ok "${NAMES[2]}"
else
    tap_fail "${NAMES[2]}" "sector 5 starts with: $sector"
fi
dlog=$(onkiln_ssh 'cat /tmp/devd.log' 2>&1)
echo "$dlog" | sed 's/^/# devd: /'
if grep -q 'console: device broken, needs reset: queue 1: chain from head 3 is longer than its descriptor table of 8 (a loop)' <<<"$dlog" &&
   grep -q 'blk: device broken, needs reset: queue 0: buffer 0x10000000+512 of descriptor 3 is outside guest RAM' <<<"$dlog"; then
    tap_ok "${NAMES[3]}"
else
    tap_fail "${NAMES[3]}" "not both lines in devd's log"
fi
onkiln_ssh 'kill -KILL $(cat /tmp/devd.pid)' >/dev/null 2>&1
if onkiln_wait_for "\(kiln\) .*d$domid destroyed: its ioreq server d0 closed v0's channel" 30 &&
   ! log | grep -q "(d$domid) # still running"; then
    tap_ok "${NAMES[4]}"
else
    tap_fail "${NAMES[4]}" "$(log | grep -E -m1 "d$domid destroyed" || echo 'no destroy line')"
fi
alive=$(onkiln_ssh "kl destroy $domid; kl list")
if ! log | grep -Eq 'PANIC on CPU|dom0 has ended' && grep -q dom0 <<<"$alive"; then
    tap_ok "${NAMES[5]}"
else
    tap_fail "${NAMES[5]}" "$(log | grep -E -m1 'PANIC on CPU|dom0 has ended')"
fi
onkiln_ssh 'poweroff -f' >/dev/null 2>&1
deadline=$(( $(date +%s) + 20 ))
while kill -0 "$ONKILN_PID" 2>/dev/null && [ "$(date +%s)" -lt "$deadline" ]; do sleep 0.2; done
if ! kill -0 "$ONKILN_PID" 2>/dev/null; then tap_ok "${NAMES[6]}"; else tap_fail "${NAMES[6]}" "QEMU still running"; fi
