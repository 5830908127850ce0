/*
 * hypercall_op.c - the argument handling that the structure-passing
 * hypercalls (KILN_HC_EVTCHN_OP, KILN_HC_IOREQ_OP) share: the guest's
 * structure is copied in only if it lies within one page of the caller's
 * RAM, the operation runs on that private copy under the domain list
 * lock (so the domains it names cannot go away meanwhile), and the
 * results are copied back only when it succeeded.
 */
#include <kiln/domain.h>
#include <kiln/hypercall.h>
#include <kiln/lib.h>
#include <kiln/mm.h>

s64 hypercall_struct_op(struct vcpu *v, u64 cmd, u64 gpa, void *op, size_t size,
                        s64 (*locked)(struct vcpu *v, u64 cmd, void *op))
{
    if ((gpa & (PAGE_SIZE - 1)) + size > PAGE_SIZE)
        return -KILN_EINVAL;
    if (copy_from_guest(v->domain, op, gpa, size))
        return -KILN_EFAULT;
    unsigned long flags = spin_lock_irqsave(&domlist_lock);
    s64 rc = locked(v, cmd, op);
    spin_unlock_irqrestore(&domlist_lock, flags);
    if (rc >= 0 && copy_to_guest(v->domain, gpa, op, size))
        return -KILN_EFAULT;
    return rc;
}
