#!/usr/bin/env bash
# Fetches the Debian packages dom0 is made of into a cache directory, once.
#
# The kernel version is not written down anywhere in the tree: it is whatever
# the linux-image-cloud-amd64 metapackage depends on today, so dom0 follows
# Debian's security updates.  The resolved version is recorded in DIR/kver and
# everything else (kiln.ko's headers, module paths) reads it from there.
# Usage: fetch.sh DIR     (DIR/stamp exists when the cache is complete)
set -euo pipefail

dir=$1
mkdir -p "$dir/debs"
cd "$dir/debs"

# apt runs downloads as the _apt user, which cannot write into a root-owned
# build tree; the files land here either way, so keep apt quiet about it.
download() {
    apt-get -q -o APT::Sandbox::User=root download "$@"
}

# A fresh machine may have no package lists yet: update only then.
if ! download linux-image-cloud-amd64 >/dev/null 2>&1; then
    echo "dom0 fetch: no package lists, running apt-get update" >&2
    apt-get -q update >&2
    download linux-image-cloud-amd64 >/dev/null
fi

meta=$(ls -t linux-image-cloud-amd64_*.deb | head -n1)
kpkg=$(dpkg-deb -f "$meta" Depends | tr ',' '\n' | sed -n 's/^ *\(linux-image-[^ ]*\).*/\1/p' | head -n1)
[[ -n "$kpkg" ]] || { echo "dom0 fetch: cannot resolve the kernel from $meta" >&2; exit 1; }
kver=${kpkg#linux-image-}

# dropbear is linked against libtomcrypt/libtommath, which a build host need
# not have installed: fetch them too, the rest (libc, zlib, libcrypt, gmp) is
# part of every Debian 12 system and is copied from the host by mkinitramfs.sh.
download "$kpkg" busybox-static dropbear-bin libtomcrypt1 libtommath1 >/dev/null

echo "$kver" > ../kver
touch ../stamp
echo "dom0 fetch: kernel $kver, busybox-static, dropbear-bin cached in $dir/debs"
