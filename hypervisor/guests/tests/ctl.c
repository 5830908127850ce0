/*
 * ctl.c - the control calls a privileged domain relies on, used correctly:
 * getinfo, sched get/set, vcpu_pin, a per-domain CPUID override, reading a
 * domain's console ring and the hypervisor's log, and pause/unpause of a
 * running domain (its CPU time must stop while paused), and a child
 * started directly in long mode on page tables written with write_mem.
 */
#include "kt.h"

static struct kiln_domctl op __attribute__((aligned(256)));
static struct kiln_sysctl sc __attribute__((aligned(256)));
static char text[4096] __attribute__((aligned(4096)));
static u8 page[4096] __attribute__((aligned(4096)));

static s64 domctl(u32 cmd, u32 domid)
{
    op.cmd = cmd;
    op.domid = domid;
    return kt_hc_domctl(&op);
}

static bool contains(const char *hay, size_t n, const char *needle)
{
    size_t m = 0;
    while (needle[m])
        m++;
    for (size_t i = 0; i + m <= n; i++) {
        size_t k = 0;
        while (k < m && hay[i + k] == needle[k])
            k++;
        if (k == m)
            return true;
    }
    return false;
}

static u64 cpu_time(u32 domid)
{
    kt_memset(&op, 0, sizeof(op));
    return domctl(KILN_DOMCTL_GETINFO, domid) == 0 ? op.u.info.cpu_time_ns : 0;
}

static void test_pause(void)
{
    /* A spinning child: "1: jmp 1b" at GPA 0x1000. */
    kt_memset(&op, 0, sizeof(op));
    op.u.create.memory_kib = 64;
    op.u.create.vcpus = 1;
    kt_memcpy(op.u.create.name, "pausee", 7);
    s64 rc = domctl(KILN_DOMCTL_CREATE, 0);
    u32 child = op.domid;
    page[0] = 0xeb;
    page[1] = 0xfe;
    rc = rc ? rc : kt_write_mem(&op, child, 0x1000, page, 2);
    kt_memset(&op.u, 0, sizeof(op.u));
    op.u.vcpu.rip = 0x1000;
    rc = rc ? rc : domctl(KILN_DOMCTL_SET_VCPU, child);
    rc = rc ? rc : domctl(KILN_DOMCTL_UNPAUSE, child);
    kt_ok(rc == 0, "create, load and start a 64 KiB spinning child (d%u)", child);

    kt_sleep_ns(100000000);
    u64 t0 = cpu_time(child);
    rc = domctl(KILN_DOMCTL_PAUSE, child);
    /* PAUSED is reported once the vCPU has left guest mode (a kick can
     * take a while on an overloaded host). */
    u32 state = 0;
    for (s64 w0 = kt_hc_time(); kt_hc_time() - w0 < 2000000000ll; kt_sleep_ns(1000000)) {
        kt_memset(&op, 0, sizeof(op));
        domctl(KILN_DOMCTL_GETINFO, child);
        state = op.u.info.state;
        if (state == KILN_DOMSTATE_PAUSED)
            break;
    }
    u64 t1 = cpu_time(child);
    kt_sleep_ns(100000000);
    u64 t2 = cpu_time(child);
    kt_ok(rc == 0 && t0 > 0 && state == KILN_DOMSTATE_PAUSED && t2 == t1,
          "paused child reports PAUSED and its CPU time stops (%lu ms, then %lu -> %lu)",
          (unsigned long)(t0 / 1000000), (unsigned long)(t1 / 1000000), (unsigned long)(t2 / 1000000));
    rc = domctl(KILN_DOMCTL_UNPAUSE, child);
    kt_sleep_ns(100000000);
    u64 t3 = cpu_time(child);
    kt_ok(rc == 0 && t3 > t2, "unpaused child runs again (%lu ms)", (unsigned long)(t3 / 1000000));
    kt_ok(domctl(KILN_DOMCTL_DESTROY, child) == 0, "destroy the child");
}

extern const u8 lm_payload[], lm_payload_end[];

static s64 write_page(u32 domid, u64 gpa)
{
    return kt_write_mem(&op, domid, gpa, page, sizeof(page));
}

/* A child entered in long mode on page tables we build for it: PML4 at
 * 0x2000 -> PDPT 0x3000 -> PD 0x4000 with one 2 MiB identity page. */
static void test_long_mode_child(void)
{
    static const u64 tables[3][2] = { { 0x2000, 0x3007 }, { 0x3000, 0x4007 }, { 0x4000, 0x87 } };
    kt_memset(&op, 0, sizeof(op));
    op.u.create.memory_kib = 2048;
    op.u.create.vcpus = 1;
    kt_memcpy(op.u.create.name, "longmode", 9);
    s64 rc = domctl(KILN_DOMCTL_CREATE, 0);
    u32 child = op.domid;
    for (int i = 0; !rc && i < 3; i++) {
        kt_memset(page, 0, sizeof(page));
        *(u64 *)page = tables[i][1];
        rc = write_page(child, tables[i][0]);
    }
    kt_memset(page, 0, sizeof(page));
    kt_memcpy(page, lm_payload, (size_t)(lm_payload_end - lm_payload));
    rc = rc ? rc : write_page(child, 0x1000);
    kt_memset(&op.u, 0, sizeof(op.u));
    op.u.vcpu.rip = 0x1000;
    op.u.vcpu.rsp = 0x8000;
    op.u.vcpu.cr3 = 0x2000;
    rc = rc ? rc : domctl(KILN_DOMCTL_SET_VCPU, child);
    rc = rc ? rc : domctl(KILN_DOMCTL_UNPAUSE, child);
    s64 t0 = kt_hc_time();
    bool gone = false;
    while (!rc && kt_hc_time() - t0 < 2000000000ll) {
        kt_memset(&op, 0, sizeof(op));
        if (domctl(KILN_DOMCTL_GETINFO, child) < 0 || op.domid != child) {
            gone = true;
            break;
        }
        kt_sleep_ns(1000000);
    }
    kt_ok(rc == 0 && gone, "a child entered in long mode (cr3 != 0) ran and powered off (d%u)", child);
}

void kt_main(void)
{
    kt_plan(13);
    u32 self = kt_cpuid(KILN_CPUID_VERSION, 0).b;

    kt_memset(&op, 0, sizeof(op));
    s64 rc = domctl(KILN_DOMCTL_GETINFO, KILN_DOMID_SELF);
    kt_ok(rc == 0 && op.domid == self && !kt_strcmp(op.u.info.name, "ctl") &&
          op.u.info.state == KILN_DOMSTATE_RUNNING && op.u.info.memory_kib == 4096 &&
          (op.u.info.flags & KILN_CPUID_F_PRIVILEGED) && op.u.info.vcpus == 1,
          "getinfo(self): d%u '%s', running, 4096 KiB, privileged", op.domid, op.u.info.name);

    kt_memset(&op, 0, sizeof(op));
    op.u.sched.weight = 777;
    op.u.sched.cap = 50;
    rc = domctl(KILN_DOMCTL_SCHED_SET, KILN_DOMID_SELF);
    kt_memset(&op, 0, sizeof(op));
    s64 rc2 = domctl(KILN_DOMCTL_SCHED_GET, KILN_DOMID_SELF);
    kt_ok(rc == 0 && rc2 == 0 && op.u.sched.weight == 777 && op.u.sched.cap == 50,
          "sched_set then sched_get: weight %u cap %u", op.u.sched.weight, op.u.sched.cap);
    op.u.sched.weight = 256;
    op.u.sched.cap = 0;
    domctl(KILN_DOMCTL_SCHED_SET, KILN_DOMID_SELF);

    kt_memset(&op, 0, sizeof(op));
    op.u.pin.cpumask = 1;
    kt_ok(domctl(KILN_DOMCTL_VCPU_PIN, KILN_DOMID_SELF) == 0, "vcpu_pin(self, CPU 0)");

    struct kt_cpuid before = kt_cpuid(1, 0);
    kt_memset(&op, 0, sizeof(op));
    op.u.cpuid.leaf = 1;
    op.u.cpuid.subleaf = 0;
    op.u.cpuid.eax = op.u.cpuid.ebx = op.u.cpuid.edx = ~0u;
    op.u.cpuid.ecx = ~1u;   /* hide SSE3 */
    rc = domctl(KILN_DOMCTL_SET_CPUID, KILN_DOMID_SELF);
    struct kt_cpuid after = kt_cpuid(1, 0);
    kt_ok(rc == 0 && (before.c & 1) && after.c == (before.c & ~1u) && after.d == before.d,
          "set_cpuid masks leaf 1 ecx bit 0 for this domain (%#x -> %#x)", before.c, after.c);

    kt_printf("ctl: marker line for console_read\n");
    kt_memset(&op, 0, sizeof(op));
    op.u.console.buf_gpa = (u64)(uintptr_t)text;
    op.u.console.len = sizeof(text);
    rc = domctl(KILN_DOMCTL_CONSOLE_READ, KILN_DOMID_SELF);
    kt_ok(rc == 0 && op.u.console.len > 0 &&
          contains(text, op.u.console.len, "ctl: marker line for console_read"),
          "console_read(self) returns our own output (%lu bytes)", (unsigned long)op.u.console.len);

    kt_memset(&sc, 0, sizeof(sc));
    sc.cmd = KILN_SYSCTL_LOG_READ;
    sc.u.log.buf_gpa = (u64)(uintptr_t)text;
    sc.u.log.len = sizeof(text);
    rc = kt_hc_sysctl(&sc);
    kt_ok(rc == 0 && sc.u.log.len > 0 && contains(text, sc.u.log.len, "(kiln)"),
          "sysctl log_read returns the hypervisor's log (%lu bytes)", (unsigned long)sc.u.log.len);

    kt_memset(&sc, 0, sizeof(sc));
    sc.cmd = KILN_SYSCTL_PHYSINFO;
    rc = kt_hc_sysctl(&sc);
    kt_ok(rc == 0 && sc.u.physinfo.nr_cpus == 2 && sc.u.physinfo.nr_domains == 1 &&
          sc.u.physinfo.free_pages < sc.u.physinfo.total_pages && sc.u.physinfo.cpu_khz > 0,
          "physinfo: %u CPUs, %u domain, %lu/%lu pages free, %lu kHz", sc.u.physinfo.nr_cpus,
          sc.u.physinfo.nr_domains, (unsigned long)sc.u.physinfo.free_pages,
          (unsigned long)sc.u.physinfo.total_pages, (unsigned long)sc.u.physinfo.cpu_khz);

    test_pause();
    test_long_mode_child();
    kt_ok(kt_failures() == 0, "all control calls behaved");
}
