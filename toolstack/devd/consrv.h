/*
 * consrv.h - the host side of the guest's console: everything the guest
 * writes is appended to a log file and sent to the one client attached to a
 * Unix socket (`kl console`); what that client sends is typed into the
 * guest.  A second client is told the console is busy and closed.  A slow
 * client loses output rather than stalling the guest.
 */
#ifndef DEVD_CONSRV_H
#define DEVD_CONSRV_H

#include <stddef.h>
#include "vcon.h"

struct consrv {
    struct vcon *con;
    int log_fd;                 /* -1: no log */
    int listen_fd;
    int client_fd;              /* -1: nobody attached */
    char path[108];             /* sun_path */
    unsigned long long dropped; /* bytes a slow client missed */
};

/* Listens on sock_path (replacing a stale socket) and appends to log_path
 * (NULL for none); hooks itself up as con's output. */
int consrv_open(struct consrv *cs, struct vcon *con, const char *sock_path, const char *log_path);
void consrv_close(struct consrv *cs);
/* vcon output callback (ctx = the consrv). */
void consrv_output(void *ctx, const void *buf, size_t len);
/* The listening socket is readable: takes (or turns away) a client. */
void consrv_accept(struct consrv *cs);
/* The client is readable: its bytes go to the guest as buffer room allows. */
void consrv_input(struct consrv *cs);

#endif /* DEVD_CONSRV_H */
