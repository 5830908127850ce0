/*
 * kl.c - the `kl` command: picks the subcommand, opens /dev/kiln, and turns
 * errors into messages and exit statuses (0 ok, 1 failed, 2 bad usage).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "kiln_ioctl.h"
#include "kl.h"

static const struct {
    const char *name;
    int (*run)(kiln_handle *h, int argc, char **argv);
    const char *usage;
} commands[] = {
    { "list",         kl_cmd_list,         "list                       domains, one per line" },
    { "create",       kl_cmd_create,       "create [-p|-c] CFG         build a domain and start it (-p: leave paused,\n"
                                           "                                -c: print its console until it shuts down)" },
    { "destroy",      kl_cmd_destroy,      "destroy DOM" },
    { "pause",        kl_cmd_pause,        "pause DOM" },
    { "unpause",      kl_cmd_unpause,      "unpause DOM" },
    { "console",      kl_cmd_console,      "console [-f] DOM           print the console ring (-f: follow)" },
    { "sched-credit", kl_cmd_sched_credit, "sched-credit DOM [-w WEIGHT] [-c CAP]  show or set credit parameters" },
    { "vcpu-pin",     kl_cmd_vcpu_pin,     "vcpu-pin DOM VCPU CPUS|all" },
    { "info",         kl_cmd_info,         "info                       hypervisor version, CPUs, memory" },
    { "dmesg",        kl_cmd_dmesg,        "dmesg                      the hypervisor's log" },
    { "peek",         kl_cmd_peek,         "peek DOM GFN [BYTES]       hexdump a page of DOM (foreign mapping)" },
    { "save",         kl_cmd_save,         "save [-l] [-k] DOM FILE    save DOM into FILE and destroy it (-l: live\n"
                                           "                                pre-copy first, -k: keep it running)" },
    { "restore",      kl_cmd_restore,      "restore [-p] [-n NAME] FILE  start a saved domain (-p: paused, -n: rename)" },
    { "migrate",      kl_cmd_migrate,      "migrate DOM HOST[:PORT]    live-migrate DOM to a host running migrate-receive" },
    { "migrate-receive", kl_cmd_migrate_receive, "migrate-receive [PORT]  take one incoming migration (port 8002)" },
};
#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

static int usage(FILE *out)
{
    fprintf(out, "usage: kl COMMAND [ARGS]   (DOM is a domain id or name)\n");
    for (size_t i = 0; i < N_COMMANDS; i++)
        fprintf(out, "  kl %s\n", commands[i].usage);
    return out == stdout ? 0 : 2;
}

int kl_error(const char *what, int err)
{
    fprintf(stderr, "kl: %s: %s\n", what, strerror(-err));
    return 1;
}

int kl_parse_uint(const char *s, uint64_t max, uint64_t *out)
{
    char *end;
    unsigned long long v;

    errno = 0;
    v = strtoull(s, &end, 0);
    if (*s < '0' || *s > '9' || *end || errno || v > max)
        return -EINVAL;
    *out = v;
    return 0;
}

int kl_domain_arg(kiln_handle *h, const char *arg, uint32_t *domid)
{
    char *end;
    unsigned long v;
    int r;

    errno = 0;
    v = strtoul(arg, &end, 10);
    if (*arg >= '0' && *arg <= '9' && *end == '\0' && errno == 0 && v < KILN_DOMID_SELF) {
        *domid = (uint32_t)v;
        return 0;
    }
    r = kiln_domain_lookup(h, arg, domid);
    if (r < 0) {
        fprintf(stderr, "kl: %s: no such domain\n", arg);
        return 1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    kiln_handle *h;
    int r;

    if (argc < 2)
        return usage(stderr);
    if (!strcmp(argv[1], "help") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))
        return usage(stdout);
    for (size_t i = 0; i < N_COMMANDS; i++) {
        if (strcmp(argv[1], commands[i].name))
            continue;
        r = kiln_open(&h);
        if (r < 0) {
            fprintf(stderr, "kl: cannot open %s: %s%s\n", KILN_DEVICE_PATH, strerror(-r),
                    r == -ENOENT ? " (kiln.ko not loaded: is this dom0 on Kiln?)" : "");
            return 1;
        }
        r = commands[i].run(h, argc - 2, argv + 2);
        kiln_close(h);
        return r;
    }
    fprintf(stderr, "kl: unknown command '%s'\n", argv[1]);
    return usage(stderr);
}
