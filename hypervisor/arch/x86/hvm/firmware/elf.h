/*
 * elf.h - the program headers of an ELF32 (i386) or ELF64 (x86-64)
 * executable, read into one form (load_plan.c), for the loaders that
 * take segments (Multiboot ELF, PVH) and the PVH note search.
 */
#ifndef KILN_FW_ELF_H
#define KILN_FW_ELF_H

#include <kiln/types.h>

#define PT_LOAD 1
#define PT_NOTE 4

struct elf_info {
    bool is64;
    u64 entry, phoff;
    u16 phentsize, phnum;
};

struct elf_seg {
    u32 type;
    u64 offset, vaddr, paddr, filesz, memsz;
};

/* Checks the ELF header (executable, i386 or x86-64, little endian,
 * program headers inside the image).  0 or -KILN_EINVAL. */
int elf_parse(const void *image, size_t size, struct elf_info *e);
/* Program header i (< e->phnum) of an image elf_parse accepted; its
 * offset/filesz are not checked against the image. */
void elf_phdr(const void *image, const struct elf_info *e, unsigned int i, struct elf_seg *s);

#endif
