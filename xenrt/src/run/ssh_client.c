/* ssh_client.c: libssh2 sessions into dom0 (see ssh_client.h).
 *
 * The session is non-blocking: every libssh2 call that would block returns
 * EAGAIN, and we poll the socket in short slices so the deadline and the
 * stop callback are checked at least every POLL_SLICE_MS.  A blocking
 * session would wait as long as the peer likes.
 */
#include "ssh_client.h"

#include <arpa/inet.h>
#include <errno.h>
#include <libssh2.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "proc.h"

#define POLL_SLICE_MS 100
#define KEYGEN_TIMEOUT_S 30

struct ssh_conn {
	int fd;
	LIBSSH2_SESSION *s;
	double deadline;
	ssh_stop_fn stop;
	void *stop_ctx;
};

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static int init_rc;

static void init_libssh2(void)
{
	init_rc = libssh2_init(0);
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000.0 + ts.tv_nsec / 1e6;
}

const char *ssh_error_name(enum ssh_error e)
{
	switch (e) {
	case SSH_OK:
		return "ok";
	case SSH_NOT_READY:
		return "not answering";
	case SSH_BAD_HOSTKEY:
		return "wrong host key";
	case SSH_AUTH_FAILED:
		return "login refused";
	case SSH_TIMEOUT:
		return "timed out";
	case SSH_STOPPED:
		return "stopped";
	case SSH_FAILED:
		return "failed";
	}
	return "failed";
}

static void last_error(struct ssh_conn *c, const char *what, char *err, size_t errlen)
{
	char *msg = NULL;

	libssh2_session_last_error(c->s, &msg, NULL, 0);
	snprintf(err, errlen, "%s: %s", what, msg && *msg ? msg : "unknown libssh2 error");
}

/* Waits until libssh2 can make progress, or the deadline / stop.  Returns
 * SSH_OK to retry the call. */
static enum ssh_error wait_socket(struct ssh_conn *c, char *err, size_t errlen)
{
	struct pollfd p = { .fd = c->fd };
	int dirs = libssh2_session_block_directions(c->s);

	if (c->stop && c->stop(c->stop_ctx)) {
		snprintf(err, errlen, "stopped");
		return SSH_STOPPED;
	}
	if (now_ms() > c->deadline) {
		snprintf(err, errlen, "timed out");
		return SSH_TIMEOUT;
	}
	p.events = (dirs & LIBSSH2_SESSION_BLOCK_OUTBOUND) ? POLLOUT : 0;
	if ((dirs & LIBSSH2_SESSION_BLOCK_INBOUND) || !p.events)
		p.events |= POLLIN;
	if (poll(&p, 1, POLL_SLICE_MS) < 0 && errno != EINTR) {
		snprintf(err, errlen, "poll: %s", strerror(errno));
		return SSH_FAILED;
	}
	return SSH_OK;
}

static int b64_decode(const char *in, size_t n, unsigned char *out, size_t outlen)
{
	int len;

	if (n == 0 || n % 4 || n / 4 * 3 > outlen)
		return -1;
	len = EVP_DecodeBlock(out, (const unsigned char *)in, (int)n);
	if (len < 0)
		return -1;
	/* EVP_DecodeBlock counts the padding as data. */
	for (size_t i = n; i > 0 && in[i - 1] == '='; i--)
		len--;
	return len;
}

/* Compares the server's key blob with the pinned "TYPE BASE64 ..." line. */
static enum ssh_error check_hostkey(struct ssh_conn *c, const char *pinned, char *err,
				    size_t errlen)
{
	unsigned char want[1024];
	size_t len;
	int type, wlen;
	const char *key = libssh2_session_hostkey(c->s, &len, &type);
	const char *b64 = pinned ? strchr(pinned, ' ') : NULL;

	if (!b64) {
		snprintf(err, errlen, "no host key to pin");
		return SSH_FAILED;
	}
	b64++;
	wlen = b64_decode(b64, strcspn(b64, " \r\n"), want, sizeof(want));
	if (wlen < 0) {
		snprintf(err, errlen, "pinned host key is not \"TYPE BASE64\"");
		return SSH_FAILED;
	}
	if (!key || (size_t)wlen != len || memcmp(key, want, len)) {
		snprintf(err, errlen, "dom0's host key is not the one its build made");
		return SSH_BAD_HOSTKEY;
	}
	return SSH_OK;
}

static int tcp_connect(const char *host, int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((unsigned short)port) };
	int fd;

	if (inet_pton(AF_INET, host, &a.sin_addr) != 1)
		return -1;
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	/* Loopback (QEMU's port forward): connect answers at once. */
	if (connect(fd, (struct sockaddr *)&a, sizeof(a))) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Repeats a libssh2 call while it would block. */
#define RETRY(c, call, rc, e, err, errlen)                                       \
	do {                                                                     \
		while (((rc) = (call)) == LIBSSH2_ERROR_EAGAIN)                  \
			if (((e) = wait_socket((c), (err), (errlen))) != SSH_OK) \
				break;                                           \
	} while (0)

enum ssh_error ssh_connect(const struct ssh_target *t, int timeout_ms, ssh_stop_fn stop,
			   void *stop_ctx, struct ssh_conn **out, char *err, size_t errlen)
{
	struct ssh_conn *c;
	enum ssh_error e = SSH_OK;
	int rc;

	*out = NULL;
	pthread_once(&init_once, init_libssh2);
	if (init_rc) {
		snprintf(err, errlen, "libssh2_init failed");
		return SSH_FAILED;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		snprintf(err, errlen, "out of memory");
		return SSH_FAILED;
	}
	c->deadline = now_ms() + timeout_ms;
	c->stop = stop;
	c->stop_ctx = stop_ctx;
	c->fd = tcp_connect(t->host, t->port);
	if (c->fd < 0) {
		snprintf(err, errlen, "connect %s:%d: %s", t->host, t->port, strerror(errno));
		free(c);
		return SSH_NOT_READY;
	}
	c->s = libssh2_session_init();
	if (!c->s) {
		snprintf(err, errlen, "libssh2_session_init failed");
		ssh_close(c);
		return SSH_FAILED;
	}
	libssh2_session_set_blocking(c->s, 0);
	RETRY(c, libssh2_session_handshake(c->s, c->fd), rc, e, err, errlen);
	if (e == SSH_OK && rc) {
		/* QEMU accepts on the forwarded port before dom0 listens, then
         * closes: to us that is a dom0 still booting. */
		last_error(c, "handshake", err, errlen);
		e = SSH_NOT_READY;
	}
	if (e == SSH_OK)
		e = check_hostkey(c, t->hostkey, err, errlen);
	if (e == SSH_OK) {
		RETRY(c,
		      libssh2_userauth_publickey_fromfile_ex(c->s, t->user,
							     (unsigned)strlen(t->user), t->pubkey,
							     t->privkey, NULL),
		      rc, e, err, errlen);
		if (e == SSH_OK && rc) {
			last_error(c, "login as root with the farm's key", err, errlen);
			e = SSH_AUTH_FAILED;
		}
	}
	if (e != SSH_OK) {
		ssh_close(c);
		return e;
	}
	*out = c;
	return SSH_OK;
}

static void put_log(FILE *log, const char *buf, size_t n)
{
	if (log && n) {
		fwrite(buf, 1, n, log);
		fflush(log);
	}
}

/* Drains both streams once; returns bytes read, or a negative libssh2 error
 * other than EAGAIN. */
static ssize_t drain(LIBSSH2_CHANNEL *ch, ssh_output_fn on_stdout, void *ctx, FILE *log)
{
	char buf[8192];
	ssize_t total = 0, n;

	while ((n = libssh2_channel_read(ch, buf, sizeof(buf))) > 0) {
		put_log(log, buf, (size_t)n);
		if (on_stdout)
			on_stdout(ctx, buf, (size_t)n);
		total += n;
	}
	if (n < 0 && n != LIBSSH2_ERROR_EAGAIN)
		return n;
	while ((n = libssh2_channel_read_stderr(ch, buf, sizeof(buf))) > 0) {
		put_log(log, buf, (size_t)n);
		total += n;
	}
	if (n < 0 && n != LIBSSH2_ERROR_EAGAIN)
		return n;
	return total;
}

static int signal_number(const char *name)
{
	static const char *const names[] = { "HUP",  "INT",  "QUIT", "ILL",  "TRAP",
					     "ABRT", "BUS",  "FPE",  "KILL", "USR1",
					     "SEGV", "USR2", "PIPE", "ALRM", "TERM" };

	for (size_t i = 0; name && i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(name, names[i]) == 0)
			return (int)i + 1;
	return 127;
}

enum ssh_error ssh_exec(struct ssh_conn *c, const char *command, int timeout_ms,
			ssh_output_fn on_stdout, void *out_ctx, FILE *log, ssh_stop_fn stop,
			void *stop_ctx, int *exit_status, char *err, size_t errlen)
{
	LIBSSH2_CHANNEL *ch;
	enum ssh_error e = SSH_OK;
	int rc;

	c->deadline = now_ms() + timeout_ms;
	c->stop = stop;
	c->stop_ctx = stop_ctx;
	while (!(ch = libssh2_channel_open_session(c->s))) {
		if (libssh2_session_last_errno(c->s) != LIBSSH2_ERROR_EAGAIN) {
			last_error(c, "open channel", err, errlen);
			return SSH_FAILED;
		}
		if ((e = wait_socket(c, err, errlen)) != SSH_OK)
			return e;
	}
	RETRY(c, libssh2_channel_exec(ch, command), rc, e, err, errlen);
	if (e == SSH_OK && rc) {
		last_error(c, "exec", err, errlen);
		e = SSH_FAILED;
	}
	while (e == SSH_OK) {
		ssize_t n = drain(ch, on_stdout, out_ctx, log);
		if (n < 0) {
			last_error(c, "reading the command's output", err, errlen);
			e = SSH_FAILED;
		} else if (libssh2_channel_eof(ch)) {
			break;
		} else if (n == 0) {
			e = wait_socket(c, err, errlen);
		}
	}
	if (e == SSH_OK) {
		RETRY(c, libssh2_channel_close(ch), rc, e, err, errlen);
		if (e == SSH_OK)
			RETRY(c, libssh2_channel_wait_closed(ch), rc, e, err, errlen);
	}
	if (e == SSH_OK) {
		char *sig = NULL;
		*exit_status = libssh2_channel_get_exit_status(ch);
		if (libssh2_channel_get_exit_signal(ch, &sig, NULL, NULL, NULL, NULL, NULL) == 0 &&
		    sig) {
			*exit_status = 128 + signal_number(sig);
			libssh2_free(c->s, sig);
		}
	}
	/* After a timeout the session is dropped whole (ssh_close), which
     * ends the command's channel with it. */
	if (e == SSH_OK)
		libssh2_channel_free(ch);
	return e;
}

void ssh_close(struct ssh_conn *c)
{
	if (!c)
		return;
	if (c->s) {
		/* A polite disconnect, bounded: the peer may be gone. */
		c->deadline = now_ms() + 1000;
		c->stop = NULL;
		while (libssh2_session_disconnect(c->s, "done") == LIBSSH2_ERROR_EAGAIN)
			if (wait_socket(c, (char[64]){ 0 }, 64) != SSH_OK)
				break;
		libssh2_session_free(c->s);
	}
	if (c->fd >= 0)
		close(c->fd);
	free(c);
}

int ssh_farm_key(const struct xenrt_config *cfg, char *priv, size_t privlen, char *pub,
		 size_t publen, char *err, size_t errlen)
{
	char dir[1024], tmp[1100], tmppub[1200], log[1100];
	int code = -1;

	snprintf(dir, sizeof(dir), "%s/ssh", cfg->state_dir);
	if ((size_t)snprintf(priv, privlen, "%s/id_ed25519", dir) >= privlen ||
	    (size_t)snprintf(pub, publen, "%s/id_ed25519.pub", dir) >= publen) {
		snprintf(err, errlen, "state directory path too long");
		return -1;
	}
	if (access(pub, R_OK) == 0 && access(priv, R_OK) == 0)
		return 0;
	if ((mkdir(cfg->state_dir, 0755) && errno != EEXIST) ||
	    (mkdir(dir, 0700) && errno != EEXIST)) {
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		return -1;
	}
	snprintf(tmp, sizeof(tmp), "%s/new_ed25519", dir);
	snprintf(tmppub, sizeof(tmppub), "%s.pub", tmp);
	snprintf(log, sizeof(log), "%s/keygen.log", dir);
	unlink(tmp);
	unlink(tmppub);
	char *const argv[] = { "ssh-keygen", "-q",         "-t", "ed25519", "-N", "",
			       "-C",         "xenrt-farm", "-f", tmp,       NULL };
	if (proc_run(argv, NULL, NULL, log, KEYGEN_TIMEOUT_S, NULL, NULL, &code, err, errlen) ||
	    code != 0) {
		if (code > 0)
			snprintf(err, errlen, "ssh-keygen exited with %d (see %s)", code, log);
		return -1;
	}
	/* The public half last: its presence means both are complete. */
	if (rename(tmp, priv) || rename(tmppub, pub)) {
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		return -1;
	}
	return 0;
}

int ssh_farm_key_arg(const struct xenrt_config *cfg, char *out, size_t outlen, char *err,
		     size_t errlen)
{
	char path[1100], line[512];
	FILE *f;
	size_t type, b64;

	snprintf(path, sizeof(path), "%s/ssh/id_ed25519.pub", cfg->state_dir);
	f = fopen(path, "r");
	if (!f) {
		snprintf(err, errlen, "farm SSH key %s: %s", path, strerror(errno));
		return -1;
	}
	if (!fgets(line, sizeof(line), f))
		line[0] = '\0';
	fclose(f);
	type = strcspn(line, " ");
	b64 = line[type] ? strcspn(line + type + 1, " \r\n") : 0;
	if (type == 0 || b64 == 0 || type + b64 + 2 > outlen) {
		snprintf(err, errlen, "farm SSH key %s: not \"TYPE BASE64\"", path);
		return -1;
	}
	snprintf(out, outlen, "%.*s:%.*s", (int)type, line, (int)b64, line + type + 1);
	return 0;
}
