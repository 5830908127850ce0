/*
 * migctl.c - the hypervisor side of save/restore and migration, driven by
 * a privileged guest as dom0's toolstack will: GET/SET_VCPU_STATE and
 * LOG_DIRTY on a child running migctl-payload.S (a counter in EAX stored
 * at GPA 0x3000).  Checks the calls need a stopped child, that exactly the
 * pages the child (or the hypervisor, for WRITE_MEM) wrote come out dirty,
 * once per round, through a 2 MiB mapping split at enable and a page first
 * touched while logging, that a state loaded with SET_VCPU_STATE is the
 * one the child goes on from, that malformed states are refused without
 * changing anything, that READ_MEM copies its pages, that the child's
 * clock can be set, and that disabling leaves the child running.
 */
#include "kt.h"

#define CHILD_KIB  4096            /* two 2 MiB regions: the split is exercised */
#define COUNTER_GFN 3
#define TARGET_GFN  5
#define FRESH_GPA   0x3ff000ull    /* in the second 2 MiB region, never touched before */

static struct kiln_domctl op __attribute__((aligned(256)));
static struct kiln_vcpu_state st __attribute__((aligned(4096)));
static struct kiln_vcpu_state good;
static u8 bits[4096] __attribute__((aligned(4096)));
static u8 page[4096] __attribute__((aligned(4096)));
static u32 child;

extern const u8 migctl_payload[], migctl_payload_end[];

static s64 domctl(u32 cmd, u32 domid)
{
    op.cmd = cmd;
    op.domid = domid;
    return kt_hc_domctl(&op);
}

static s64 simple(u32 cmd)
{
    kt_memset(&op, 0, sizeof(op));
    return domctl(cmd, child);
}

static s64 pause_and_wait(void)
{
    s64 rc = simple(KILN_DOMCTL_PAUSE);
    for (s64 t0 = kt_hc_time(); !rc && kt_hc_time() - t0 < 2000000000ll; kt_sleep_ns(1000000)) {
        kt_memset(&op, 0, sizeof(op));
        if (domctl(KILN_DOMCTL_GETINFO, child) == 0 && op.u.info.state == KILN_DOMSTATE_PAUSED)
            return 0;
    }
    return rc ? rc : -1;
}

static s64 vcpu_state(u32 cmd, u32 vcpu, u32 size)
{
    kt_memset(&op, 0, sizeof(op));
    op.u.vcpu_state.vcpu = vcpu;
    op.u.vcpu_state.size = size;
    op.u.vcpu_state.buf_gpa = (u64)(uintptr_t)&st;
    return domctl(cmd, child);
}

static s64 log_dirty(u32 what, u64 start, u64 nr)
{
    kt_memset(&op, 0, sizeof(op));
    op.u.log_dirty.op = what;
    op.u.log_dirty.start_gfn = start;
    op.u.log_dirty.nr = nr;
    op.u.log_dirty.buf_gpa = (u64)(uintptr_t)bits;
    return domctl(KILN_DOMCTL_LOG_DIRTY, child);
}

/* Reads and clears the whole bitmap: the dirty count, and whether the
 * set pages are exactly want[0..n). */
static u64 dirty_pages(const u64 *want, unsigned int n, bool *exact)
{
    s64 rc = log_dirty(KILN_LOG_DIRTY_READ_CLEAN, 0, KILN_LOG_DIRTY_BATCH);
    u64 count = op.u.log_dirty.dirty, covered = op.u.log_dirty.nr, set = 0;
    bool ok = rc == 0 && covered == CHILD_KIB / 4;
    for (u64 g = 0; g < covered; g++) {
        bool is = (bits[g / 8] >> (g % 8)) & 1, wanted = false;
        for (unsigned int i = 0; i < n; i++)
            wanted |= want[i] == g;
        ok &= is == wanted;
        set += is;
    }
    *exact = ok && set == count;
    return rc ? (u64)rc : count;
}

static void start_child(void)
{
    kt_memset(&op, 0, sizeof(op));
    op.u.create.memory_kib = CHILD_KIB;
    op.u.create.vcpus = 1;
    kt_memcpy(op.u.create.name, "migratee", 9);
    s64 rc = domctl(KILN_DOMCTL_CREATE, 0);
    child = op.domid;
    kt_memset(page, 0, sizeof(page));
    kt_memcpy(page, migctl_payload, (size_t)(migctl_payload_end - migctl_payload));
    rc = rc ? rc : kt_write_mem(&op, child, 0x1000, page, sizeof(page));
    kt_memset(&op, 0, sizeof(op));
    op.u.vcpu.rip = 0x1000;
    rc = rc ? rc : domctl(KILN_DOMCTL_SET_VCPU, child);
    rc = rc ? rc : simple(KILN_DOMCTL_UNPAUSE);
    kt_ok(rc == 0, "a 4 MiB counting child runs (d%u)", child);
}

static void test_needs_stopped_child(void)
{
    kt_sleep_ns(50000000);
    s64 a = vcpu_state(KILN_DOMCTL_GET_VCPU_STATE, 0, sizeof(st));
    s64 b = log_dirty(KILN_LOG_DIRTY_ENABLE, 0, 0);
    kt_memset(&op, 0, sizeof(op));
    op.u.log_dirty.op = KILN_LOG_DIRTY_ENABLE;
    s64 c = domctl(KILN_DOMCTL_LOG_DIRTY, KILN_DOMID_SELF);
    kt_memset(&op, 0, sizeof(op));
    s64 d = domctl(KILN_DOMCTL_GET_VCPU_STATE, 0);   /* dom0-like id 0 is us or absent */
    kt_ok(a == -KILN_EBUSY && b == -KILN_EBUSY && c == -KILN_EBUSY && d < 0,
          "refused while the child runs, and on ourselves (%ld %ld %ld %ld)", (long)a, (long)b,
          (long)c, (long)d);
}

static void test_get_state(void)
{
    s64 rc = pause_and_wait();
    rc = rc ? rc : vcpu_state(KILN_DOMCTL_GET_VCPU_STATE, 0, sizeof(st));
    good = st;
    kt_ok(rc == 0 && st.size == sizeof(st) && st.vcpu == 0 && st.rip >= 0x1000 &&
          st.rip < 0x1000 + 32 && st.rax > 1000 && st.cs.attr == 0xc9b && st.cr0 == 0x11 &&
          st.efer == 0 && st.xcr0 == 1 && st.fpu_format == KILN_FPU_FXSAVE && st.tsc > 0,
          "GET_VCPU_STATE of the paused child: rip %#lx, count %lu, cs %#x, cr0 %#lx, efer %#lx",
          (unsigned long)st.rip, (unsigned long)st.rax, st.cs.attr, (unsigned long)st.cr0,
          (unsigned long)st.efer);
    s64 a = vcpu_state(KILN_DOMCTL_GET_VCPU_STATE, 1, sizeof(st));
    s64 b = vcpu_state(KILN_DOMCTL_GET_VCPU_STATE, 0, sizeof(st) - 8);
    kt_ok(a == -KILN_EINVAL && b == -KILN_EINVAL, "bad vCPU or size: EINVAL");
}

static void test_log_dirty(void)
{
    bool exact;
    const u64 counter[] = { COUNTER_GFN };
    s64 rc = log_dirty(KILN_LOG_DIRTY_ENABLE, 0, 0);
    s64 again = log_dirty(KILN_LOG_DIRTY_ENABLE, 0, 0);
    kt_ok(rc == 0 && again == -KILN_EEXIST, "log-dirty on (a second enable: EEXIST)");

    u64 n = dirty_pages(NULL, 0, &exact);
    kt_ok(n == 0 && exact, "nothing dirty before the child runs again");

    simple(KILN_DOMCTL_UNPAUSE);
    kt_sleep_ns(50000000);
    pause_and_wait();
    n = dirty_pages(counter, 1, &exact);
    kt_ok(n == 1 && exact, "after a run: exactly the counter's page is dirty (%lu)", (unsigned long)n);
    n = dirty_pages(NULL, 0, &exact);
    kt_ok(n == 0 && exact, "read-and-clear: the next read is empty");

    simple(KILN_DOMCTL_UNPAUSE);
    kt_sleep_ns(50000000);
    pause_and_wait();
    n = dirty_pages(counter, 1, &exact);
    kt_ok(n == 1 && exact, "write protection came back: the counter page is dirty again");

    /* The hypervisor's own write, and a page first touched while logging. */
    u64 target = FRESH_GPA;
    kt_write_mem(&op, child, TARGET_GFN * 4096ull, &target, sizeof(target));
    const u64 three[] = { COUNTER_GFN, TARGET_GFN, FRESH_GPA / 4096 };
    simple(KILN_DOMCTL_UNPAUSE);
    kt_sleep_ns(50000000);
    pause_and_wait();
    n = dirty_pages(three, 3, &exact);
    kt_ok(n == 3 && exact, "WRITE_MEM's page and a page first touched while logging are dirty too");

    s64 a = log_dirty(KILN_LOG_DIRTY_READ_CLEAN, 0, 0);
    s64 b = log_dirty(KILN_LOG_DIRTY_READ_CLEAN, CHILD_KIB / 4, 8);
    s64 c = log_dirty(KILN_LOG_DIRTY_READ_CLEAN, 0, KILN_LOG_DIRTY_BATCH + 1);
    s64 d = log_dirty(99, 0, 0);
    rc = log_dirty(KILN_LOG_DIRTY_READ_CLEAN, 1000, 100);
    kt_ok(a == -KILN_EINVAL && b == -KILN_EINVAL && c == -KILN_EINVAL && d == -KILN_EINVAL &&
          rc == 0 && op.u.log_dirty.nr == 24,
          "bad batches refused; a batch past the end is cut (%lu bits)",
          (unsigned long)op.u.log_dirty.nr);
}

static void test_set_state(void)
{
    st = good;
    st.rax = 5000000;
    s64 rc = vcpu_state(KILN_DOMCTL_SET_VCPU_STATE, 0, sizeof(st));
    simple(KILN_DOMCTL_UNPAUSE);
    kt_sleep_ns(50000000);
    pause_and_wait();
    s64 rc2 = vcpu_state(KILN_DOMCTL_GET_VCPU_STATE, 0, sizeof(st));
    kt_ok(rc == 0 && rc2 == 0 && st.rax > 5000000,
          "SET_VCPU_STATE: the child counts on from the loaded EAX (%lu)", (unsigned long)st.rax);
    u64 count = st.rax;
    good = st;

    static const struct { u32 field; u64 value; const char *what; } bad[] = {
        { 0, 0x20000011, "cr0 NW without CD" },
        { 1, 1ull << 20, "efer reserved bit" },
        { 2, 0x80000000, "MXCSR reserved bit" },
        { 3, (1ull << 31) | (7u << 8), "event type 7" },
        { 4, 0x10, "rflags without bit 1" },
        { 5, 1ull << 13, "cr4.VMXE" },
        { 6, 0x0000800000000000ull, "non-canonical FS base" },
    };
    unsigned int refused = 0;
    for (unsigned int i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        st = good;
        switch (bad[i].field) {
        case 0: st.cr0 = bad[i].value; break;
        case 1: st.efer = bad[i].value; break;
        case 2: kt_memcpy(st.fpu + 24, &bad[i].value, 4); break;
        case 3: st.pending_event = bad[i].value; break;
        case 4: st.rflags = bad[i].value; break;
        case 5: st.cr4 = bad[i].value; break;
        default: st.fs.base = bad[i].value; break;
        }
        st.rax = 1;
        if (vcpu_state(KILN_DOMCTL_SET_VCPU_STATE, 0, sizeof(st)) == -KILN_EINVAL)
            refused++;
        else
            kt_diag("not refused: %s", bad[i].what);
    }
    st = good;
    st.vcpu = 1;
    s64 wrong_id = vcpu_state(KILN_DOMCTL_SET_VCPU_STATE, 0, sizeof(st));
    simple(KILN_DOMCTL_UNPAUSE);
    kt_sleep_ns(50000000);
    pause_and_wait();
    vcpu_state(KILN_DOMCTL_GET_VCPU_STATE, 0, sizeof(st));
    kt_ok(refused == 7 && wrong_id == -KILN_EINVAL && st.rax > count,
          "7 malformed states and a mismatched vCPU id refused, the child unchanged (%lu > %lu)",
          (unsigned long)st.rax, (unsigned long)count);
}

static u8 two[2][4096] __attribute__((aligned(4096)));

static s64 read_mem(u64 gfn, u32 nr, void *buf)
{
    kt_memset(&op, 0, sizeof(op));
    op.u.read_mem.gfn = gfn;
    op.u.read_mem.nr = nr;
    op.u.read_mem.buf_gpa = (u64)(uintptr_t)buf;
    return domctl(KILN_DOMCTL_READ_MEM, child);
}

static void test_read_mem(void)
{
    /* The paused child's counter page holds the count in its EAX. */
    s64 rc = read_mem(COUNTER_GFN, 2, two);
    u32 count, code;
    kt_memcpy(&count, two[0], 4);
    s64 rc2 = read_mem(1, 1, two[1]);
    kt_memcpy(&code, two[1], 4);
    s64 a = read_mem(CHILD_KIB / 4 - 1, 2, two);
    s64 b = read_mem(0, 0, two);
    s64 c = read_mem(0, KILN_READ_MEM_MAX + 1, two);
    s64 d = read_mem(0, 1, two[0] + 8);
    kt_ok(rc == 0 && rc2 == 0 && count == (u32)st.rax && code == *(const u32 *)migctl_payload &&
          a == -KILN_EFAULT && b == -KILN_EINVAL && c == -KILN_EINVAL && d == -KILN_EINVAL,
          "READ_MEM copies the child's pages (count %u, code %#x); bad ranges refused", count, code);
}

static s64 clock_op(u32 what, u32 domid, u64 *ns)
{
    kt_memset(&op, 0, sizeof(op));
    op.u.clock.op = what;
    op.u.clock.time_ns = *ns;
    s64 rc = domctl(KILN_DOMCTL_CLOCK, domid);
    *ns = op.u.clock.time_ns;
    return rc;
}

static void test_clock(void)
{
    /* The child is paused here: its clock can be moved on by 1000 s. */
    u64 before = 0, later, after = 0, self = 1;
    s64 a = clock_op(KILN_CLOCK_GET, child, &before);
    later = before + 1000000000000ull;
    s64 b = clock_op(KILN_CLOCK_SET, child, &later);
    s64 c = clock_op(KILN_CLOCK_GET, child, &after);
    s64 d = clock_op(KILN_CLOCK_SET, KILN_DOMID_SELF, &self);
    u64 mine = 0;
    s64 e = clock_op(KILN_CLOCK_GET, KILN_DOMID_SELF, &mine);
    s64 now = kt_hc_time();
    kt_ok(a == 0 && b == 0 && c == 0 && after >= later && after - later < 1000000000ull &&
          d == -KILN_EBUSY && e == 0 && mine <= (u64)now && (u64)now - mine < 1000000000ull,
          "CLOCK: the child's clock set 1000 s ahead reads %lu s; ours is our KILN_HC_TIME",
          (unsigned long)(after / 1000000000ull));
}

static void test_disable(void)
{
    s64 rc = log_dirty(KILN_LOG_DIRTY_DISABLE, 0, 0);
    s64 again = log_dirty(KILN_LOG_DIRTY_DISABLE, 0, 0);
    s64 read = log_dirty(KILN_LOG_DIRTY_READ_CLEAN, 0, 64);
    u64 before = st.rax;
    simple(KILN_DOMCTL_UNPAUSE);
    kt_sleep_ns(50000000);
    pause_and_wait();
    vcpu_state(KILN_DOMCTL_GET_VCPU_STATE, 0, sizeof(st));
    kt_ok(rc == 0 && again == -KILN_ENOENT && read == -KILN_ENOENT && st.rax > before,
          "log-dirty off (then ENOENT); the child keeps running on its write-protected pages");
    kt_ok(simple(KILN_DOMCTL_DESTROY) == 0, "destroy the child");
}

void kt_main(void)
{
    kt_plan(17);
    start_child();
    test_needs_stopped_child();
    test_get_state();
    test_log_dirty();
    test_set_state();
    test_read_mem();
    test_clock();
    test_disable();
    kt_ok(kt_failures() == 0, "every migration control call behaved");
}
