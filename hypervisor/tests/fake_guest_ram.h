/*
 * fake_guest_ram.h - what pc_boot.c needs from the hypervisor, for host
 * tests: a domain whose RAM is a host buffer (copy_to_guest checks the
 * bounds as p2m.c does), the page allocator as malloc, a silent log.
 * Include after pc_boot.c.
 */
#ifndef KILN_TEST_FAKE_GUEST_RAM_H
#define KILN_TEST_FAKE_GUEST_RAM_H

unsigned char *kiln_test_phys_base;

static u8 *guest_ram;
static u64 guest_ram_bytes;
static struct domain dom;

void printk(enum log_level level, const char *fmt, ...) { (void)level; (void)fmt; }
void *alloc_pages(unsigned int order) { return malloc(PAGE_SIZE << order); }
void free_pages(void *p, unsigned int order) { (void)order; free(p); }

int copy_to_guest(struct domain *d, u64 gpa, const void *src, size_t len)
{
    assert_true(d->memory_kib * 1024 == guest_ram_bytes);
    if (gpa > guest_ram_bytes || len > guest_ram_bytes - gpa)
        return -KILN_EFAULT;
    memcpy(guest_ram + gpa, src, len);
    return 0;
}

/* A domain of ram bytes and vcpus vCPUs, its RAM zeroed. */
static int fake_domain(u64 ram, unsigned int vcpus)
{
    guest_ram_bytes = ram;
    guest_ram = calloc(1, ram);
    dom = (struct domain){ .memory_kib = ram / 1024, .nr_vcpus = vcpus };
    kstrlcpy(dom.name, "t", sizeof(dom.name));
    return guest_ram ? 0 : -1;
}

static int fake_domain_free(void **state)
{
    (void)state;
    free(guest_ram);
    return 0;
}

static inline u32 ram32(u64 gpa) { u32 v; memcpy(&v, guest_ram + gpa, 4); return v; }
static inline u64 ram64(u64 gpa) { u64 v; memcpy(&v, guest_ram + gpa, 8); return v; }

#endif
