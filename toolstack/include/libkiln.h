/*
 * libkiln.h - the C API dom0 programs use to control Kiln.
 *
 * Every function returns 0 (or a non-negative count) on success and a
 * negated errno value on failure; the hypervisor's KILN_E* codes arrive as
 * the errno of the same name.  A call that fails leaves nothing half done:
 * functions made of several hypercalls undo what they did (a domain that
 * could not be fully built is destroyed again).
 */
#ifndef LIBKILN_H
#define LIBKILN_H

#include <stddef.h>
#include <stdint.h>
#include "kiln.h"

typedef struct kiln_handle kiln_handle;

/* Opens /dev/kiln (root only; needs kiln.ko, so dom0 on Kiln). */
int kiln_open(kiln_handle **out);
void kiln_close(kiln_handle *h);

/* Hypervisor ABI version, (major << 16) | minor. */
int kiln_version(kiln_handle *h, uint32_t *version);

struct kiln_dominfo {
    uint32_t domid;
    uint32_t state;            /* KILN_DOMSTATE_* */
    uint32_t vcpus;
    uint32_t shutdown_reason;  /* KILN_SHUTDOWN_* when state is DYING */
    uint32_t flags;
    uint32_t exit_code;        /* isa-debug-exit value that ended a PC domain */
    uint64_t memory_kib;
    uint64_t cpu_time_ns;
    char     name[KILN_NAME_MAX];
};

int kiln_domain_create(kiln_handle *h, const char *name, uint64_t memory_kib,
                       uint32_t vcpus, uint32_t flags, uint32_t *domid);
int kiln_domain_destroy(kiln_handle *h, uint32_t domid);
int kiln_domain_pause(kiln_handle *h, uint32_t domid);
int kiln_domain_unpause(kiln_handle *h, uint32_t domid);
/* -ESRCH when domid does not exist. */
int kiln_domain_info(kiln_handle *h, uint32_t domid, struct kiln_dominfo *out);
/* Fills up to max entries in domid order; returns how many domains exist
 * (which may exceed max: call again with a larger array). */
int kiln_domain_list(kiln_handle *h, struct kiln_dominfo *out, size_t max);
/* Finds a domain by name; -ESRCH if none. */
int kiln_domain_lookup(kiln_handle *h, const char *name, uint32_t *domid);

int kiln_sched_get(kiln_handle *h, uint32_t domid, uint32_t *weight, uint32_t *cap);
int kiln_sched_set(kiln_handle *h, uint32_t domid, uint32_t weight, uint32_t cap);
/* cpumask bit n = physical CPU n; 0 = any. */
int kiln_vcpu_pin(kiln_handle *h, uint32_t domid, uint32_t vcpu, uint64_t cpumask);
int kiln_set_cpuid(kiln_handle *h, uint32_t domid, const struct kiln_domctl_cpuid *leaf);
/* Copies len bytes (any length) to guest-physical dest in domid, page by page. */
int kiln_write_mem(kiln_handle *h, uint32_t domid, uint64_t dest, const void *buf, size_t len);
int kiln_set_vcpu(kiln_handle *h, uint32_t domid, const struct kiln_domctl_vcpu *regs);
/* Loads a PC domain (created with KILN_DOMCTL_CREATE_F_PC) from the
 * kernel image already written to its RAM at image_gpa (KILN_PC_BOOT_*
 * kind; see KILN_DOMCTL_PC_BOOT in kiln.h).  cmdline: up to
 * KILN_PC_CMDLINE_MAX bytes, else -E2BIG. */
int kiln_pc_boot(kiln_handle *h, uint32_t domid, uint32_t kind, uint64_t image_gpa,
                 uint64_t image_len, const char *cmdline);

/* Reads a domain's console ring (kiln_console_read) or the hypervisor's log
 * (kiln_dmesg_read) from *offset; returns the byte count and advances
 * *offset.  0 means nothing new. */
int kiln_console_read(kiln_handle *h, uint32_t domid, char *buf, size_t len, uint64_t *offset);
int kiln_dmesg_read(kiln_handle *h, char *buf, size_t len, uint64_t *offset);

int kiln_physinfo(kiln_handle *h, struct kiln_sysctl_physinfo *out);

/*
 * Event channels (event_channel.h) for a dom0 process: a port of dom0 as a
 * file descriptor (kiln_ioctl.h, KILN_IOCTL_EVTCHN_*).  kiln_evtchn_bind
 * connects to remote_dom's port remote_port (waiting for dom0),
 * kiln_evtchn_alloc makes a port remote_dom may bind; both return the
 * descriptor (close() it to close the port) and write dom0's port number,
 * or -errno.  A fresh bound port starts with one notification.
 */
int kiln_evtchn_bind(kiln_handle *h, uint32_t remote_dom, uint32_t remote_port, uint32_t *port);
int kiln_evtchn_alloc(kiln_handle *h, uint32_t remote_dom, uint32_t *port);
/* Sends a notification to the other end: 0 or -errno. */
int kiln_evtchn_notify(int fd);
/* Waits up to timeout_ms (-1: forever) for notifications: 0 with *count
 * (how many arrived since the last wait), -ETIMEDOUT, or -errno. */
int kiln_evtchn_wait(int fd, int timeout_ms, uint32_t *count);
/* A port of domain dom (0 = dom0) that remote_dom may bind: for a domain
 * being built.  0 or -errno. */
int kiln_evtchn_alloc_for(kiln_handle *h, uint32_t dom, uint32_t remote_dom, uint32_t *port);
/* A port's state (KILN_EVTCHN_STATE_*) and its other end. */
struct kiln_evtchn_status {
    uint32_t state, remote_dom, remote_port, vcpu, priority;
};
int kiln_evtchn_status(kiln_handle *h, uint32_t dom, uint32_t port, struct kiln_evtchn_status *out);
/* How many ports domain dom may have. */
int kiln_evtchn_set_limit(kiln_handle *h, uint32_t dom, uint32_t limit);

/*
 * I/O request forwarding (ioreq.h): the caller becomes domid's I/O server
 * with its ioreq page at gfn (one slot per vCPU; map it with
 * kiln_map_foreign) and the given answer timeout; kiln_ioreq_vcpu_port
 * names the channel of a vCPU to kiln_evtchn_bind; kiln_ioreq_map_range
 * claims [start, start + size) of MMIO (KILN_IOREQ_MMIO) or ports
 * (KILN_IOREQ_PIO).  0 or -errno.
 */
int kiln_ioreq_create(kiln_handle *h, uint32_t domid, uint64_t gfn, uint32_t timeout_ms);
int kiln_ioreq_vcpu_port(kiln_handle *h, uint32_t domid, uint32_t vcpu, uint32_t *port);
int kiln_ioreq_map_range(kiln_handle *h, uint32_t domid, uint32_t type, uint64_t start,
                         uint64_t size);

#define KILN_PAGE_SIZE 4096u
/* Maps nr pages of domain domid, from page frame gfn on, into this process,
 * readable and writable (shared with the domain); *out gets the address.
 * All or nothing.  -ENOSYS without a hypervisor foreign window; otherwise
 * the errors of KILN_IOCTL_MMAP_FOREIGN (kiln_ioctl.h).  If the domain is
 * destroyed while mapped, the pages read as zeros from then on. */
int kiln_map_foreign(kiln_handle *h, uint32_t domid, uint64_t gfn, size_t nr, void **out);
/* Undoes kiln_map_foreign (same address and page count). */
int kiln_unmap_foreign(void *addr, size_t nr);

/* ---- save/restore and migration (ABI 1.2; lib/migrate_ctl.c) ------------- */

/* Pauses domid and waits (up to timeout_ms) until no vCPU of it is left in
 * guest mode (GETINFO says PAUSED): what the calls below need.  -ETIMEDOUT
 * if it did not stop in time (it stays paused). */
int kiln_domain_pause_wait(kiln_handle *h, uint32_t domid, unsigned int timeout_ms);
/* A stopped vCPU's whole state, out and in (the hypervisor checks every
 * field of a state it loads: -EINVAL, nothing changed, when one is bad). */
int kiln_vcpu_state_get(kiln_handle *h, uint32_t domid, uint32_t vcpu,
                        struct kiln_vcpu_state *out);
int kiln_vcpu_state_set(kiln_handle *h, uint32_t domid, const struct kiln_vcpu_state *s);
/* Copies nr (1..KILN_READ_MEM_MAX) pages of domid from gfn on into buf
 * (nr * 4096 bytes); the domain may be running. */
int kiln_read_mem(kiln_handle *h, uint32_t domid, uint64_t gfn, uint32_t nr, void *buf);
/* The domain's clock, what its KILN_HC_TIME returns; set only stopped. */
int kiln_domain_clock_get(kiln_handle *h, uint32_t domid, uint64_t *ns);
int kiln_domain_clock_set(kiln_handle *h, uint32_t domid, uint64_t ns);
/* Log-dirty mode of a stopped domain (KILN_DOMCTL_LOG_DIRTY in kiln.h). */
int kiln_log_dirty_enable(kiln_handle *h, uint32_t domid);
int kiln_log_dirty_disable(kiln_handle *h, uint32_t domid);
/* Reads and clears dirty bits [start, start + nr) (nr <= KILN_LOG_DIRTY_BATCH)
 * into bits; *covered gets the bits copied (cut at the domain's end).
 * Returns the number of dirty pages among them, or -errno. */
int kiln_log_dirty_read_clean(kiln_handle *h, uint32_t domid, uint64_t start, uint64_t nr,
                              uint8_t *bits, uint64_t *covered);

/* Names for messages. */
const char *kiln_domstate_name(uint32_t state);

#endif /* LIBKILN_H */
