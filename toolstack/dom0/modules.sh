# modules.sh - sourced by dom0's and the domU's mkinitramfs.sh: copies kernel
# modules with everything they depend on, in load order.  Each module names
# its own dependencies in .modinfo, which saves running depmod (the kmod
# package) on the build host.
#
# Needs: moddir (the kernel's lib/modules/KVER/kernel), modroot (where the
# .ko files go).  add_module NAME appends NAME and its dependencies to the
# array `order`.
declare -A seen=()
order=()
modinfo_depends() {
    local tmp
    tmp=$(mktemp)
    objcopy -O binary --only-section=.modinfo "$1" "$tmp"
    tr '\0' '\n' < "$tmp" | sed -n 's/^depends=//p' | tr ',' ' '
    rm -f "$tmp"
}
add_module() {
    local name=$1 ko dep
    [[ -n "${seen[$name]:-}" ]] && return 0
    seen[$name]=1
    ko=$(find "$moddir" \( -name "$name.ko" -o -name "${name//_/-}.ko" \) | head -n1)
    [[ -n "$ko" ]] || { echo "mkinitramfs: module $name not found in $moddir" >&2; return 1; }
    for dep in $(modinfo_depends "$ko"); do add_module "$dep"; done
    cp "$ko" "$modroot/$name.ko"
    order+=("$name")
}
