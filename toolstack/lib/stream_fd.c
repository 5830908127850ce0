/*
 * stream_fd.c - the save/migration stream over a file descriptor: a file
 * for kl save/restore, a TCP socket for kl migrate.  Writes go through a
 * 1 MiB buffer (record headers are 16 bytes); reads go straight through,
 * since the reader asks for whole records.  Writes use send() with
 * MSG_NOSIGNAL on sockets, so a receiver that died is an EPIPE error for
 * the save to report, not a signal that kills it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "kiln_stream.h"

#define BUF_SIZE (1u << 20)

int kiln_stream_fd_init(struct kiln_stream_fd *f, int fd)
{
    f->fd = fd;
    f->len = 0;
    f->cap = BUF_SIZE;
    f->buf = malloc(BUF_SIZE);
    return f->buf ? 0 : -ENOMEM;
}

static int write_all(int fd, const uint8_t *p, size_t len)
{
    while (len) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
        if (n < 0 && errno == ENOTSOCK)
            n = write(fd, p, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

int kiln_stream_fd_flush(struct kiln_stream_fd *f)
{
    int r = write_all(f->fd, f->buf, f->len);

    f->len = 0;
    return r;
}

int kiln_stream_fd_write(void *ctx, const void *buf, size_t len)
{
    struct kiln_stream_fd *f = ctx;
    int r;

    if (f->len + len > f->cap) {
        if ((r = kiln_stream_fd_flush(f)) < 0)
            return r;
        if (len > f->cap)
            return write_all(f->fd, buf, len);
    }
    memcpy(f->buf + f->len, buf, len);
    f->len += len;
    return 0;
}

long kiln_stream_fd_read(void *ctx, void *buf, size_t len)
{
    struct kiln_stream_fd *f = ctx;

    for (;;) {
        ssize_t n = read(f->fd, buf, len);
        if (n >= 0)
            return (long)n;
        if (errno != EINTR)
            return -errno;
    }
}

void kiln_stream_fd_free(struct kiln_stream_fd *f)
{
    free(f->buf);
    f->buf = NULL;
}
