#!/usr/bin/env bash
# Installs the Debian packages Kiln needs, and only those that are missing.
#
# Every entry point (make, make test, make run, .ci/run) calls this first, so a
# fresh Debian 12 machine needs nothing done by hand.  Checking dpkg first keeps
# the common case (everything present) to a fraction of a second and offline.
set -euo pipefail

packages=(
    # build
    build-essential binutils git pkg-config
    # hypervisor: emulated hosts and network boot
    qemu-system-x86 qemu-utils ipxe-qemu ipxe
    # hypervisor tests: HTTP server for the iPXE boot scenario, module hashes
    python3
    # hypervisor tests on an Intel (VT-x) CPU: Bochs, booted from a GRUB ISO
    bochs bochsbios vgabios bochs-term grub-pc-bin xorriso
    # unit tests; libFuzzer targets (clang -fsanitize=fuzzer)
    libcmocka-dev clang libclang-rt-14-dev
    # farm daemon and CLI
    libsqlite3-dev sqlite3 libjansson-dev libmicrohttpd-dev libcurl4-openssl-dev
    libssh2-1-dev libssl-dev
    # farm tests and benchmarks: status page in a real browser, HTTP load
    chromium wrk curl jq
    # farm tests: JUnit reports validated against their schema (xmllint)
    libxml2-utils
    # farm tests: the C style check (xenrt/.clang-format)
    clang-format
    # dom0 image assembly
    cpio xz-utils
    # dom0 image keys and the SSH login of dom0 boot tests
    openssh-client
)

missing=()
for p in "${packages[@]}"; do
    status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
    [[ "$status" == "install ok installed" ]] || missing+=("$p")
done

[[ ${#missing[@]} -eq 0 ]] && exit 0

echo "deps: installing ${missing[*]}"
sudo=""
[[ $(id -u) -eq 0 ]] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q
$sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
