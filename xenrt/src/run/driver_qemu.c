/* driver_qemu.c: nested QEMU hosts (see driver_qemu.h).
 *
 * virtio-net keeps QEMU's default option ROM (ipxe-qemu's efi-virtio.rom,
 * which carries the legacy BIOS iPXE too): on this machine
 * romfile=/usr/lib/ipxe/qemu/pxe-virtio.rom never shows a boot entry, so
 * SeaBIOS falls through to "No bootable device".
 */
#include "driver_qemu.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config.h"
#include "hostpool.h"
#include "proc.h"

static int hosts_dir(const struct xenrt_config *cfg, char *out, size_t outlen)
{
	snprintf(out, outlen, "%s/hosts", cfg->state_dir);
	if (mkdir(cfg->state_dir, 0755) && errno != EEXIST)
		return -1;
	if (mkdir(out, 0755) && errno != EEXIST)
		return -1;
	return 0;
}

int qemu_free_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), port = -1;

	if (fd < 0)
		return -1;
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&a, &len) == 0)
		port = ntohs(a.sin_port);
	close(fd);
	return port;
}

int qemu_host_start(const struct xenrt_config *cfg, const struct pool_host *h, const char *log_dir,
		    int ssh_port, struct qemu_host *q, char *err, size_t errlen)
{
	char dir[1024], qlog[1200], smp[16], mem[16], netdev[768], serial[1300], fwd[64] = "";
	const char *model = h->cpu_model[0] ? h->cpu_model : "max";

	memset(q, 0, sizeof(*q));
	snprintf(q->name, sizeof(q->name), "%s", h->name);
	if (hosts_dir(cfg, dir, sizeof(dir))) {
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		return -1;
	}
	snprintf(q->pidfile, sizeof(q->pidfile), "%s/%s.pid", dir, h->name);
	/* A leftover of this host must never share the console or the name. */
	proc_pidfile_kill(q->pidfile, "qemu-system");
	snprintf(q->console, sizeof(q->console), "%s/console-%s.log", log_dir, h->name);
	snprintf(qlog, sizeof(qlog), "%s/qemu-%s.log", log_dir, h->name);
	snprintf(smp, sizeof(smp), "%d", h->vcpus > 0 ? h->vcpus : 1);
	snprintf(mem, sizeof(mem), "%d", h->memory_mib > 0 ? h->memory_mib : 1024);
	q->ssh_port = ssh_port;
	/* Bound to loopback only: dom0 accepts the farm's key, and nobody
     * else on the network needs to reach it. */
	if (ssh_port > 0)
		snprintf(fwd, sizeof(fwd), ",hostfwd=tcp:127.0.0.1:%d-:22", ssh_port);
	snprintf(netdev, sizeof(netdev), "user,id=n0,bootfile=%s/boot/%s.ipxe%s", cfg->public_url,
		 h->name, fwd);
	snprintf(serial, sizeof(serial), "file:%s", q->console);
	/* The console file exists before QEMU runs, so tailing never races it. */
	FILE *f = fopen(q->console, "a");
	if (!f) {
		snprintf(err, errlen, "%s: %s", q->console, strerror(errno));
		return -1;
	}
	fclose(f);

	char *const argv[] = {
		"qemu-system-x86_64",
		"-accel",
		"tcg",
		"-cpu",
		(char *)model,
		"-smp",
		smp,
		"-m",
		mem,
		"-nographic",
		"-monitor",
		"none",
		"-no-reboot",
		"-boot",
		"n",
		"-netdev",
		netdev,
		"-device",
		"virtio-net-pci,netdev=n0",
		"-serial",
		serial,
		"-device",
		"isa-debug-exit,iobase=0x501",
		"-name",
		(char *)h->name,
		NULL,
	};
	if (proc_spawn(argv, NULL, NULL, qlog, &q->pid, err, errlen))
		return -1;
	if (proc_pidfile_write(q->pidfile, q->pid, err, errlen)) {
		proc_kill_group(q->pid, 0);
		q->pid = 0;
		return -1;
	}
	return 0;
}

void qemu_host_poll(struct qemu_host *q)
{
	int status;

	if (q->pid > 0 && !q->exited && proc_poll(q->pid, &status) == 1) {
		q->exited = 1;
		q->exit_status = status;
		unlink(q->pidfile);
	}
}

int qemu_host_debug_exit(const struct qemu_host *q)
{
	int code;

	if (!q->exited || !WIFEXITED(q->exit_status))
		return -1;
	code = WEXITSTATUS(q->exit_status);
	/* isa-debug-exit makes QEMU exit with (value << 1) | 1. */
	return (code & 1) ? code >> 1 : -1;
}

void qemu_host_stop(struct qemu_host *q)
{
	if (q->pid > 0 && !q->exited) {
		proc_kill_group(q->pid, 1000);
		q->exited = 1;
		q->exit_status = SIGKILL; /* as if killed: not a debug exit */
	}
	if (q->pidfile[0])
		unlink(q->pidfile);
}

int qemu_kill_stale(const struct xenrt_config *cfg)
{
	char dir[1024], path[1400];
	struct dirent *e;
	DIR *d;
	int n = 0;

	if (hosts_dir(cfg, dir, sizeof(dir)))
		return 0;
	d = opendir(dir);
	if (!d)
		return 0;
	while ((e = readdir(d))) {
		size_t len = strlen(e->d_name);
		if (len > 4 && strcmp(e->d_name + len - 4, ".pid") == 0) {
			snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
			n += proc_pidfile_kill(path, "qemu-system");
		}
	}
	closedir(d);
	return n;
}
