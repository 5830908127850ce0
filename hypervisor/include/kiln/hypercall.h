/*
 * hypercall.h - entry point of the hypercall ABI (include/public/kiln.h).
 *
 * The backend calls hypercall_dispatch() on VMMCALL after moving RIP past
 * the instruction; it reads the number and arguments from the vCPU's
 * registers and writes the result to RAX.  Every argument is hostile.
 */
#ifndef KILN_HYPERCALL_H
#define KILN_HYPERCALL_H

#include <kiln/types.h>

struct vcpu;
struct kiln_domctl;
struct kiln_sysctl;
struct kiln_domctl_pc_boot;
struct domain;

void hypercall_dispatch(struct vcpu *v);

/* hypercall_ctl.c: privileged operations on an already copied-in struct;
 * return 0 or a negated KILN_E* code, results written into *op. */
s64 hypercall_domctl(struct vcpu *v, struct kiln_domctl *op);
s64 hypercall_sysctl(struct vcpu *v, struct kiln_sysctl *op);
/* domctl_migrate.c: GET/SET_VCPU_STATE and LOG_DIRTY (domlist_lock held). */
s64 domctl_migrate(struct vcpu *v, struct kiln_domctl *op);
/* domctl_pc_boot.c: KILN_DOMCTL_PC_BOOT on target t (domlist_lock held). */
s64 domctl_pc_boot(struct vcpu *v, const struct kiln_domctl_pc_boot *b, struct domain *t);
/* hypercall_op.c: copies the size-byte structure at the caller's gpa into
 * *op (it must not cross a page: else -KILN_EINVAL), runs locked(v, cmd, op)
 * with domlist_lock held, and copies *op back if that returned >= 0. */
s64 hypercall_struct_op(struct vcpu *v, u64 cmd, u64 gpa, void *op, size_t size,
                        s64 (*locked)(struct vcpu *v, u64 cmd, void *op));

#endif
