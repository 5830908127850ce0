/*
 * test_config.c - the domain config parser: what good files mean, and the
 * exact message (file:line: ...) for each kind of mistake.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include "kiln_config.h"

static struct kiln_config cfg;
static char err[512];

static void full_file_is_understood(void **state)
{
    const char *text =
        "# a test guest\n"
        "name    = web-1\n"
        "kernel  = guests/hello64.elf   # relative to the file\n"
        "memory  = 64\n"
        "vcpus   = 2\n"
        "cmdline = \"console=hvc0 # not a comment\"\n"
        "\n"
        "weight  = 512\n"
        "cap     = 150\n"
        "cpus    = 1-3,5\n"
        "cpuid   = 0x7:0 ebx=0xfffffffe\n"
        "cpuid   = 1 ecx=0x7ffefbff,edx=0xffffffff\n";

    (void)state;
    assert_int_equal(kiln_config_parse(text, "/etc/kiln/web.cfg", &cfg, err, sizeof(err)), 0);
    assert_string_equal(cfg.name, "web-1");
    assert_string_equal(cfg.kernel, "/etc/kiln/guests/hello64.elf");
    assert_int_equal(cfg.memory_mib, 64);
    assert_int_equal(cfg.vcpus, 2);
    assert_string_equal(cfg.cmdline, "console=hvc0 # not a comment");
    assert_int_equal(cfg.weight, 512);
    assert_int_equal(cfg.cap, 150);
    assert_int_equal(cfg.cpus, 0x2e);
    assert_int_equal(cfg.n_cpuid, 2);
    assert_int_equal(cfg.cpuid[0].leaf, 7);
    assert_int_equal(cfg.cpuid[0].subleaf, 0);
    assert_int_equal(cfg.cpuid[0].ebx, 0xfffffffe);
    assert_int_equal(cfg.cpuid[0].eax, 0xffffffff);   /* unspecified: unchanged */
    assert_int_equal(cfg.cpuid[1].leaf, 1);
    assert_int_equal(cfg.cpuid[1].ecx, 0x7ffefbff);
}

static void defaults_and_absolute_kernel(void **state)
{
    (void)state;
    assert_int_equal(kiln_config_parse("name=a\nkernel=/boot/g.elf\nmemory=1", "a.cfg",
                                       &cfg, err, sizeof(err)), 0);
    assert_string_equal(cfg.kernel, "/boot/g.elf");
    assert_int_equal(cfg.vcpus, 1);
    assert_int_equal(cfg.weight, 256);
    assert_int_equal(cfg.cap, 0);
    assert_int_equal(cfg.cpus, 0);
    assert_string_equal(cfg.cmdline, "");
    assert_int_equal(cfg.n_cpuid, 0);
    /* no folder in the file name: the path stays as written */
    assert_int_equal(kiln_config_parse("name=a\nkernel=g.elf\nmemory=1\n", "a.cfg",
                                       &cfg, err, sizeof(err)), 0);
    assert_string_equal(cfg.kernel, "g.elf");
}

/* The three required keys on lines 1-3, then `line` on line 4. */
static void expect_error(const char *line, const char *message)
{
    char text[512];

    snprintf(text, sizeof(text), "name = g\nkernel = g.elf\nmemory = 4\n%s\n", line);
    err[0] = '\0';
    assert_int_equal(kiln_config_parse(text, "t.cfg", &cfg, err, sizeof(err)), -EINVAL);
    assert_string_equal(err, message);
}

static void bad_keys_and_lines(void **state)
{
    (void)state;
    expect_error("colour = blue", "t.cfg:4: unknown key 'colour' (known: name, type, kernel, "
                 "ramdisk, memory, vcpus, cmdline, weight, cap, cpus, cpuid, disk, vif, "
                 "on_poweroff, on_reboot, on_crash, testdev)");
    expect_error("just some words", "t.cfg:4: expected 'key = value', got 'just some words'");
    expect_error("name = again", "t.cfg:4: 'name' is set twice (first on line 1)");
    expect_error("vcpus =", "t.cfg:4: vcpus: empty value");
    expect_error("cmdline = \"open", "t.cfg:4: cmdline: unterminated or malformed quoted value");
}

static void bad_numbers(void **state)
{
    (void)state;
    expect_error("vcpus = 2x", "t.cfg:4: vcpus: '2x' is not a number");
    expect_error("vcpus = -1", "t.cfg:4: vcpus: '-1' is not a number");
    expect_error("vcpus = 0", "t.cfg:4: vcpus: 0 is out of range 1..64");
    expect_error("vcpus = 65", "t.cfg:4: vcpus: 65 is out of range 1..64");
    expect_error("weight = 0", "t.cfg:4: weight: 0 is out of range 1..65535");
    expect_error("weight = 99999999999999999999", "t.cfg:4: weight: '99999999999999999999' is not a number");
    expect_error("cap = 6401", "t.cfg:4: cap: 6401 is out of range 0..6400");
}

static void bad_memory_and_name(void **state)
{
    (void)state;
    assert_int_equal(kiln_config_parse("name=g\nkernel=k\nmemory=0\n", "m.cfg", &cfg, err, sizeof(err)), -EINVAL);
    assert_string_equal(err, "m.cfg:3: memory: 0 is out of range 1..1048576");
    assert_int_equal(kiln_config_parse("name=bad name\n", "n.cfg", &cfg, err, sizeof(err)), -EINVAL);
    assert_string_equal(err, "n.cfg:1: name: 'bad name' may only contain letters, digits, '.', '_' and '-'");
    assert_int_equal(kiln_config_parse("name=abcdefghijabcdefghijabcdefghij12\n", "n.cfg", &cfg, err, sizeof(err)), -EINVAL);
    assert_string_equal(err, "n.cfg:1: name: 'abcdefghijabcdefghijabcdefghij12' is longer than 31 characters");
}

static void bad_cpus_and_cpuid(void **state)
{
    (void)state;
    expect_error("cpus = 3-1", "t.cfg:4: cpus: '3-1' is not a CPU number or range like 1-3");
    expect_error("cpus = 1,x", "t.cfg:4: cpus: 'x' is not a CPU number or range like 1-3");
    expect_error("cpus = 60-64", "t.cfg:4: cpus: CPU 64 is out of range 0..63");
    expect_error("cpus = ,", "t.cfg:4: cpus: ',' names no CPU");
    expect_error("cpuid = 0x1", "t.cfg:4: cpuid: expected 'LEAF[:SUBLEAF] REG=MASK[,REG=MASK...]', got '0x1'");
    expect_error("cpuid = 0x1 exx=1", "t.cfg:4: cpuid: unknown register 'exx' (eax, ebx, ecx or edx)");
    expect_error("cpuid = 0x1 ecx", "t.cfg:4: cpuid: expected REG=MASK, got 'ecx'");
    expect_error("cpuid = 0x1 ecx=0x100000000", "t.cfg:4: cpuid: ecx mask '0x100000000' is not a 32-bit number");
    expect_error("cpuid = leaf ecx=1", "t.cfg:4: cpuid: leaf 'leaf' is not a 32-bit number");
    expect_error("cpuid = 1:x ecx=1", "t.cfg:4: cpuid: subleaf 'x' is not a 32-bit number");
}

static void cpuid_limits(void **state)
{
    char text[2048];
    int n = snprintf(text, sizeof(text), "name=g\nkernel=k\nmemory=4\n");

    (void)state;
    for (int i = 0; i < KILN_CONFIG_CPUID_MAX + 1; i++)
        n += snprintf(text + n, sizeof(text) - n, "cpuid = %d eax=1\n", i);
    assert_int_equal(kiln_config_parse(text, "c.cfg", &cfg, err, sizeof(err)), -EINVAL);
    assert_string_equal(err, "c.cfg:20: cpuid: more than 16 overrides");
    assert_int_equal(kiln_config_parse("name=g\nkernel=k\nmemory=4\ncpuid=1 eax=1\ncpuid=0x1:0 ebx=2\n",
                                       "c.cfg", &cfg, err, sizeof(err)), -EINVAL);
    assert_string_equal(err, "c.cfg:5: cpuid: leaf 0x1:0 is overridden twice");
}

static void linux_guest_file(void **state)
{
    const char *text =
        "# a Linux guest, xl.cfg style\n"
        "name     = \"deb-1\"\n"
        "type     = \"linux\"\n"
        "kernel   = \"vmlinuz\"\n"
        "ramdisk  = \"/boot/initrd.img\"\n"
        "cmdline  = \"console=hvc0 root=/dev/vda\"\n"
        "memory   = 256\n"
        "vcpus    = 2\n"
        "disk     = [ \"root.img,rw,vda\",   # the root file system\n"
        "             \"/srv/iso/data.img,ro,vdb\", ]\n"
        "vif      = [ \"bridge=kilnbr0,mac=02:4b:4c:00:00:01\", \"bridge=br1\" ]\n"
        "on_poweroff = \"destroy\"\n"
        "on_reboot   = \"restart\"\n"
        "on_crash    = \"preserve\"\n";

    (void)state;
    assert_int_equal(kiln_config_parse(text, "/etc/kiln/deb.cfg", &cfg, err, sizeof(err)), 0);
    assert_string_equal(cfg.name, "deb-1");
    assert_int_equal(cfg.type, KILN_GUEST_LINUX);
    assert_string_equal(cfg.kernel, "/etc/kiln/vmlinuz");
    assert_string_equal(cfg.ramdisk, "/boot/initrd.img");
    assert_int_equal(cfg.memory_mib, 256);
    assert_int_equal(cfg.n_disks, 2);
    assert_string_equal(cfg.disk[0].path, "/etc/kiln/root.img");
    assert_false(cfg.disk[0].readonly);
    assert_string_equal(cfg.disk[0].vdev, "vda");
    assert_string_equal(cfg.disk[1].path, "/srv/iso/data.img");
    assert_true(cfg.disk[1].readonly);
    assert_string_equal(cfg.disk[1].vdev, "vdb");
    assert_int_equal(cfg.n_vifs, 2);
    assert_string_equal(cfg.vif[0].bridge, "kilnbr0");
    assert_true(cfg.vif[0].has_mac);
    assert_int_equal(cfg.vif[0].mac[0], 0x02);
    assert_int_equal(cfg.vif[0].mac[5], 0x01);
    assert_string_equal(cfg.vif[1].bridge, "br1");
    assert_false(cfg.vif[1].has_mac);
    assert_int_equal(cfg.on_poweroff, KILN_ACTION_DESTROY);
    assert_int_equal(cfg.on_reboot, KILN_ACTION_RESTART);
    assert_int_equal(cfg.on_crash, KILN_ACTION_PRESERVE);
    assert_string_equal(kiln_action_name(cfg.on_crash), "preserve");
    assert_string_equal(kiln_guest_type_name(cfg.type), "linux");
}

static void new_keys_defaults(void **state)
{
    (void)state;
    assert_int_equal(kiln_config_parse("name=a\nkernel=k\nmemory=1\ndisk = []\n", "a.cfg",
                                       &cfg, err, sizeof(err)), 0);
    assert_int_equal(cfg.type, KILN_GUEST_AUTO);
    assert_int_equal(cfg.testdev, 0);
    assert_string_equal(cfg.ramdisk, "");
    assert_int_equal(cfg.n_disks, 0);
    assert_int_equal(cfg.n_vifs, 0);
    assert_int_equal(cfg.on_poweroff, KILN_ACTION_DESTROY);
    assert_int_equal(cfg.on_reboot, KILN_ACTION_RESTART);
    assert_int_equal(cfg.on_crash, KILN_ACTION_DESTROY);
}

static void bad_type_and_actions(void **state)
{
    (void)state;
    expect_error("type = hvm", "t.cfg:4: type: 'hvm' is not elf, multiboot, linux or auto");
    expect_error("on_crash = coredump-destroy",
                 "t.cfg:4: on_crash: 'coredump-destroy' is not destroy, restart or preserve");
    expect_error("on_reboot = [ \"restart\" ]", "t.cfg:4: on_reboot: takes one value, not a list");
    expect_error("ramdisk = initrd", "t.cfg:4: ramdisk: only a type = \"linux\" guest takes a ramdisk");
    expect_error("testdev = 2", "t.cfg:4: testdev: 2 is out of range 0..1");
    expect_error("type = elf\ntestdev = 1",
                 "t.cfg:5: testdev: only a type = \"multiboot\" guest has test devices");
    expect_error("testdev = 1\ntype = linux",
                 "t.cfg:4: testdev: only a type = \"multiboot\" guest has test devices");
}

/* What dom0-run.sh (the conformance suite in dom0) writes, with and
 * without an explicit type. */
static void multiboot_guest(void **state)
{
    static const char text[] = "name = tsc\nkernel = /usr/share/kiln/kvm-unit-tests/x86/tsc.flat\n"
                               "memory = 256\nvcpus = 2\ncmdline = \"-a b\"\ntestdev = 1\n";
    char typed[sizeof(text) + 32];

    (void)state;
    assert_int_equal(kiln_config_parse(text, "/tmp/w/tsc.cfg", &cfg, err, sizeof(err)), 0);
    assert_int_equal(cfg.type, KILN_GUEST_AUTO);
    assert_int_equal(cfg.testdev, 1);
    assert_int_equal(cfg.vcpus, 2);
    assert_string_equal(cfg.cmdline, "-a b");
    assert_string_equal(cfg.kernel, "/usr/share/kiln/kvm-unit-tests/x86/tsc.flat");
    snprintf(typed, sizeof(typed), "type = \"multiboot\"\n%s", text);
    assert_int_equal(kiln_config_parse(typed, "/tmp/w/tsc.cfg", &cfg, err, sizeof(err)), 0);
    assert_int_equal(cfg.type, KILN_GUEST_MULTIBOOT);
    assert_string_equal(kiln_guest_type_name(cfg.type), "multiboot");
    assert_int_equal(cfg.testdev, 1);
}

static void bad_disks(void **state)
{
    (void)state;
    expect_error("disk = \"a.img,rw,vda\"", "t.cfg:4: disk: expected a list like [ \"...\", \"...\" ]");
    expect_error("disk = [ a.img ]", "t.cfg:4: disk: list items must be double-quoted, at 'a.img ]'");
    expect_error("disk = [ \"a.img,rw,vda\" \"b\" ]",
                 "t.cfg:4: disk: expected ',' or ']' after an item, at '\"b\" ]'");
    expect_error("disk = [ \"a.img,rw,vda\" ] x", "t.cfg:4: disk: text after the list: 'x'");
    expect_error("disk = [ \"a.img,rw\" ]", "t.cfg:4: disk: 'a.img,rw' is not 'PATH,ro|rw,vdX'");
    expect_error("disk = [ \"a.img,rw,vda,x\" ]", "t.cfg:4: disk: 'a.img,rw,vda,x' is not 'PATH,ro|rw,vdX'");
    expect_error("disk = [ \",rw,vda\" ]", "t.cfg:4: disk: ',rw,vda' names no image file");
    expect_error("disk = [ \"a.img,rx,vda\" ]", "t.cfg:4: disk: access 'rx' is not ro or rw");
    expect_error("disk = [ \"a.img,ro,sda\" ]", "t.cfg:4: disk: device 'sda' is not vda..vdz");
    expect_error("disk = [ \"a.img,ro,vda\", \"b.img,rw,vda\" ]", "t.cfg:4: disk: vda is named twice");
    expect_error("disk = [ \"a.img,ro,vda\", \"a.img,rw,vdb\" ]", "t.cfg:4: disk: image 'a.img' is used twice");
    expect_error("disk = [ \"a,ro,vda\", \"b,ro,vdb\", \"c,ro,vdc\", \"d,ro,vdd\", \"e,ro,vde\" ]",
                 "t.cfg:4: disk: more than 4 disks");
}

static void bad_vifs(void **state)
{
    (void)state;
    expect_error("vif = [ \"mac=02:00:00:00:00:01\" ]",
                 "t.cfg:4: vif: 'mac=02:00:00:00:00:01' names no bridge (bridge=NAME)");
    expect_error("vif = [ \"bridge\" ]", "t.cfg:4: vif: 'bridge' is not KEY=VALUE");
    expect_error("vif = [ \"bridge=br0,model=e1000\" ]",
                 "t.cfg:4: vif: unknown setting 'model' (bridge, mac)");
    expect_error("vif = [ \"bridge=a-very-long-bridge-name\" ]",
                 "t.cfg:4: vif: bridge 'a-very-long-bridge-name' is not 1..15 characters");
    expect_error("vif = [ \"bridge=br 0\" ]",
                 "t.cfg:4: vif: bridge 'br 0' may only contain letters, digits, '.', '_' and '-'");
    expect_error("vif = [ \"bridge=br0,bridge=br1\" ]", "t.cfg:4: vif: bridge given twice");
    expect_error("vif = [ \"bridge=br0,mac=01:00:5e:00:00:01\" ]",
                 "t.cfg:4: vif: mac '01:00:5e:00:00:01' is a multicast address");
    expect_error("vif = [ \"bridge=br0,mac=00:00:00:00:00:00\" ]",
                 "t.cfg:4: vif: mac '00:00:00:00:00:00' is zero");
    expect_error("vif = [ \"bridge=br0,mac=02:00:00:00:00\" ]",
                 "t.cfg:4: vif: mac '02:00:00:00:00' is not XX:XX:XX:XX:XX:XX");
    expect_error("vif = [ \"bridge=br0,mac=02:00:00:00:00:0g\" ]",
                 "t.cfg:4: vif: mac '02:00:00:00:00:0g' is not XX:XX:XX:XX:XX:XX");
    expect_error("vif = [ \"bridge=a,mac=02:00:00:00:00:01\", \"bridge=b,mac=02:00:00:00:00:01\" ]",
                 "t.cfg:4: vif: mac 02:00:00:00:00:01 is used twice");
    expect_error("vif = [ \"bridge=a\", \"bridge=b\", \"bridge=c\", \"bridge=d\" ]",
                 "t.cfg:4: vif: more than 3 interfaces");
}

static void lists_over_lines_keep_line_numbers(void **state)
{
    (void)state;
    /* an error inside a multi-line list names the key's line, and lines
     * after the list are counted on */
    assert_int_equal(kiln_config_parse("name=g\nkernel=k\nmemory=4\ndisk = [\n  \"a,ro,vda\",\n"
                                       "  \"b,xx,vdb\"\n]\n", "l.cfg", &cfg, err, sizeof(err)), -EINVAL);
    assert_string_equal(err, "l.cfg:4: disk: access 'xx' is not ro or rw");
    assert_int_equal(kiln_config_parse("name=g\nkernel=k\ndisk = [\n  \"a,ro,vda\" # ]\n]\n"
                                       "memory = x\n", "l.cfg", &cfg, err, sizeof(err)), -EINVAL);
    assert_string_equal(err, "l.cfg:6: memory: 'x' is not a number");
    assert_int_equal(kiln_config_parse("name=g\nkernel=k\nmemory=4\nvif = [ \"bridge=b\",\n",
                                       "l.cfg", &cfg, err, sizeof(err)), -EINVAL);
    assert_string_equal(err, "l.cfg:4: a list opened here is not closed with ']'");
    /* a ']' inside quotes does not close the list */
    assert_int_equal(kiln_config_parse("name=g\nkernel=k\nmemory=4\ncmdline = \"a[1]\"\n"
                                       "vif = [ \"bridge=b\" ]\n", "l.cfg", &cfg, err, sizeof(err)), 0);
    assert_string_equal(cfg.cmdline, "a[1]");
}

static void missing_required_keys(void **state)
{
    (void)state;
    assert_int_equal(kiln_config_parse("name = g\nmemory = 4\n", "r.cfg", &cfg, err, sizeof(err)), -EINVAL);
    assert_string_equal(err, "r.cfg: missing required key 'kernel'");
    assert_int_equal(kiln_config_parse("", "r.cfg", &cfg, err, sizeof(err)), -EINVAL);
    assert_string_equal(err, "r.cfg: missing required key 'name'");
}

static void load_reports_file_errors(void **state)
{
    char path[] = "/tmp/kiln-config-XXXXXX";
    int fd;
    FILE *f;

    (void)state;
    assert_int_equal(kiln_config_load("/nonexistent/kiln.cfg", &cfg, err, sizeof(err)), -ENOENT);
    assert_string_equal(err, "/nonexistent/kiln.cfg: No such file or directory");
    fd = mkstemp(path);
    assert_true(fd >= 0);
    f = fdopen(fd, "w");
    assert_non_null(f);
    fputs("name = g\nkernel = g.elf\nmemory = lots\n", f);
    fclose(f);
    assert_int_equal(kiln_config_load(path, &cfg, err, sizeof(err)), -EINVAL);
    char want[128];
    snprintf(want, sizeof(want), "%s:3: memory: 'lots' is not a number", path);
    assert_string_equal(err, want);
    unlink(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(full_file_is_understood),
        cmocka_unit_test(defaults_and_absolute_kernel),
        cmocka_unit_test(bad_keys_and_lines),
        cmocka_unit_test(bad_numbers),
        cmocka_unit_test(bad_memory_and_name),
        cmocka_unit_test(bad_cpus_and_cpuid),
        cmocka_unit_test(cpuid_limits),
        cmocka_unit_test(linux_guest_file),
        cmocka_unit_test(new_keys_defaults),
        cmocka_unit_test(bad_type_and_actions),
        cmocka_unit_test(bad_disks),
        cmocka_unit_test(bad_vifs),
        cmocka_unit_test(lists_over_lines_keep_line_numbers),
        cmocka_unit_test(missing_required_keys),
        cmocka_unit_test(multiboot_guest),
        cmocka_unit_test(load_reports_file_errors),
    };
    return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
