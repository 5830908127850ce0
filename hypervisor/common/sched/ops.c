/*
 * ops.c - the sched_* functions the rest of the hypervisor calls, passed on
 * to the scheduler chosen at boot (struct sched_ops in include/kiln/sched.h).
 *
 * The choice is made once, before sched_init(), and never changes: every
 * domain and vCPU embeds state of the scheduler that initialised it, so a
 * switch at run time would need every vCPU moved over, which Kiln does not
 * offer (Xen's cpupools do).  Hence a plain pointer, read without a lock.
 */
#include <kiln/compiler.h>
#include <kiln/lib.h>
#include <kiln/list.h>
#include <kiln/sched.h>
#include <public/kiln.h>

static const struct sched_ops *const schedulers[] = {
    &sched_credit_ops,
    &sched_credit2_ops,
};

static const struct sched_ops *ops = &sched_credit_ops;

int sched_select(const char *name)
{
    for (size_t i = 0; i < sizeof(schedulers) / sizeof(schedulers[0]); i++) {
        if (!kstrcmp(schedulers[i]->name, name)) {
            ops = schedulers[i];
            return 0;
        }
    }
    return -KILN_EINVAL;
}

const char *sched_name(void)
{
    return ops->name;
}

/* The CPUs of the last successful sched_init(): a cap is at most 100% of
 * each of them. */
static unsigned int sched_cpus;

int sched_init(unsigned int nr_cpus, unsigned int flags, void (*kick)(unsigned int cpu))
{
    int rc = ops->init(nr_cpus, flags, kick);
    if (rc == 0)
        sched_cpus = nr_cpus;
    return rc;
}

/* The parameters are checked here, once for both schedulers. */
static bool sched_params_valid(u32 weight, u32 cap)
{
    return weight >= SCHED_WEIGHT_MIN && weight <= SCHED_WEIGHT_MAX &&
           cap <= 100u * sched_cpus;
}

int sched_dom_init(struct sched_dom *d, u32 weight, u32 cap, u32 flags)
{
    if (!sched_params_valid(weight, cap) || (flags & ~SCHED_DOM_F_DOM0) != 0)
        return -KILN_EINVAL;
    /* The fields every scheduler keeps; the scheduler adds its own. */
    d->weight = weight;
    d->cap = cap;
    d->flags = flags;
    d->nr_active = 0;
    list_init(&d->vcpus);
    return ops->dom_init(d);
}

int sched_set_params(struct sched_dom *d, u32 weight, u32 cap)
{
    if (!sched_params_valid(weight, cap))
        return -KILN_EINVAL;
    return ops->set_params(d, weight, cap);
}

void sched_get_params(const struct sched_dom *d, u32 *weight, u32 *cap)
{
    *weight = READ_ONCE(d->weight);
    *cap = READ_ONCE(d->cap);
}

int sched_dom_destroy(struct sched_dom *d)
{
    return ops->dom_destroy(d);
}

int sched_vcpu_init(struct sched_vcpu *v, struct sched_dom *d, u32 id)
{
    return ops->vcpu_init(v, d, id);
}

void sched_vcpu_destroy(struct sched_vcpu *v)
{
    ops->vcpu_destroy(v);
}

void sched_wake(struct sched_vcpu *v)
{
    ops->wake(v);
}

void sched_sleep(struct sched_vcpu *v)
{
    ops->sleep(v);
}

void sched_yield(struct sched_vcpu *v)
{
    ops->yield(v);
}

int sched_set_affinity(struct sched_vcpu *v, u64 mask)
{
    return ops->set_affinity(v, mask);
}

u64 sched_get_affinity(const struct sched_vcpu *v)
{
    return READ_ONCE(v->affinity);
}

struct sched_decision sched_schedule(unsigned int cpu, u64 now_ns)
{
    return ops->schedule(cpu, now_ns);
}

bool sched_tick(unsigned int cpu, u64 now_ns, u64 *deadline_ns)
{
    return ops->tick(cpu, now_ns, deadline_ns);
}

bool sched_vcpu_running(const struct sched_vcpu *v)
{
    return READ_ONCE(v->running);
}

unsigned int sched_vcpu_cpu(const struct sched_vcpu *v)
{
    return READ_ONCE(v->processor);
}
