#!/bin/sh
# dom0-run.sh - the farm's side of the conformance suite (testsuites/
# conformance.suite): runs in dom0 (busybox sh) on a nested farm host and
# starts every kvm-unit-tests entry as a domU with `kl create -c`, one at a
# time, printing TAP that the farm turns into one step per entry.
#
# It sits in the payload `make -C hypervisor conformance-payload` lays out
# (run.sh payload DIR): DIR/x86/*.flat, DIR/entries (one line per entry,
# fields separated by US 0x1f: name, file, vCPUs, MiB, timeout, -append
# arguments, reference result or "excluded"), DIR/pass/NAME (the subtests
# that pass on the reference, one per line) and this script.  Results are
# judged as run.sh judges them: a test passes when the hypervisor logs
# `dN destroyed: exit code 0`; TAP has one result per test that passes on
# the reference (`NAME`) and one for the reference-passing subtests of each
# test that fails there as a whole (`NAME subtests`), each followed by a
# comment with the reason, time and subtest counts; the last line is the
# same summary as run.sh's, as a TAP comment.  Each entry gets its timeout
# from unittests.cfg, at most 60 s if it fails on the reference.
#
# Usage: sh DIR/dom0-run.sh [NAME...]   (no names: every entry)
set -u

dir=$(cd "$(dirname "$0")" && pwd)
us=$(printf '\037')
work=$(mktemp -d /tmp/kvm-unit-tests.XXXXXX) || exit 1

# wanted NAME [ARGS...]: is NAME among the script's arguments (or are there none)?
wanted() {
    [ $# -eq 1 ] && return 0
    wanted_name=$1
    shift
    for wanted_arg in "$@"; do [ "$wanted_arg" = "$wanted_name" ] && return 0; done
    return 1
}

# The plan: tests that pass on the reference, and failing ones with passing subtests.
plan=0
while IFS=$us read -r name file smp mem tmo args ref; do
    wanted "$name" "$@" || continue
    if [ "$ref" = pass ] || { [ "$ref" != excluded ] && [ -s "$dir/pass/$name" ]; }; then
        plan=$((plan + 1))
    fi
done <"$dir/entries"
echo "1..$plan"

n=0 tests_n=0 tests_k=0 sub_n=0 sub_k=0 excluded=0
while IFS=$us read -r name file smp mem tmo args ref; do
    wanted "$name" "$@" || continue
    if [ "$ref" = excluded ]; then
        excluded=$((excluded + 1))
        continue
    fi
    [ "$ref" = pass ] || [ -s "$dir/pass/$name" ] || continue
    # As in run.sh: a test that fails on the reference gets at most 60 s.
    [ "$ref" = pass ] || [ "$tmo" -le 60 ] || tmo=60
    cfg=$work/$name.cfg
    {
        echo "name = $name"
        echo "type = \"multiboot\""
        echo "kernel = $dir/x86/$file"
        echo "memory = $mem"
        echo "vcpus = $smp"
        echo "cmdline = \"$args\""
        echo "testdev = 1"
    } >"$cfg"
    start=$(date +%s)
    timeout "$tmo" kl create -c "$cfg" </dev/null >"$work/$name.out" 2>"$work/$name.err"
    rc=$?
    secs=$(( $(date +%s) - start ))
    domid=$(sed -n 's/^created domain \([0-9]*\) .*/\1/p' "$work/$name.err" | head -n 1)
    why=""
    if [ -z "$domid" ]; then
        why="not created: $(head -n 1 "$work/$name.err")"
    else
        why=$(kl dmesg </dev/null 2>/dev/null | tr -d '\r' |
              sed -n "s/.*(kiln)\( [A-Z]*:\)\{0,1\} d$domid destroyed: //p" | tail -n 1)
        [ -n "$why" ] || why="no 'd$domid destroyed' line (kl status $rc)"
        # busybox's timeout passes on kl's status (0 once interrupted), not 124.
        if [ "$rc" = 124 ] || { [ "${why#no }" != "$why" ] && [ "$secs" -ge "$tmo" ]; }; then
            why="timeout after ${tmo}s"
        fi
        kl destroy "$domid" </dev/null >/dev/null 2>&1
    fi
    # Matched by text with hexadecimal numbers masked, as run.sh matches them.
    tr -d '\r' <"$work/$name.out" | sed -n 's/^PASS: //p' | sed 's/0x[0-9a-fA-F]*/0x#/g' |
        sort >"$work/$name.pass"
    want=$(wc -l <"$dir/pass/$name" 2>/dev/null || echo 0)
    # Lines in both lists, each as often as in both (comm -12; dom0's
    # busybox has no comm).
    have=$(sed 's/0x[0-9a-fA-F]*/0x#/g' "$dir/pass/$name" 2>/dev/null |
           awk 'NR == FNR { n[$0]++; next } n[$0]-- > 0' "$work/$name.pass" - | wc -l)
    sub_n=$((sub_n + want))
    sub_k=$((sub_k + have))
    n=$((n + 1))
    # The description is the farm's step name, compared across flights:
    # nothing in it may vary from run to run; the details follow as comments.
    if [ "$ref" = pass ]; then
        tests_n=$((tests_n + 1))
        if [ "$why" = "exit code 0" ]; then
            tests_k=$((tests_k + 1))
            echo "ok $n - $name"
        else
            echo "not ok $n - $name"
        fi
        echo "# $name: $why, ${secs} s, $have/$want subtests that pass on the reference"
    else
        if [ "$have" -eq "$want" ]; then
            echo "ok $n - $name subtests"
        else
            echo "not ok $n - $name subtests"
        fi
        echo "# $name: $have/$want subtests that pass on the reference ($why, ${secs} s)"
    fi
done <"$dir/entries"
rm -rf "$work"
echo "# conformance: tests $tests_k/$tests_n, subtests $sub_k/$sub_n pass on Kiln of those that pass on plain QEMU ($excluded tests excluded)"
