/*
 * foreign.c - foreign mappings end to end, run in dom0 on the real
 * hypervisor: builds the foreign64 test guest (tests/guest/foreign64.S) from
 * the config given, maps its page through /dev/kiln (libkiln's
 * kiln_map_foreign), reads the pattern it wrote, writes a reply it echoes on
 * its console; then every refusal of MAP/UNMAP_FOREIGN with its error, the
 * per-domain limit, 100 map/unmap cycles, and a destroy while mapped: the
 * mapping must read zeros from then on, also once a new domain got the
 * freed pages, and the free page count must come back.
 * Prints "PASS key" or "FAIL key: detail" per check (fixed keys; the
 * scenario hypervisor/tests/qemu/scenarios/dom0-foreign.sh names them).
 * Exit status: number of failures (capped at 100).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include "kiln_builder.h"
#include "kiln_ioctl.h"
#include "../pass_fail.h"
#include "libkiln.h"

#define PATTERN_GFN  0x200u
#define PATTERN_WORDS 512u
#define PATTERN_FIRST 0x6b696c6eu
#define REPLY_OFF    0x800u
#define FLAG_OFF     0xffcu
#define FLAG_SET     0x21504552u
#define GUEST_PAGES  1024u         /* the config's 4 MiB */
#define REPLY        "hello from dom0 through a foreign mapping"

static kiln_handle *h;
static int raw_fd;
static struct kiln_sysctl_physinfo pi;

static uint64_t free_pages(void)
{
    struct kiln_sysctl_physinfo p;
    return kiln_physinfo(h, &p) < 0 ? 0 : p.free_pages;
}

static void sleep_ms(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };
    nanosleep(&ts, NULL);
}

/* A raw domctl through the hypercall ioctl: 0, or the errno of the
 * module's or the hypervisor's refusal. */
static int raw_foreign(uint32_t cmd, uint32_t domid, uint64_t gfn, uint64_t gpa)
{
    struct kiln_domctl d = { .cmd = cmd, .domid = domid };
    struct kiln_ioctl_hypercall hc = { .op = KILN_HC_DOMCTL, .arg = { (uintptr_t)&d } };
    d.u.foreign.gfn = gfn;
    d.u.foreign.local_gpa = gpa;
    if (ioctl(raw_fd, KILN_IOCTL_HYPERCALL, &hc) < 0)
        return errno;
    return hc.result < 0 ? (int)-hc.result : 0;
}

static int build(const char *cfgpath, uint32_t *domid)
{
    struct kiln_config cfg;
    char err[256];
    if (kiln_config_load(cfgpath, &cfg, err, sizeof(err)) < 0 ||
        kiln_build_domain_file(h, &cfg, domid, err, sizeof(err)) < 0) {
        printf("# cannot build %s: %s\n", cfgpath, err);
        return -1;
    }
    return kiln_domain_unpause(h, *domid);
}

/* Maps the pattern page and waits (10 s at most) until the guest wrote it. */
static volatile uint32_t *map_pattern(uint32_t domid, size_t nr)
{
    void *p;
    int r = kiln_map_foreign(h, domid, PATTERN_GFN, nr, &p);
    if (r < 0) {
        printf("# kiln_map_foreign(d%u, 0x%x, %zu): %s\n", domid, PATTERN_GFN, nr, strerror(-r));
        return NULL;
    }
    volatile uint32_t *w = p;
    for (int i = 0; i < 1000 && w[PATTERN_WORDS - 1] != PATTERN_FIRST + PATTERN_WORDS - 1; i++)
        sleep_ms(10);
    return w;
}

static int pattern_ok(volatile uint32_t *w)
{
    for (uint32_t i = 0; i < PATTERN_WORDS; i++)
        if (w[i] != PATTERN_FIRST + i)
            return 0;
    return 1;
}

static int all_zero(volatile uint32_t *w, size_t words)
{
    for (size_t i = 0; i < words; i++)
        if (w[i])
            return 0;
    return 1;
}

/* Window pages the hypervisor holds mapped right now: a raw MAP of each
 * one says EEXIST where one is held (a free one is mapped and unmapped). */
static int window_held(uint32_t domid)
{
    int held = 0;
    for (uint32_t i = 0; i < pi.foreign_pages; i++) {
        uint64_t gpa = pi.foreign_base + (uint64_t)i * 4096;
        int r = raw_foreign(KILN_DOMCTL_MAP_FOREIGN, domid, 0, gpa);
        if (r == EEXIST)
            held++;
        else if (r || raw_foreign(KILN_DOMCTL_UNMAP_FOREIGN, KILN_DOMID_SELF, 0, gpa))
            return -1;
    }
    return held;
}

/* Is [base, base + len) inside a top-level "Reserved" range of /proc/iomem? */
static int window_reserved(uint64_t base, uint64_t len)
{
    FILE *f = fopen("/proc/iomem", "r");
    char line[256];
    int ok = 0;
    if (!f)
        return 0;
    while (fgets(line, sizeof(line), f)) {
        unsigned long long s, e;
        char name[64];
        if (line[0] == ' ' || sscanf(line, "%llx-%llx : %63[^\n]", &s, &e, name) != 3)
            continue;
        if (s <= base && base + len - 1 <= e)
            ok = strcmp(name, "Reserved") == 0;
    }
    fclose(f);
    return ok;
}

static int console_has(uint32_t domid, const char *text)
{
    static char buf[8192];
    for (int tries = 0; tries < 500; tries++) {
        uint64_t off = 0;
        int n = kiln_console_read(h, domid, buf, sizeof(buf) - 1, &off);
        if (n >= 0) {
            buf[n] = 0;
            if (strstr(buf, text))
                return 1;
        }
        sleep_ms(10);
    }
    return 0;
}

static void refusals(uint32_t domid)
{
    uint64_t base = pi.foreign_base, end = base + (uint64_t)pi.foreign_pages * 4096;
    uint64_t last = end - 4096;
    char d[128];

    snprintf(d, sizeof(d), "got %s", strerror(raw_foreign(KILN_DOMCTL_MAP_FOREIGN, 0x7000, 0, last)));
    check(raw_foreign(KILN_DOMCTL_MAP_FOREIGN, 0x7000, 0, last) == ESRCH, "esrch", d);
    check(raw_foreign(KILN_DOMCTL_MAP_FOREIGN, 0, 0, last) == EPERM &&
          raw_foreign(KILN_DOMCTL_MAP_FOREIGN, KILN_DOMID_SELF, 0, last) == EPERM, "self", "not EPERM");
    check(raw_foreign(KILN_DOMCTL_MAP_FOREIGN, domid, GUEST_PAGES, last) == EFAULT &&
          raw_foreign(KILN_DOMCTL_MAP_FOREIGN, domid, ~0ull, last) == EFAULT, "gfn", "not EFAULT");
    check(raw_foreign(KILN_DOMCTL_MAP_FOREIGN, domid, 0, base - 4096) == EINVAL &&
          raw_foreign(KILN_DOMCTL_MAP_FOREIGN, domid, 0, end) == EINVAL &&
          raw_foreign(KILN_DOMCTL_MAP_FOREIGN, domid, 0, 0x100000) == EINVAL, "outside", "not EINVAL");
    check(raw_foreign(KILN_DOMCTL_MAP_FOREIGN, domid, 0, base + 8) == EINVAL &&
          raw_foreign(KILN_DOMCTL_UNMAP_FOREIGN, KILN_DOMID_SELF, 0, last + 8) == EINVAL,
          "unaligned", "not EINVAL");
    int first = raw_foreign(KILN_DOMCTL_MAP_FOREIGN, domid, 1, last);
    int again = raw_foreign(KILN_DOMCTL_MAP_FOREIGN, domid, 2, last);
    int un1 = raw_foreign(KILN_DOMCTL_UNMAP_FOREIGN, KILN_DOMID_SELF, 0, last);
    int un2 = raw_foreign(KILN_DOMCTL_UNMAP_FOREIGN, KILN_DOMID_SELF, 0, last);
    snprintf(d, sizeof(d), "map %d, again %d, unmap %d, again %d", first, again, un1, un2);
    check(!first && again == EEXIST && !un1 && un2 == ENOENT, "double", d);

    void *p;
    check(kiln_map_foreign(h, 0x7000, 0, 1, &p) == -ESRCH && kiln_map_foreign(h, 0, 0, 1, &p) == -EPERM &&
          kiln_map_foreign(h, domid, GUEST_PAGES - 1, 2, &p) == -EFAULT, "libkiln", "wrong errors");
}

/* Mapping an mmap page that is mapped already: the module says EBUSY. */
static void busy(uint32_t domid, volatile uint32_t *w)
{
    struct kiln_ioctl_mmap_foreign req = { .addr = (uintptr_t)w, .gfn = 3, .nr_pages = 1, .domid = domid };
    int fd = open(KILN_DEVICE_PATH, O_RDWR);
    /* The VMA belongs to libkiln's descriptor, but any /dev/kiln fd of
     * this process reaches the module, which looks the VMA up. */
    int r = fd < 0 ? errno : (ioctl(fd, KILN_IOCTL_MMAP_FOREIGN, &req) < 0 ? errno : 0);
    if (fd >= 0)
        close(fd);
    check(r == EBUSY, "busy", strerror(r));
}

static void limit(uint32_t domid)
{
    uint64_t before = free_pages();
    void *p;
    int over = kiln_map_foreign(h, domid, 0, KILN_FOREIGN_MAX_PER_DOMAIN + 1, &p);
    /* With the page held already, one short of the maximum: the pattern
     * page sits at index 400 of this run. */
    int max = kiln_map_foreign(h, domid, PATTERN_GFN - 400, KILN_FOREIGN_MAX_PER_DOMAIN - 1, &p);
    int ok = max == 0 && pattern_ok((volatile uint32_t *)p + 400 * 1024);
    if (!max)
        kiln_unmap_foreign(p, KILN_FOREIGN_MAX_PER_DOMAIN - 1);
    char d[128];
    snprintf(d, sizeof(d), "over: %s, max: %s, free pages %llu -> %llu", strerror(-over), strerror(-max),
             (unsigned long long)before, (unsigned long long)free_pages());
    check(over == -E2BIG && ok && free_pages() == before, "limit", d);
}

/* 11 pages a cycle: 1100 window pages in all, more than the window has,
 * so a module that kept its pages would run out; afterwards the
 * hypervisor holds only the one page mapped before. */
static void cycles(uint32_t domid)
{
    uint64_t before = free_pages();
    int bad = 0, i;
    for (i = 0; i < 100 && !bad; i++) {
        void *p;
        int r = kiln_map_foreign(h, domid, PATTERN_GFN - 5, 11, &p);
        if (r < 0) {
            bad = r;
            break;
        }
        if (!pattern_ok((volatile uint32_t *)p + 5 * 1024))
            bad = 1;
        if (kiln_unmap_foreign(p, 11) < 0)
            bad = 2;
    }
    int held = window_held(domid);
    char d[128];
    snprintf(d, sizeof(d), "%d cycles, stopped with %d, %d window pages held, free pages %llu -> %llu",
             i, bad, held, (unsigned long long)before, (unsigned long long)free_pages());
    check(!bad && held == 1 && free_pages() == before, "cycles", d);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s GUEST.cfg\n", argv[0]);
        return 100;
    }
    raw_fd = open(KILN_DEVICE_PATH, O_RDWR);
    if (raw_fd < 0 || kiln_open(&h) < 0 || kiln_physinfo(h, &pi) < 0) {
        printf("FAIL open: %s\n", strerror(errno));
        return 100;
    }
    char d[160];
    snprintf(d, sizeof(d), "base 0x%llx, %u pages", (unsigned long long)pi.foreign_base, pi.foreign_pages);
    printf("# foreign window: %s\n", d);
    check(pi.foreign_pages == 1024 && pi.foreign_base && !(pi.foreign_base & 0x3fffff), "window", d);
    check(window_reserved(pi.foreign_base, (uint64_t)pi.foreign_pages * 4096), "reserved",
          "no top-level Reserved range of /proc/iomem covers it");
    uint64_t start = free_pages();

    uint32_t a;
    if (build(argv[1], &a) < 0)
        return 100;
    volatile uint32_t *w = map_pattern(a, 1);
    check(w && pattern_ok(w), "read", w ? "pattern differs" : "no mapping");
    if (!w)
        return 100;
    memcpy((void *)(w + REPLY_OFF / 4), REPLY, sizeof(REPLY));
    __atomic_store_n(&w[FLAG_OFF / 4], FLAG_SET, __ATOMIC_RELEASE);
    check(console_has(a, "foreign: dom0 says: " REPLY), "reply", "not on the guest's console");

    refusals(a);
    busy(a, w);
    limit(a);
    cycles(a);

    /* Destroy while mapped (the first page and a 4-page mapping). */
    volatile uint32_t *w4 = map_pattern(a, 4);
    int rc = kiln_domain_destroy(h, a);
    snprintf(d, sizeof(d), "destroy %s, mapping %s", strerror(-rc),
             w4 && all_zero(w4, 4 * 1024) && all_zero(w, 1024) ? "zeros" : "NOT zeros");
    check(w4 && !rc && all_zero(w4, 4 * 1024) && all_zero(w, 1024), "destroy", d);

    /* A new domain gets memory, likely the pages just freed. */
    uint32_t b;
    volatile uint32_t *wb = build(argv[1], &b) < 0 ? NULL : map_pattern(b, 1);
    snprintf(d, sizeof(d), "new domain %s, old mapping %s", wb && pattern_ok(wb) ? "running" : "NOT running",
             w4 && all_zero(w, 1024) && all_zero(w4 + 1024, 3 * 1024) ? "zeros" : "NOT zeros");
    check(wb && pattern_ok(wb) && w4 && all_zero(w, 1024) && all_zero(w4 + 1024, 3 * 1024), "reuse", d);
    if (wb)
        kiln_unmap_foreign((void *)wb, 1);
    kiln_domain_destroy(h, b);
    if (w4)
        kiln_unmap_foreign((void *)w4, 4);
    kiln_unmap_foreign((void *)w, 1);
    snprintf(d, sizeof(d), "free pages %llu at start, %llu now", (unsigned long long)start,
             (unsigned long long)free_pages());
    check(free_pages() == start, "free", d);
    kiln_close(h);
    close(raw_fd);
    return failures > 100 ? 100 : failures;
}
