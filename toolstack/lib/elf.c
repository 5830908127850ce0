/*
 * elf.c - finds the loadable segments of an ELF32/ELF64 x86 executable.
 *
 * Both classes are read into one neutral form so that the builder has a
 * single path.  Offsets and sizes come from the file, so each is checked
 * against the file size (and sums for overflow) before anything is read.
 */
#include <elf.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "kiln_elf.h"

static int fail(int code, char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return code;
}

/* [off, off+len) lies inside [0, size). */
static bool inside(uint64_t off, uint64_t len, uint64_t size)
{
    return off <= size && len <= size - off;
}

struct phdr { uint32_t type; uint64_t offset, paddr, filesz, memsz; };

static void read_phdr(const unsigned char *base, bool is64, struct phdr *ph)
{
    if (is64) {
        Elf64_Phdr p;
        memcpy(&p, base, sizeof(p));
        *ph = (struct phdr){ p.p_type, p.p_offset, p.p_paddr, p.p_filesz, p.p_memsz };
    } else {
        Elf32_Phdr p;
        memcpy(&p, base, sizeof(p));
        *ph = (struct phdr){ p.p_type, p.p_offset, p.p_paddr, p.p_filesz, p.p_memsz };
    }
}

static int by_paddr(const void *a, const void *b)
{
    const struct kiln_elf_segment *x = a, *y = b;
    return (x->paddr > y->paddr) - (x->paddr < y->paddr);
}

int kiln_elf_parse(const void *data, size_t size, struct kiln_elf_image *img,
                   char *err, size_t errlen)
{
    const unsigned char *d = data;
    uint64_t phoff, entry;
    uint16_t type, machine, phentsize, phnum;
    bool is64;

    memset(img, 0, sizeof(*img));
    if (size < EI_NIDENT || memcmp(d, ELFMAG, SELFMAG) != 0)
        return fail(-ENOEXEC, err, errlen, "not an ELF file");
    if (d[EI_CLASS] != ELFCLASS32 && d[EI_CLASS] != ELFCLASS64)
        return fail(-ENOEXEC, err, errlen, "unknown ELF class %u", d[EI_CLASS]);
    if (d[EI_DATA] != ELFDATA2LSB)
        return fail(-ENOEXEC, err, errlen, "not a little-endian ELF file");
    is64 = d[EI_CLASS] == ELFCLASS64;

    if (is64) {
        Elf64_Ehdr eh;
        if (size < sizeof(eh))
            return fail(-EINVAL, err, errlen, "truncated ELF header");
        memcpy(&eh, d, sizeof(eh));
        type = eh.e_type; machine = eh.e_machine; entry = eh.e_entry;
        phoff = eh.e_phoff; phentsize = eh.e_phentsize; phnum = eh.e_phnum;
    } else {
        Elf32_Ehdr eh;
        if (size < sizeof(eh))
            return fail(-EINVAL, err, errlen, "truncated ELF header");
        memcpy(&eh, d, sizeof(eh));
        type = eh.e_type; machine = eh.e_machine; entry = eh.e_entry;
        phoff = eh.e_phoff; phentsize = eh.e_phentsize; phnum = eh.e_phnum;
    }
    if (type != ET_EXEC)
        return fail(-ENOEXEC, err, errlen, "ELF type %u is not an executable", type);
    if (machine != (is64 ? EM_X86_64 : EM_386))
        return fail(-ENOEXEC, err, errlen, "ELF machine %u is not x86 (%s)", machine,
                    is64 ? "expected x86-64" : "expected i386");
    if (phentsize != (is64 ? sizeof(Elf64_Phdr) : sizeof(Elf32_Phdr)))
        return fail(-EINVAL, err, errlen, "program header size %u is wrong", phentsize);
    if (!inside(phoff, (uint64_t)phnum * phentsize, size))
        return fail(-EINVAL, err, errlen, "program headers lie outside the file");

    for (unsigned i = 0; i < phnum; i++) {
        struct kiln_elf_segment *s;
        struct phdr ph;

        read_phdr(d + phoff + (uint64_t)i * phentsize, is64, &ph);
        if (ph.type != PT_LOAD || ph.memsz == 0)
            continue;
        if (img->n_segments == KILN_ELF_MAX_SEGMENTS)
            return fail(-EINVAL, err, errlen, "more than %d loadable segments", KILN_ELF_MAX_SEGMENTS);
        if (!inside(ph.offset, ph.filesz, size))
            return fail(-EINVAL, err, errlen, "segment %u lies outside the file", i);
        if (ph.filesz > ph.memsz)
            return fail(-EINVAL, err, errlen, "segment %u: file size exceeds memory size", i);
        if (ph.paddr + ph.memsz < ph.paddr)
            return fail(-EINVAL, err, errlen, "segment %u wraps around the address space", i);
        s = &img->seg[img->n_segments++];
        *s = (struct kiln_elf_segment){ ph.paddr, ph.offset, ph.filesz, ph.memsz };
    }
    if (img->n_segments == 0)
        return fail(-EINVAL, err, errlen, "no loadable segment");
    qsort(img->seg, img->n_segments, sizeof(img->seg[0]), by_paddr);
    for (size_t i = 1; i < img->n_segments; i++) {
        const struct kiln_elf_segment *a = &img->seg[i - 1], *b = &img->seg[i];
        if (a->paddr + a->memsz > b->paddr)
            return fail(-EINVAL, err, errlen, "segments at 0x%llx and 0x%llx overlap",
                        (unsigned long long)a->paddr, (unsigned long long)b->paddr);
    }
    img->is64 = is64;
    img->entry = entry;
    for (size_t i = 0; i < img->n_segments; i++)
        if (entry >= img->seg[i].paddr && entry < img->seg[i].paddr + img->seg[i].memsz)
            return 0;
    return fail(-EINVAL, err, errlen, "entry point 0x%llx is in no loadable segment",
                (unsigned long long)entry);
}
