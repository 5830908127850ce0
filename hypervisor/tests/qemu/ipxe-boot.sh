# ipxe-boot.sh - network boot of Kiln through iPXE, as the farm does it.
# Sourced after lib.sh.  ipxe_boot DIR SMP SCRIPT-BODY serves DIR over HTTP
# on 127.0.0.1 (QEMU's user network shows the host as 10.0.2.2), and boots
# QEMU from the virtio-net iPXE ROM with DHCP pointing at DIR/boot.ipxe.
# In SCRIPT-BODY, @URL@ stands for http://10.0.2.2:PORT.
# The NIC keeps QEMU's default option ROM (Debian's efi-virtio.rom, which
# also carries the legacy iPXE image): with romfile=pxe-virtio.rom, SeaBIOS
# 1.16 on this machine lists no network boot entry at all.

ipxe_boot() {
    local dir=$1 smp=$2 body=$3 port="" i py
    # The interpreter itself, not a wrapper script (pyenv shims), so that
    # $! is the server and the kill below really stops it.
    py=$(python3 -c 'import sys; print(sys.executable)')
    "$py" -u -m http.server 0 --bind 127.0.0.1 --directory "$dir" \
        > "$KILN_TMP/http.log" 2>&1 &
    local http_pid=$!
    trap "kill $http_pid 2>/dev/null" EXIT   # even if the scenario is killed
    for i in $(seq 50); do
        port=$(sed -n 's/.*port \([0-9][0-9]*\).*/\1/p' "$KILN_TMP/http.log" | head -1)
        [ -n "$port" ] && break
        sleep 0.1
    done
    if [ -z "$port" ]; then
        kill "$http_pid" 2>/dev/null; wait "$http_pid" 2>/dev/null
        echo "# HTTP server did not start"
        KILN_RC=255
        return 0
    fi
    { echo '#!ipxe'; echo "${body//@URL@/http://10.0.2.2:$port}"; } > "$dir/boot.ipxe"
    rm -f "$KILN_LOG"
    timeout --foreground -k 5 60 qemu-system-x86_64 -accel tcg -cpu max -m 1G -smp "$smp" \
        -nographic -no-reboot -monitor none -serial "file:$KILN_LOG" \
        -device isa-debug-exit,iobase=0x501 -boot n \
        -netdev "user,id=n0,bootfile=http://10.0.2.2:$port/boot.ipxe" \
        -device virtio-net-pci,netdev=n0 \
        </dev/null > "$KILN_TMP/qemu.out" 2>&1
    KILN_RC=$?
    kill "$http_pid" 2>/dev/null
    wait "$http_pid" 2>/dev/null
    return 0
}
