# kiln-dom0.sh - sourced by the dom0-on-Kiln scenario and benchmark: boots
# the Kiln hypervisor with toolstack/'s dom0 kernel + initramfs as Multiboot
# modules under QEMU (TCG, 1 GiB, 2 CPUs: dom0 on CPU 0, domUs on CPU 1),
# with dom0's SSH port forwarded, and runs commands in dom0 over SSH with
# the build's pinned keys (ssh-exec, the client the farm uses).  Not a test
# by itself.
#
# Needs ONKILN_TOOLSTACK (toolstack/ directory) and ONKILN_ELF (kiln.elf).
# Sets ONKILN_PID, ONKILN_PORT, ONKILN_LOG.  Every QEMU gets a `timeout`.

ONKILN_DOM0=$ONKILN_TOOLSTACK/build/dom0
ONKILN_SSH=$ONKILN_TOOLSTACK/build/tools/ssh-exec

onkiln_ready() {   # 0 when the toolstack's build outputs are all there
    [ -f "$ONKILN_DOM0/vmlinuz" ] && [ -f "$ONKILN_DOM0/initramfs.cpio.xz" ] &&
        [ -f "$ONKILN_DOM0/keys/id_ed25519" ] && [ -x "$ONKILN_SSH" ] && [ -f "$ONKILN_ELF" ]
}

# onkiln_start LOG SECONDS [QEMU args...]: Kiln + dom0 in the background.
onkiln_start() {
    ONKILN_LOG=$1
    local tmo=$2 try
    shift 2
    for try in 1 2 3 4 5; do
        ONKILN_PORT=$(( 20000 + (RANDOM % 20000) ))
        : > "$ONKILN_LOG"
        timeout --foreground -k 5 "$tmo" qemu-system-x86_64 -accel tcg -cpu max -m 1G -smp 2 \
            -nographic -no-reboot -monitor none -serial "file:$ONKILN_LOG" \
            -device isa-debug-exit,iobase=0x501 -kernel "$ONKILN_ELF" -append "console=com1" \
            -initrd "$ONKILN_DOM0/vmlinuz console=ttyS0 quiet panic=-1,$ONKILN_DOM0/initramfs.cpio.xz" \
            -netdev "user,id=n,hostfwd=tcp:127.0.0.1:$ONKILN_PORT-:22" \
            -device virtio-net-pci,netdev=n,romfile= "$@" </dev/null >/dev/null 2>&1 &
        ONKILN_PID=$!
        sleep 0.3
        # A port already taken makes QEMU exit at once: pick another.
        kill -0 "$ONKILN_PID" 2>/dev/null && return 0
        wait "$ONKILN_PID" 2>/dev/null
    done
    return 1
}

onkiln_wait_for() {   # onkiln_wait_for REGEX SECONDS: 0 once the serial log matches
    local deadline=$(( $(date +%s) + $2 ))
    while [ "$(date +%s)" -lt "$deadline" ]; do
        tr -d '\r' < "$ONKILN_LOG" | grep -Eq -- "$1" && return 0
        kill -0 "$ONKILN_PID" 2>/dev/null || return 1
        sleep 0.05
    done
    return 1
}

onkiln_ssh() {   # onkiln_ssh [-s] COMMAND: run in dom0 as root, status of the command
    timeout --foreground -k 5 "${ONKILN_SSH_TIMEOUT:-120}" "$ONKILN_SSH" -p "$ONKILN_PORT" \
        -i "$ONKILN_DOM0/keys/id_ed25519" -k "$ONKILN_DOM0/keys/host_ed25519.pub" 127.0.0.1 "$@"
}

onkiln_push() {   # onkiln_push LOCAL REMOTE: copy a file into dom0
    onkiln_ssh -s "cat > '$2' && chmod +x '$2'" < "$1"
}

onkiln_stop() {   # ends QEMU if it is still running; never leaves it behind
    if [ -n "${ONKILN_PID:-}" ] && kill -0 "$ONKILN_PID" 2>/dev/null; then
        kill "$ONKILN_PID" 2>/dev/null
        wait "$ONKILN_PID" 2>/dev/null
    fi
    ONKILN_PID=
}

# onkiln_build_prog NAME OUT: builds tests/on-kiln/NAME.c, a program run in
# dom0, static against libkiln into OUT; the compiler's messages on stderr.
onkiln_build_prog() {
    cc -std=c11 -D_GNU_SOURCE -O2 -Wall -Wextra -Werror -I"$ONKILN_TOOLSTACK/include" \
        -I"$ONKILN_TOOLSTACK/../hypervisor/include/public" -static -s -o "$2" \
        "$ONKILN_TOOLSTACK/tests/on-kiln/$1.c" "$ONKILN_TOOLSTACK/build/lib/libkiln.a"
}

# A test-guest config for `kl create` (toolstack/include/kiln_config.h).
onkiln_cfg() {   # onkiln_cfg NAME: prints the config of NAME.elf, 4 MiB, 1 vCPU
    printf 'name = %s\nkernel = %s.elf\nmemory = 4\nvcpus = 1\n' "$1" "$1"
}
