#!/usr/bin/env bash
# dom0-devd.sh - kiln-devd serving a guest's virtio-mmio console on the real
# hypervisor: in dom0 (Kiln + toolstack's dom0 image, driven over SSH), `kl
# create -p` builds the virtiocon guest (guests/tests/virtiocon.c) paused,
# kiln-devd becomes its I/O server (ioreq page at gfn 0x300, the device
# window 0xfeb00000 forwarded) and the guest is started: it drives the
# console through MMIO requests answered by devd, sends a line that must
# land in devd's console log, then corrupts its ring, and devd must mark the
# device DEVICE_NEEDS_RESET (logging why) and keep serving after a reset.
# devd ends on SIGTERM.  Builds the toolstack if missing.
. "$(dirname "$0")/../lib.sh"

ONKILN_TOOLSTACK=$(cd "$KILN_DIR/../toolstack" && pwd)
ONKILN_ELF=$KILN_ELF
. "$ONKILN_TOOLSTACK/tests/on-kiln/kiln-dom0.sh"
GUEST=$KILN_DIR/build/guests/virtiocon.elf

NAMES=(
    "the guest's 7 virtio-mmio checks pass with kiln-devd answering its MMIO requests"
    "the line the guest sent through virtio-console is in devd's console log"
    "devd logs the guest's descriptor loop as a broken device, with the reason"
    "kiln-devd ends on SIGTERM"
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
onkiln_push "$GUEST" /tmp/virtiocon.elf && onkiln_cfg virtiocon | onkiln_ssh -s 'cat > /tmp/virtiocon.cfg' ||
    fail_all "cannot copy the guest into dom0"

# Build paused, start devd in the background (detached from the SSH
# session), then let the guest run.
out=$(onkiln_ssh 'kl create -p /tmp/virtiocon.cfg 2>&1')
domid=$(sed -n 's/^created domain \([0-9]*\) .*/\1/p' <<<"$out")
[ -n "$domid" ] || fail_all "kl create -p: $out"
onkiln_ssh "setsid kiln-devd -d $domid -i 0x300 -r /tmp/run /tmp/virtiocon.cfg \
    </dev/null >/tmp/devd.out 2>/tmp/devd.log & echo \$! > /tmp/devd.pid; sleep 1; kl unpause $domid" \
    >/dev/null 2>&1
onkiln_wait_for "\(d$domid\) ok 7 |\(d$domid\) not ok 7 " 60

oks=$(log | grep -Ec "\(d$domid\) ok [0-9]+ ")
if [ "$oks" = 7 ] && ! log | grep -Eq "\(d$domid\) not ok"; then
    tap_ok "${NAMES[0]}"
else
    tap_fail "${NAMES[0]}" "$oks of 7 ok lines: $(log | grep -E -m1 "\(d$domid\) not ok")"
fi
con=$(onkiln_ssh "cat /tmp/run/$domid.console.log" 2>&1)
if grep -q '^hello from the guest through virtio-console$' <<<"$con"; then
    tap_ok "${NAMES[1]}"
else
    tap_fail "${NAMES[1]}" "console log: $con"
fi
dlog=$(onkiln_ssh 'cat /tmp/devd.log' 2>&1)
echo "$dlog" | sed 's/^/# devd: /'
if grep -q 'console: device broken, needs reset: queue 1: chain from head 1 is longer than its descriptor table of 8 (a loop)' <<<"$dlog"; then
    tap_ok "${NAMES[2]}"
else
    tap_fail "${NAMES[2]}" "no such line in devd's log"
fi
st=$(onkiln_ssh 'p=$(cat /tmp/devd.pid); kill -TERM $p; for i in 1 2 3 4 5 6 7 8 9 10; do
    kill -0 $p 2>/dev/null || break; sleep 0.5; done; kill -0 $p 2>/dev/null && echo still-running;
    cat /tmp/devd.out; echo done' 2>&1)
# setsid's child is not this shell's to wait for, so the check is that it
# is gone within 5 s (and printed nothing on stdout).
if [[ "$st" == "done" ]]; then tap_ok "${NAMES[3]}"; else tap_fail "${NAMES[3]}" "$st"; fi
alive=$(onkiln_ssh "kl destroy $domid; kl list")
if ! log | grep -Eq 'PANIC on CPU|dom0 has ended' && grep -q dom0 <<<"$alive"; then
    tap_ok "${NAMES[4]}"
else
    tap_fail "${NAMES[4]}" "$(log | grep -E -m1 'PANIC on CPU|dom0 has ended')"
fi
onkiln_ssh 'poweroff -f' >/dev/null 2>&1
deadline=$(( $(date +%s) + 20 ))
while kill -0 "$ONKILN_PID" 2>/dev/null && [ "$(date +%s)" -lt "$deadline" ]; do sleep 0.2; done
if ! kill -0 "$ONKILN_PID" 2>/dev/null; then tap_ok "${NAMES[5]}"; else tap_fail "${NAMES[5]}" "QEMU still running"; fi
