# dom0-qemu.sh - sourced by the dom0 test scripts and the boot benchmark: starts
# dom0's kernel+initramfs directly under QEMU (TCG) and waits for its marker
# lines on the serial console.  Not a test by itself.
#
# Needs: DOM0 = directory with vmlinuz, initramfs.cpio.xz, keys/ (the build's
# output).  Sets QEMU_PID, SSH_PORT, SERIAL_LOG.  QEMU gets a `timeout`.

# Starts QEMU with the given boot arguments and a forwarded SSH port.
# romfile= keeps the NIC's iPXE ROM out: with -kernel it only costs time.
qemu_start() {   # qemu_start LOGFILE MEMORY QEMU-BOOT-ARGS...
    SERIAL_LOG=$1
    local mem=$2 try
    shift 2
    for try in 1 2 3 4 5; do
        SSH_PORT=$(( 20000 + (RANDOM % 20000) ))
        : > "$SERIAL_LOG"
        timeout 90 qemu-system-x86_64 -accel tcg -cpu max -m "$mem" -nographic -no-reboot "$@" \
            -netdev "user,id=n,hostfwd=tcp:127.0.0.1:$SSH_PORT-:22" \
            -device virtio-net-pci,netdev=n,romfile= \
            < /dev/null > "$SERIAL_LOG" 2>&1 &
        QEMU_PID=$!
        sleep 0.3
        # A taken port makes QEMU exit at once: pick another.
        if kill -0 "$QEMU_PID" 2>/dev/null; then
            return 0
        fi
        wait "$QEMU_PID" 2>/dev/null
    done
    return 1
}

dom0_start() {   # dom0_start LOGFILE [extra kernel args]: dom0 directly under QEMU
    local log=$1
    shift
    qemu_start "$log" 512M -smp 1 -kernel "$DOM0/vmlinuz" -initrd "$DOM0/initramfs.cpio.xz" \
        -append "console=ttyS0 quiet panic=-1 $*"
}

# dom0 as Multiboot modules of Kiln (its command line in the module string,
# as the farm passes it); 1 GiB and 2 CPUs: dom0's 512 MiB plus room for Kiln.
kiln_dom0_start() {   # kiln_dom0_start LOGFILE KILN_ELF
    qemu_start "$1" 1G -smp 2 -kernel "$2" -append "console=com1" \
        -initrd "$DOM0/vmlinuz console=ttyS0 quiet panic=-1,$DOM0/initramfs.cpio.xz"
}

dom0_wait_for() {   # dom0_wait_for PATTERN SECONDS: 0 once the console shows it
    local deadline=$(( $(date +%s) + $2 ))
    while (( $(date +%s) < deadline )); do
        grep -q -- "$1" "$SERIAL_LOG" && return 0
        kill -0 "$QEMU_PID" 2>/dev/null || return 1
        sleep 0.05
    done
    return 1
}

dom0_ssh() {   # dom0_ssh COMMAND...: run in dom0 as root over the forwarded port
    local kh
    kh=$(mktemp)
    # Pin the host key the build baked in: a wrong sshd must not pass.
    echo "[127.0.0.1]:$SSH_PORT $(cat "$DOM0/keys/host_ed25519.pub")" > "$kh"
    ssh -i "$DOM0/keys/id_ed25519" -p "$SSH_PORT" -o BatchMode=yes \
        -o StrictHostKeyChecking=yes -o UserKnownHostsFile="$kh" \
        -o ConnectTimeout=15 -o LogLevel=ERROR root@127.0.0.1 "$@"
    local rc=$?
    rm -f "$kh"
    return $rc
}

dom0_stop() {   # ends QEMU if it is still running; never leaves it behind
    if [[ -n "${QEMU_PID:-}" ]] && kill -0 "$QEMU_PID" 2>/dev/null; then
        kill "$QEMU_PID" 2>/dev/null
        wait "$QEMU_PID" 2>/dev/null
    fi
    QEMU_PID=
}

# TAP result lines shared by the dom0 test scripts: `n` counts results and
# `failed` the failures; diagnostics may hold console or remote output, so
# every line of them is kept a TAP comment.
n=0 failed=0
result() {   # result OK NAME [diagnostic]
    n=$((n + 1))
    if [[ $1 == 0 ]]; then
        echo "ok $n - $2"
    else
        echo "not ok $n - $2"
        failed=$((failed + 1))
        [[ -n "${3:-}" ]] && sed 's/^/# /' <<<"$3"
    fi
    return 0
}
