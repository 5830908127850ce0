#!/usr/bin/env bash
# domain-churn-dom0.sh - domain-churn.sh with a Linux dom0 on CPU 0 as the
# second bystander, the setting of a dom0 crash seen once ("dom0's saved
# state held the hypervisor's own state"): the two churners (CPUs 1 and 2)
# create and destroy domains for 10 s, children run on CPUs 1-3, and
# dom0 boots meanwhile (its boot is thousands of CPUID/MSR exits through
# its VMCB).  dom0 must reach its init and still be running when the run
# is stopped; its end (crash or otherwise) would stop the machine.  Uses
# toolstack/'s dom0 image; skipped when it is not built.
. "$(dirname "$0")/../lib.sh"

DOM0=$KILN_DIR/../toolstack/build/dom0
NAMES=("churners, canary" "dom0 reached init while domains churned"
       "dom0 was still running when the run was stopped"
       "no vCPU run twice or freed in use, every destroy completed")
if [ ! -f "$DOM0/vmlinuz" ] || [ ! -f "$DOM0/initramfs.cpio.xz" ]; then
    for n in "${NAMES[@]}"; do tap_skip "$n" "toolstack's dom0 image not built"; done
    exit 0
fi

# No exit_when_idle: dom0 runs until this script stops QEMU, once the
# churners and the canary have reported and dom0 has reached its init (or
# after 40 s at most).
echo "host load before: $(cut -d" " -f1-3 /proc/loadavg), $(nproc) cores"
pidfile=$KILN_TMP/qemu.pid
kiln_boot -smp 4 -timeout 40 -qemu -pidfile -qemu "$pidfile" "console=com1" \
    "$DOM0/vmlinuz console=ttyS0 quiet panic=-1" "$DOM0/initramfs.cpio.xz" \
    "build/guests/churn.elf name=churn-a cpus=1 priv" \
    "build/guests/churn.elf name=churn-b cpus=2 priv" \
    "build/guests/canary.elf name=canary cpus=3" &
boot=$!
stopped=no
while kill -0 "$boot" 2>/dev/null; do
    [ -f "$KILN_LOG" ] || { sleep 0.5; continue; }
    if [ "$(kiln_log | grep -Ec '\(d[123]\) ok 2 - ')" = 3 ] &&
        kiln_log | grep -q 'kiln-dom0: init reached'; then
        kill -TERM "$(cat "$pidfile")" && stopped=yes
        break
    fi
    sleep 0.5
done
wait "$boot"
echo "host load after: $(cut -d" " -f1-3 /proc/loadavg)"

guest_tap all "churn+dom0"
expect_log 'kiln-dom0: init reached' "${NAMES[1]}"
if [ "$stopped" = yes ] && ! kiln_log | grep -q 'dom0 has ended'; then
    tap_ok "${NAMES[2]}"
else
    tap_fail "${NAMES[2]}" "stopped by this script: $stopped; $(kiln_log | grep -m1 'dom0 has ended\|PANIC')"
fi
expect_no_log 'still not freed|picked on CPU|freed while CPU|BUG_ON|PANIC' "${NAMES[3]}"
