/* ssh_client.h: commands in a host's dom0 over SSH, with libssh2.
 *
 * The executor reaches dom0 through QEMU's user-network port forward on
 * 127.0.0.1.  Every call is bounded by a deadline and can be stopped by a
 * callback (a cancelled flight, a dying daemon): a dom0 that hangs mid-
 * handshake or a command that never ends must never hang a worker.  The
 * host key is pinned to the one the flight's build baked into dom0, so a
 * step can only ever talk to the image under test.  The farm logs in as
 * root with its own key (state_dir/ssh/id_ed25519), which the boot script
 * authorises through dom0's kiln.sshkey= option.
 */
#ifndef XENRT_SSH_CLIENT_H
#define XENRT_SSH_CLIENT_H

#include <stddef.h>
#include <stdio.h>

struct xenrt_config;

struct ssh_target {
	const char *host; /* "127.0.0.1" */
	int port;
	const char *user;    /* "root" */
	const char *privkey; /* path, OpenSSH format */
	const char *pubkey;  /* path of its public half */
	const char *hostkey; /* "TYPE BASE64 [comment]" to pin; required */
};

/* Why a connection attempt failed: only SSH_NOT_READY is worth retrying
 * while dom0 boots. */
enum ssh_error {
	SSH_OK = 0,
	SSH_NOT_READY,   /* refused, closed, or no SSH banner yet */
	SSH_BAD_HOSTKEY, /* answered with another host key */
	SSH_AUTH_FAILED, /* refused the farm's key */
	SSH_TIMEOUT,     /* the deadline passed */
	SSH_STOPPED,     /* the stop callback said so */
	SSH_FAILED,      /* anything else (out of memory, lost connection) */
};

struct ssh_conn;

typedef int (*ssh_stop_fn)(void *ctx);
/* Bytes of the command's standard output, as they arrive. */
typedef void (*ssh_output_fn)(void *ctx, const char *buf, size_t n);

/* Connects, checks the host key and logs in before timeout_ms. */
enum ssh_error ssh_connect(const struct ssh_target *t, int timeout_ms, ssh_stop_fn stop,
			   void *stop_ctx, struct ssh_conn **out, char *err, size_t errlen);

/* Runs `command` in dom0's shell.  Standard output goes to on_stdout (may
 * be NULL) and to `log`, standard error to `log`, as they arrive.  Returns
 * SSH_OK with *exit_status (128 + signal number if the command was killed
 * by a signal), or why it did not finish. */
enum ssh_error ssh_exec(struct ssh_conn *c, const char *command, int timeout_ms,
			ssh_output_fn on_stdout, void *out_ctx, FILE *log, ssh_stop_fn stop,
			void *stop_ctx, int *exit_status, char *err, size_t errlen);

void ssh_close(struct ssh_conn *c);

/* The farm's login key: creates state_dir/ssh/id_ed25519 (ssh-keygen) if
 * missing and fills in the paths.  0 or -1 with a message. */
int ssh_farm_key(const struct xenrt_config *cfg, char *priv, size_t privlen, char *pub,
		 size_t publen, char *err, size_t errlen);

/* The farm's public key as dom0's kiln.sshkey= wants it: "TYPE:BASE64". */
int ssh_farm_key_arg(const struct xenrt_config *cfg, char *out, size_t outlen, char *err,
		     size_t errlen);

const char *ssh_error_name(enum ssh_error e);

#endif
