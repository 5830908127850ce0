/*
 * fake_domain.h - the fake domains shared by the unit tests that drive
 * hypercalls over the real event channels (test_evtchn_hypercall.c,
 * test_ioreq.c): a domain with two vCPUs and its own RAM, guest copies
 * bounded to that RAM like the real p2m, domain_find over the test's
 * three domains, and the page allocator on the host heap.
 *
 * The includer defines RAM_PAGES first and, after this header, the array
 * `all` of its three domains (declared here so domain_find can use it).
 */
#ifndef KILN_TESTS_FAKE_DOMAIN_H
#define KILN_TESTS_FAKE_DOMAIN_H

struct fake {
    struct domain d;
    struct vcpu v[2];
    u8 *ram;
};

#define NR_FAKES 3u
static struct fake *const all[NR_FAKES];

void *alloc_pages_zeroed(unsigned int order)
{
    void *p = aligned_alloc(PAGE_SIZE, PAGE_SIZE << order);
    memset(p, 0, PAGE_SIZE << order);
    return p;
}
void free_pages(void *p, unsigned int order) { (void)order; free(p); }
void smp_send_ipi(unsigned int cpu, u8 vector) { (void)cpu; (void)vector; }

struct domain *domain_find(u16 id)
{
    for (unsigned int i = 0; i < NR_FAKES; i++)
        if (all[i]->d.id == id)
            return &all[i]->d;
    return NULL;
}

/* Like the real p2m: a range inside the domain's RAM and one page. */
void *p2m_hva(struct domain *d, u64 gpa, size_t len)
{
    if (gpa >= RAM_PAGES * PAGE_SIZE || len > PAGE_SIZE || (gpa & 4095) + len > PAGE_SIZE)
        return NULL;
    return ((struct fake *)d)->ram + gpa;
}
int copy_from_guest(struct domain *d, void *dst, u64 gpa, size_t len)
{
    void *src = p2m_hva(d, gpa, len);
    if (!src)
        return -KILN_EFAULT;
    memcpy(dst, src, len);
    return 0;
}
int copy_to_guest(struct domain *d, u64 gpa, const void *src, size_t len)
{
    void *dst = p2m_hva(d, gpa, len);
    if (!dst)
        return -KILN_EFAULT;
    memcpy(dst, src, len);
    return 0;
}

/* A running domain with fresh zeroed RAM; dom0 is privileged hardware. */
static void make(struct fake *f, u16 id, unsigned int vcpus, bool dom0)
{
    free(f->ram);
    memset(f, 0, sizeof(*f));
    f->d.id = id;
    f->d.state = KILN_DOMSTATE_RUNNING;
    f->d.hardware = dom0;
    f->d.flags = dom0 ? KILN_CPUID_F_PRIVILEGED : 0;
    f->d.nr_vcpus = vcpus;
    f->d.p2m.nr_pages = RAM_PAGES;
    for (unsigned int i = 0; i < vcpus; i++) {
        f->v[i].domain = &f->d;
        f->v[i].id = i;
        f->d.vcpus[i] = &f->v[i];
    }
    f->ram = aligned_alloc(PAGE_SIZE, RAM_PAGES * PAGE_SIZE);
    memset(f->ram, 0, RAM_PAGES * PAGE_SIZE);
}

#endif
