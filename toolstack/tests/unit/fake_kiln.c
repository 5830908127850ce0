/*
 * fake_kiln.c - the fake hypervisor behind fake_kiln.h.  It follows the
 * conventions of kiln.ko: "gpa in the caller" fields hold user pointers.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "fake_kiln.h"

static void *new_ram(struct fake *f)
{
    free(f->ram);
    f->ram = calloc(1, FAKE_RAM);
    return f->ram;
}

static void guest_runs(struct fake *f, struct fake_dom *dom)
{
    uint32_t n = f->runs < 16 ? f->guest_writes[f->runs] : 0;

    f->runs++;
    for (uint64_t g = f->guest_first; g < f->guest_first + n && g < dom->memory_kib / 4; g++) {
        memcpy(f->ram + g * 4096 + 8, &f->runs, sizeof(f->runs));
        f->dirty[g / 8] |= (uint8_t)(1u << (g % 8));
    }
}

static int64_t log_dirty(struct fake *f, struct fake_dom *dom, struct kiln_domctl_log_dirty *l)
{
    uint64_t pages = dom->memory_kib / 4, n = 0;
    uint8_t *out = (uint8_t *)(uintptr_t)l->buf_gpa;

    switch (l->op) {
    case KILN_LOG_DIRTY_ENABLE:
        if (f->log_dirty)
            return -KILN_EEXIST;
        f->log_dirty = true;
        memset(f->dirty, 0, sizeof(f->dirty));
        return 0;
    case KILN_LOG_DIRTY_DISABLE:
        if (!f->log_dirty)
            return -KILN_ENOENT;
        f->log_dirty = false;
        return 0;
    case KILN_LOG_DIRTY_READ_CLEAN:
        if (!f->log_dirty)
            return -KILN_ENOENT;
        if (l->start_gfn >= pages || !l->nr || l->nr > KILN_LOG_DIRTY_BATCH)
            return -KILN_EINVAL;
        if (l->nr > pages - l->start_gfn)
            l->nr = pages - l->start_gfn;
        memset(out, 0, (l->nr + 7) / 8);
        for (uint64_t i = 0; i < l->nr; i++) {
            uint64_t g = l->start_gfn + i;
            if (f->dirty[g / 8] & (1u << (g % 8))) {
                out[i / 8] |= (uint8_t)(1u << (i % 8));
                f->dirty[g / 8] &= (uint8_t)~(1u << (g % 8));
                n++;
            }
        }
        l->dirty = n;
        return 0;
    }
    return -KILN_EINVAL;
}

static struct fake_dom *find(struct fake *f, uint32_t domid)
{
    for (int i = 0; i < FAKE_MAX_DOMS; i++)
        if (f->doms[i].exists && f->doms[i].domid == domid)
            return &f->doms[i];
    return NULL;
}

static int64_t ring_read(const char *ring, struct kiln_domctl_console *c)
{
    size_t size = ring ? strlen(ring) : 0, n;

    if (c->offset > size)
        return -KILN_EINVAL;
    n = size - c->offset;
    if (n > c->len)
        n = c->len;
    memcpy((void *)(uintptr_t)c->buf_gpa, ring + c->offset, n);
    c->offset += n;
    c->len = n;
    return 0;
}

static int64_t pc_boot(struct fake *f, const struct kiln_domctl_pc_boot *b)
{
    if (b->image_gpa % 4096 || !b->image_len || b->image_len > FAKE_RAM - b->image_gpa ||
        b->image_gpa > FAKE_RAM || b->cmdline_len > KILN_PC_CMDLINE_MAX)
        return -KILN_EINVAL;
    f->pc_boot = *b;
    memcpy(f->pc_cmdline, (const void *)(uintptr_t)b->cmdline_gpa, b->cmdline_len);
    f->pc_cmdline[b->cmdline_len] = '\0';
    free(f->pc_image);
    f->pc_image = malloc(b->image_len);
    if (!f->pc_image)
        return -KILN_ENOMEM;
    memcpy(f->pc_image, f->ram + b->image_gpa, b->image_len);
    memset(f->ram + b->image_gpa, 0, b->image_len);
    return 0;
}

static int64_t domctl(struct fake *f, struct kiln_domctl *d)
{
    struct fake_dom *dom = find(f, d->domid);

    if (f->fail_cmd && d->cmd == f->fail_cmd)
        return f->fail_result;
    switch (d->cmd) {
    case KILN_DOMCTL_CREATE:
        for (int i = 0; i < FAKE_MAX_DOMS; i++) {
            if (f->doms[i].exists)
                continue;
            f->doms[i] = (struct fake_dom){ .exists = true, .domid = f->next_domid++,
                .state = KILN_DOMSTATE_BUILDING, .vcpus = d->u.create.vcpus,
                .weight = 256, .memory_kib = d->u.create.memory_kib };
            memcpy(f->doms[i].name, d->u.create.name, KILN_NAME_MAX);
            d->domid = f->doms[i].domid;
            return new_ram(f) ? 0 : -KILN_ENOMEM;
        }
        return -KILN_ENOMEM;
    case KILN_DOMCTL_GETINFO: {
        struct fake_dom *best = NULL;
        for (int i = 0; i < FAKE_MAX_DOMS; i++)
            if (f->doms[i].exists && f->doms[i].domid >= d->domid &&
                (!best || f->doms[i].domid < best->domid))
                best = &f->doms[i];
        if (!best)
            return -KILN_ENOENT;
        d->domid = best->domid;
        memset(&d->u.info, 0, sizeof(d->u.info));
        d->u.info.state = best->state;
        d->u.info.vcpus = best->vcpus;
        d->u.info.memory_kib = best->memory_kib;
        d->u.info.exit_code = best->exit_code;
        memcpy(d->u.info.name, best->name, KILN_NAME_MAX);
        return 0;
    }
    }
    if (!dom)
        return -KILN_ESRCH;
    switch (d->cmd) {
    case KILN_DOMCTL_DESTROY:
        dom->exists = false;
        return 0;
    case KILN_DOMCTL_PAUSE:
        dom->state = KILN_DOMSTATE_PAUSED;
        return 0;
    case KILN_DOMCTL_UNPAUSE:
        dom->state = KILN_DOMSTATE_RUNNING;
        if (f->log_dirty)
            guest_runs(f, dom);
        return 0;
    case KILN_DOMCTL_GET_VCPU_STATE:
    case KILN_DOMCTL_SET_VCPU_STATE: {
        struct kiln_vcpu_state *buf = (void *)(uintptr_t)d->u.vcpu_state.buf_gpa;
        if (d->u.vcpu_state.vcpu >= dom->vcpus || d->u.vcpu_state.vcpu >= 4 ||
            d->u.vcpu_state.size != sizeof(*buf))
            return -KILN_EINVAL;
        if (dom->state == KILN_DOMSTATE_RUNNING)
            return -KILN_EBUSY;
        if (d->cmd == KILN_DOMCTL_GET_VCPU_STATE)
            *buf = f->vstate[d->u.vcpu_state.vcpu];
        else
            f->vstate[d->u.vcpu_state.vcpu] = *buf;
        return 0;
    }
    case KILN_DOMCTL_CLOCK:
        if (d->u.clock.op == KILN_CLOCK_GET)
            d->u.clock.time_ns = f->clock_ns;
        else if (dom->state == KILN_DOMSTATE_RUNNING)
            return -KILN_EBUSY;
        else
            f->clock_ns = d->u.clock.time_ns;
        return 0;
    case KILN_DOMCTL_READ_MEM: {
        struct kiln_domctl_read_mem *m = &d->u.read_mem;
        if (!m->nr || m->nr > KILN_READ_MEM_MAX)
            return -KILN_EINVAL;
        if (m->gfn + m->nr > dom->memory_kib / 4 || !f->ram)
            return -KILN_EFAULT;
        memcpy((void *)(uintptr_t)m->buf_gpa, f->ram + m->gfn * 4096, m->nr * 4096ull);
        return 0;
    }
    case KILN_DOMCTL_LOG_DIRTY:
        if (dom->state == KILN_DOMSTATE_RUNNING)
            return -KILN_EBUSY;
        return log_dirty(f, dom, &d->u.log_dirty);
    case KILN_DOMCTL_WRITE_MEM: {
        struct kiln_domctl_write_mem *w = &d->u.write_mem;
        if (w->dest_gpa % 4096 || w->len > 4096 || w->dest_gpa + w->len > FAKE_RAM)
            return -KILN_EINVAL;
        memcpy(f->ram + w->dest_gpa, (void *)(uintptr_t)w->src_gpa, w->len);
        return 0;
    }
    case KILN_DOMCTL_SET_VCPU:
        if (d->u.vcpu.vcpu == 0)
            f->vcpu0 = d->u.vcpu;
        return 0;
    case KILN_DOMCTL_SCHED_GET:
        d->u.sched.weight = dom->weight;
        d->u.sched.cap = dom->cap;
        return 0;
    case KILN_DOMCTL_SCHED_SET:
        dom->weight = d->u.sched.weight;
        dom->cap = d->u.sched.cap;
        return 0;
    case KILN_DOMCTL_VCPU_PIN:
    case KILN_DOMCTL_SET_CPUID:
        return 0;
    case KILN_DOMCTL_CONSOLE_READ:
        return ring_read(f->console, &d->u.console);
    case KILN_DOMCTL_PC_BOOT:
        return pc_boot(f, &d->u.pc_boot);
    }
    return -KILN_ENOSYS;
}

static int fake_hypercall(void *ctx, struct kiln_ioctl_hypercall *hc)
{
    struct fake *f = ctx;

    if (f->ioctl_errno)
        return -f->ioctl_errno;
    if (f->n_calls < FAKE_MAX_CALLS) {
        f->calls[f->n_calls].op = hc->op;
        if (hc->op == KILN_HC_DOMCTL)
            f->calls[f->n_calls].domctl = *(struct kiln_domctl *)(uintptr_t)hc->arg[0];
        if (hc->op == KILN_HC_SYSCTL)
            f->calls[f->n_calls].sysctl = *(struct kiln_sysctl *)(uintptr_t)hc->arg[0];
        if (hc->op == KILN_HC_EVTCHN_OP || hc->op == KILN_HC_IOREQ_OP)
            f->calls[f->n_calls].cmd = (uint32_t)hc->arg[0];
        if (hc->op == KILN_HC_EVTCHN_OP)
            f->calls[f->n_calls].evtchn = *(struct kiln_evtchn_op *)(uintptr_t)hc->arg[1];
        if (hc->op == KILN_HC_IOREQ_OP)
            f->calls[f->n_calls].ioreq = *(struct kiln_ioreq_op *)(uintptr_t)hc->arg[1];
        f->n_calls++;
    }
    switch (hc->op) {
    case KILN_HC_VERSION:
        hc->result = (KILN_ABI_MAJOR << 16) | KILN_ABI_MINOR;
        return 0;
    case KILN_HC_DOMCTL:
        hc->result = domctl(f, (struct kiln_domctl *)(uintptr_t)hc->arg[0]);
        return 0;
    case KILN_HC_EVTCHN_OP: {
        struct kiln_evtchn_op *e = (struct kiln_evtchn_op *)(uintptr_t)hc->arg[1];
        hc->result = f->hc_op_result;
        if (!hc->result && hc->arg[0] == KILN_EVTCHNOP_STATUS) {
            e->state = KILN_EVTCHN_STATE_INTERDOMAIN;
            e->remote_dom = 3;
            e->remote_port = 9;
            e->priority = KILN_EVTCHN_PRIORITY_DEFAULT;
        } else if (!hc->result && hc->arg[0] == KILN_EVTCHNOP_ALLOC_UNBOUND) {
            e->port = 12;
        } else if (!hc->result && hc->arg[0] != KILN_EVTCHNOP_SET_LIMIT) {
            hc->result = -KILN_ENOSYS;
        }
        return 0;
    }
    case KILN_HC_IOREQ_OP: {
        struct kiln_ioreq_op *q = (struct kiln_ioreq_op *)(uintptr_t)hc->arg[1];
        hc->result = f->hc_op_result;
        if (!hc->result && hc->arg[0] == KILN_IOREQ_OP_VCPU_PORT)
            q->port = 40 + q->vcpu;
        return 0;
    }
    case KILN_HC_SYSCTL: {
        struct kiln_sysctl *s = (struct kiln_sysctl *)(uintptr_t)hc->arg[0];
        if (s->cmd == KILN_SYSCTL_PHYSINFO) {
            s->u.physinfo = (struct kiln_sysctl_physinfo){ .total_pages = 65536,
                .free_pages = f->free_pages ? f->free_pages : 1000, .cpu_khz = 2000000, .nr_cpus = 2, .nr_domains = 1 };
            hc->result = 0;
        } else if (s->cmd == KILN_SYSCTL_LOG_READ) {
            hc->result = ring_read(f->log, &s->u.log);
        } else {
            hc->result = -KILN_ENOSYS;
        }
        return 0;
    }
    }
    hc->result = -KILN_ENOSYS;
    return 0;
}

static int fake_evtchn(void *ctx, bool bind, struct kiln_ioctl_evtchn *req)
{
    struct fake *f = ctx;
    int sv[2];

    f->evtchn_req = *req;
    f->evtchn_bound = bind;
    if (f->evtchn_errno)
        return -f->evtchn_errno;
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
        return -errno;
    if (f->evtchn_peer >= 0)
        close(f->evtchn_peer);
    f->evtchn_peer = sv[1];
    req->port = bind ? 5 : 6;
    return sv[0];
}

static const struct kiln_transport fake_transport = {
    .hypercall = fake_hypercall,
    .evtchn = fake_evtchn,
};

kiln_handle *fake_open(struct fake *f)
{
    kiln_handle *h = NULL;

    memset(f, 0, sizeof(*f));
    f->doms[0] = (struct fake_dom){ .exists = true, .domid = 0, .name = "dom0",
        .state = KILN_DOMSTATE_RUNNING, .vcpus = 1, .weight = 256, .memory_kib = 512 << 10 };
    f->next_domid = 1;
    f->evtchn_peer = -1;
    if (kiln_open_transport(&fake_transport, f, &h) < 0)
        return NULL;
    return h;
}

void fake_close(kiln_handle *h, struct fake *f)
{
    kiln_close(h);
    if (f->evtchn_peer >= 0)
        close(f->evtchn_peer);
    f->evtchn_peer = -1;
    free(f->ram);
    f->ram = NULL;
    free(f->pc_image);
    f->pc_image = NULL;
}

size_t fake_count(const struct fake *f, uint32_t cmd)
{
    size_t n = 0;

    for (size_t i = 0; i < f->n_calls && i < FAKE_MAX_CALLS; i++)
        if (f->calls[i].op == KILN_HC_DOMCTL && f->calls[i].domctl.cmd == cmd)
            n++;
    return n;
}
