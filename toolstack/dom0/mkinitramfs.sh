#!/usr/bin/env bash
# Assembles dom0's kernel and compressed initramfs from the fetched packages.
#
# Usage: mkinitramfs.sh CACHE OUT [SRC:DEST ...]
#   CACHE  directory filled by fetch.sh (debs/, kver)
#   OUT    gets vmlinuz, initramfs.cpio.xz, and keys/ (made once, then kept:
#          id_ed25519[.pub] = root's login key, host_ed25519[.pub] = dropbear's
#          host key, known_hosts line template for clients that pin it)
#   SRC:DEST  extra files (kiln.ko, kl) copied into the image at DEST
# The image is rebuilt from scratch every time, so nothing stale survives.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
cache=$1 out=$2
shift 2
kver=$(cat "$cache/kver")
pkg=$out/pkg root=$out/root keys=$out/keys

rm -rf "$pkg" "$root"
mkdir -p "$pkg" "$root" "$keys"
for deb in "$cache"/debs/*.deb; do
    case "$(basename "$deb")" in
        linux-image-cloud-amd64_*) ;;   # the metapackage holds no files
        *) dpkg-deb -x "$deb" "$pkg" ;;
    esac
done
# Replaced atomically: others may be booting the previous image right now.
cp "$pkg/boot/vmlinuz-$kver" "$out/vmlinuz.tmp"
mv "$out/vmlinuz.tmp" "$out/vmlinuz"

mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,etc/kiln,etc/dropbear,lib/modules,lib64,root/.ssh,proc,sys,dev,run,tmp}
chmod 700 "$root/root" "$root/root/.ssh"
cp "$pkg/bin/busybox" "$root/bin/busybox"
cp "$here/init" "$root/init"
cp "$here/udhcpc.script" "$root/etc/kiln/udhcpc.script"

# --- virtio drivers: the roots we need plus everything they depend on, in
# load order (modules.sh; the domU image uses the same helpers).
moddir=$pkg/lib/modules/$kver/kernel
modroot=$root/lib/modules
. "$here/modules.sh"
for m in virtio_pci virtio_mmio virtio_net virtio_blk virtio_console; do
    add_module "$m"
done
printf '%s\n' "${order[@]}" > "$root/etc/kiln/modules"

# --- dropbear and the shared libraries it is linked against (ldd resolves
# libtomcrypt/libtommath from the fetched packages, the rest from the host,
# which is the same Debian release).
libdir=$pkg/usr/lib/x86_64-linux-gnu
cp "$pkg/usr/sbin/dropbear" "$root/sbin/dropbear"
mkdir -p "$root/lib/x86_64-linux-gnu"
ldd_out=$(LD_LIBRARY_PATH=$libdir ldd "$pkg/usr/sbin/dropbear")
if grep -q 'not found' <<<"$ldd_out"; then
    echo "mkinitramfs: dropbear has unresolved libraries:" >&2
    echo "$ldd_out" >&2
    exit 1
fi
while read -r lib; do
    cp -L "$lib" "$root/lib/x86_64-linux-gnu/"
done < <(awk '$2 == "=>" && $3 ~ /^\// { print $3 }' <<<"$ldd_out")
cp -L /lib64/ld-linux-x86-64.so.2 "$root/lib64/"

cat > "$root/etc/passwd" <<'PW'
root:x:0:0:root:/root:/bin/sh
PW
echo 'root:x:0:' > "$root/etc/group"
echo '/bin/sh' > "$root/etc/shells"
printf 'passwd: files\ngroup: files\nshadow: files\n' > "$root/etc/nsswitch.conf"

# --- keys: made once per build tree, so clients can keep trusting them.
if [[ ! -f "$keys/id_ed25519" ]]; then
    ssh-keygen -q -t ed25519 -N '' -C kiln-dom0-root -f "$keys/id_ed25519"
fi
if [[ ! -f "$keys/host_ed25519" ]]; then
    LD_LIBRARY_PATH=$libdir "$pkg/usr/bin/dropbearkey" -t ed25519 -f "$keys/host_ed25519" >/dev/null 2>&1
    LD_LIBRARY_PATH=$libdir "$pkg/usr/bin/dropbearkey" -y -f "$keys/host_ed25519" |
        grep '^ssh-ed25519 ' | cut -d' ' -f1,2 > "$keys/host_ed25519.pub"
fi
cp "$keys/host_ed25519" "$root/etc/dropbear/dropbear_ed25519_host_key"
cp "$keys/id_ed25519.pub" "$root/root/.ssh/authorized_keys"
chmod 600 "$root/root/.ssh/authorized_keys" "$root/etc/dropbear/dropbear_ed25519_host_key"

for spec in "$@"; do
    src=${spec%%:*} dest=${spec#*:}
    mkdir -p "$root/$(dirname "$dest")"
    cp "$src" "$root/$dest"
done

# The kernel's xz decoder wants CRC32 checks, not xz's default CRC64.
(cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) |
    xz -9 --check=crc32 > "$out/initramfs.cpio.xz.tmp"
mv "$out/initramfs.cpio.xz.tmp" "$out/initramfs.cpio.xz"
echo "$kver" > "$out/kver"
printf '%s: kernel %s: vmlinuz %s KiB, initramfs.cpio.xz %s KiB compressed (%s KiB unpacked), modules: %s\n' \
    "$(basename "$out")" "$kver" $(( $(stat -c %s "$out/vmlinuz") / 1024 )) \
    $(( $(stat -c %s "$out/initramfs.cpio.xz") / 1024 )) \
    $(du -sk "$root" | cut -f1) "${order[*]}"
