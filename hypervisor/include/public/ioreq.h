/*
 * ioreq.h - serving a domain's device accesses from another domain (the
 * ABI of KILN_HC_IOREQ_OP, kiln.h ABI 1.3), shared unchanged by the
 * hypervisor, dom0's kernel module and dom0 user space.
 *
 * A privileged domain (dom0: one process per served domain, kiln-devd)
 * becomes the I/O server of a domU with CREATE and claims MMIO and port
 * ranges with MAP_RANGE.  From then on a domU access to such a range is
 * not emulated by the hypervisor: it is written into the vCPU's slot of
 * the ioreq page, the server is notified on that vCPU's event channel, and
 * the vCPU sleeps until the server answers:
 *
 *   hypervisor: slot = { addr, size, dir, type, data (writes), seq + 1 },
 *               state READY, then a notification on the vCPU's channel
 *   server:     (state INPROCESS, optional) performs it; for a read writes
 *               data; then state DONE, seq unchanged; then a send on its
 *               end of the channel
 *   hypervisor: accepts the answer (DONE and the seq it posted), state
 *               NONE, and the vCPU completes its instruction with data
 *
 * The ioreq page is a page of the served domain's own RAM that the
 * toolstack chose (reserved in its memory map); dom0 maps it with
 * DOMCTL_MAP_FOREIGN.  The guest can write it too: the hypervisor reads
 * each answer once and checks it, so a guest that scribbles on its slots
 * only breaks its own device accesses, and the server must treat every
 * field as hostile.  vCPU n's slot is at offset n * sizeof(struct
 * kiln_ioreq).
 *
 * The served domain is crashed (never anything else) when its server
 * does not answer within the timeout given to CREATE, answers with a seq
 * it was not asked (the server is confused), or closes a vCPU's channel
 * after binding it (the server died: the kernel module closes its
 * channels when the process exits).  A notification with no request
 * outstanding, or before state is DONE, is ignored (events may be
 * coalesced or repeated).
 *
 * Calling convention: RAX = KILN_HC_IOREQ_OP, RDI = cmd, RSI = guest
 * physical address of a struct kiln_ioreq_op (not crossing a page),
 * copied in and back.  Privileged callers only (-KILN_EPERM).
 */
#ifndef KILN_PUBLIC_IOREQ_H
#define KILN_PUBLIC_IOREQ_H

#include "kiln.h"

#define KILN_IOREQ_VERSION 1

#define KILN_IOREQ_STATE_NONE      0
#define KILN_IOREQ_STATE_READY     1   /* posted, the server has not taken it */
#define KILN_IOREQ_STATE_INPROCESS 2   /* the server is working on it */
#define KILN_IOREQ_STATE_DONE      3   /* answered */

#define KILN_IOREQ_READ   0
#define KILN_IOREQ_WRITE  1

#define KILN_IOREQ_MMIO   0            /* addr is a guest-physical address */
#define KILN_IOREQ_PIO    1            /* addr is a port */

struct kiln_ioreq {
    kiln_u64 addr;
    kiln_u64 data;            /* little endian in the low size bytes */
    kiln_u32 seq;             /* request number of this vCPU */
    kiln_u32 port;            /* this vCPU's channel in the served domain */
    kiln_u8  size;            /* 1, 2, 4 or 8 (ports: 1, 2, 4) */
    kiln_u8  dir;             /* KILN_IOREQ_READ / WRITE */
    kiln_u8  type;            /* KILN_IOREQ_MMIO / PIO */
    kiln_u8  state;           /* KILN_IOREQ_STATE_* */
    kiln_u32 _pad;
    kiln_u64 _reserved[4];
};

#define KILN_IOREQ_MAX_VCPUS  (4096 / sizeof(struct kiln_ioreq))
#define KILN_IOREQ_MAX_PORT_RANGES 16
#define KILN_IOREQ_TIMEOUT_MAX_MS  60000u

enum kiln_ioreq_cmd {
    KILN_IOREQ_OP_VERSION     = 0,  /* returns KILN_IOREQ_VERSION */
    /* dom, gfn (the ioreq page, in dom's RAM), timeout_ms (1 ..
     * KILN_IOREQ_TIMEOUT_MAX_MS): the caller becomes dom's server; one
     * channel per vCPU is allocated in dom, waiting for the caller to
     * bind (VCPU_PORT names them).  EEXIST dom has a server, EPERM dom is
     * dom0 or the caller, EFAULT gfn not in its RAM, ESRCH no such
     * live domain, EINVAL bad timeout. */
    KILN_IOREQ_OP_CREATE      = 1,
    /* dom, vcpu: out port, the channel of that vCPU in dom, for
     * EVTCHNOP_BIND_INTERDOMAIN. */
    KILN_IOREQ_OP_VCPU_PORT   = 2,
    /* dom, type, start, size: forwards [start, start + size) to the server.
     * MMIO: outside dom's RAM, page aligned, up to the hypervisor's
     * region limit shared with its own devices (E2BIG); PIO: ports
     * below 0x10000, KILN_IOREQ_MAX_PORT_RANGES ranges.  EEXIST overlap. */
    KILN_IOREQ_OP_MAP_RANGE   = 3,
};

struct kiln_ioreq_op {
    kiln_u32 dom;
    kiln_u32 vcpu;
    kiln_u32 port;            /* out (VCPU_PORT) */
    kiln_u32 type;            /* KILN_IOREQ_MMIO / PIO */
    kiln_u64 gfn;
    kiln_u64 start;
    kiln_u64 size;
    kiln_u32 timeout_ms;
    kiln_u32 _pad;
};

#endif /* KILN_PUBLIC_IOREQ_H */
