#!/usr/bin/env bash
# boot-ipxe.sh - the same image and its modules boot through iPXE over HTTP
# (QEMU user networking, -boot n), and the modules arrive intact.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../ipxe-boot.sh"

www=$KILN_TMP/www
mkdir -p "$www"
cp "$KILN_ELF" "$www/kiln.elf"
echo "first module over HTTP" > "$www/mod1.txt"
head -c 300000 /dev/urandom > "$www/mod2.bin"

ipxe_boot "$www" 2 "kernel @URL@/kiln.elf loglvl=debug exit_when_idle
module @URL@/mod1.txt name=m1 weight=7
module @URL@/mod2.bin second
boot"

expect_log '\(kiln\) Kiln hypervisor starting' "banner after iPXE boot"
expect_log '\(kiln\) loader: iPXE' "loaded by iPXE"
expect_log '\(kiln\) command line: .*loglvl=debug exit_when_idle' "command line passed through"
expect_log "\(kiln\) module 0: [0-9a-f]+-[0-9a-f]+ \(23 bytes\) '.*mod1.txt name=m1 weight=7'" "module 0 with its string"
expect_log "\(kiln\) module 1: [0-9a-f]+-[0-9a-f]+ \(300000 bytes\) '.*mod2.bin second'" "module 1 with its string"
expect_log "\(kiln\) module 0: fnv1a $(fnv1a "$www/mod1.txt")" "module 0 content intact"
expect_log "\(kiln\) module 1: fnv1a $(fnv1a "$www/mod2.bin")" "module 1 content intact"
expect_log '\(kiln\) 2 CPUs online' "both CPUs online"
expect_exit 1 "clean exit"
