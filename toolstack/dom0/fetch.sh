#!/usr/bin/env bash
# Fetches the Debian packages dom0 is made of into a cache directory, once.
#
# The kernel version is not written down anywhere in the tree: it is whatever
# the linux-image-cloud-amd64 metapackage depends on today, so dom0 follows
# Debian's security updates.  The resolved version is recorded in DIR/kver and
# everything else (kiln.ko's headers, module paths) reads it from there.
# Usage: fetch.sh DIR     (DIR/stamp exists when the cache is complete)
#
# DIR may be shared by many trees (the farm builds every flight in a fresh
# checkout with `make CACHE=DIR`): a fresh checkout's fetch.sh is newer than
# the stamp, so make runs us again, but a cache this same script filled is
# kept (DIR/fetch.sum holds the script's hash).
set -euo pipefail

dir=$1
sum=$(sha256sum < "$0")
if [[ -f "$dir/stamp" && -f "$dir/fetch.sum" && "$(cat "$dir/fetch.sum")" == "$sum" ]]; then
    touch "$dir/stamp"
    echo "dom0 fetch: kernel $(cat "$dir/kver"), cached in $dir/debs"
    exit 0
fi
mkdir -p "$dir/debs"
cd "$dir/debs"

# apt runs downloads as the _apt user, which cannot write into a root-owned
# build tree; the files land here either way, so keep apt quiet about it.
download() {
    apt-get -q -o APT::Sandbox::User=root download "$@"
}

# Resolves the kernel through the metapackage, then fetches everything.
fetch_all() {
    local meta
    rm -f ./*.deb
    download linux-image-cloud-amd64 || return 1
    meta=$(ls -t linux-image-cloud-amd64_*.deb | head -n1)
    kpkg=$(dpkg-deb -f "$meta" Depends | tr ',' '\n' |
           sed -n 's/^ *\(linux-image-[^ ]*\).*/\1/p' | head -n1)
    [[ -n "$kpkg" ]] || { echo "dom0 fetch: cannot resolve the kernel from $meta" >&2; return 1; }
    # dropbear is linked against libtomcrypt/libtommath, which a build host
    # need not have installed: fetch them too; the rest (libc, zlib,
    # libcrypt, gmp) is part of every Debian 12 system and is copied from
    # the host by mkinitramfs.sh.
    download "$kpkg" busybox-static dropbear-bin libtomcrypt1 libtommath1
}

# A fresh machine may have no package lists, or stale ones naming files the
# mirror no longer has: update only then.
if ! fetch_all >/dev/null 2>&1; then
    echo "dom0 fetch: refreshing the package lists (apt-get update)" >&2
    apt-get -q update >&2
    fetch_all >/dev/null
fi
kver=${kpkg#linux-image-}

echo "$kver" > ../kver
echo "$sum" > ../fetch.sum
touch ../stamp
echo "dom0 fetch: kernel $kver, busybox-static, dropbear-bin cached in $dir/debs"
