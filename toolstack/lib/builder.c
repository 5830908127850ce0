/*
 * builder.c - the domain builder: creates a domain from a parsed config and
 * loads an ELF test-guest image into it (guest view in kiln_builder.h).
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

/* Everything after CREATE; the caller destroys the domain if this fails. */
static int fill(kiln_handle *h, uint32_t domid, const struct kiln_config *cfg,
                const struct kiln_elf_image *img, const unsigned char *file,
                uint64_t cmdline, unsigned char *buf, const char **step)
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

int kiln_build_domain(kiln_handle *h, const struct kiln_config *cfg,
                      const void *image, size_t size, uint32_t *domid,
                      char *err, size_t errlen)
{
    struct kiln_elf_image img;
    uint64_t cmdline = 0;
    unsigned char *buf;
    const char *step = "creating the domain";
    uint32_t id;
    int r;

    /* The Linux boot path (bzImage, ramdisk, firmware tables) is not part of
     * this builder yet: say so instead of failing on the ELF format. */
    if (cfg->type != KILN_GUEST_ELF)
        return fail(-ENOTSUP, err, errlen, "type \"%s\" guests cannot be built yet "
                    "(only ELF test guests)", kiln_guest_type_name(cfg->type));
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
