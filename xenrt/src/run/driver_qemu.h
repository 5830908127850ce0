/* driver_qemu.h: a nested test host as a local QEMU TCG process.
 *
 * The host network-boots through iPXE: QEMU's user network gives it DHCP
 * with the daemon's per-host script URL as boot file (the daemon is
 * 10.0.2.2 from inside), and everything after is HTTP.  The serial console
 * goes to a file in the job's log directory, which the executor tails.
 */
#ifndef XENRT_DRIVER_QEMU_H
#define XENRT_DRIVER_QEMU_H

#include <stddef.h>
#include <sys/types.h>

struct xenrt_config;
struct pool_host;

struct qemu_host {
	char name[64];
	pid_t pid;
	char console[1200]; /* console-<host>.log in the job's log dir */
	char pidfile[1200]; /* state_dir/hosts/<host>.pid */
	int exited;
	int exit_status; /* waitpid status once exited */
	int ssh_port;    /* 127.0.0.1:ssh_port reaches dom0's port 22, or 0 */
};

/* Starts the host; console and QEMU's own output go to log_dir.  With
 * ssh_port, QEMU's user network forwards 127.0.0.1:ssh_port to the
 * guest's port 22 (dom0's SSH). */
int qemu_host_start(const struct xenrt_config *cfg, const struct pool_host *h, const char *log_dir,
		    int ssh_port, struct qemu_host *q, char *err, size_t errlen);

/* A loopback TCP port free right now (the kernel picks it), or -1. */
int qemu_free_port(void);

/* Updates q->exited / q->exit_status without blocking. */
void qemu_host_poll(struct qemu_host *q);

/* The isa-debug-exit code if the hypervisor exited through it, else -1
 * (still running, killed, or QEMU's own exit). */
int qemu_host_debug_exit(const struct qemu_host *q);

/* Kills the host's process group (if running) and removes its pid file. */
void qemu_host_stop(struct qemu_host *q);

/* Crash recovery: kills every QEMU named by a pid file in
 * state_dir/hosts/.  Returns how many were killed. */
int qemu_kill_stale(const struct xenrt_config *cfg);

#endif
