/*
 * builder.c - the domain builder: creates a domain from a parsed config and
 * loads an ELF test-guest image into it, or has the hypervisor load a
 * Multiboot1 kernel into a PC domain (guest view in kiln_builder.h).
 *
 * All the checks that can be made without the hypervisor (image format,
 * layout in the domain's RAM) come before the domain exists; after that,
 * any failed step destroys the domain, so a failed build leaves nothing.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "kiln_builder.h"
#include "kiln_elf.h"

#define PAGE 4096ull
#define MB_MAGIC  0x1BADB002u   /* Multiboot1 header magic */
#define MB_SEARCH 8192          /* the header lies in the first 8 KiB */

static int fail(int code, char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return code;
}

/* The command-line page (the last of RAM) once the image is known to fit. */
static int plan(const struct kiln_config *cfg, const struct kiln_elf_image *img,
                uint64_t *cmdline, char *err, size_t errlen)
{
    uint64_t top = (cfg->memory_mib << 20) - PAGE;

    if (img->entry > 0xffffffffull)
        return fail(-EINVAL, err, errlen, "entry point 0x%llx is above 4 GiB "
                    "(vCPUs start in 32-bit mode)", (unsigned long long)img->entry);
    for (size_t i = 0; i < img->n_segments; i++) {
        const struct kiln_elf_segment *s = &img->seg[i];
        if (s->paddr + s->memsz > top)
            return fail(-E2BIG, err, errlen,
                        "segment 0x%llx..0x%llx does not fit below 0x%llx "
                        "(%llu MiB of RAM less the command-line page)",
                        (unsigned long long)s->paddr, (unsigned long long)(s->paddr + s->memsz),
                        (unsigned long long)top, (unsigned long long)cfg->memory_mib);
    }
    *cmdline = top;
    return 0;
}

/* Whether any segment has bytes from the file in guest page pg. */
static int has_file_bytes(const struct kiln_elf_image *img, uint64_t pg)
{
    for (size_t i = 0; i < img->n_segments; i++) {
        const struct kiln_elf_segment *s = &img->seg[i];
        if (s->filesz && s->paddr < pg + PAGE && s->paddr + s->filesz > pg)
            return 1;
    }
    return 0;
}

/* The content of guest page pg: every segment's bytes that fall in it. */
static void compose(const struct kiln_elf_image *img, const unsigned char *file,
                    uint64_t pg, unsigned char *buf)
{
    memset(buf, 0, PAGE);
    for (size_t i = 0; i < img->n_segments; i++) {
        const struct kiln_elf_segment *s = &img->seg[i];
        uint64_t lo = s->paddr > pg ? s->paddr : pg;
        uint64_t hi = s->paddr + s->filesz < pg + PAGE ? s->paddr + s->filesz : pg + PAGE;
        if (lo < hi)
            memcpy(buf + (lo - pg), file + s->offset + (lo - s->paddr), hi - lo);
    }
}

static int load_segments(kiln_handle *h, uint32_t domid, const struct kiln_elf_image *img,
                         const unsigned char *file, unsigned char *buf)
{
    uint64_t done = 0;   /* pages below this are written (segments are sorted) */

    for (size_t i = 0; i < img->n_segments; i++) {
        const struct kiln_elf_segment *s = &img->seg[i];
        uint64_t pg = s->paddr & ~(PAGE - 1);

        if (pg < done)
            pg = done;  /* shares a page with the previous segment: written */
        for (; pg < s->paddr + s->memsz; pg += PAGE) {
            int r;
            /* New RAM is zero (the hypervisor must hand it out zeroed, or
             * domains would see each other's data): skip pure-bss pages. */
            if (!has_file_bytes(img, pg))
                continue;
            compose(img, file, pg, buf);
            r = kiln_write_mem(h, domid, pg, buf, PAGE);
            if (r < 0)
                return r;
        }
        done = pg;
    }
    return 0;
}

/* The settings every kind of guest gets right after CREATE. */
static int tune(kiln_handle *h, uint32_t domid, const struct kiln_config *cfg, const char **step)
{
    int r;

    *step = "setting credit parameters";
    if ((r = kiln_sched_set(h, domid, cfg->weight, cfg->cap)) < 0)
        return r;
    *step = "pinning vCPUs";
    for (uint32_t v = 0; cfg->cpus && v < cfg->vcpus; v++)
        if ((r = kiln_vcpu_pin(h, domid, v, cfg->cpus)) < 0)
            return r;
    *step = "setting CPUID overrides";
    for (size_t i = 0; i < cfg->n_cpuid; i++)
        if ((r = kiln_set_cpuid(h, domid, &cfg->cpuid[i])) < 0)
            return r;
    return 0;
}

/* Everything after CREATE; the caller destroys the domain if this fails. */
static int fill(kiln_handle *h, uint32_t domid, const struct kiln_config *cfg,
                const struct kiln_elf_image *img, const unsigned char *file,
                uint64_t cmdline, unsigned char *buf, const char **step)
{
    int r;

    if ((r = tune(h, domid, cfg, step)) < 0)
        return r;
    *step = "loading the image";
    if ((r = load_segments(h, domid, img, file, buf)) < 0)
        return r;
    *step = "writing the command line";
    memset(buf, 0, PAGE);
    memcpy(buf, cfg->cmdline, strnlen(cfg->cmdline, sizeof(cfg->cmdline) - 1));
    if ((r = kiln_write_mem(h, domid, cmdline, buf, PAGE)) < 0)
        return r;
    *step = "setting the vCPUs' registers";
    for (uint32_t v = 0; v < cfg->vcpus; v++) {
        struct kiln_domctl_vcpu regs = {
            .vcpu = v, .rip = img->entry, .rsp = cmdline,
            .rdi = cfg->memory_mib << 10, .rsi = v, .cr3 = 0,
        };
        if ((r = kiln_set_vcpu(h, domid, &regs)) < 0)
            return r;
    }
    return 0;
}

long kiln_multiboot_find(const void *image, size_t size)
{
    const unsigned char *p = image;
    size_t end = size < MB_SEARCH ? size : MB_SEARCH;

    for (size_t off = 0; off + 12 <= end; off += 4) {
        uint32_t w[3];
        memcpy(w, p + off, sizeof(w));
        if (w[0] == MB_MAGIC && (uint32_t)(w[0] + w[1] + w[2]) == 0)
            return (long)off;
    }
    return -1;
}

/* The staging place of the image (the top of RAM) and the kernel's
 * command line, once both are known to fit. */
static int plan_pc(const struct kiln_config *cfg, size_t size, uint64_t *stage,
                   char *cmdline, size_t cmdlen, char *err, size_t errlen)
{
    uint64_t ram = cfg->memory_mib << 20, staged = (size + PAGE - 1) & ~(PAGE - 1);
    int n;

    if (cfg->vcpus > KILN_PC_MAX_VCPUS)
        return fail(-EINVAL, err, errlen, "a multiboot guest has at most %d vCPUs, not %u",
                    KILN_PC_MAX_VCPUS, cfg->vcpus);
    if (size > KILN_PC_IMAGE_MAX)
        return fail(-E2BIG, err, errlen, "%zu bytes: larger than the %u bytes a multiboot "
                    "kernel may have", size, KILN_PC_IMAGE_MAX);
    if (staged > ram)
        return fail(-E2BIG, err, errlen, "%zu bytes do not fit in %llu MiB of RAM", size,
                    (unsigned long long)cfg->memory_mib);
    *stage = ram - staged;
    /* "KERNEL ARGS", as QEMU and GRUB pass it (argv[0] is the file). */
    n = snprintf(cmdline, cmdlen, "%s%s%s", cfg->kernel, cfg->cmdline[0] ? " " : "",
                 cfg->cmdline);
    if (n < 0 || (size_t)n >= cmdlen)
        return fail(-E2BIG, err, errlen, "kernel path and cmdline are longer than %d bytes",
                    KILN_PC_CMDLINE_MAX);
    return 0;
}

/* A Multiboot1 kernel: a PC domain the hypervisor loads from the image
 * staged at the top of its RAM. */
static int build_pc(kiln_handle *h, const struct kiln_config *cfg, const void *image,
                    size_t size, uint32_t *domid, char *err, size_t errlen)
{
    char cmdline[KILN_PC_CMDLINE_MAX + 1];
    const char *step = "creating the domain";
    uint32_t flags = KILN_DOMCTL_CREATE_F_PC | (cfg->testdev ? KILN_DOMCTL_CREATE_F_TESTDEV : 0);
    uint64_t stage = 0;
    uint32_t id;
    int r;

    if (kiln_multiboot_find(image, size) < 0)
        return fail(-EINVAL, err, errlen, "not a Multiboot1 kernel (no header in its "
                    "first %d KiB)", MB_SEARCH / 1024);
    r = plan_pc(cfg, size, &stage, cmdline, sizeof(cmdline), err, errlen);
    if (r < 0)
        return r;
    r = kiln_domain_create(h, cfg->name, cfg->memory_mib << 10, cfg->vcpus, flags, &id);
    if (r == 0) {
        r = tune(h, id, cfg, &step);
        if (r == 0) {
            step = "copying the kernel into the domain";
            r = kiln_write_mem(h, id, stage, image, size);
        }
        if (r == 0) {
            step = "loading the kernel (the hypervisor's log says why)";
            r = kiln_pc_boot(h, id, KILN_PC_BOOT_MULTIBOOT, stage, size, cmdline);
        }
        if (r < 0)
            kiln_domain_destroy(h, id);
    }
    if (r < 0)
        return fail(r, err, errlen, "%s: %s", step, strerror(-r));
    *domid = id;
    return 0;
}

/* A test-guest ELF image, loaded here. */
static int build_elf(kiln_handle *h, const struct kiln_config *cfg, const void *image,
                     size_t size, uint32_t *domid, char *err, size_t errlen)
{
    struct kiln_elf_image img;
    uint64_t cmdline = 0;
    unsigned char *buf;
    const char *step = "creating the domain";
    uint32_t id;
    int r;

    if (cfg->testdev)
        return fail(-EINVAL, err, errlen, "testdev: only a multiboot guest has test devices");
    r = kiln_elf_parse(image, size, &img, err, errlen);
    if (r < 0)
        return r;
    r = plan(cfg, &img, &cmdline, err, errlen);
    if (r < 0)
        return r;
    buf = aligned_alloc(PAGE, PAGE);
    if (!buf)
        return fail(-ENOMEM, err, errlen, "out of memory");
    r = kiln_domain_create(h, cfg->name, cfg->memory_mib << 10, cfg->vcpus, 0, &id);
    if (r == 0) {
        r = fill(h, id, cfg, &img, image, cmdline, buf, &step);
        if (r < 0)
            kiln_domain_destroy(h, id);
    }
    free(buf);
    if (r < 0)
        return fail(r, err, errlen, "%s: %s", step, strerror(-r));
    *domid = id;
    return 0;
}

int kiln_build_domain(kiln_handle *h, const struct kiln_config *cfg,
                      const void *image, size_t size, uint32_t *domid,
                      char *err, size_t errlen)
{
    enum kiln_guest_type type = cfg->type;

    if (type == KILN_GUEST_AUTO)
        type = kiln_multiboot_find(image, size) >= 0 ? KILN_GUEST_MULTIBOOT : KILN_GUEST_ELF;
    if (type == KILN_GUEST_MULTIBOOT)
        return build_pc(h, cfg, image, size, domid, err, errlen);
    if (type == KILN_GUEST_ELF)
        return build_elf(h, cfg, image, size, domid, err, errlen);
    /* The Linux boot path (bzImage, ramdisk, firmware tables) is not part of
     * this builder yet: say so instead of failing on the ELF format. */
    return fail(-ENOTSUP, err, errlen, "type \"%s\" guests cannot be built yet "
                "(only ELF test guests and Multiboot1 kernels)", kiln_guest_type_name(type));
}

int kiln_build_domain_file(kiln_handle *h, const struct kiln_config *cfg,
                           uint32_t *domid, char *err, size_t errlen)
{
    FILE *f = fopen(cfg->kernel, "rb");
    unsigned char *data = NULL;
    size_t size = 0, cap = 0, n;
    int r;

    if (!f)
        return fail(-errno, err, errlen, "%s: %s", cfg->kernel, strerror(errno));
    do {
        if (size == cap) {
            unsigned char *bigger;
            if (cap >= (256u << 20)) {
                r = fail(-EFBIG, err, errlen, "%s: larger than 256 MiB", cfg->kernel);
                goto out;
            }
            cap = cap ? cap * 2 : 1u << 20;
            bigger = realloc(data, cap);
            if (!bigger) {
                r = fail(-ENOMEM, err, errlen, "out of memory");
                goto out;
            }
            data = bigger;
        }
        n = fread(data + size, 1, cap - size, f);
        size += n;
    } while (n > 0);
    if (ferror(f)) {
        r = fail(-EIO, err, errlen, "%s: read error", cfg->kernel);
        goto out;
    }
    r = kiln_build_domain(h, cfg, data, size, domid, err, errlen);
    if (r < 0 && strncmp(err, cfg->kernel, strlen(cfg->kernel)) != 0) {
        /* Name the image in format errors, which only kiln_elf_parse saw. */
        char msg[512];
        snprintf(msg, sizeof(msg), "%s", err);
        snprintf(err, errlen, "%s: %s", cfg->kernel, msg);
    }
out:
    free(data);
    fclose(f);
    return r;
}
