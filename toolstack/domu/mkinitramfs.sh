#!/usr/bin/env bash
# Assembles the initramfs of a Linux domU: busybox and the virtio-mmio
# drivers (console, block, network) of the same Debian kernel dom0 runs, and
# /init (domu/init).  Small on purpose: it is what `kl create` boots when a
# guest config names no ramdisk of its own, and dom0 carries it.
#
# Usage: mkinitramfs.sh CACHE OUT
#   CACHE  directory filled by dom0/fetch.sh (debs/, kver)
#   OUT    gets initramfs.cpio.xz (rebuilt from scratch every time) and, for
#          tests, the kernel it belongs to as vmlinuz
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
cache=$1 out=$2
kver=$(cat "$cache/kver")
pkg=$out/pkg root=$out/root

rm -rf "$pkg" "$root"
mkdir -p "$pkg" "$root"/{bin,sbin,usr/bin,usr/sbin,etc/kiln,lib/modules,proc,sys,dev,run,tmp}
for deb in "$cache"/debs/busybox-static_*.deb "$cache"/debs/linux-image-[0-9]*.deb; do
    dpkg-deb -x "$deb" "$pkg"
done
cp "$pkg/bin/busybox" "$root/bin/busybox"
cp "$pkg/boot/vmlinuz-$kver" "$out/vmlinuz.tmp"
mv "$out/vmlinuz.tmp" "$out/vmlinuz"
cp "$here/init" "$root/init"
cp "$here/../dom0/udhcpc.script" "$root/etc/kiln/udhcpc.script"

moddir=$pkg/lib/modules/$kver/kernel
modroot=$root/lib/modules
. "$here/../dom0/modules.sh"
for m in virtio_mmio virtio_console virtio_blk virtio_net; do
    add_module "$m"
done
printf '%s\n' "${order[@]}" > "$root/etc/kiln/modules"
echo 'root:x:0:0:root:/root:/bin/sh' > "$root/etc/passwd"
echo 'root:x:0:' > "$root/etc/group"

# The kernel's xz decoder wants CRC32 checks, not xz's default CRC64.
(cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) |
    xz -9 --check=crc32 > "$out/initramfs.cpio.xz.tmp"
mv "$out/initramfs.cpio.xz.tmp" "$out/initramfs.cpio.xz"
rm -rf "$pkg"
printf 'domu: kernel %s: initramfs.cpio.xz %s KiB compressed (%s KiB unpacked), modules: %s\n' \
    "$kver" $(( $(stat -c %s "$out/initramfs.cpio.xz") / 1024 )) \
    $(du -sk "$root" | cut -f1) "${order[*]}"
