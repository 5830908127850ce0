/*
 * kiln_ioctl.h - the /dev/kiln interface between kiln.ko and libkiln.
 *
 * Shared unchanged by the kernel module and dom0 user space, so it includes
 * only <linux/errno.h>, <linux/ioctl.h> (present in both worlds) and the public ABI.
 *
 * User space cannot know physical addresses, so the module marshals every
 * hypercall that takes one: wherever kiln.h says "gpa in the caller", user
 * space puts a pointer into its own memory and kiln.ko bounces the data
 * through a kernel page whose physical address it passes instead.  The
 * structure copied back holds the user's pointer again.
 */
#ifndef KILN_IOCTL_H
#define KILN_IOCTL_H

#include <linux/errno.h>
#include <linux/ioctl.h>
#include "kiln.h"
#include "event_channel.h"
#include "ioreq.h"

#define KILN_DEVICE_PATH "/dev/kiln"

/*
 * KILN_IOCTL_HYPERCALL: one hypercall.  Accepted ops and their arguments:
 *   KILN_HC_VERSION, KILN_HC_TIME, KILN_HC_VCPU_RUNTIME, KILN_HC_SCHED_YIELD:
 *       no arguments.
 *   KILN_HC_CONSOLE_WRITE: arg[0] = user buffer, arg[1] = length
 *       (<= KILN_CONSOLE_MAX).
 *   KILN_HC_DOMCTL: arg[0] = user pointer to struct kiln_domctl, read in and
 *       written back.  WRITE_MEM's src_gpa and CONSOLE_READ's buf_gpa are user
 *       pointers (one page at most: longer reads are cut to one page).
 *   KILN_HC_SYSCTL: arg[0] = user pointer to struct kiln_sysctl; LOG_READ's
 *       buf_gpa is a user pointer, as for CONSOLE_READ.
 *   MAP_FOREIGN/UNMAP_FOREIGN pass through unchanged: the hypervisor only
 *   accepts window addresses there (kiln.ko skips window pages so taken).
 *   KILN_HC_IOREQ_OP: arg[0] = cmd, arg[1] = user pointer to struct
 *       kiln_ioreq_op, read in and written back.
 *   KILN_HC_EVTCHN_OP: arg[0] = cmd, arg[1] = user pointer to struct
 *       kiln_evtchn_op; only STATUS, SET_LIMIT and ALLOC_UNBOUND in
 *       another domain (dom0's own ports belong to the module: use the
 *       EVTCHN ioctls below), else EPERM.
 * Anything else (shutdown or blocking of dom0's own vCPU from a process,
 * unknown numbers) is refused with EPERM or ENOSYS without a hypercall.
 * The ioctl fails (-1/errno) only when the module could not make the call;
 * otherwise it returns 0 and `result` holds the hypervisor's answer
 * (>= 0, or a negated KILN_E* code).
 */
struct kiln_ioctl_hypercall {
    kiln_u64 op;
    kiln_u64 arg[5];
    kiln_i64 result;
};

/*
 * KILN_IOCTL_MMAP_FOREIGN: map nr_pages page frames of domain domid,
 * starting at gfn, at addr in the caller.  addr..addr+nr_pages*4096 must lie
 * inside one shared mmap() of /dev/kiln and not be mapped already.  All or
 * nothing: on error no page of the request stays mapped.  The pages stay
 * mapped until the mmap() is unmapped; if the domain is destroyed first they
 * read as zeros (the hypervisor's sink page), never as freed memory.
 * Errors: EINVAL (bad range), EBUSY (part of the range is mapped already),
 * ENOMEM (the foreign window is full), ENOSYS (the hypervisor has no
 * window), and the hypervisor's refusals of KILN_DOMCTL_MAP_FOREIGN (kiln.h:
 * ESRCH, EPERM for dom0 itself, EBUSY dying, EFAULT gfn outside its RAM,
 * E2BIG over KILN_FOREIGN_MAX_PER_DOMAIN pages of one domain).
 */
struct kiln_ioctl_mmap_foreign {
    kiln_u64 addr;
    kiln_u64 gfn;
    kiln_u32 nr_pages;
    kiln_u32 domid;
};

/*
 * KILN_IOCTL_EVTCHN_BIND: a new port of dom0 connected to remote_dom's
 * port remote_port (UNBOUND, waiting for dom0); KILN_IOCTL_EVTCHN_ALLOC: a
 * new port of dom0 waiting for remote_dom to bind it (remote_port
 * ignored).  Both return a file descriptor for the port and write its
 * number to port.  On that descriptor: read() of 4 bytes gives the number
 * of notifications since the last read (a u32, at least 1; blocks while
 * there is none, EAGAIN with O_NONBLOCK); write() of any 1..8 bytes sends
 * a notification to the other end; poll() reports POLLIN while some are
 * unread; close() closes the port (the other end sees it unbound and
 * gets a notification).  A fresh bound port starts with one notification
 * (an event sent before the bind is never lost).  Errors: the
 * hypervisor's (ESRCH no such domain, EINVAL remote port not waiting for
 * dom0, ENOSPC port limits), ENOMEM.  Delivery is polled by the module,
 * once per jiffy, while some port is open.
 */
struct kiln_ioctl_evtchn {
    kiln_u32 remote_dom;
    kiln_u32 remote_port;
    kiln_u32 port;            /* out */
    kiln_u32 _pad;
};

#define KILN_IOCTL_MAGIC 'K'
#define KILN_IOCTL_HYPERCALL    _IOWR(KILN_IOCTL_MAGIC, 0, struct kiln_ioctl_hypercall)
#define KILN_IOCTL_MMAP_FOREIGN _IOW(KILN_IOCTL_MAGIC, 1, struct kiln_ioctl_mmap_foreign)
#define KILN_IOCTL_EVTCHN_BIND  _IOWR(KILN_IOCTL_MAGIC, 2, struct kiln_ioctl_evtchn)
#define KILN_IOCTL_EVTCHN_ALLOC _IOWR(KILN_IOCTL_MAGIC, 3, struct kiln_ioctl_evtchn)

/*
 * The hypervisor's answer as a negative Linux errno (or the value itself when
 * it is not an error).  The module and libkiln both translate hypervisor
 * results, so the one table lives here; a code this build does not know
 * becomes -EIO rather than a number that could mean something else.
 */
static inline long kiln_hv_result_to_errno(long r)
{
    if (r >= 0)
        return r;
    switch (-r) {
    case KILN_EPERM:  return -EPERM;
    case KILN_ENOENT: return -ENOENT;
    case KILN_ESRCH:  return -ESRCH;
    case KILN_E2BIG:  return -E2BIG;
    case KILN_ENOMEM: return -ENOMEM;
    case KILN_EFAULT: return -EFAULT;
    case KILN_EBUSY:  return -EBUSY;
    case KILN_EEXIST: return -EEXIST;
    case KILN_EINVAL: return -EINVAL;
    case KILN_ENOSYS: return -ENOSYS;
    case KILN_ENOSPC: return -ENOSPC;
    default:          return -EIO;
    }
}

#endif /* KILN_IOCTL_H */
