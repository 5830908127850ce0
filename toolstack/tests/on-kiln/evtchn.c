/*
 * evtchn.c - event channels and I/O request forwarding end to end, run in
 * dom0 on the real hypervisor with the evdom0 test guest
 * (hypervisor/guests/tests/evdom0.c) and its config: builds the guest
 * paused, gives it port 1 connected to a descriptor of this process,
 * becomes its I/O server (ioreq page at gfn IOREQ_GFN mapped through
 * /dev/kiln, one MMIO page), starts it, echoes its 100 pings, serves its
 * device accesses (checking each request's address, size and data), and
 * exits without answering its last read: the hypervisor must then crash
 * the guest (the scenario checks the log).
 * Prints "PASS key" or "FAIL key: detail" per check (the scenario
 * hypervisor/tests/qemu/scenarios/dom0-evtchn.sh names them).
 */
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <fcntl.h>
#include <time.h>
#include <unistd.h>
#include "kiln_builder.h"
#include "kiln_ioctl.h"
#include "../pass_fail.h"
#include "libkiln.h"

#define IOREQ_GFN  0x300u
#define MMIO_BASE  0xd0000000ull
#define DEVICE_ID  0x4b494c4eu
#define PINGS      100u

static kiln_handle *h;
static char detail[256];

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* One request as the guest made it, in the order seen. */
struct seen { uint8_t dir; uint32_t reg; uint32_t data; };
static const struct seen want[] = {
    { KILN_IOREQ_READ, 0, 0 }, { KILN_IOREQ_WRITE, 1, 0x600dcafe }, { KILN_IOREQ_READ, 1, 0 },
    { KILN_IOREQ_READ, 1, 0 }, { KILN_IOREQ_WRITE, 1, 0x600dcaff }, { KILN_IOREQ_READ, 1, 0 },
    { KILN_IOREQ_READ, 2, 0 },
};
#define NWANT (sizeof(want) / sizeof(want[0]))

int main(int argc, char **argv)
{
    struct kiln_config cfg;
    struct kiln_evtchn_status st;
    uint32_t domid, gport = 0, port = 0, iport = 0, ioport = 0, n;
    volatile struct kiln_ioreq *slot = NULL;
    void *page = NULL;
    int fd, iofd, r;
    char err[256];

    if (argc != 2 || kiln_open(&h) < 0) {
        printf("usage: evtchn CFG (as root, with kiln.ko)\n");
        return 100;
    }
    if (kiln_config_load(argv[1], &cfg, err, sizeof(err)) < 0 ||
        kiln_build_domain_file(h, &cfg, &domid, err, sizeof(err)) < 0) {
        printf("# cannot build %s: %s\n", argv[1], err);
        return 100;
    }

    r = kiln_evtchn_alloc_for(h, domid, 0, &gport);
    fd = r < 0 ? r : kiln_evtchn_bind(h, domid, gport, &port);
    snprintf(detail, sizeof(detail), "alloc %d, port %u, bind %d", r, gport, fd);
    check(r == 0 && gport == 1 && fd >= 0, "bind", detail);
    if (fd < 0)
        return 100;
    r = kiln_evtchn_wait(fd, 1000, &n);
    snprintf(detail, sizeof(detail), "wait %d, count %u", r, r ? 0 : n);
    check(r == 0 && n == 1, "fresh", detail);
    r = kiln_evtchn_status(h, domid, gport, &st);
    snprintf(detail, sizeof(detail), "%d: state %u remote d%u:%u", r, st.state, st.remote_dom,
             st.remote_port);
    check(r == 0 && st.state == KILN_EVTCHN_STATE_INTERDOMAIN && st.remote_dom == 0 &&
          st.remote_port == port, "status", detail);
    r = kiln_evtchn_bind(h, domid, gport, &n);
    check(r == -EINVAL, "twice", "binding the same port again was not EINVAL");
    r = kiln_evtchn_bind(h, 0x7000, 1, &n);
    check(r == -ESRCH, "nodomain", "binding to a missing domain was not ESRCH");
    {
        /* dom0's own control block is the module's, not a process's. */
        struct kiln_evtchn_op op = { .vcpu = 0, .control_gpa = 0x1000 };
        struct kiln_ioctl_hypercall hc = { .op = KILN_HC_EVTCHN_OP,
            .arg = { KILN_EVTCHNOP_INIT_CONTROL, (uintptr_t)&op } };
        int raw = open(KILN_DEVICE_PATH, O_RDWR);
        r = raw < 0 ? -errno : ioctl(raw, KILN_IOCTL_HYPERCALL, &hc) < 0 ? -errno : 0;
        check(r == -EPERM, "raw", "a raw INIT_CONTROL through the hypercall ioctl was not EPERM");
        if (raw >= 0)
            close(raw);
    }

    r = kiln_ioreq_create(h, domid, IOREQ_GFN, 3000);
    if (!r)
        r = kiln_ioreq_vcpu_port(h, domid, 0, &iport);
    iofd = r ? r : kiln_evtchn_bind(h, domid, iport, &ioport);
    if (iofd >= 0)
        r = kiln_evtchn_wait(iofd, 1000, &n);
    if (!r)
        r = kiln_ioreq_map_range(h, domid, KILN_IOREQ_MMIO, MMIO_BASE, 0x1000);
    if (!r)
        r = kiln_map_foreign(h, domid, IOREQ_GFN, 1, &page);
    slot = page;
    snprintf(detail, sizeof(detail), "%d (channel %u, ours %u, slot names %u)", r, iport, ioport,
             slot ? slot->port : 0);
    check(!r && iofd >= 0 && slot && slot->port == iport, "ioreq", detail);
    if (r || iofd < 0)
        return 100;
    r = kiln_ioreq_create(h, domid, IOREQ_GFN, 3000);
    check(r == -EEXIST, "ioreq-twice", "a second server for the guest was not EEXIST");

    kiln_domain_unpause(h, domid);
    kiln_evtchn_notify(fd);                       /* "ready" */

    unsigned int pings = 0, reqs = 0, bad = 0;
    uint32_t reg1 = 0;
    uint64_t deadline = now_ms() + 60000, t0 = 0, t1 = 0;
    bool last_seen = false;
    while (!last_seen && now_ms() < deadline) {
        struct pollfd p[2] = { { .fd = fd, .events = POLLIN }, { .fd = iofd, .events = POLLIN } };
        if (poll(p, 2, 1000) <= 0)
            continue;
        if ((p[0].revents & POLLIN) && kiln_evtchn_wait(fd, 0, &n) == 0) {
            if (!pings)
                t0 = now_ms();
            pings += n;
            if (pings == PINGS)
                t1 = now_ms();
            if (pings <= PINGS)
                kiln_evtchn_notify(fd);
        }
        if ((p[1].revents & POLLIN) && kiln_evtchn_wait(iofd, 0, &n) == 0 &&
            __atomic_load_n(&slot->state, __ATOMIC_ACQUIRE) == KILN_IOREQ_STATE_READY) {
            uint64_t addr = slot->addr;
            struct seen s = { slot->dir, (uint32_t)((addr - MMIO_BASE) / 4), (uint32_t)slot->data };
            if (slot->type != KILN_IOREQ_MMIO || slot->size != 4 || addr < MMIO_BASE ||
                addr >= MMIO_BASE + 0x1000 || (addr & 3))
                bad++;
            if (reqs < NWANT && (s.dir != want[reqs].dir || s.reg != want[reqs].reg ||
                                 (s.dir == KILN_IOREQ_WRITE && s.data != want[reqs].data)))
                bad++;
            reqs++;
            if (s.reg == 2) {
                last_seen = true;                 /* never answered */
                break;
            }
            if (s.dir == KILN_IOREQ_READ)
                slot->data = s.reg == 0 ? DEVICE_ID : reg1;
            else if (s.reg == 1)
                reg1 = s.data;
            __atomic_store_n(&slot->state, KILN_IOREQ_STATE_DONE, __ATOMIC_RELEASE);
            kiln_evtchn_notify(iofd);
        }
    }
    snprintf(detail, sizeof(detail), "%u pings", pings);
    check(pings == PINGS + 1, "pings", detail);
    if (t1 > t0)
        printf("# %u round trips in %lu ms (the module polls once per jiffy)\n", PINGS,
               (unsigned long)(t1 - t0));
    snprintf(detail, sizeof(detail), "%u requests, %u unexpected", reqs, bad);
    check(reqs == NWANT && !bad, "requests", detail);
    /* Exiting closes both descriptors: the guest loses its server. */
    printf("# exiting with d%u's last read unanswered\n", domid);
    return failures > 100 ? 100 : failures;
}
