/*
 * kiln_config.h - a domain's configuration file, as `kl create` reads it.
 *
 * Format: one `key = value` per line; `#` starts a comment outside double
 * quotes; blank lines are ignored; values may be double-quoted (needed for a
 * cmdline with '#').  Keys:
 *   name    = 1..31 characters of [A-Za-z0-9._-]                (required)
 *   kernel  = ELF test-guest image, relative to the file's folder (required)
 *   memory  = MiB, 1..1048576                                    (required)
 *   vcpus   = 1..64                                  (default 1)
 *   cmdline = text, up to 1023 bytes                 (default empty)
 *   weight  = credit weight 1..65535                 (default 256)
 *   cap     = percent of one CPU, 0 = none, 0..6400  (default 0)
 *   cpus    = physical CPUs, e.g. "1-3,5" (0..63)    (default any)
 *   cpuid   = LEAF[:SUBLEAF] REG=MASK[,REG=MASK...]  (repeatable, up to 16;
 *             REG is eax/ebx/ecx/edx, values ANDed with the host policy)
 * Every key but cpuid may appear once.  Errors read "FILE:LINE: message".
 */
#ifndef KILN_CONFIG_H
#define KILN_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include "kiln.h"

#define KILN_CONFIG_CMDLINE_MAX 1024
#define KILN_CONFIG_CPUID_MAX   16
#define KILN_CONFIG_PATH_MAX    4096

struct kiln_config {
    char     name[KILN_NAME_MAX];
    char     kernel[KILN_CONFIG_PATH_MAX];
    char     cmdline[KILN_CONFIG_CMDLINE_MAX];
    uint64_t memory_mib;
    uint32_t vcpus;
    uint32_t weight;
    uint32_t cap;
    uint64_t cpus;            /* 0 = any */
    size_t   n_cpuid;
    struct kiln_domctl_cpuid cpuid[KILN_CONFIG_CPUID_MAX];
};

/* Parses text (as read from file `filename`, used in messages and to
 * resolve a relative kernel path).  On error returns -EINVAL and writes one
 * line "filename:line: message" into err. */
int kiln_config_parse(const char *text, const char *filename, struct kiln_config *cfg,
                      char *err, size_t errlen);
/* Reads and parses a file; I/O errors return -errno with a message too. */
int kiln_config_load(const char *path, struct kiln_config *cfg, char *err, size_t errlen);

/* "1-3,5" -> bit mask of CPUs 0..63; -EINVAL with a message otherwise. */
int kiln_cpulist_parse(const char *s, uint64_t *mask, char *err, size_t errlen);

#endif /* KILN_CONFIG_H */
