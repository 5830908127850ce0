/*
 * fake_kiln.h - a stand-in for /dev/kiln and the hypervisor behind it, for
 * libkiln's unit tests only.  It records every hypercall libkiln makes (so
 * tests can check the marshalling) and models just enough of a hypervisor
 * (domain table, one domain's RAM, console ring, log ring) to answer them.
 */
#ifndef FAKE_KILN_H
#define FAKE_KILN_H

#include <stdbool.h>
#include "kiln_private.h"

#define FAKE_MAX_CALLS 4096
#define FAKE_MAX_DOMS  8
#define FAKE_RAM       (8u << 20)

struct fake_dom {
    bool     exists;
    uint32_t domid;
    char     name[KILN_NAME_MAX];
    uint32_t state, vcpus, weight, cap, exit_code;
    uint64_t memory_kib;
};

struct fake {
    /* every call, as libkiln passed it (structures copied at call time) */
    size_t n_calls;
    struct {
        uint64_t op;
        struct kiln_domctl domctl;
        struct kiln_sysctl sysctl;
        uint32_t cmd;                   /* EVTCHN_OP / IOREQ_OP sub-command */
        struct kiln_evtchn_op evtchn;
        struct kiln_ioreq_op ioreq;
    } calls[FAKE_MAX_CALLS];

    struct fake_dom doms[FAKE_MAX_DOMS];
    uint32_t next_domid;
    unsigned char *ram;                 /* RAM of the last created domain */
    struct kiln_domctl_vcpu vcpu0;
    const char *console;                /* ring contents for CONSOLE_READ */
    const char *log;                    /* ring contents for LOG_READ */
    /* the last PC_BOOT: its arguments, the command line it pointed at and
     * the image it took out of RAM (which it zeroes, as Kiln does) */
    struct kiln_domctl_pc_boot pc_boot;
    char pc_cmdline[KILN_PC_CMDLINE_MAX + 1];
    unsigned char *pc_image;

    /* save/restore and migration (test_migrate.c) */
    struct kiln_vcpu_state vstate[4];
    bool log_dirty;
    uint8_t dirty[FAKE_RAM / 4096 / 8];
    uint64_t free_pages;                /* physinfo's answer; 0 = 1000 */
    uint64_t clock_ns;                  /* the domain's clock (CLOCK) */
    /* A running guest: each UNPAUSE with log-dirty on writes the run number
     * into guest_writes[run] pages from guest_first on (and marks them). */
    uint32_t runs;
    uint32_t guest_writes[16];
    uint64_t guest_first;

    /* failure injection */
    uint32_t fail_cmd;      /* domctl cmd to fail, 0 = none */
    int64_t  fail_result;   /* ... with this hypervisor result */
    int      ioctl_errno;   /* nonzero: the "ioctl" itself fails with this */

    /* event channel descriptors: the fake "port" is one end of a socket
     * pair, the test holds the other (writes u32 counts, reads sends) */
    struct kiln_ioctl_evtchn evtchn_req;   /* the last request */
    bool evtchn_bound;                     /* ... was a bind */
    int evtchn_peer;                       /* -1 when none */
    int evtchn_errno;                      /* nonzero: refuse with this */
    int64_t hc_op_result;                  /* nonzero: EVTCHN/IOREQ_OP result */
};

/* A handle whose hypercalls go to f (which starts with domains 0 = dom0). */
kiln_handle *fake_open(struct fake *f);
void fake_close(kiln_handle *h, struct fake *f);
/* Number of recorded domctls with this cmd. */
size_t fake_count(const struct fake *f, uint32_t cmd);

#endif /* FAKE_KILN_H */
