/*
 * pcboot.c - hostile KILN_DOMCTL_CREATE_F_PC / KILN_DOMCTL_PC_BOOT calls
 * from dom0 on the real hypervisor (scenario dom0-multiboot): bad flags
 * and vCPU counts, every malformed PC_BOOT field, a non-PC target, an image
 * with no header, then 300 Multiboot headers with random a.out fields
 * (valid checksums) on random bytes; a real kernel (argv[1]) loads after
 * refusals, a second load and a load once unpaused are refused, and the
 * hypervisor still answers.  Prints "PASS key" / "FAIL key: detail".
 * The image is staged at 8 MiB, inside where the real kernel loads (4 MiB
 * up): the hypervisor copies it out first, so that is allowed.
 * Usage: pcboot KERNEL
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include "kiln_ioctl.h"
#include "../pass_fail.h"
#include "libkiln.h"

#define MIB (1ull << 20)
#define RAM_MIB 32   /* tsc.flat's bss ends past 16 MiB */
#define FUZZ_ROUNDS 300

static int fd;
static kiln_handle *h;

/* 0 or the hypervisor's (or the module's) errno. */
static int pc_boot(uint32_t domid, struct kiln_domctl_pc_boot b)
{
    struct kiln_domctl d = { .cmd = KILN_DOMCTL_PC_BOOT, .domid = domid };
    struct kiln_ioctl_hypercall hc = { .op = KILN_HC_DOMCTL, .arg = { (uintptr_t)&d } };

    d.u.pc_boot = b;
    if (ioctl(fd, KILN_IOCTL_HYPERCALL, &hc) < 0)
        return errno;
    return hc.result < 0 ? (int)-hc.result : 0;
}

static void expect(int got, int want, const char *key)
{
    char detail[96];
    snprintf(detail, sizeof(detail), "got %s, want %s", got ? strerror(got) : "success",
             strerror(want));
    check(got == want, key, detail);
}

static uint32_t create(const char *name, uint32_t flags, uint32_t vcpus, int *err)
{
    uint32_t id = 0;
    int r = kiln_domain_create(h, name, RAM_MIB << 10, vcpus, flags, &id);
    *err = r < 0 ? -r : 0;
    return id;
}

static unsigned char *read_all(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    unsigned char *buf = malloc(KILN_PC_IMAGE_MAX);
    *size = f && buf ? fread(buf, 1, KILN_PC_IMAGE_MAX, f) : 0;
    if (f)
        fclose(f);
    return buf;
}

/* A Multiboot header with the a.out kludge at offset 0 of a random image:
 * load/bss/entry fields random near 1 MiB or anywhere, checksum valid. */
static void hostile_image(unsigned char *img, size_t size)
{
    uint32_t hdr[8];
    for (size_t i = 0; i < size; i++)
        img[i] = (unsigned char)rand();
    hdr[0] = 0x1BADB002u;
    hdr[1] = (rand() % 4 ? 0x10000u : 0) | (uint32_t)(rand() % 8);
    hdr[2] = -(hdr[0] + hdr[1]);
    for (int i = 3; i < 8; i++)
        hdr[i] = rand() % 3 ? 0x100000u + (uint32_t)(rand() % 0x20000) - 0x1000 : (uint32_t)rand() * 2654435761u;
    memcpy(img, hdr, sizeof(hdr));
}

static int alive(void)
{
    struct kiln_sysctl_physinfo p;
    struct kiln_dominfo d;
    return kiln_physinfo(h, &p) == 0 && p.nr_cpus > 0 && kiln_domain_info(h, 0, &d) == 0;
}

int main(int argc, char **argv)
{
    struct kiln_domctl_pc_boot ok = { .image_gpa = 8 * MIB, .image_len = 4096,
                                      .kind = KILN_PC_BOOT_MULTIBOOT };
    static unsigned char junk[16384];
    size_t ksize = 0;
    unsigned char *kernel;
    int err, r;

    if (argc != 2 || kiln_open(&h) < 0 || (fd = open(KILN_DEVICE_PATH, O_RDWR)) < 0) {
        fprintf(stderr, "usage: pcboot KERNEL (as root in dom0)\n");
        return 1;
    }
    kernel = read_all(argv[1], &ksize);
    check(ksize > 0, "kernel read", argv[1]);

    create("tdonly", KILN_DOMCTL_CREATE_F_TESTDEV, 1, &err);
    expect(err, EINVAL, "create: testdev without pc");
    create("pc9", KILN_DOMCTL_CREATE_F_PC, 9, &err);
    expect(err, EINVAL, "create: a PC domain with 9 vCPUs");
    uint32_t kt = create("notpc", 0, 1, &err);
    expect(pc_boot(kt, ok), EINVAL, "pc_boot: not a PC domain");
    kiln_domain_destroy(h, kt);

    uint32_t d = create("hostile", KILN_DOMCTL_CREATE_F_PC | KILN_DOMCTL_CREATE_F_TESTDEV, 2, &err);
    check(!err, "create: a PC domain with testdev", strerror(err));
    struct kiln_domctl_pc_boot b;
    b = ok; b.kind = 2;
    expect(pc_boot(d, b), EINVAL, "pc_boot: unknown kind");
    b = ok; b._pad = 1;
    expect(pc_boot(d, b), EINVAL, "pc_boot: padding not zero");
    b = ok; b.image_gpa += 1;
    expect(pc_boot(d, b), EINVAL, "pc_boot: image not page aligned");
    b = ok; b.image_len = 0;
    expect(pc_boot(d, b), EINVAL, "pc_boot: empty image");
    b = ok; b.image_len = KILN_PC_IMAGE_MAX + 1ull;
    expect(pc_boot(d, b), E2BIG, "pc_boot: image over the limit");
    b = ok; b.image_gpa = RAM_MIB * MIB - 4096; b.image_len = 8192;
    expect(pc_boot(d, b), EFAULT, "pc_boot: image past the end of RAM");
    b = ok; b.image_gpa = 0xfffffffffffff000ull; b.image_len = 0x2000;
    expect(pc_boot(d, b), EFAULT, "pc_boot: image address wrapping 2^64");
    b = ok; b.cmdline_gpa = (uintptr_t)junk; b.cmdline_len = 3000;
    expect(pc_boot(d, b), EINVAL, "pc_boot: command line over 2047 bytes");
    r = kiln_write_mem(h, d, ok.image_gpa, junk, sizeof(junk));   /* zeros */
    b = ok; b.image_len = sizeof(junk);
    expect(r ? -r : pc_boot(d, b), EINVAL, "pc_boot: an image with no Multiboot header");

    unsigned int refused = 0, loaded = 0, other = 0;
    srand(7);
    for (int i = 0; i < FUZZ_ROUNDS; i++) {
        uint32_t f = create("fuzz", KILN_DOMCTL_CREATE_F_PC, 1, &err);
        if (err) {
            other++;
            continue;
        }
        hostile_image(junk, sizeof(junk));
        r = kiln_write_mem(h, f, ok.image_gpa, junk, sizeof(junk));
        r = r ? -r : pc_boot(f, b);
        if (r == EINVAL)
            refused++;
        else if (r == 0)
            loaded++;
        else
            other++;
        kiln_domain_destroy(h, f);   /* never started */
    }
    char detail[96];
    snprintf(detail, sizeof(detail), "%u refused, %u loaded, %u other", refused, loaded, other);
    printf("# fuzz: %s\n", detail);
    check(alive() && other == 0 && refused > 0, "300 random a.out Multiboot headers: refused or "
          "loaded, hypervisor alive", detail);

    r = kiln_write_mem(h, d, ok.image_gpa, kernel, ksize);
    b = ok; b.image_len = ksize; b.cmdline_gpa = (uintptr_t)"k"; b.cmdline_len = 1;
    expect(r ? -r : pc_boot(d, b), 0, "pc_boot: the real kernel loads after the refusals");
    expect(pc_boot(d, b), EBUSY, "pc_boot: a second load is refused");
    kiln_domain_unpause(h, d);
    expect(pc_boot(d, b), EBUSY, "pc_boot: a running domain is refused");
    kiln_domain_destroy(h, d);
    check(alive(), "hypervisor and dom0 still answer", "no answer");
    free(kernel);
    return failures > 100 ? 100 : failures;
}
