/*
 * cmdline.h - the hypervisor command line, as options by name.
 *
 * The Multiboot command line is split on spaces into `key=value` options
 * and bare flags (e.g. `exit_when_idle`).  A later option overrides an
 * earlier one with the same key.  Known keys: console=com1,
 * loglvl=error|warn|info|debug, dom0_cpus=N, sched=NAME (see sched.h), exit_when_idle,
 * selftest=fault|ud (debug), and anything other components document.
 */
#ifndef KILN_CMDLINE_H
#define KILN_CMDLINE_H

#include <kiln/types.h>

/* Parses raw (copied, so the caller's buffer may go away).  Returns the
 * number of options, or -1 when the line is too long or has too many. */
int cmdline_parse(const char *raw);

/* Value of key=value, "" for a bare flag, NULL when absent. */
const char *cmdline_get(const char *key);
bool cmdline_has(const char *key);
/* Numeric value (see kparse_u64), or dflt when absent or malformed. */
u64 cmdline_get_u64(const char *key, u64 dflt);
/* The i-th option in command-line order; -1 past the last one. */
int cmdline_option(unsigned int i, const char **key, const char **value);
/* The whole line as given (for the boot log). */
const char *cmdline_raw(void);

#endif
