#!/usr/bin/env bash
# dom0-foreign.sh - foreign mappings end to end on the real hypervisor: in
# dom0 (Kiln + toolstack's dom0 image, driven over SSH), a process maps a
# page of a test guest through /dev/kiln, reads the pattern the guest
# wrote and writes a reply the guest echoes on its console; every invalid
# MAP/UNMAP_FOREIGN gets its error; the per-domain limit holds; 100
# map/unmap cycles leak nothing; destroying the guest while it is mapped
# leaves the mapping reading zeros (the hypervisor's sink page, also after
# a new domain took the freed pages) and the free page count comes back.
# The dom0 side is toolstack/tests/on-kiln/foreign.c, the guest
# toolstack/tests/guest/foreign64.S; builds the toolstack if it is missing.
. "$(dirname "$0")/../lib.sh"

ONKILN_TOOLSTACK=$(cd "$KILN_DIR/../toolstack" && pwd)
ONKILN_ELF=$KILN_ELF
. "$ONKILN_TOOLSTACK/tests/on-kiln/kiln-dom0.sh"
GUEST=$ONKILN_TOOLSTACK/build/guest/foreign64.elf

# Keys printed by foreign.c, in order, and what each one shows.
KEYS=(window reserved read reply esrch self gfn outside unaligned double libkiln busy limit cycles destroy reuse free)
NAMES=(
    "physinfo reports dom0's foreign window (1024 pages, 4 MiB aligned)"
    "the window is a Reserved range of dom0's e820, not its RAM"
    "a dom0 process reads the guest's pattern through /dev/kiln"
    "the guest sees dom0's write through the mapping and echoes it (kl console)"
    "MAP_FOREIGN of a domain that does not exist: ESRCH"
    "MAP_FOREIGN of dom0 itself (id 0 and DOMID_SELF): EPERM"
    "MAP_FOREIGN of a gfn beyond the guest's RAM: EFAULT"
    "MAP_FOREIGN at a local_gpa below, above the window or in dom0's RAM: EINVAL"
    "MAP/UNMAP_FOREIGN at an unaligned local_gpa: EINVAL"
    "MAP_FOREIGN at a mapped window page: EEXIST; UNMAP twice: ENOENT"
    "kiln_map_foreign passes refusals on (ESRCH, EPERM, EFAULT all or nothing)"
    "mapping an already mapped page of the mmap: EBUSY"
    "513 pages of one domain: E2BIG and nothing left mapped; 512 map"
    "100 map/unmap cycles of 11 pages: no window page or free page lost"
    "destroying the mapped guest: DESTROY succeeds, the mapping then reads zeros"
    "a new domain on the freed pages is not visible through the old mapping"
    "free page count back to its start after destroy and munmap"
)
EXTRA=("hypervisor logs unmapping dom0's mappings before freeing" "kl peek hexdumps a page of a running guest"
       "the hypervisor never panicked, dom0 alive" "dom0 powers the machine off")

skip_all() { for n in "${NAMES[@]}" "${EXTRA[@]}"; do tap_skip "$n" "$1"; done; exit 0; }
fail_all() { for n in "${NAMES[@]}" "${EXTRA[@]}"; do tap_fail "$n" "$1"; done; exit 0; }

trap onkiln_stop EXIT
if ! onkiln_ready || [ ! -f "$GUEST" ]; then
    make -C "$ONKILN_TOOLSTACK" >"$KILN_TMP/toolstack-build.log" 2>&1
fi
onkiln_ready && [ -f "$GUEST" ] || skip_all "toolstack not built"
prog=$KILN_TMP/foreign
if ! onkiln_build_prog foreign "$prog" 2>"$KILN_TMP/cc.log"; then
    fail_all "cannot build foreign.c: $(head -3 "$KILN_TMP/cc.log")"
fi

log() { tr -d '\r' < "$ONKILN_LOG"; }
onkiln_start "$KILN_TMP/serial.log" 240 || fail_all "QEMU did not start"
if ! onkiln_wait_for 'kiln-dom0: sshd up' 90; then
    echo "# last console lines:"; log | tail -15 | sed 's/^/#   /'
    fail_all "dom0's sshd never came up"
fi
onkiln_push "$GUEST" /tmp/foreign64.elf && onkiln_cfg foreign64 | onkiln_ssh -s 'cat > /tmp/foreign64.cfg' &&
    onkiln_push "$prog" /tmp/foreign || fail_all "cannot copy the test into dom0"

out=$(onkiln_ssh '/tmp/foreign /tmp/foreign64.cfg 2>&1')
tap_keys "$out"
if log | grep -Eq '\(kiln\) d[0-9]+: 5 page\(s\) mapped by dom0 unmapped before freeing'; then
    tap_ok "${EXTRA[0]}"
else
    tap_fail "${EXTRA[0]}" "no such log line"
fi
peek=$(onkiln_ssh 'kl create /tmp/foreign64.cfg >/dev/null &&
    for i in 1 2 3 4 5 6 7 8 9 10; do kl console foreign64 | grep -q "pattern ready" && break; sleep 0.5; done
    kl peek foreign64 0x200 32; kl destroy foreign64')
echo "$peek" | sed 's/^/# /'
# Words 0x6b696c6e, 0x6b696c6f, ... little-endian: "nlik", "olik", ...
if grep -q '^0x200000: 6e 6c 69 6b 6f 6c 69 6b 70 6c 69 6b 71 6c 69 6b  |nlikolikplikqlik|$' <<<"$peek"; then
    tap_ok "${EXTRA[1]}"
else
    tap_fail "${EXTRA[1]}" "no such hexdump line"
fi
alive=$(onkiln_ssh 'kl list')
if ! log | grep -Eq 'PANIC on CPU|dom0 has ended' && grep -q dom0 <<<"$alive"; then
    tap_ok "${EXTRA[2]}"
else
    tap_fail "${EXTRA[2]}" "$(log | grep -E -m1 'PANIC on CPU|dom0 has ended')"
fi
onkiln_ssh 'poweroff -f' >/dev/null 2>&1
deadline=$(( $(date +%s) + 20 ))
while kill -0 "$ONKILN_PID" 2>/dev/null && [ "$(date +%s)" -lt "$deadline" ]; do sleep 0.2; done
if ! kill -0 "$ONKILN_PID" 2>/dev/null; then tap_ok "${EXTRA[3]}"; else tap_fail "${EXTRA[3]}" "QEMU still running"; fi
