/*
 * save.c - `kl save` and `kl restore`: a domain into a file and back, over
 * libkiln's save/restore (kiln_migrate.h).  Each prints its figures for
 * people, then the same figures as one JSON line for scripts and the farm.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "kiln_migrate.h"
#include "kl.h"

void kl_print_save_json(const char *op, uint32_t domid, const char *name, int live,
                        const struct kiln_save_stats *st, double downtime_ms)
{
    printf("{\"op\":\"%s\",\"domid\":%u,\"name\":\"%s\",\"live\":%s,\"rounds\":%u,"
           "\"pages_per_round\":[", op, domid, name, live ? "true" : "false", st->rounds);
    uint32_t last = live ? st->rounds : 0;
    for (uint32_t i = 0; i <= last; i++)
        printf("%s%llu", i ? "," : "", (unsigned long long)st->pages[i]);
    printf("],\"pages\":%llu,\"bytes\":%llu,\"total_s\":%.3f,\"downtime_ms\":%.1f}\n",
           (unsigned long long)st->pages_total, (unsigned long long)st->bytes,
           st->total_ns / 1e9, downtime_ms);
}

int kl_cmd_save(kiln_handle *h, int argc, char **argv)
{
    static const char use[] = "usage: kl save [-l] [-k] DOM FILE\n";
    struct kiln_save_opts opts = { 0 };
    struct kiln_save_stats st;
    struct kiln_stream_fd out;
    struct kiln_dominfo info;
    int keep = 0, opt, fd, r;
    uint32_t domid;
    char err[512];

    /* Commands get argv after "kl CMD"; getopt wants a program name
     * first, and argv[-1] is the command's. */
    optind = 1;
    while ((opt = getopt(argc + 1, argv - 1, "lk")) != -1) {
        if (opt == 'l')
            opts.live = 1;
        else if (opt == 'k')
            keep = 1;
        else
            return fprintf(stderr, "%s", use), 2;
    }
    if (argc + 1 - optind != 2)
        return fprintf(stderr, "%s", use), 2;
    const char *dom = argv[optind - 1], *file = argv[optind];
    if ((r = kl_domain_arg(h, dom, &domid)))
        return r;
    if ((r = kiln_domain_info(h, domid, &info)) < 0)
        return kl_error(dom, r);
    fd = open(file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return kl_error(file, -errno);
    if ((r = kiln_stream_fd_init(&out, fd)) < 0) {
        close(fd);
        return kl_error("save", r);
    }
    r = kiln_domain_save(h, domid, kiln_stream_fd_write, &out, &opts, &st, err, sizeof(err));
    if (!r && (r = kiln_stream_fd_flush(&out)) < 0)
        snprintf(err, sizeof(err), "writing %s: %s", file, strerror(-r));
    if (!r && fsync(fd) < 0 && errno != EINVAL) {
        r = -errno;
        snprintf(err, sizeof(err), "writing %s: %s", file, strerror(errno));
    }
    kiln_stream_fd_free(&out);
    close(fd);
    if (r < 0) {
        unlink(file);
        /* A failed save resumed the guest itself; a flush that failed
         * after it did not. */
        if (info.state == KILN_DOMSTATE_RUNNING)
            kiln_domain_unpause(h, domid);
        fprintf(stderr, "kl: save %s: %s\n", dom, err);
        return 1;
    }
    /* The guest is paused: keep it (-k) running, or it now lives in FILE. */
    r = keep ? kiln_domain_unpause(h, domid) : kiln_domain_destroy(h, domid);
    if (r < 0)
        return kl_error(keep ? "unpause" : "destroy", r);
    printf("saved d%u '%s' to %s: %llu pages in %u live round(s) + 1 paused, %llu bytes, "
           "%.3f s (guest paused %.1f ms)%s\n", domid, info.name, file,
           (unsigned long long)st.pages_total, st.rounds, (unsigned long long)st.bytes,
           st.total_ns / 1e9, st.paused_ns / 1e6, keep ? ", still running" : ", destroyed");
    kl_print_save_json("save", domid, info.name, opts.live, &st, st.paused_ns / 1e6);
    return 0;
}

int kl_cmd_restore(kiln_handle *h, int argc, char **argv)
{
    static const char use[] = "usage: kl restore [-p] [-n NAME] FILE\n";
    struct kiln_restore_opts opts = { 0 };
    struct kiln_restore_stats st;
    struct kiln_stream_fd in;
    struct kiln_dominfo info;
    uint32_t domid;
    char err[512];
    int opt, fd, r;

    optind = 1;
    while ((opt = getopt(argc + 1, argv - 1, "pn:")) != -1) {
        if (opt == 'p')
            opts.paused = 1;
        else if (opt == 'n')
            opts.name = optarg;
        else
            return fprintf(stderr, "%s", use), 2;
    }
    if (argc + 1 - optind != 1)
        return fprintf(stderr, "%s", use), 2;
    const char *file = argv[optind - 1];
    fd = open(file, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return kl_error(file, -errno);
    if ((r = kiln_stream_fd_init(&in, fd)) < 0) {
        close(fd);
        return kl_error("restore", r);
    }
    r = kiln_domain_restore(h, kiln_stream_fd_read, &in, &opts, &domid, &st, err, sizeof(err));
    kiln_stream_fd_free(&in);
    close(fd);
    if (r < 0) {
        fprintf(stderr, "kl: restore %s: %s\n", file, err);
        return 1;
    }
    if ((r = kiln_domain_info(h, domid, &info)) < 0)
        return kl_error("restore", r);
    double down = st.resumed_wall_ns && st.paused_wall_ns
                      ? (double)(st.resumed_wall_ns - st.paused_wall_ns) / 1e6 : 0;
    printf("restored '%s' as d%u from %s: %llu pages, %llu bytes, %.3f s%s\n", info.name, domid,
           file, (unsigned long long)st.pages, (unsigned long long)st.bytes, st.total_ns / 1e9,
           opts.paused ? ", paused" : "");
    printf("{\"op\":\"restore\",\"domid\":%u,\"name\":\"%s\",\"pages\":%llu,\"bytes\":%llu,"
           "\"total_s\":%.3f,\"paused_since_save_ms\":%.1f}\n", domid, info.name,
           (unsigned long long)st.pages, (unsigned long long)st.bytes, st.total_ns / 1e9, down);
    return 0;
}
