#!/usr/bin/env bash
# kiln.ko, libkiln and kl for real inside dom0 (under plain QEMU), with the
# TEST build of the module whose hypercalls reach a pretend hypervisor
# (tests/kmod/fake_hv.c) instead of Kiln.  What this proves: the module's
# device (permissions, refusals, argument bouncing, foreign-map checks) and
# the whole kl -> libkiln -> ioctl -> module path.  What it cannot prove:
# anything about the real hypervisor.  Prints TAP only.
# Usage: kmod-fake.sh DOM0_TEST_DIR
set -uo pipefail
DOM0=$1
. "$(dirname "$0")/dom0-qemu.sh"

log=$DOM0/kmod-test.serial.log
trap dom0_stop EXIT
# expect NAME COMMAND PATTERN: the command's output (stdout+stderr, then
# "status=N") must match the glob PATTERN.
expect() {
    local got
    # Merged in dom0, so stderr and stdout keep their order.
    got=$(dom0_ssh "{ $2; } 2>&1; echo status=\$?" 2>&1)
    [[ "$got" == $3 ]]
    result $? "$1" "got: $got"
}

# Fixed names, in order, of kiln-devtest's checks (see kiln-devtest.c).
devtest_checks=(
    "root opens /dev/kiln"
    "an unprivileged user cannot open /dev/kiln"
    "root without CAP_SYS_ADMIN cannot open /dev/kiln"
    "version hypercall goes through"
    "shutdown of dom0 from a process is refused"
    "unknown hypercall is refused by the module"
    "console write over KILN_CONSOLE_MAX is refused"
    "domctl at a bad user address faults cleanly"
    "write_mem over one page is refused"
    "raw MAP_FOREIGN domctl reaches the hypervisor"
    "private mmap of /dev/kiln is refused"
    "mmap of /dev/kiln over 1 GiB is refused"
    "shared mmap of /dev/kiln reserves a range"
    "foreign map past the end of the range is refused"
    "foreign map of zero pages is refused"
    "foreign map returns ENOSYS when the hypervisor offers no window"
    "the reserved range unmaps"
)
n_kl=17
echo "1..$(( 2 + ${#devtest_checks[@]} + n_kl ))"

ok=0
dom0_start "$log" && dom0_wait_for 'kiln-dom0: sshd up' 60 && ok=1
if (( ok )); then
    got=$(dom0_ssh 'insmod /lib/kiln-test/kiln_fakehv.ko && dmesg | grep "kiln: TEST BUILD"' 2>&1)
    [[ "$got" == *"TEST BUILD with a fake hypervisor"* ]] || ok=0
fi
result $((1 - ok)) "dom0 boots and the test build of kiln.ko loads" "$got$(tail -n 5 "$log")"
if (( !ok )); then
    for _ in $(seq 2 $(( 2 + ${#devtest_checks[@]} + n_kl ))); do result 1 "skipped: dom0 not up"; done
    exit 1
fi

got=$(dom0_ssh 'ls -l /dev/kiln' 2>&1)
[[ "$got" == "crw-------"*" root "*" root "*"/dev/kiln" ]]
result $? "/dev/kiln is a root-only (0600) character device" "got: $got"

out=$(dom0_ssh kiln-devtest 2>&1)
for name in "${devtest_checks[@]}"; do
    line=$(grep -F -- " $name" <<<"$out" | head -n1)
    [[ "$line" == "PASS $name" ]]
    result $? "/dev/kiln: $name" "${line:-no result; output: $out}"
done

# The fake answers with the ABI version of the kiln.h it was built from.
abi_h=$(dirname "$0")/../../hypervisor/include/public/kiln.h
abi=$(sed -n 's/^#define KILN_ABI_MAJOR \([0-9]*\)$/\1/p' "$abi_h").$(sed -n 's/^#define KILN_ABI_MINOR \([0-9]*\)$/\1/p' "$abi_h")
expect "kl info reports the (fake) hypervisor's ABI and memory" "kl info" \
    *"abi_version   : $abi"*"free_pages    : 65536"*"status=0"
expect "kl create builds and starts the test guest" "kl create /usr/share/kiln/guests/hello.cfg" \
    "created domain 1 (hello)"*"status=0"
expect "kl list shows dom0 and the new domain running" "kl list" \
    *"0 "*"Domain-0"*"running"*"1 "*"hello"*"running"*"4"*"status=0"
expect "kl console returns what the builder wrote (cmdline via WRITE_MEM, SET_VCPU)" \
    "kl console hello" "test=hello"*"status=0"
expect "kl info shows the guest's memory as used" "kl info" *"free_pages    : 64512"*"status=0"
expect "kl sched-credit sets and reads back weight and cap" "kl sched-credit hello -w 512 -c 25" \
    "domain 1: weight 512 cap 25"*"status=0"
expect "kl sched-credit rejects a weight of 0 before any hypercall" "kl sched-credit 1 -w 0" \
    *"weight '0' is not in 1..65535"*"status=2"
expect "kl vcpu-pin of an existing vCPU succeeds" "kl vcpu-pin hello 0 1" "status=0"
expect "kl vcpu-pin of a missing vCPU fails with the hypervisor's error" "kl vcpu-pin hello 3 1" \
    *"Invalid argument"*"status=1"
expect "kl pause shows in kl list" "kl pause hello && kl list" *"hello"*"paused"*"status=0"
expect "kl destroy removes the domain and returns its memory" "kl destroy hello && kl list && kl info" \
    *"Domain-0"*"free_pages    : 65536"*"status=0"
expect "kl reports a bad config as file:line" \
    "printf 'name = x\nkernel = hello64.elf\nmemory = lots\n' > /tmp/bad.cfg; kl create /tmp/bad.cfg" \
    "kl: create: /tmp/bad.cfg:3: memory: 'lots' is not a number"*"status=1"
expect "kl dmesg reads the hypervisor's log" "kl dmesg" *"fake hypervisor log"*"status=0"
guestcfg() {   # guestcfg NAME CMDLINE: a config in dom0's /tmp
    echo "printf 'name = $1\nkernel = /usr/share/kiln/guests/hello64.elf\nmemory = 4\ncmdline = \"$2\"\n' > /tmp/$1.cfg"
}
expect "kl create -c prints the console until the guest powers off (status 0)" \
    "$(guestcfg off 'bye poweroff'); kl create -c /tmp/off.cfg; s=\$?; kl destroy off; (exit \$s)" \
    "created domain "*"(off)"*"bye poweroff"*"domain "*" shut down: poweroff"*"status=0"
expect "kl create -c reports a guest's crash (status 1)" \
    "$(guestcfg bad 'oops crash'); kl create -c /tmp/bad.cfg; s=\$?; kl destroy bad; (exit \$s)" \
    "created domain "*"(bad)"*"oops crash"*"shut down: crash"*"status=1"
expect "100 kl create/destroy cycles leave the free page count unchanged" \
    "/usr/share/kiln/tests/create-destroy.sh /usr/share/kiln/guests/hello.cfg 100" \
    "cycles=100 free_pages_before=65536 free_pages_after=65536"*"status=0"
expect "the module unloads and /dev/kiln goes away" "rmmod kiln_fakehv && ! test -e /dev/kiln" "status=0"
exit $(( failed > 0 ))
