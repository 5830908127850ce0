/*
 * multiboot.h - boot-time parsing of the Multiboot1 information
 * (the results are read through boot.h).
 */
#ifndef KILN_MULTIBOOT_H
#define KILN_MULTIBOOT_H

#include <kiln/types.h>

/* Parses the info at physical info_pa (also the command line).  Returns -1
 * when magic says the loader was not Multiboot-compliant. */
int multiboot_parse(u32 magic, u32 info_pa);
const char *multiboot_loader_name(void);

#endif
