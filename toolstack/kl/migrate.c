/*
 * migrate.c - `kl migrate DOM HOST[:PORT]` and its listener
 * `kl migrate-receive [PORT]`: live migration between two dom0s over TCP.
 *
 * The sender runs a live save (pre-copy rounds, then the paused rest and
 * the vCPU states) into the connection and half-closes it, so the
 * receiver's stream reader sees the end of the stream; the receiver
 * restores and starts the guest, then answers one line: "OK dN" once the
 * guest runs there, or "ERR reason".  Only on "OK" does the sender destroy
 * its paused copy; any failure before (the connection, the stream, the
 * receiver's checks, no answer within ANSWER_TIMEOUT_S) unpauses it, so a
 * failed or aborted migration leaves the guest running on the source.
 * Downtime is measured on the sender, from the pause to the "OK": it
 * includes the answer's trip, never less than the guest saw.
 */
#include <errno.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/sockios.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>
#include "kiln_migrate.h"
#include "kl.h"

#define DEFAULT_PORT     8002
#define ANSWER_TIMEOUT_S 120
#define REFUSAL_WAIT_S   2      /* for a refusal that cut the stream short */
#define DRAIN_S          1      /* a refusing receiver reads on this long */
#define ROUND_WAIT_S     10     /* longest wait for a round's data to leave */

static uint64_t clock_ns(clockid_t id)
{
    struct timespec t;

    clock_gettime(id, &t);
    return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

/* "A.B.C.D", "A.B.C.D:PORT", "[v6]" or "[v6]:PORT" -> a connected TCP
 * socket, or -errno.  Addresses only: dom0 has no resolver (and a static
 * kl could not load glibc's NSS modules for one). */
static int connect_to(const char *arg, char *err, size_t errlen)
{
    char host[64];
    const char *end = arg[0] == '[' ? strchr(arg, ']') : strchr(arg, ':');
    const char *start = arg[0] == '[' ? arg + 1 : arg;
    struct sockaddr_storage ss = { 0 };
    struct sockaddr_in *v4 = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&ss;
    uint64_t port = DEFAULT_PORT;
    size_t len;
    socklen_t slen;
    int fd;

    if (!end)
        end = arg[0] == '[' ? NULL : arg + strlen(arg);
    if (!end || (size_t)(end - start) >= sizeof(host) || end == start)
        return snprintf(err, errlen, "bad address '%s' (A.B.C.D[:PORT] or [v6][:PORT])", arg),
               -EINVAL;
    len = (size_t)(end - start);
    memcpy(host, start, len);
    host[len] = '\0';
    if (arg[0] == '[')
        end++;
    if (*end == ':' && (kl_parse_uint(end + 1, 65535, &port) < 0 || !port))
        return snprintf(err, errlen, "bad port in '%s'", arg), -EINVAL;
    if (*end && *end != ':')
        return snprintf(err, errlen, "bad address '%s'", arg), -EINVAL;
    if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons((uint16_t)port);
        slen = sizeof(*v4);
    } else if (inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons((uint16_t)port);
        slen = sizeof(*v6);
    } else {
        return snprintf(err, errlen, "'%s' is not an IP address", host), -EINVAL;
    }
    fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&ss, slen) < 0) {
        int r = -errno;
        if (fd >= 0)
            close(fd);
        snprintf(err, errlen, "connecting to %s port %llu: %s", host, (unsigned long long)port,
                 strerror(-r));
        return r;
    }
    return fd;
}

/* Reads the receiver's one-line answer into line (NUL-terminated), waiting
 * at most timeout_s. */
static int read_answer(int fd, char *line, size_t size, int timeout_s)
{
    struct timeval tv = { .tv_sec = timeout_s };
    size_t n = 0;

    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    while (n + 1 < size) {
        ssize_t got = read(fd, line + n, 1);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0)
            return -errno;
        if (got == 0 || line[n] == '\n')
            break;
        n++;
    }
    line[n] = '\0';
    return n ? 0 : -ECONNRESET;
}

/* kiln_save_opts.round_sent: the round's data on its way before the guest
 * pauses (bounded: a stalled link is the stream's error to report). */
static int drain_round(void *ctx)
{
    struct kiln_stream_fd *out = ctx;
    uint64_t until = clock_ns(CLOCK_MONOTONIC) + ROUND_WAIT_S * 1000000000ull;
    struct timespec tick = { 0, 500000 };
    int queued, r = kiln_stream_fd_flush(out);

    while (!r && clock_ns(CLOCK_MONOTONIC) < until && ioctl(out->fd, SIOCOUTQ, &queued) == 0 &&
           queued > 0)
        nanosleep(&tick, NULL);
    return r;
}

int kl_cmd_migrate(kiln_handle *h, int argc, char **argv)
{
    struct kiln_save_opts opts = { .live = 1, .round_sent = drain_round };
    struct kiln_save_stats st;
    struct kiln_stream_fd out;
    struct kiln_dominfo info;
    char err[700], answer[600];
    uint32_t domid, newid;
    int fd, r;

    if (argc != 2) {
        fprintf(stderr, "usage: kl migrate DOM HOST[:PORT]\n");
        return 2;
    }
    if ((r = kl_domain_arg(h, argv[0], &domid)))
        return r;
    if ((r = kiln_domain_info(h, domid, &info)) < 0)
        return kl_error(argv[0], r);
    uint64_t t0 = clock_ns(CLOCK_MONOTONIC);
    if ((fd = connect_to(argv[1], err, sizeof(err))) < 0) {
        fprintf(stderr, "kl: migrate %s: %s (the guest stays here)\n", argv[0], err);
        return 1;
    }
    if ((r = kiln_stream_fd_init(&out, fd)) < 0) {
        close(fd);
        return kl_error("migrate", r);
    }
    opts.round_ctx = &out;
    r = kiln_domain_save(h, domid, kiln_stream_fd_write, &out, &opts, &st, err, sizeof(err));
    if (!r && (r = kiln_stream_fd_flush(&out)) < 0)
        snprintf(err, sizeof(err), "sending the stream: %s", strerror(-r));
    kiln_stream_fd_free(&out);
    /* End of stream for the receiver's reader; its answer still comes. */
    if (!r && shutdown(fd, SHUT_WR) < 0) {
        r = -errno;
        snprintf(err, sizeof(err), "closing the stream: %s", strerror(errno));
    }
    if (!r && (r = read_answer(fd, answer, sizeof(answer), ANSWER_TIMEOUT_S)) < 0)
        snprintf(err, sizeof(err), "no answer from the destination: %s", strerror(-r));
    /* A receiver that refused the stream (no memory, CPU features) says so
     * and closes early, so the send fails: its answer is the reason. */
    else if (r < 0 && read_answer(fd, answer, sizeof(answer), REFUSAL_WAIT_S) == 0 &&
             !strncmp(answer, "ERR ", 4))
        snprintf(err, sizeof(err), "the destination refused: %s", answer + 4);
    uint64_t answered = clock_ns(CLOCK_REALTIME);
    st.total_ns = clock_ns(CLOCK_MONOTONIC) - t0;   /* the whole migration, answer included */
    close(fd);
    if (!r && sscanf(answer, "OK d%u", &newid) != 1) {
        r = -EREMOTEIO;
        snprintf(err, sizeof(err), "the destination refused: %s",
                 strncmp(answer, "ERR ", 4) ? answer : answer + 4);
    }
    if (r < 0) {
        /* A failed save already resumed the guest; a refusal after it
         * did not: the guest goes on here either way. */
        kiln_domain_unpause(h, domid);
        fprintf(stderr, "kl: migrate %s: %s (the guest stays here)\n", argv[0], err);
        return 1;
    }
    if ((r = kiln_domain_destroy(h, domid)) < 0)
        return kl_error("destroying the source copy", r);
    double down = (double)(answered - st.paused_wall_ns) / 1e6;
    printf("migrated d%u '%s' to %s as d%u: %u live round(s), pages per round", domid, info.name,
           argv[1], newid, st.rounds);
    for (uint32_t i = 0; i <= st.rounds; i++)
        printf(" %llu", (unsigned long long)st.pages[i]);
    printf(", %llu bytes, total %.3f s, downtime %.1f ms\n", (unsigned long long)st.bytes,
           st.total_ns / 1e9, down);
    kl_print_save_json("migrate", domid, info.name, 1, &st, down);
    return 0;
}

/* After a refusal the sender is still sending: closing with its data
 * unread would reset the connection, and a reset may cost it our answer.
 * So: end our side, and read on for a moment. */
static void drain(int fd)
{
    struct timeval tv = { .tv_sec = DRAIN_S };
    uint64_t until = clock_ns(CLOCK_MONOTONIC) + DRAIN_S * 1000000000ull;
    char buf[65536];

    shutdown(fd, SHUT_WR);
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    while (clock_ns(CLOCK_MONOTONIC) < until && read(fd, buf, sizeof(buf)) > 0)
        ;
}

/* A receiver told to stop (SIGTERM, SIGINT, SIGHUP) mid-stream ends its
 * read with an error, so the restore destroys the half-built domain
 * instead of leaving it behind.  Only SIGKILL still can. */
static volatile sig_atomic_t stopping;

static void on_stop(int sig)
{
    (void)sig;
    stopping = 1;
}

static long read_unless_stopped(void *ctx, void *buf, size_t len)
{
    struct kiln_stream_fd *in = ctx;

    for (;;) {
        if (stopping)
            return -ECANCELED;
        ssize_t n = read(in->fd, buf, len);
        if (n >= 0)
            return (long)n;
        if (errno != EINTR)
            return -errno;
    }
}

int kl_cmd_migrate_receive(kiln_handle *h, int argc, char **argv)
{
    /* No SA_RESTART: a signal must interrupt the blocking read. */
    struct sigaction sa = { .sa_handler = on_stop };
    uint64_t p = DEFAULT_PORT;
    struct sockaddr_in6 addr = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_ANY_INIT };
    struct kiln_restore_opts opts = { .live = 1 };
    struct kiln_restore_stats st;
    struct kiln_stream_fd in;
    uint32_t domid;
    char err[512], line[600];
    int one = 1, zero = 0, lfd, fd, r;

    if (argc > 1 || (argc == 1 && (kl_parse_uint(argv[0], 65535, &p) < 0 || !p))) {
        fprintf(stderr, "usage: kl migrate-receive [PORT]   (default %u)\n", DEFAULT_PORT);
        return 2;
    }
    addr.sin6_port = htons((uint16_t)p);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    lfd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (lfd < 0)
        return kl_error("socket", -errno);
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    setsockopt(lfd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
    if (bind(lfd, (struct sockaddr *)&addr, sizeof(addr)) < 0 || listen(lfd, 1) < 0) {
        r = -errno;
        close(lfd);
        return kl_error("listening", r);
    }
    printf("kl migrate-receive: listening on port %llu\n", (unsigned long long)p);
    fflush(stdout);
    fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
    r = fd < 0 ? -errno : 0;
    close(lfd);
    if (r < 0)
        return kl_error("accept", r);
    if ((r = kiln_stream_fd_init(&in, fd)) < 0) {
        close(fd);
        return kl_error("migrate-receive", r);
    }
    r = kiln_domain_restore(h, read_unless_stopped, &in, &opts, &domid, &st, err, sizeof(err));
    kiln_stream_fd_free(&in);
    if (r < 0)
        snprintf(line, sizeof(line), "ERR %s\n", err);
    else
        snprintf(line, sizeof(line), "OK d%u\n", domid);
    /* The sender may be gone already; the guest's fate here is decided. */
    if (send(fd, line, strlen(line), MSG_NOSIGNAL) < 0 && r == 0)
        fprintf(stderr, "kl: migrate-receive: the sender did not get our answer: %s "
                "(it may resume its copy too)\n", strerror(errno));
    if (r < 0)
        drain(fd);
    close(fd);
    if (r < 0) {
        fprintf(stderr, "kl: migrate-receive: %s\n", err);
        return 1;
    }
    printf("received d%u: %llu pages, %llu bytes, %.3f s\n", domid, (unsigned long long)st.pages,
           (unsigned long long)st.bytes, st.total_ns / 1e9);
    printf("{\"op\":\"migrate-receive\",\"domid\":%u,\"pages\":%llu,\"bytes\":%llu,"
           "\"total_s\":%.3f}\n", domid, (unsigned long long)st.pages,
           (unsigned long long)st.bytes, st.total_ns / 1e9);
    return 0;
}
