/*
 * hypercall.c - VMMCALL dispatch and the calls every domain may make
 * (include/public/kiln.h is the contract).
 *
 * Arguments come from guest registers and are all hostile: an unknown
 * number gets -KILN_ENOSYS, a guest address outside the caller's RAM
 * -KILN_EFAULT, a malformed value -KILN_EINVAL; nothing a guest passes can
 * make the hypervisor fault.  Only CPL 0 may call (else -KILN_EPERM), and
 * only privileged domains may use domctl/sysctl.
 */
#include <kiln/console.h>
#include <kiln/domain.h>
#include <kiln/evtchn.h>
#include <kiln/hvm.h>
#include <kiln/hypercall.h>
#include <kiln/ioreq.h>
#include <kiln/lib.h>
#include <kiln/mm.h>
#include <kiln/time.h>

static s64 hc_console_write(struct vcpu *v, u64 gpa, u64 len)
{
    if (len > KILN_CONSOLE_MAX)
        return -KILN_EINVAL;
    if (!len)
        return 0;
    if ((gpa & (PAGE_SIZE - 1)) + len > PAGE_SIZE)
        return -KILN_EINVAL;
    char buf[KILN_CONSOLE_MAX];
    if (copy_from_guest(v->domain, buf, gpa, len))
        return -KILN_EFAULT;
    domain_console_write(v->domain, buf, len);
    return (s64)len;
}

static s64 hc_shutdown(struct vcpu *v, u64 reason)
{
    static const char *const why[] = {
        [KILN_SHUTDOWN_POWEROFF] = "shutdown (poweroff)",
        [KILN_SHUTDOWN_REBOOT] = "shutdown (reboot requested; not supported, destroyed)",
        [KILN_SHUTDOWN_CRASH] = "shutdown (the guest reported a crash)",
    };
    if (reason >= ARRAY_SIZE(why))
        return -KILN_EINVAL;
    unsigned long flags = spin_lock_irqsave(&domlist_lock);
    domain_kill(v->domain, (u32)reason, why[reason]);
    spin_unlock_irqrestore(&domlist_lock, flags);
    return 0;
}

/* Copies a control structure in (it must not cross a page), runs op, and
 * copies the results back. */
static s64 hc_control(struct vcpu *v, u64 gpa, bool sys)
{
    if (!(v->domain->flags & KILN_CPUID_F_PRIVILEGED))
        return -KILN_EPERM;
    size_t size = sys ? sizeof(struct kiln_sysctl) : sizeof(struct kiln_domctl);
    if ((gpa & (PAGE_SIZE - 1)) + size > PAGE_SIZE)
        return -KILN_EINVAL;
    union {
        struct kiln_domctl dom;
        struct kiln_sysctl sys;
    } op;
    if (copy_from_guest(v->domain, &op, gpa, size))
        return -KILN_EFAULT;
    s64 rc = sys ? hypercall_sysctl(v, &op.sys) : hypercall_domctl(v, &op.dom);
    if (rc >= 0 && copy_to_guest(v->domain, gpa, &op, size))
        return -KILN_EFAULT;
    return rc;
}

void hypercall_dispatch(struct vcpu *v)
{
    struct hvm_regs r;
    hvm->get_regs(v, &r);
    u64 nr = r.rax, a1 = r.rdi;
    s64 ret;

    if (!r.long_mode) {
        nr &= 0xffffffffu;
        a1 &= 0xffffffffu;
        r.rsi &= 0xffffffffu;
    }
    if (r.cpl != 0) {
        ret = -KILN_EPERM;
    } else {
        switch (nr) {
        case KILN_HC_VERSION:
            ret = (KILN_ABI_MAJOR << 16) | KILN_ABI_MINOR;
            break;
        case KILN_HC_CONSOLE_WRITE:
            ret = hc_console_write(v, a1, r.rsi);
            break;
        /* dom0 owns CPU 0 and is never scheduled: it idles with HLT, so
         * for it these return at once (a block may always end early). */
        case KILN_HC_SCHED_YIELD:
            if (!v->domain->hardware)
                vcpu_yield(v);
            ret = 0;
            break;
        case KILN_HC_SCHED_BLOCK:
            if (!v->domain->hardware)
                vcpu_block(v, a1);
            ret = 0;
            break;
        case KILN_HC_SHUTDOWN:
            ret = hc_shutdown(v, a1);
            break;
        case KILN_HC_TIME:
            ret = (s64)now_ns();
            break;
        case KILN_HC_VCPU_RUNTIME:
            ret = (s64)vcpu_runtime(v);
            break;
        case KILN_HC_EVTCHN_OP:
            ret = hypercall_evtchn_op(v, a1, r.rsi);
            break;
        case KILN_HC_IOREQ_OP:
            ret = hypercall_ioreq_op(v, a1, r.rsi);
            break;
        case KILN_HC_DOMCTL:
            ret = hc_control(v, a1, false);
            break;
        case KILN_HC_SYSCTL:
            ret = hc_control(v, a1, true);
            break;
        default:
            ret = -KILN_ENOSYS;
            break;
        }
    }
    hvm->get_regs(v, &r);
    r.rax = (u64)ret;
    hvm->set_regs(v, &r);
}
