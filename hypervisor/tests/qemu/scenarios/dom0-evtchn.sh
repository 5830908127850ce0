#!/usr/bin/env bash
# dom0-evtchn.sh - event channels and I/O request forwarding between a dom0
# process and a guest on the real hypervisor: in dom0 (Kiln + toolstack's
# dom0 image, driven over SSH), toolstack/tests/on-kiln/evtchn.c builds the
# evdom0 guest (guests/tests/evdom0.c), connects a descriptor of its own to
# the guest's port 1 through kiln.ko, becomes the guest's I/O server for an
# MMIO page (ioreq page mapped through /dev/kiln), echoes 100 pings both
# ways and serves the guest's reads, writes and read-modify-write; then it
# exits with the guest's last read unanswered, and the hypervisor must
# crash the guest, alone, for its server is gone.  Builds the toolstack if
# it is missing.
. "$(dirname "$0")/../lib.sh"

ONKILN_TOOLSTACK=$(cd "$KILN_DIR/../toolstack" && pwd)
ONKILN_ELF=$KILN_ELF
. "$ONKILN_TOOLSTACK/tests/on-kiln/kiln-dom0.sh"
GUEST=$KILN_DIR/build/guests/evdom0.elf

KEYS=(bind fresh status twice nodomain raw ioreq ioreq-twice pings requests)
NAMES=(
    "a dom0 process binds the guest's port 1 and gets a descriptor (kiln_evtchn_bind)"
    "a fresh bound port starts with one notification"
    "the guest's port is connected to the process's port (kiln_evtchn_status)"
    "binding the same port again: EINVAL"
    "binding to a domain that does not exist: ESRCH"
    "a raw INIT_CONTROL through the hypercall ioctl: EPERM (dom0's ports are the module's)"
    "the process becomes the guest's I/O server and maps its ioreq page"
    "a second I/O server for the same guest: EEXIST"
    "100 event channel round trips between the guest and the dom0 process"
    "the guest's 7 MMIO accesses reach the process in order, with their data"
)
EXTRA=("the guest's TAP: ping-pong and dom0's device through MMIO"
       "the guest is crashed when the process exits with its read unanswered"
       "the hypervisor never panicked, dom0 alive" "dom0 powers the machine off")

skip_all() { for n in "${NAMES[@]}" "${EXTRA[@]}"; do tap_skip "$n" "$1"; done; exit 0; }
fail_all() { for n in "${NAMES[@]}" "${EXTRA[@]}"; do tap_fail "$n" "$1"; done; exit 0; }

trap onkiln_stop EXIT
if ! onkiln_ready; then
    make -C "$ONKILN_TOOLSTACK" >"$KILN_TMP/toolstack-build.log" 2>&1
fi
onkiln_ready && [ -f "$GUEST" ] || skip_all "toolstack or guest not built"
prog=$KILN_TMP/evtchn
if ! onkiln_build_prog evtchn "$prog" 2>"$KILN_TMP/cc.log"; then
    fail_all "cannot build evtchn.c: $(head -3 "$KILN_TMP/cc.log")"
fi

log() { tr -d '\r' < "$ONKILN_LOG"; }
onkiln_start "$KILN_TMP/serial.log" 240 || fail_all "QEMU did not start"
if ! onkiln_wait_for 'kiln-dom0: sshd up' 90; then
    echo "# last console lines:"; log | tail -15 | sed 's/^/#   /'
    fail_all "dom0's sshd never came up"
fi
onkiln_push "$GUEST" /tmp/evdom0.elf && onkiln_cfg evdom0 | onkiln_ssh -s 'cat > /tmp/evdom0.cfg' &&
    onkiln_push "$prog" /tmp/evtchn || fail_all "cannot copy the test into dom0"

out=$(onkiln_ssh '/tmp/evtchn /tmp/evdom0.cfg 2>&1')
tap_keys "$out"
# The guest is the first domain kl's builder made: d1.
sleep 1
oks=$(log | grep -Ec '\(d1\) ok [0-9]+ ')
if [ "$oks" = 6 ] && ! log | grep -Eq '\(d1\) not ok'; then
    tap_ok "${EXTRA[0]}"
else
    tap_fail "${EXTRA[0]}" "$oks of 6 ok lines: $(log | grep -E -m1 '\(d1\) not ok')"
fi
if log | grep -Eq "\(kiln\) .*d1 destroyed: its ioreq server d0 closed v0's channel \(server gone\)" &&
   ! log | grep -q '(d1) # still running after the server died'; then
    tap_ok "${EXTRA[1]}"
else
    tap_fail "${EXTRA[1]}" "$(log | grep -E -m1 'd1 destroyed' || echo 'no destroy line')"
fi
alive=$(onkiln_ssh 'kl destroy evdom0; kl list')
if ! log | grep -Eq 'PANIC on CPU|dom0 has ended' && grep -q dom0 <<<"$alive"; then
    tap_ok "${EXTRA[2]}"
else
    tap_fail "${EXTRA[2]}" "$(log | grep -E -m1 'PANIC on CPU|dom0 has ended')"
fi
onkiln_ssh 'poweroff -f' >/dev/null 2>&1
deadline=$(( $(date +%s) + 20 ))
while kill -0 "$ONKILN_PID" 2>/dev/null && [ "$(date +%s)" -lt "$deadline" ]; do sleep 0.2; done
if ! kill -0 "$ONKILN_PID" 2>/dev/null; then tap_ok "${EXTRA[3]}"; else tap_fail "${EXTRA[3]}" "QEMU still running"; fi
