/*
 * commands.c - kl's subcommands, each a thin layer over libkiln that checks
 * its arguments and prints results for people and scripts alike.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "kiln_builder.h"
#include "kiln_config.h"
#include "kl.h"

static int bad_usage(const char *text)
{
    fprintf(stderr, "usage: kl %s\n", text);
    return 2;
}

static int parse_u32(const char *s, uint32_t max, uint32_t *out)
{
    uint64_t v;
    int r = kl_parse_uint(s, max, &v);
    if (!r)
        *out = (uint32_t)v;
    return r;
}

int kl_cmd_list(kiln_handle *h, int argc, char **argv)
{
    struct kiln_dominfo *doms = NULL;
    int n, cap = 16;

    (void)argv;
    if (argc != 0)
        return bad_usage("list");
    /* The count can grow between calls: retry until the array held all. */
    for (;;) {
        struct kiln_dominfo *bigger = realloc(doms, cap * sizeof(*doms));
        if (!bigger) {
            free(doms);
            return kl_error("list", -ENOMEM);
        }
        doms = bigger;
        n = kiln_domain_list(h, doms, cap);
        if (n < 0) {
            free(doms);
            return kl_error("list", n);
        }
        if (n <= cap)
            break;
        cap = n + 16;
    }
    printf("%-5s %-31s %-9s %5s %9s %10s\n", "ID", "NAME", "STATE", "VCPUS", "MEM(MiB)", "TIME(s)");
    for (int i = 0; i < n; i++)
        printf("%-5u %-31s %-9s %5u %9llu %10.1f\n", doms[i].domid, doms[i].name,
               kiln_domstate_name(doms[i].state), doms[i].vcpus,
               (unsigned long long)(doms[i].memory_kib >> 10), doms[i].cpu_time_ns / 1e9);
    free(doms);
    return 0;
}

static int attach(kiln_handle *h, uint32_t domid);

int kl_cmd_create(kiln_handle *h, int argc, char **argv)
{
    static const char use[] = "create [-p|-c] CFG";
    struct kiln_config *cfg;
    char err[512];
    uint32_t domid;
    int paused = 0, console = 0, r;

    if (argc == 2 && !strcmp(argv[0], "-p"))
        paused = 1;
    else if (argc == 2 && !strcmp(argv[0], "-c"))
        console = 1;
    else if (argc != 1)
        return bad_usage(use);
    cfg = malloc(sizeof(*cfg));
    if (!cfg)
        return kl_error("create", -ENOMEM);
    r = kiln_config_load(argv[argc - 1], cfg, err, sizeof(err));
    if (r == 0)
        r = kiln_build_domain_file(h, cfg, &domid, err, sizeof(err));
    if (r < 0) {
        fprintf(stderr, "kl: create: %s\n", err);
        free(cfg);
        return 1;
    }
    if (!paused) {
        r = kiln_domain_unpause(h, domid);
        if (r < 0) {
            kiln_domain_destroy(h, domid);
            free(cfg);
            return kl_error("create: starting the domain", r);
        }
    }
    /* With -c the console is the output: the message goes to stderr. */
    fprintf(console ? stderr : stdout, "created domain %u (%s)%s\n", domid, cfg->name,
            paused ? ", paused" : "");
    free(cfg);
    return console ? attach(h, domid) : 0;
}

static int one_domain(kiln_handle *h, int argc, char **argv, const char *name,
                      int (*op)(kiln_handle *, uint32_t))
{
    char usage[64], what[64];
    uint32_t domid;
    int r;

    snprintf(usage, sizeof(usage), "%s DOM", name);
    if (argc != 1)
        return bad_usage(usage);
    if ((r = kl_domain_arg(h, argv[0], &domid)))
        return r;
    r = op(h, domid);
    snprintf(what, sizeof(what), "%s %s", name, argv[0]);
    return r < 0 ? kl_error(what, r) : 0;
}

int kl_cmd_destroy(kiln_handle *h, int argc, char **argv)
{
    return one_domain(h, argc, argv, "destroy", kiln_domain_destroy);
}

int kl_cmd_pause(kiln_handle *h, int argc, char **argv)
{
    return one_domain(h, argc, argv, "pause", kiln_domain_pause);
}

int kl_cmd_unpause(kiln_handle *h, int argc, char **argv)
{
    return one_domain(h, argc, argv, "unpause", kiln_domain_unpause);
}

static volatile sig_atomic_t stop;
static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

/* Prints a ring (domain console or hypervisor log) from the start; with
 * follow, keeps polling until interrupted or the domain is gone. */
static int dump_ring(kiln_handle *h, uint32_t domid, int is_log, int follow)
{
    static char buf[4096];
    const struct timespec poll = { 0, 100 * 1000 * 1000 };
    uint64_t offset = 0;
    int n;

    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    while (!stop) {
        n = is_log ? kiln_dmesg_read(h, buf, sizeof(buf), &offset)
                   : kiln_console_read(h, domid, buf, sizeof(buf), &offset);
        if (n < 0)
            return (follow && n == -ESRCH) ? 0 : kl_error(is_log ? "dmesg" : "console", n);
        if (n > 0) {
            fwrite(buf, 1, (size_t)n, stdout);
            continue;
        }
        if (!follow)
            break;
        fflush(stdout);
        nanosleep(&poll, NULL);
    }
    return 0;
}

static const char *shutdown_name(uint32_t reason)
{
    switch (reason) {
    case KILN_SHUTDOWN_POWEROFF: return "poweroff";
    case KILN_SHUTDOWN_REBOOT:   return "reboot";
    case KILN_SHUTDOWN_CRASH:    return "crash";
    default:                     return "unknown reason";
    }
}

/* The status of kl create -c once the domain shut down: 0 for a poweroff
 * (isa-debug-exit value 0 included); a PC domain's nonzero isa-debug-exit
 * value V itself when 1..123 (124 stays timeout(1)'s); 1 otherwise. */
static int exit_status(const struct kiln_dominfo *info)
{
    if (info->shutdown_reason == KILN_SHUTDOWN_POWEROFF)
        return 0;
    if (info->shutdown_reason == KILN_SHUTDOWN_CRASH && info->exit_code &&
        info->exit_code < 124)
        return (int)info->exit_code;
    return 1;
}

/* kl create -c: the new domain's console until it shuts down (status from
 * exit_status) or we are interrupted (0, domain left running). */
static int attach(kiln_handle *h, uint32_t domid)
{
    static char buf[4096];
    const struct timespec poll = { 0, 50 * 1000 * 1000 };
    struct kiln_dominfo info;
    uint64_t offset = 0;
    int n, r;

    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    while (!stop) {
        /* State first, then the ring: output written before the shutdown
         * is in the ring by the time we see DYING. */
        r = kiln_domain_info(h, domid, &info);
        if (r == -ESRCH) {
            fprintf(stderr, "kl: domain %u is gone (the hypervisor freed it: shutdown reason unknown)\n", domid);
            return 0;
        }
        if (r < 0)
            return kl_error("create: console", r);
        while ((n = kiln_console_read(h, domid, buf, sizeof(buf), &offset)) > 0)
            fwrite(buf, 1, (size_t)n, stdout);
        fflush(stdout);
        if (n < 0 && n != -ESRCH)
            return kl_error("create: console", n);
        if (info.state == KILN_DOMSTATE_DYING) {
            if (info.exit_code)
                fprintf(stderr, "kl: domain %u shut down: %s (exit code %u)\n", domid,
                        shutdown_name(info.shutdown_reason), info.exit_code);
            else
                fprintf(stderr, "kl: domain %u shut down: %s\n", domid,
                        shutdown_name(info.shutdown_reason));
            return exit_status(&info);
        }
        nanosleep(&poll, NULL);
    }
    return 0;
}

int kl_cmd_console(kiln_handle *h, int argc, char **argv)
{
    int follow = argc == 2 && !strcmp(argv[0], "-f");
    uint32_t domid;
    int r;

    if (argc != 1 + follow)
        return bad_usage("console [-f] DOM");
    if ((r = kl_domain_arg(h, argv[follow], &domid)))
        return r;
    return dump_ring(h, domid, 0, follow);
}

int kl_cmd_dmesg(kiln_handle *h, int argc, char **argv)
{
    (void)argv;
    if (argc != 0)
        return bad_usage("dmesg");
    return dump_ring(h, 0, 1, 0);
}

int kl_cmd_sched_credit(kiln_handle *h, int argc, char **argv)
{
    static const char use[] = "sched-credit DOM [-w WEIGHT] [-c CAP]";
    uint32_t domid, weight, cap;
    int set = 0, r;

    if (argc < 1 || argc % 2 == 0)
        return bad_usage(use);
    if ((r = kl_domain_arg(h, argv[0], &domid)))
        return r;
    if ((r = kiln_sched_get(h, domid, &weight, &cap)) < 0)
        return kl_error("sched-credit", r);
    for (int i = 1; i < argc; i += 2) {
        if (!strcmp(argv[i], "-w")) {
            if (parse_u32(argv[i + 1], 65535, &weight) || weight == 0) {
                fprintf(stderr, "kl: sched-credit: weight '%s' is not in 1..65535\n", argv[i + 1]);
                return 2;
            }
        } else if (!strcmp(argv[i], "-c")) {
            if (parse_u32(argv[i + 1], 6400, &cap)) {
                fprintf(stderr, "kl: sched-credit: cap '%s' is not in 0..6400\n", argv[i + 1]);
                return 2;
            }
        } else {
            return bad_usage(use);
        }
        set = 1;
    }
    if (set) {
        if ((r = kiln_sched_set(h, domid, weight, cap)) < 0)
            return kl_error("sched-credit", r);
        if ((r = kiln_sched_get(h, domid, &weight, &cap)) < 0)
            return kl_error("sched-credit", r);
    }
    printf("domain %u: weight %u cap %u\n", domid, weight, cap);
    return 0;
}

int kl_cmd_vcpu_pin(kiln_handle *h, int argc, char **argv)
{
    uint32_t domid, vcpu;
    uint64_t mask = 0;
    char err[128];
    int r;

    if (argc != 3)
        return bad_usage("vcpu-pin DOM VCPU CPUS|all");
    if ((r = kl_domain_arg(h, argv[0], &domid)))
        return r;
    if (parse_u32(argv[1], KILN_MAX_VCPUS - 1, &vcpu)) {
        fprintf(stderr, "kl: vcpu-pin: vCPU '%s' is not in 0..%d\n", argv[1], KILN_MAX_VCPUS - 1);
        return 2;
    }
    if (strcmp(argv[2], "all") && kiln_cpulist_parse(argv[2], &mask, err, sizeof(err)) < 0) {
        fprintf(stderr, "kl: vcpu-pin: %s\n", err);
        return 2;
    }
    r = kiln_vcpu_pin(h, domid, vcpu, mask);
    return r < 0 ? kl_error("vcpu-pin", r) : 0;
}

int kl_cmd_info(kiln_handle *h, int argc, char **argv)
{
    struct kiln_sysctl_physinfo pi;
    uint32_t version;
    int r;

    (void)argv;
    if (argc != 0)
        return bad_usage("info");
    if ((r = kiln_version(h, &version)) < 0)
        return kl_error("info", r);
    if ((r = kiln_physinfo(h, &pi)) < 0)
        return kl_error("info", r);
    printf("abi_version   : %u.%u\n", version >> 16, version & 0xffff);
    printf("nr_cpus       : %u\n", pi.nr_cpus);
    printf("cpu_mhz       : %llu\n", (unsigned long long)(pi.cpu_khz / 1000));
    printf("total_memory  : %llu MiB\n", (unsigned long long)(pi.total_pages >> 8));
    printf("free_memory   : %llu MiB\n", (unsigned long long)(pi.free_pages >> 8));
    printf("free_pages    : %llu\n", (unsigned long long)pi.free_pages);
    printf("nr_domains    : %u\n", pi.nr_domains);
    printf("foreign_window: %#llx, %u pages\n", (unsigned long long)pi.foreign_base, pi.foreign_pages);
    return 0;
}
