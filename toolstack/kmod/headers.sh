#!/usr/bin/env bash
# Installs Debian's linux-headers package for exactly dom0's kernel version
# (kiln.ko must be built against it), unless it is there already.  It pulls
# linux-headers-*-common and linux-kbuild as dependencies.
# Usage: headers.sh KVER
set -euo pipefail
kver=$1
[[ -f /usr/src/linux-headers-$kver/Makefile ]] && exit 0
sudo=""
[[ $(id -u) -eq 0 ]] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
echo "kmod: installing linux-headers-$kver"
if ! $sudo apt-get install -y -q --no-install-recommends "linux-headers-$kver"; then
    $sudo apt-get -q update
    $sudo apt-get install -y -q --no-install-recommends "linux-headers-$kver"
fi
