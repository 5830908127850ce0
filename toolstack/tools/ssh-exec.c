/*
 * ssh-exec.c - runs one command in dom0 over SSH with libssh2 and exits with
 * its status: the farm's way into dom0 (xenrt uses libssh2 the same way),
 * usable from scripts without an OpenSSH client.
 *
 * usage: ssh-exec [-p PORT] -i KEY [-k HOSTKEY.pub] [-t SECONDS] [-u USER] [-s] HOST COMMAND
 *   -i  private key (OpenSSH format; dom0's build makes keys/id_ed25519)
 *   -s  send our standard input to the command, then end-of-file (to copy
 *       files in: ssh-exec -s ... 'cat > /tmp/guest.elf' < guest.elf)
 *   -k  "TYPE BASE64" public host key to pin (keys/host_ed25519.pub); without
 *       it the host key is not checked
 *   -t  give up connecting/authenticating after this long (default 30 s)
 * Exit status: the command's, or 255 when ssh-exec itself failed.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <libssh2.h>
#include <netdb.h>
#include <openssl/evp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define FAILED 255

static int die(const char *what, LIBSSH2_SESSION *s)
{
    char *msg = NULL;

    if (s)
        libssh2_session_last_error(s, &msg, NULL, 0);
    fprintf(stderr, "ssh-exec: %s%s%s\n", what, msg ? ": " : "", msg ? msg : "");
    return FAILED;
}

static int connect_to(const char *host, const char *port, int timeout_s)
{
    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM }, *res, *ai;
    time_t deadline = time(NULL) + timeout_s;
    int fd = -1;

    if (getaddrinfo(host, port, &hints, &res) != 0)
        return -1;
    /* dom0 may still be booting: retry refused connections until the deadline. */
    do {
        for (ai = res; ai; ai = ai->ai_next) {
            fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
            if (fd < 0)
                continue;
            if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
                break;
            close(fd);
            fd = -1;
        }
        if (fd < 0)
            sleep(1);
    } while (fd < 0 && time(NULL) < deadline);
    freeaddrinfo(res);
    return fd;
}

/* 0 if the server's host key is the pinned "TYPE BASE64" line's key. */
static int check_host_key(LIBSSH2_SESSION *s, const char *pin_file)
{
    char line[1024], *b64;
    unsigned char blob[768];
    size_t len;
    int type, n;
    const char *key = libssh2_session_hostkey(s, &len, &type);
    FILE *f = fopen(pin_file, "r");

    if (!f || !fgets(line, sizeof(line), f)) {
        if (f)
            fclose(f);
        fprintf(stderr, "ssh-exec: cannot read host key %s\n", pin_file);
        return -1;
    }
    fclose(f);
    b64 = strchr(line, ' ');
    if (!b64 || !key)
        return -1;
    b64++;
    b64[strcspn(b64, " \r\n")] = '\0';
    n = EVP_DecodeBlock(blob, (const unsigned char *)b64, (int)strlen(b64));
    if (n < 0)
        return -1;
    /* EVP_DecodeBlock counts '=' padding as zero bytes: drop them. */
    for (const char *p = b64 + strlen(b64); p > b64 && p[-1] == '='; p--)
        n--;
    if ((size_t)n != len || memcmp(blob, key, len) != 0) {
        fprintf(stderr, "ssh-exec: host key does not match %s\n", pin_file);
        return -1;
    }
    return 0;
}

/* Copies what the channel has for stream id to out: 1 if anything came,
 * 0 if nothing yet, -1 if the connection failed. */
static int pump(LIBSSH2_CHANNEL *ch, int id, FILE *out)
{
    char buf[4096];
    ssize_t n;
    int any = 0;

    while ((n = libssh2_channel_read_ex(ch, id, buf, sizeof(buf))) > 0) {
        fwrite(buf, 1, (size_t)n, out);
        any = 1;
    }
    fflush(out);
    if (n < 0 && n != LIBSSH2_ERROR_EAGAIN)
        return -1;
    return any;
}

/* Blocking copy of stdin to the command, then EOF.  Meant for commands that
 * read all their input before writing much (cat > FILE). */
static int send_input(LIBSSH2_CHANNEL *ch)
{
    char buf[16384];
    size_t n;

    while ((n = fread(buf, 1, sizeof(buf), stdin)) > 0) {
        for (size_t off = 0; off < n;) {
            ssize_t w = libssh2_channel_write(ch, buf + off, n - off);
            if (w < 0)
                return -1;
            off += (size_t)w;
        }
    }
    if (ferror(stdin))
        return -1;
    return libssh2_channel_send_eof(ch);
}

int main(int argc, char **argv)
{
    const char *port = "22", *keyfile = NULL, *pin = NULL, *user = "root";
    int timeout_s = 30, opt, fd, status = FAILED, send_stdin = 0;
    LIBSSH2_SESSION *s = NULL;
    LIBSSH2_CHANNEL *ch = NULL;

    while ((opt = getopt(argc, argv, "p:i:k:t:u:s")) != -1) {
        switch (opt) {
        case 'p': port = optarg; break;
        case 'i': keyfile = optarg; break;
        case 'k': pin = optarg; break;
        case 't': timeout_s = atoi(optarg); break;
        case 'u': user = optarg; break;
        case 's': send_stdin = 1; break;
        default:  goto usage;
        }
    }
    if (argc - optind != 2 || !keyfile || timeout_s <= 0)
        goto usage;

    if (libssh2_init(0) != 0)
        return die("libssh2_init failed", NULL);
    fd = connect_to(argv[optind], port, timeout_s);
    if (fd < 0)
        return die("cannot connect", NULL);
    s = libssh2_session_init();
    if (!s)
        return die("out of memory", NULL);
    libssh2_session_set_timeout(s, (long)timeout_s * 1000);
    if (libssh2_session_handshake(s, fd) != 0) {
        status = die("SSH handshake failed", s);
        goto out;
    }
    if (pin && check_host_key(s, pin) != 0)
        goto out;
    if (libssh2_userauth_publickey_fromfile(s, user, NULL, keyfile, NULL) != 0) {
        status = die("public key authentication failed", s);
        goto out;
    }
    ch = libssh2_channel_open_session(s);
    if (!ch || libssh2_channel_exec(ch, argv[optind + 1]) != 0) {
        status = die("cannot run the command", s);
        goto out;
    }
    /* The command may run longer than the connect timeout. */
    libssh2_session_set_timeout(s, 0);
    if (send_stdin && send_input(ch) != 0) {
        status = die("cannot send standard input", s);
        goto out;
    }
    libssh2_session_set_blocking(s, 0);
    while (!libssh2_channel_eof(ch)) {
        struct pollfd p = { .fd = fd, .events = POLLIN };
        int a = pump(ch, 0, stdout), b = pump(ch, SSH_EXTENDED_DATA_STDERR, stderr);
        if (a < 0 || b < 0) {
            status = die("connection lost", s);
            goto out;
        }
        if (!a && !b)
            poll(&p, 1, 1000);
    }
    pump(ch, 0, stdout);
    pump(ch, SSH_EXTENDED_DATA_STDERR, stderr);
    libssh2_session_set_blocking(s, 1);
    libssh2_channel_close(ch);
    libssh2_channel_wait_closed(ch);
    {
        char *signal = NULL;
        libssh2_channel_get_exit_signal(ch, &signal, NULL, NULL, NULL, NULL, NULL);
        status = signal ? FAILED : libssh2_channel_get_exit_status(ch);
        if (signal)
            fprintf(stderr, "ssh-exec: command killed by SIG%s\n", signal);
        free(signal);
    }
out:
    if (ch)
        libssh2_channel_free(ch);
    libssh2_session_disconnect(s, "done");
    libssh2_session_free(s);
    close(fd);
    libssh2_exit();
    return status;
usage:
    fprintf(stderr, "usage: ssh-exec [-p PORT] -i KEY [-k HOSTKEY.pub] [-t SECONDS] [-u USER] [-s] HOST COMMAND\n");
    return FAILED;
}
