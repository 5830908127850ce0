# lib.sh - helpers for Bochs scenarios: boot Kiln on an emulated Intel
# (VT-x) or AMD (SVM) CPU, then assert on its serial log, printing TAP
# like tests/qemu/lib.sh (whose assertions are reused: expect_log,
# expect_no_log, expect_count, guest_tap, tap_*).  Sourced by
# tests/bochs/scenarios/*.sh; run-scenarios.sh runs them.
#
#   bochs_boot [-cpu MODEL] [-smp N] [-megs N] [-timeout S] CMDLINE [MODULE-SPEC...]
#       boots build/kiln.elf on Bochs (modules are "file args" strings,
#       file paths relative to hypervisor/, as for kiln_boot); log in
#       $KILN_LOG, Kiln's machine_exit code in $KILN_EXIT ("" when the run
#       ended otherwise: timeout, Bochs panic), Bochs' own log in
#       $KILN_TMP/bochs.log.
#   expect_kiln_exit CODE NAME  ok if Kiln called machine_exit(CODE)
#
# Bochs cannot load a Multiboot kernel itself (no -kernel): each boot
# builds a small GRUB rescue ISO (grub-mkrescue, BIOS only) holding
# kiln.elf and the modules, and boots it from the emulated CD.  That was
# chosen over iPXE because it reaches Kiln in about 10 s of emulation
# with no network: iPXE's banner wait and DHCP, slow under QEMU already
# (~5 s), take some 20 times longer under Bochs, and need an HTTP server.
# Bochs has no isa-debug-exit: the run ends when Kiln logs "machine exit",
# a panic, or the timeout.  A triple fault of the hypervisor stops Bochs
# with a panic (reset_on_triple_fault=0).  On Bochs' AMD model (ryzen) a
# guest's triple fault does too: Bochs 2.7 resets or panics before SVM's
# SHUTDOWN intercept could exit to Kiln, so SVM scenarios there must not
# triple-fault a guest (VT-x's triple-fault exit works).
. "$(dirname "${BASH_SOURCE[0]}")/../qemu/lib.sh"

KILN_EXIT=""

# The GRUB ISO: $1 = output, $2 = kernel command line, then module specs.
bochs_make_iso() {
    local iso=$1 cmdline=$2 root=$KILN_TMP/iso
    shift 2
    rm -rf "$root"
    mkdir -p "$root/boot/grub"
    cp "$KILN_ELF" "$root/boot/kiln.elf"
    {
        echo "set timeout=0"
        echo "menuentry kiln {"
        echo "  multiboot /boot/kiln.elf $cmdline"
        local m file args
        for m in "$@"; do
            file=${m%% *}
            args=${m#"$file"}
            cp "$KILN_DIR/$file" "$root/boot/$(basename "$file")"
            # GRUB gives the words after the module's path as its string:
            # the file name goes first, the "file args" form -initrd gives.
            echo "  module /boot/$(basename "$file") $file$args"
        done
        echo "}"
    } > "$root/boot/grub/grub.cfg"
    grub-mkrescue -d /usr/lib/grub/i386-pc --compress=no \
        --install-modules="multiboot normal iso9660 biosdisk configfile" \
        --fonts= --locales= --themes= -o "$iso" "$root" >"$KILN_TMP/grub-mkrescue.log" 2>&1
}

bochs_boot() {
    local model=corei7_skylake_x smp=1 megs=512 tmo=120
    while [ $# -gt 0 ]; do
        case $1 in
        -cpu) model=$2; shift 2 ;;
        -smp) smp=$2; shift 2 ;;
        -megs) megs=$2; shift 2 ;;
        -timeout) tmo=$2; shift 2 ;;
        *) break ;;
        esac
    done
    local cmdline=$1; shift
    local iso=$KILN_TMP/kiln.iso
    rm -f "$KILN_LOG" "$KILN_TMP/bochs.log"
    KILN_EXIT=""
    if ! bochs_make_iso "$iso" "$cmdline" "$@"; then
        echo "# grub-mkrescue failed:"
        sed 's/^/#   /' "$KILN_TMP/grub-mkrescue.log"
        return 0
    fi
    cat > "$KILN_TMP/bochsrc" <<EOF
megs: $megs
romimage: file=/usr/share/bochs/BIOS-bochs-latest
vgaromimage: file=/usr/share/vgabios/vgabios.bin
cpu: model=$model, count=$smp, ips=200000000, reset_on_triple_fault=0
pci: enabled=1, chipset=i440fx
ata0-master: type=cdrom, path=$iso, status=inserted
boot: cdrom
clock: sync=none, time0=local
com1: enabled=1, mode=file, dev=$KILN_LOG
display_library: term
log: $KILN_TMP/bochs.log
panic: action=fatal
error: action=report
info: action=ignore
debug: action=ignore
EOF
    echo c > "$KILN_TMP/bochs.rc"
    : > "$KILN_LOG"
    (cd "$KILN_TMP" && TERM=xterm exec timeout -k 5 "$tmo" bochs -q -f "$KILN_TMP/bochsrc" \
        -rc "$KILN_TMP/bochs.rc" </dev/null >"$KILN_TMP/bochs.out" 2>&1) &
    local pid=$! start=$SECONDS
    # Kiln's last words: machine_exit's line, or a panic (then its dump
    # needs a moment to reach the log).
    while kill -0 "$pid" 2>/dev/null; do
        if grep -aq "machine exit, code" "$KILN_LOG" 2>/dev/null; then
            break
        fi
        if grep -aqE "PANIC" "$KILN_LOG" 2>/dev/null; then
            sleep 2
            break
        fi
        sleep 1
    done
    # timeout passes the signal on to Bochs and waits for it.
    kill "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    KILN_EXIT=$(kiln_log | sed -n 's/.*machine exit, code \([0-9-]*\).*/\1/p' | head -n1)
    echo "# Bochs ($model) ran $((SECONDS - start)) s"
    if [ -z "$KILN_EXIT" ]; then
        echo "# Kiln did not exit (timeout ${tmo}s or Bochs stopped); Bochs said:"
        grep -aE "PANIC|panic|ERROR|>>PANIC<<" "$KILN_TMP/bochs.log" 2>/dev/null | tail -n 5 |
            sed 's/^/#   /'
        kiln_log | tail -n 8 | sed 's/^/#   log: /'
    fi
}

expect_kiln_exit() {
    if [ "$KILN_EXIT" = "$1" ]; then tap_ok "$2"; else tap_fail "$2" "Kiln's exit code '${KILN_EXIT}', wanted $1"; fi
}
