/*
 * hostile.c - hypercalls with garbage numbers, pointers, lengths and
 * values.  Every one must come back refused with the right error code (and
 * the guest must still be alive to say so).  Run unprivileged, the control
 * calls must be refused with EPERM; run privileged ("priv"), their
 * argument checks are exercised instead.
 */
#include "kt.h"
#include "kt_evtchn.h"
#include "../../include/public/ioreq.h"

static u8 page[4096] __attribute__((aligned(4096)));

static void expect(s64 got, s64 want, const char *what)
{
    kt_ok(got == want, "%s -> %ld (want %ld)", what, (long)got, (long)want);
}

static void common_calls(void)
{
    expect(kt_hypercall(0xdeadbeef, 1, 2, 3, 4, 5), -KILN_ENOSYS, "hypercall 0xdeadbeef");
    expect(kt_hypercall(8, 0, 0, 0, 0, 0), -KILN_ENOSYS, "hypercall 8 (unassigned)");
    expect(kt_hypercall(1ull << 63, 0, 0, 0, 0, 0), -KILN_ENOSYS, "hypercall 2^63");
    expect(kt_hypercall(KILN_HC_CONSOLE_WRITE, 0x7fff0000000ull, 8, 0, 0, 0), -KILN_EFAULT,
           "console_write from a GPA far beyond RAM");
    expect(kt_hypercall(KILN_HC_CONSOLE_WRITE, ~0ull - 4, 4, 0, 0, 0), -KILN_EFAULT,
           "console_write at GPA 2^64-5 (wraps)");
    expect(kt_hypercall(KILN_HC_CONSOLE_WRITE, (u64)(uintptr_t)page, 1ull << 40, 0, 0, 0),
           -KILN_EINVAL, "console_write of 2^40 bytes");
    expect(kt_hypercall(KILN_HC_CONSOLE_WRITE, (u64)(uintptr_t)page + 4000, 200, 0, 0, 0),
           -KILN_EINVAL, "console_write crossing a page");
    expect(kt_hypercall(KILN_HC_CONSOLE_WRITE, (u64)(uintptr_t)page, 0, 0, 0, 0), 0,
           "console_write of 0 bytes is a no-op");
    expect(kt_hypercall(KILN_HC_SHUTDOWN, 99, 0, 0, 0, 0), -KILN_EINVAL,
           "shutdown with reason 99 is refused (and we are still here)");
    expect(kt_user_vmmcall(KILN_HC_VERSION), -KILN_EPERM, "version hypercall from CPL 3");
    s64 t0 = kt_hc_time();
    expect(kt_hc_block(1), 0, "sched_block with a deadline in the past returns at once");
    kt_ok(kt_hc_time() - t0 < 100000000, "... without sleeping");
}

#define EVTCHN_CALLS 12

/* Event channel and ioreq calls with garbage in every field. */
static void evtchn_calls(bool priv)
{
    static struct kiln_evtchn_op op __attribute__((aligned(64)));
    static struct kiln_ioreq_op iop __attribute__((aligned(64)));
    u64 gpa = (u64)(uintptr_t)&op;

    kt_memset(&op, 0, sizeof(op));
    expect(kt_hypercall(KILN_HC_EVTCHN_OP, 99, gpa, 0, 0, 0), -KILN_ENOSYS, "evtchn op 99");
    expect(kt_hypercall(KILN_HC_EVTCHN_OP, KILN_EVTCHNOP_SEND, 0x7fff0000000ull, 0, 0, 0),
           -KILN_EFAULT, "evtchn op from a GPA far beyond RAM");
    expect(kt_hypercall(KILN_HC_EVTCHN_OP, KILN_EVTCHNOP_SEND, (u64)(uintptr_t)page + 4090, 0, 0, 0),
           -KILN_EINVAL, "evtchn op crossing a page");
    op.vector = 0xff;
    op.control_gpa = (u64)(uintptr_t)page;
    expect(kt_evtchn_op(KILN_EVTCHNOP_INIT_CONTROL, &op), -KILN_EINVAL, "control block with vector 0xff");
    op.vector = 0x40;
    op.control_gpa = 0x7fff0000000ull;
    expect(kt_evtchn_op(KILN_EVTCHNOP_INIT_CONTROL, &op), -KILN_EFAULT, "control block beyond RAM");
    op.array_gpa = (u64)(uintptr_t)page + 8;
    expect(kt_evtchn_op(KILN_EVTCHNOP_EXPAND_ARRAY, &op), -KILN_EINVAL, "unaligned event array page");
    op.port = 0x80000000u;
    expect(kt_evtchn_op(KILN_EVTCHNOP_SEND, &op), -KILN_EINVAL, "send on port 2^31");
    op.port = 0;
    expect(kt_evtchn_op(KILN_EVTCHNOP_CLOSE, &op), -KILN_EINVAL, "close port 0");
    op.remote_dom = 0x7fff;
    op.remote_port = 1;
    expect(kt_evtchn_op(KILN_EVTCHNOP_BIND_INTERDOMAIN, &op), -KILN_ESRCH,
           "bind to domain 0x7fff");
    op.dom = 0x7000;
    op.remote_dom = KILN_DOMID_SELF;
    expect(kt_evtchn_op(KILN_EVTCHNOP_ALLOC_UNBOUND, &op), priv ? -KILN_ESRCH : -KILN_EPERM,
           "allocate a port in another (absent) domain");
    op.limit = 5;
    expect(kt_evtchn_op(KILN_EVTCHNOP_SET_LIMIT, &op), priv ? -KILN_ESRCH : -KILN_EPERM,
           "set another (absent) domain's port limit");
    kt_memset(&iop, 0, sizeof(iop));
    iop.dom = KILN_DOMID_SELF;
    iop.timeout_ms = 100;
    expect(kt_hypercall(KILN_HC_IOREQ_OP, KILN_IOREQ_OP_CREATE, (u64)(uintptr_t)&iop, 0, 0, 0),
           priv ? -KILN_ESRCH : -KILN_EPERM, "become an I/O server of DOMID_SELF");
}

static void unprivileged_calls(void)
{
    struct kiln_domctl *op = (void *)page;
    kt_memset(page, 0, sizeof(page));
    op->cmd = KILN_DOMCTL_DESTROY;
    op->domid = 1;
    expect(kt_hc_domctl(op), -KILN_EPERM, "domctl destroy from an unprivileged domain");
    expect(kt_hc_sysctl((void *)page), -KILN_EPERM, "sysctl from an unprivileged domain");
}

static s64 domctl(u32 cmd, u32 domid)
{
    struct kiln_domctl *op = (void *)page;
    op->cmd = cmd;
    op->domid = domid;
    return kt_hc_domctl(op);
}

static void privileged_calls(void)
{
    struct kiln_domctl *op = (void *)page;
    kt_memset(page, 0, sizeof(page));
    expect(domctl(999, 1), -KILN_ENOSYS, "domctl command 999");
    expect(domctl(KILN_DOMCTL_PAUSE, 0x7000), -KILN_ESRCH, "domctl pause of a missing domain");
    expect(domctl(KILN_DOMCTL_DESTROY, 0xffffffffu), -KILN_ESRCH, "domctl destroy of domid 2^32-1");
    expect(kt_hypercall(KILN_HC_DOMCTL, (u64)(uintptr_t)page + 4090, 0, 0, 0, 0), -KILN_EINVAL,
           "domctl structure crossing a page");
    expect(kt_hypercall(KILN_HC_DOMCTL, 0x7fff0000000ull, 0, 0, 0, 0), -KILN_EFAULT,
           "domctl structure at a GPA beyond RAM");
    expect(kt_hypercall(KILN_HC_SYSCTL, 0x7fff0000000ull, 0, 0, 0, 0), -KILN_EFAULT,
           "sysctl structure at a GPA beyond RAM");

    kt_memset(page, 0, sizeof(page));
    op->u.create.memory_kib = 1024;
    op->u.create.vcpus = 0;
    kt_memcpy(op->u.create.name, "bad", 4);
    expect(domctl(KILN_DOMCTL_CREATE, 0), -KILN_EINVAL, "create with 0 vCPUs");
    op->u.create.vcpus = 1;
    op->u.create.memory_kib = 1ull << 50;
    expect(domctl(KILN_DOMCTL_CREATE, 0), -KILN_EINVAL, "create with 2^50 KiB of RAM");
    op->u.create.memory_kib = 1023;
    expect(domctl(KILN_DOMCTL_CREATE, 0), -KILN_EINVAL, "create with RAM not a multiple of 4 KiB");
    op->u.create.memory_kib = 1024;
    kt_memset(op->u.create.name, 'x', KILN_NAME_MAX);
    expect(domctl(KILN_DOMCTL_CREATE, 0), -KILN_EINVAL, "create with an unterminated name");
    kt_memcpy(op->u.create.name, "bad", 4);
    op->u.create.flags = 0x80;
    expect(domctl(KILN_DOMCTL_CREATE, 0), -KILN_EINVAL, "create with unknown flags");

    /* A real target for the per-domain checks. */
    op->u.create.flags = 0;
    s64 rc = domctl(KILN_DOMCTL_CREATE, 0);
    u32 child = op->domid;
    kt_ok(rc == 0, "create a 1 MiB target domain (d%u)", child);

    kt_memset(&op->u, 0, sizeof(op->u));
    op->u.write_mem.dest_gpa = 0x1000;
    op->u.write_mem.src_gpa = (u64)(uintptr_t)page;
    op->u.write_mem.len = 8192;
    expect(domctl(KILN_DOMCTL_WRITE_MEM, child), -KILN_EINVAL, "write_mem of 8 KiB");
    op->u.write_mem.len = 16;
    op->u.write_mem.dest_gpa = 0x1001;
    expect(domctl(KILN_DOMCTL_WRITE_MEM, child), -KILN_EINVAL, "write_mem to an unaligned GPA");
    op->u.write_mem.dest_gpa = 1ull << 20;
    expect(domctl(KILN_DOMCTL_WRITE_MEM, child), -KILN_EFAULT, "write_mem past the target's RAM");
    op->u.write_mem.dest_gpa = 0x1000;
    op->u.write_mem.src_gpa = 0x7fff0000000ull;
    expect(domctl(KILN_DOMCTL_WRITE_MEM, child), -KILN_EFAULT, "write_mem from a source beyond our RAM");

    kt_memset(&op->u, 0, sizeof(op->u));
    op->u.vcpu.vcpu = 5;
    expect(domctl(KILN_DOMCTL_SET_VCPU, child), -KILN_EINVAL, "set_vcpu of vCPU 5 of 1");
    op->u.vcpu.vcpu = 0;
    op->u.vcpu.rip = 1ull << 40;
    expect(domctl(KILN_DOMCTL_SET_VCPU, child), -KILN_EINVAL, "set_vcpu 32-bit entry above 4 GiB");
    op->u.vcpu.rip = 0x1000;
    op->u.vcpu.cr3 = 0x123;
    expect(domctl(KILN_DOMCTL_SET_VCPU, child), -KILN_EINVAL, "set_vcpu with an unaligned cr3");

    kt_memset(&op->u, 0, sizeof(op->u));
    op->u.sched.weight = 0;
    expect(domctl(KILN_DOMCTL_SCHED_SET, child), -KILN_EINVAL, "sched_set weight 0");
    op->u.sched.weight = 70000;
    expect(domctl(KILN_DOMCTL_SCHED_SET, child), -KILN_EINVAL, "sched_set weight 70000");
    op->u.pin.vcpu = 3;
    op->u.pin.cpumask = 1;
    expect(domctl(KILN_DOMCTL_VCPU_PIN, child), -KILN_EINVAL, "vcpu_pin of vCPU 3 of 1");
    op->u.pin.vcpu = 0;
    op->u.pin.cpumask = 1ull << 63;
    expect(domctl(KILN_DOMCTL_VCPU_PIN, child), -KILN_EINVAL, "vcpu_pin to CPU 63 only (offline)");

    kt_memset(&op->u, 0, sizeof(op->u));
    op->u.console.buf_gpa = (u64)(uintptr_t)page + 4000;
    op->u.console.len = 4096;
    expect(domctl(KILN_DOMCTL_CONSOLE_READ, child), -KILN_EINVAL, "console_read into a buffer crossing a page");
    struct kiln_sysctl *sc = (void *)page;
    kt_memset(page, 0, sizeof(page));
    sc->cmd = 77;
    expect(kt_hc_sysctl(sc), -KILN_ENOSYS, "sysctl command 77");

    expect(domctl(KILN_DOMCTL_DESTROY, child), 0, "destroy the target domain");
    expect(domctl(KILN_DOMCTL_DESTROY, child), -KILN_ESRCH, "destroy it twice");
}

void kt_main(void)
{
    bool priv = kt_cpuid(KILN_CPUID_VERSION, 0).c & KILN_CPUID_F_PRIVILEGED;
    kt_plan((priv ? 12 + 27 + 1 : 12 + 2 + 1) + EVTCHN_CALLS);
    kt_diag("hostile guest, %s", priv ? "privileged" : "unprivileged");
    kt_idt_install();
    common_calls();
    evtchn_calls(priv);
    if (priv)
        privileged_calls();
    else
        unprivileged_calls();
    kt_ok(kt_hc_version() > 0, "still alive and answered after all the garbage");
}
