/*
 * kiln_elf.h - reading the loadable segments of an ELF test-guest image.
 *
 * The domain builder copies PT_LOAD segments to their physical addresses
 * (p_paddr) in the new domain.  The image comes from a file dom0's root
 * chose, but a malformed one must still be refused cleanly, never read out
 * of bounds: every offset and size is checked against the file and for
 * overflow before use.
 */
#ifndef KILN_ELF_H
#define KILN_ELF_H

#include <stddef.h>
#include <stdint.h>

#define KILN_ELF_MAX_SEGMENTS 16

struct kiln_elf_segment {
    uint64_t paddr;   /* guest-physical load address */
    uint64_t offset;  /* in the file */
    uint64_t filesz;  /* bytes from the file; the rest up to memsz is zero */
    uint64_t memsz;
};

struct kiln_elf_image {
    int      is64;    /* ELFCLASS64 or ELFCLASS32 (both enter in 32-bit mode) */
    uint64_t entry;
    size_t   n_segments;  /* sorted by paddr, not overlapping */
    struct kiln_elf_segment seg[KILN_ELF_MAX_SEGMENTS];
};

/* 0, or -EINVAL (-ENOEXEC for "not an ELF x86 executable") with a message. */
int kiln_elf_parse(const void *data, size_t size, struct kiln_elf_image *img,
                   char *err, size_t errlen);

#endif /* KILN_ELF_H */
