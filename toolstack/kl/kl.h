/*
 * kl.h - what kl.c (argument handling) and commands.c (the commands) share.
 */
#ifndef KL_H
#define KL_H

#include <stdint.h>
#include "libkiln.h"

/* Prints "kl: what: error" to stderr and returns 1 (kl's failure status). */
int kl_error(const char *what, int err);
/* A decimal, 0x hex or 0 octal number from 0 to max; 0 or -EINVAL. */
int kl_parse_uint(const char *s, uint64_t max, uint64_t *out);
/* A domain given as an id or a name. 0 or a kl_error() status. */
int kl_domain_arg(kiln_handle *h, const char *arg, uint32_t *domid);

int kl_cmd_list(kiln_handle *h, int argc, char **argv);
int kl_cmd_create(kiln_handle *h, int argc, char **argv);
int kl_cmd_destroy(kiln_handle *h, int argc, char **argv);
int kl_cmd_pause(kiln_handle *h, int argc, char **argv);
int kl_cmd_unpause(kiln_handle *h, int argc, char **argv);
int kl_cmd_console(kiln_handle *h, int argc, char **argv);
int kl_cmd_sched_credit(kiln_handle *h, int argc, char **argv);
int kl_cmd_vcpu_pin(kiln_handle *h, int argc, char **argv);
int kl_cmd_info(kiln_handle *h, int argc, char **argv);
int kl_cmd_dmesg(kiln_handle *h, int argc, char **argv);
int kl_cmd_peek(kiln_handle *h, int argc, char **argv);
int kl_cmd_save(kiln_handle *h, int argc, char **argv);
int kl_cmd_restore(kiln_handle *h, int argc, char **argv);
int kl_cmd_migrate(kiln_handle *h, int argc, char **argv);
int kl_cmd_migrate_receive(kiln_handle *h, int argc, char **argv);

struct kiln_save_stats;
/* One JSON line of a save's figures (save.c; also kl migrate's). */
void kl_print_save_json(const char *op, uint32_t domid, const char *name, int live,
                        const struct kiln_save_stats *st, double downtime_ms);

#endif /* KL_H */
