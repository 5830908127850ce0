/*
 * domain.c - creating, pausing and destroying domains, their console and
 * CPUID overrides.
 *
 * The one rule that matters: a guest's misdeed ends in domain_kill() of
 * that domain with a log line giving the reason, and the hypervisor and
 * every other domain carry on.  Freeing waits until no vCPU of the domain
 * is in guest mode (see domain.h for the locking).
 */
#include <kiln/boot.h>
#include <kiln/cmdline.h>
#include <kiln/console.h>
#include <kiln/domain.h>
#include <kiln/evtchn.h>
#include <kiln/hvm.h>
#include <kiln/ioreq.h>
#include <kiln/lib.h>
#include <kiln/mm.h>
#include <kiln/vplatform.h>

DEFINE_SPINLOCK(domlist_lock);
static LIST_HEAD(domains);
static u16 next_domid = 1;
static bool boot_done;
static bool keep_until_destroyed;

void domain_keep_until_destroyed(void)
{
    keep_until_destroyed = true;
}

void domain_boot_done(void)
{
    boot_done = true;
}

BUILD_BUG_ON(sizeof(struct domain) > PAGE_SIZE);

struct domain *domain_find(u16 id)
{
    struct domain *d;
    list_for_each_entry(d, &domains, elem)
        if (d->id == id)
            return d;
    return NULL;
}

struct domain *domain_find_from(u16 id)
{
    struct domain *d, *best = NULL;
    list_for_each_entry(d, &domains, elem)
        if (d->id >= id && (!best || d->id < best->id))
            best = d;
    return best;
}

unsigned int domain_count(void)
{
    unsigned int n = 0;
    struct list_head *pos;
    list_for_each(pos, &domains)
        n++;
    return n;
}

static int pick_domid(int wanted)
{
    if (wanted >= 0) {
        if (wanted == 0 || wanted >= (int)KILN_DOMID_SELF || domain_find((u16)wanted))
            return -KILN_EEXIST;
        /* Ids are not reused soon: logs stay unambiguous. */
        if (wanted >= next_domid)
            next_domid = (u16)(wanted + 1);
        return wanted;
    }
    for (unsigned int tries = 0; tries < KILN_DOMID_SELF; tries++) {
        u16 id = next_domid++;
        if (next_domid >= KILN_DOMID_SELF)
            next_domid = 1;
        if (!domain_find(id))
            return id;
    }
    return -KILN_ENOMEM;
}

/* Frees a domain no list and no CPU can reach (never published, or
 * unlisted with no vCPU in guest mode). */
void domain_discard(struct domain *d)
{
    vplatform_destroy(d);
    for (unsigned int i = 0; i < d->nr_vcpus; i++)
        if (d->vcpus[i])
            vcpu_destroy(d->vcpus[i]);
    /* Freeing a domain the scheduler still lists would let its accounting
     * write into whatever the page becomes next. */
    if (sched_dom_destroy(&d->sd))
        panic("d%u freed while the scheduler still lists a vCPU of it", d->id);
    hvm_cpuid_domain_free(d);
    evtchn_domain_destroy(d);
    hvm_mmio_release(d);
    ioreq_domain_destroy(d);
    p2m_destroy(d);
    if (d->console_ring)
        free_page(d->console_ring);
    free_page(d);
}

int domain_build(const struct domain_config *cfg, struct domain **out)
{
    size_t nlen = kstrnlen(cfg->name, KILN_NAME_MAX);
    if (!nlen || nlen >= KILN_NAME_MAX)
        return -KILN_EINVAL;
    if (!cfg->identity) {
        if (!cfg->memory_kib || cfg->memory_kib % 4 ||
            cfg->memory_kib / 4 > mm_total_pages())
            return -KILN_EINVAL;
        if (cfg->memory_kib / 4 > mm_free_pages())
            return -KILN_ENOMEM;
    }
    if (!cfg->vcpus || cfg->vcpus > KILN_MAX_VCPUS)
        return -KILN_EINVAL;
    if (cfg->flags & ~KILN_CPUID_F_PRIVILEGED)
        return -KILN_EINVAL;
    if (cfg->pc_platform && (cfg->identity || cfg->vcpus > VPLATFORM_MAX_VCPUS))
        return -KILN_EINVAL;

    struct domain *d = alloc_pages_zeroed(0);
    if (!d)
        return -KILN_ENOMEM;
    kstrlcpy(d->name, cfg->name, sizeof(d->name));
    d->flags = cfg->flags;
    d->pc_platform = cfg->pc_platform;
    d->testdev = cfg->pc_platform && cfg->testdev;
    d->state = KILN_DOMSTATE_BUILDING;
    d->memory_kib = cfg->identity ? cfg->identity->pages * 4 : cfg->memory_kib;
    d->hardware = cfg->identity != NULL;
    spin_lock_init(&d->console_lock);
    list_init(&d->elem);

    int rc = sched_dom_init(&d->sd, cfg->weight ? cfg->weight : SCHED_WEIGHT_DEFAULT,
                            cfg->cap, d->hardware ? SCHED_DOM_F_DOM0 : 0);
    if (rc) {
        free_page(d);
        return rc;
    }
    rc = -KILN_ENOMEM;
    d->console_ring = alloc_pages_zeroed(0);
    if (!d->console_ring)
        goto fail;
    rc = d->hardware ? p2m_init_identity(d, cfg->identity) : p2m_init(d, cfg->memory_kib);
    if (rc)
        goto fail;
    d->nr_vcpus = cfg->vcpus;
    for (unsigned int i = 0; i < cfg->vcpus; i++) {
        rc = vcpu_create(d, i);
        if (rc)
            goto fail;
    }
    if (d->pc_platform && (rc = vplatform_create(d)) != 0)
        goto fail;
    *out = d;
    return 0;

fail:
    domain_discard(d);
    return rc;
}

int domain_publish(struct domain *d, int domid)
{
    /* Id 0 is dom0's and only dom0's. */
    int id = d->hardware ? (domain_find(0) ? -KILN_EEXIST : 0) : pick_domid(domid);
    if (id < 0)
        return id;
    d->id = (u16)id;
    /* The policy reports the domain's id (leaf 0x40000001 EBX); deriving
     * it takes tens of microseconds. */
    int rc = hvm_cpuid_domain_init(d);
    if (rc)
        return rc;
    list_add_tail(&d->elem, &domains);
    pr_info("d%u created: name=%s mem=%luK vcpus=%u%s%s%s\n", d->id, d->name,
            (unsigned long)d->memory_kib, d->nr_vcpus,
            (d->flags & KILN_CPUID_F_PRIVILEGED) ? " priv" : "", d->pc_platform ? " pc" : "",
            d->testdev ? " testdev" : "");
    return 0;
}

int domain_create(const struct domain_config *cfg, struct domain **out)
{
    struct domain *d;
    int rc = domain_build(cfg, &d);
    if (rc)
        return rc;
    rc = domain_publish(d, cfg->domid);
    if (rc) {
        domain_discard(d);
        return rc;
    }
    *out = d;
    return 0;
}

static void update_all_vcpus(struct domain *d)
{
    for (unsigned int i = 0; i < d->nr_vcpus; i++)
        vcpu_update_runnable(d->vcpus[i]);
}

int domain_pause(struct domain *d)
{
    if (d->state == KILN_DOMSTATE_DYING)
        return -KILN_EBUSY;
    d->paused = true;
    update_all_vcpus(d);
    return 0;
}

int domain_unpause(struct domain *d)
{
    if (d->state == KILN_DOMSTATE_DYING)
        return -KILN_EBUSY;
    if (d->state == KILN_DOMSTATE_BUILDING)
        d->state = KILN_DOMSTATE_RUNNING;
    d->paused = false;
    update_all_vcpus(d);
    return 0;
}

static void console_flush_line(struct domain *d)
{
    if (d->line_len)
        console_guest_write(d->id, d->line, d->line_len);
    d->line_len = 0;
}

void domain_kill(struct domain *d, u32 shutdown_reason, const char *reason)
{
    if (d->state == KILN_DOMSTATE_DYING)
        return;
    d->state = KILN_DOMSTATE_DYING;
    d->shutdown_reason = shutdown_reason;
    spin_lock(&d->console_lock);
    console_flush_line(d);
    spin_unlock(&d->console_lock);
    printk(shutdown_reason == KILN_SHUTDOWN_CRASH ? LOG_WARN : LOG_INFO,
           "d%u destroyed: %s\n", d->id, reason);
    /* From here on no CPU can pick these vCPUs; CPUs running them are
     * kicked and leave guest mode at their next exit. */
    for (unsigned int i = 0; i < d->nr_vcpus; i++) {
        struct vcpu *v = d->vcpus[i];
        vcpu_sched_del_wakeup(v);
        if (v->in_sched) {
            sched_vcpu_destroy(&v->sv);
            v->in_sched = false;
        }
    }
    /* Its peers learn at once that their channels lost this end. */
    evtchn_domain_destroy(d);
    domain_try_reap(d);
}

void domain_crash(struct domain *d, const char *fmt, ...)
{
    char reason[160];
    va_list ap;
    va_start(ap, fmt);
    kvsnprintf(reason, sizeof(reason), fmt, ap);
    va_end(ap);
    unsigned long flags = spin_lock_irqsave(&domlist_lock);
    domain_kill(d, KILN_SHUTDOWN_CRASH, reason);
    spin_unlock_irqrestore(&domlist_lock, flags);
}

void domain_try_reap(struct domain *d)
{
    if (d->state != KILN_DOMSTATE_DYING || d->running || d->reaped)
        return;
    if (keep_until_destroyed && !d->destroyed && !d->hardware)
        return;   /* a zombie until the toolstack destroys it */
    d->reaped = true;
    list_del(&d->elem);
    u16 id = d->id;
    for (unsigned int i = 0; i < d->nr_vcpus; i++) {
        struct vcpu *v = d->vcpus[i];
        pr_debug("d%u v%u: %lu ms in guest mode, %lu exits (%lu interrupts, %lu npf, %lu hlt)\n",
                 id, i, (unsigned long)(v->runtime_ns / 1000000),
                 (unsigned long)v->stats[KT_STAT_TOTAL], (unsigned long)v->stats[KT_STAT_INTR],
                 (unsigned long)v->stats[KT_STAT_NPF], (unsigned long)v->stats[KT_STAT_HLT]);
    }
    domain_discard(d);
    pr_debug("d%u freed, %lu pages free\n", id, (unsigned long)mm_free_pages());
    if (boot_done && list_empty(&domains) && cmdline_has("exit_when_idle")) {
        pr_info("no domains left, exiting (exit_when_idle)\n");
        machine_exit(0);
    }
}

int domain_set_cpuid(struct domain *d, const struct kiln_domctl_cpuid *c)
{
    return cpuid_policy_restrict(d->cpuid, c);
}

void domain_console_write(struct domain *d, const char *buf, size_t len)
{
    unsigned long flags = spin_lock_irqsave(&d->console_lock);
    for (size_t i = 0; i < len; i++) {
        char c = buf[i];
        d->console_ring[d->console_pos++ % DOMAIN_CONSOLE_RING] = c;
        if (c == '\r')
            continue;
        d->line[d->line_len++] = c;
        if (c == '\n' || d->line_len == DOMAIN_LINE_MAX)
            console_flush_line(d);
    }
    spin_unlock_irqrestore(&d->console_lock, flags);
}

size_t domain_console_read(struct domain *d, char *buf, size_t len, u64 *offset)
{
    unsigned long flags = spin_lock_irqsave(&d->console_lock);
    u64 pos = d->console_pos, off = *offset;
    if (off > pos)
        off = pos;
    if (pos - off > DOMAIN_CONSOLE_RING)
        off = pos - DOMAIN_CONSOLE_RING;
    size_t n = 0;
    while (n < len && off < pos)
        buf[n++] = d->console_ring[off++ % DOMAIN_CONSOLE_RING];
    *offset = off;
    spin_unlock_irqrestore(&d->console_lock, flags);
    return n;
}

u64 domain_cpu_time(const struct domain *d)
{
    u64 t = 0;
    for (unsigned int i = 0; i < d->nr_vcpus; i++)
        t += vcpu_runtime(d->vcpus[i]);
    return t;
}
