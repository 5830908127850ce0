/*
 * consrv.c - the guest console's host side: log file, `kl console` socket
 * (see consrv.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include "consrv.h"
#include "log.h"

int consrv_open(struct consrv *cs, struct vcon *con, const char *sock_path, const char *log_path)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    int r;

    memset(cs, 0, sizeof(*cs));
    cs->con = con;
    cs->log_fd = cs->listen_fd = cs->client_fd = -1;
    if (strlen(sock_path) >= sizeof(sa.sun_path))
        return -ENAMETOOLONG;
    strcpy(sa.sun_path, sock_path);
    strcpy(cs->path, sock_path);
    if (log_path) {
        cs->log_fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
        if (cs->log_fd < 0)
            return -errno;
    }
    cs->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (cs->listen_fd < 0)
        goto fail;
    unlink(sock_path);              /* a socket left by a devd that died */
    if (bind(cs->listen_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
        listen(cs->listen_fd, 2) < 0)
        goto fail;
    con->output = consrv_output;
    con->output_ctx = cs;
    return 0;
fail:
    r = -errno;
    consrv_close(cs);
    return r;
}

void consrv_close(struct consrv *cs)
{
    if (cs->client_fd >= 0)
        close(cs->client_fd);
    if (cs->listen_fd >= 0) {
        close(cs->listen_fd);
        unlink(cs->path);
    }
    if (cs->log_fd >= 0)
        close(cs->log_fd);
    cs->client_fd = cs->listen_fd = cs->log_fd = -1;
}

static void drop_client(struct consrv *cs)
{
    close(cs->client_fd);
    cs->client_fd = -1;
}

void consrv_output(void *ctx, const void *buf, size_t len)
{
    struct consrv *cs = ctx;

    if (cs->log_fd >= 0 && write(cs->log_fd, buf, len) != (ssize_t)len)
        devd_log("console log write failed: %s", strerror(errno));
    if (cs->client_fd >= 0) {
        ssize_t n = send(cs->client_fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL);

        if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
            drop_client(cs);
        else if (n < (ssize_t)len)
            cs->dropped += len - (size_t)(n < 0 ? 0 : n);
    }
}

void consrv_accept(struct consrv *cs)
{
    static const char busy[] = "kiln-devd: console already attached elsewhere\r\n";
    int fd = accept4(cs->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

    if (fd < 0)
        return;
    if (cs->client_fd >= 0) {
        if (send(fd, busy, sizeof(busy) - 1, MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
            devd_log("console: could not tell a second client it is busy");
        close(fd);
        return;
    }
    cs->client_fd = fd;
}

void consrv_input(struct consrv *cs)
{
    char buf[VCON_INPUT_MAX];
    size_t room = vcon_input_room(cs->con);
    ssize_t n;

    if (!room)
        return;
    n = recv(cs->client_fd, buf, room < sizeof(buf) ? room : sizeof(buf), MSG_DONTWAIT);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) {
        drop_client(cs);
        return;
    }
    if (n > 0)
        vcon_input(cs->con, buf, (size_t)n);
}
