/* test_executor_ssh.c: the executor's SSH client (ssh_client.c) against
 * the real thing: dom0's image (toolstack/build/dom0, dropbear inside)
 * booted once by QEMU with -kernel/-initrd and a loopback port forward,
 * the farm's key passed as kiln.sshkey= like the boot scripts do.  Checks
 * what steps rely on: exit statuses (signals too), stdout to the callback
 * and both streams to the log, the host key pin, a refused key, nothing
 * listening, and that a step timeout or a stop ends a command that hangs.
 * Skipped when dom0's image is not built (`make -C toolstack dom0`). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "config.h"
#include "driver_qemu.h"
#include "proc.h"
#include "ssh_client.h"

#define BOOT_TIMEOUT_MS 60000

struct fx {
	char dir[64];
	struct xenrt_config cfg;
	char priv[1100], pub[1100], hostkey[512];
	int port;
	pid_t qemu;
};

static struct fx *fx;
static char err[512];

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int read_line(const char *path, char *out, size_t outlen)
{
	FILE *f = fopen(path, "r");

	if (!f || !fgets(out, (int)outlen, f)) {
		if (f)
			fclose(f);
		return -1;
	}
	fclose(f);
	out[strcspn(out, "\n")] = '\0';
	return 0;
}

static void target(struct ssh_target *t)
{
	*t = (struct ssh_target){ .host = "127.0.0.1",
				  .port = fx->port,
				  .user = "root",
				  .privkey = fx->priv,
				  .pubkey = fx->pub,
				  .hostkey = fx->hostkey };
}

static int stop_dom0(void **state);

/* Boots dom0 and waits until it answers; NULL state = image not built. */
static int boot_dom0(void **state)
{
	const char *top = getenv("XENRT_TOP") ? getenv("XENRT_TOP") : "..";
	char img[1024], kernel[1100], initrd[1100], hk[1100], append[512], key[256], netdev[128];
	char serial[200], qlog[200];

	*state = NULL;
	snprintf(img, sizeof(img), "%s/toolstack/build/dom0", top);
	snprintf(kernel, sizeof(kernel), "%s/vmlinuz", img);
	snprintf(initrd, sizeof(initrd), "%s/initramfs.cpio.xz", img);
	snprintf(hk, sizeof(hk), "%s/keys/host_ed25519.pub", img);
	if (access(kernel, R_OK) || access(initrd, R_OK) || access(hk, R_OK))
		return 0;
	fx = calloc(1, sizeof(*fx));
	snprintf(fx->dir, sizeof(fx->dir), "/tmp/xenrt-ssh-XXXXXX");
	if (!fx || !mkdtemp(fx->dir))
		return -1;
	config_defaults(&fx->cfg);
	snprintf(fx->cfg.state_dir, sizeof(fx->cfg.state_dir), "%s", fx->dir);
	if (ssh_farm_key(&fx->cfg, fx->priv, sizeof(fx->priv), fx->pub, sizeof(fx->pub), err,
			 sizeof(err)) ||
	    ssh_farm_key_arg(&fx->cfg, key, sizeof(key), err, sizeof(err)) ||
	    read_line(hk, fx->hostkey, sizeof(fx->hostkey))) {
		fprintf(stderr, "setup: %s\n", err);
		return -1;
	}
	fx->port = qemu_free_port();
	snprintf(append, sizeof(append), "console=ttyS0 quiet kiln.sshkey=%s", key);
	snprintf(netdev, sizeof(netdev), "user,id=n0,hostfwd=tcp:127.0.0.1:%d-:22", fx->port);
	snprintf(serial, sizeof(serial), "file:%s/console.log", fx->dir);
	snprintf(qlog, sizeof(qlog), "%s/qemu.log", fx->dir);
	char *const argv[] = { "qemu-system-x86_64",
			       "-accel",
			       "tcg",
			       "-cpu",
			       "max",
			       "-m",
			       "512",
			       "-nographic",
			       "-monitor",
			       "none",
			       "-no-reboot",
			       "-kernel",
			       kernel,
			       "-initrd",
			       initrd,
			       "-append",
			       append,
			       "-netdev",
			       netdev,
			       "-device",
			       "virtio-net-pci,netdev=n0,romfile=",
			       "-serial",
			       serial,
			       NULL };
	if (proc_spawn(argv, NULL, NULL, qlog, &fx->qemu, err, sizeof(err))) {
		fprintf(stderr, "setup: %s\n", err);
		return -1;
	}
	struct ssh_target t;
	struct ssh_conn *c = NULL;
	double deadline = now() + BOOT_TIMEOUT_MS / 1000.0;
	target(&t);
	while (now() < deadline) {
		enum ssh_error e = ssh_connect(&t, 5000, NULL, NULL, &c, err, sizeof(err));
		if (e == SSH_OK)
			break;
		if (e != SSH_NOT_READY && e != SSH_TIMEOUT) {
			fprintf(stderr, "setup: %s: %s\n", ssh_error_name(e), err);
			break;
		}
		proc_sleep_ms(300);
	}
	if (!c) {
		/* cmocka skips the group teardown when setup fails. */
		fprintf(stderr, "setup: dom0 never answered: %s\n", err);
		stop_dom0(NULL);
		return -1;
	}
	ssh_close(c);
	*state = fx;
	return 0;
}

static int stop_dom0(void **state)
{
	char cmd[128];

	(void)state;
	if (!fx)
		return 0;
	if (fx->qemu > 0)
		proc_kill_group(fx->qemu, 500);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", fx->dir);
	if (system(cmd) != 0)
		return -1;
	free(fx);
	fx = NULL;
	return 0;
}

#define NEED_DOM0(state)        \
	do {                    \
		if (!*(state))  \
			skip(); \
	} while (0)

struct captured {
	char buf[4096];
	size_t len;
};

static void capture(void *ctx, const char *buf, size_t n)
{
	struct captured *c = ctx;

	if (c->len + n < sizeof(c->buf)) {
		memcpy(c->buf + c->len, buf, n);
		c->len += n;
		c->buf[c->len] = '\0';
	}
}

/* Runs one command on a fresh connection; the log's text in `log`. */
static enum ssh_error run(const char *cmd, int timeout_ms, ssh_stop_fn stop, void *stop_ctx,
			  struct captured *out, char *log, size_t loglen, int *status)
{
	struct ssh_target t;
	struct ssh_conn *c;
	enum ssh_error e;
	FILE *f = tmpfile();

	assert_non_null(f);
	target(&t);
	e = ssh_connect(&t, 20000, NULL, NULL, &c, err, sizeof(err));
	if (e != SSH_OK)
		fail_msg("connect: %s", err);
	e = ssh_exec(c, cmd, timeout_ms, capture, out, f, stop, stop_ctx, status, err, sizeof(err));
	ssh_close(c);
	rewind(f);
	size_t n = fread(log, 1, loglen - 1, f);
	log[n] = '\0';
	fclose(f);
	return e;
}

static void exit_status_and_streams(void **state)
{
	struct captured out = { .len = 0 };
	char log[4096];
	int status = -1;

	NEED_DOM0(state);
	assert_int_equal(run("echo to-stdout; echo to-stderr >&2; exit 3", 20000, NULL, NULL, &out,
			     log, sizeof(log), &status),
			 SSH_OK);
	assert_int_equal(status, 3);
	assert_string_equal(out.buf, "to-stdout\n");
	assert_non_null(strstr(log, "to-stdout"));
	assert_non_null(strstr(log, "to-stderr"));
	out.len = 0;
	assert_int_equal(run("true", 20000, NULL, NULL, &out, log, sizeof(log), &status), SSH_OK);
	assert_int_equal(status, 0);
	/* Killed by a signal: 128 + its number, never 0. */
	assert_int_equal(run("kill -9 $$", 20000, NULL, NULL, &out, log, sizeof(log), &status),
			 SSH_OK);
	assert_int_equal(status, 128 + 9);
}

static void timeout_ends_a_hang(void **state)
{
	struct captured out = { .len = 0 };
	char log[4096];
	int status = -1;
	double t0 = now();

	NEED_DOM0(state);
	assert_int_equal(
		run("echo started; sleep 600", 1000, NULL, NULL, &out, log, sizeof(log), &status),
		SSH_TIMEOUT);
	assert_true(now() - t0 < 8);
	assert_string_equal(out.buf, "started\n");
}

static int stop_after(void *ctx)
{
	int *calls = ctx;

	return ++*calls > 5;
}

static void stop_ends_a_hang(void **state)
{
	struct captured out = { .len = 0 };
	char log[4096];
	int status = -1, calls = 0;
	double t0 = now();

	NEED_DOM0(state);
	assert_int_equal(
		run("sleep 600", 60000, stop_after, &calls, &out, log, sizeof(log), &status),
		SSH_STOPPED);
	assert_true(now() - t0 < 8);
}

static void pins_the_host_key(void **state)
{
	struct ssh_target t;
	struct ssh_conn *c = NULL;
	char other[512];

	NEED_DOM0(state);
	/* A valid ed25519 key, but not dom0's: the farm's own public key. */
	assert_int_equal(read_line(fx->pub, other, sizeof(other)), 0);
	target(&t);
	t.hostkey = other;
	assert_int_equal(ssh_connect(&t, 20000, NULL, NULL, &c, err, sizeof(err)), SSH_BAD_HOSTKEY);
	assert_null(c);
	assert_non_null(strstr(err, "host key"));
}

static void refuses_an_unknown_key(void **state)
{
	struct xenrt_config other = fx ? fx->cfg : (struct xenrt_config){ 0 };
	struct ssh_target t;
	struct ssh_conn *c = NULL;
	char priv[1100], pub[1100];

	NEED_DOM0(state);
	snprintf(other.state_dir, sizeof(other.state_dir), "%s/other", fx->dir);
	assert_int_equal(
		ssh_farm_key(&other, priv, sizeof(priv), pub, sizeof(pub), err, sizeof(err)), 0);
	target(&t);
	t.privkey = priv;
	t.pubkey = pub;
	assert_int_equal(ssh_connect(&t, 20000, NULL, NULL, &c, err, sizeof(err)), SSH_AUTH_FAILED);
	assert_null(c);
}

static void nothing_listening_is_not_ready(void **state)
{
	struct ssh_target t;
	struct ssh_conn *c = NULL;

	NEED_DOM0(state);
	target(&t);
	t.port = qemu_free_port();
	assert_int_equal(ssh_connect(&t, 2000, NULL, NULL, &c, err, sizeof(err)), SSH_NOT_READY);
	assert_null(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(exit_status_and_streams),
		cmocka_unit_test(timeout_ends_a_hang),
		cmocka_unit_test(stop_ends_a_hang),
		cmocka_unit_test(pins_the_host_key),
		cmocka_unit_test(refuses_an_unknown_key),
		cmocka_unit_test(nothing_listening_is_not_ready),
	};
	return cmocka_run_group_tests_name("executor_ssh", tests, boot_dom0, stop_dom0);
}
