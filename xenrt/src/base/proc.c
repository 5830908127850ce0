/* proc.c: child processes in their own process groups (see proc.h). */
#include "proc.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

void proc_sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

int proc_spawn(char *const argv[], const char *cwd, char *const envp[], const char *log_path,
	       pid_t *pid, char *err, size_t errlen)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t none, all;
	int rc;

	posix_spawn_file_actions_init(&fa);
	posix_spawnattr_init(&attr);
	sigemptyset(&none);
	sigfillset(&all);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 1, log_path, O_WRONLY | O_CREAT | O_APPEND, 0644);
	posix_spawn_file_actions_adddup2(&fa, 1, 2);
	if (cwd)
		posix_spawn_file_actions_addchdir_np(&fa, cwd);
	/* Own process group; default signal handling and an empty mask, so the
     * daemon's own signal setup never leaks into a QEMU or a compiler. */
	posix_spawnattr_setpgroup(&attr, 0);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setsigdefault(&attr, &all);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
						POSIX_SPAWN_SETSIGDEF);
	rc = posix_spawnp(pid, argv[0], &fa, &attr, argv, envp ? envp : environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	if (rc) {
		snprintf(err, errlen, "cannot start %s: %s", argv[0], strerror(rc));
		return -1;
	}
	return 0;
}

int proc_poll(pid_t pid, int *status)
{
	pid_t r;

	do
		r = waitpid(pid, status, WNOHANG);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return -1;
	return r == pid;
}

void proc_kill_group(pid_t pid, int grace_ms)
{
	int status;

	if (pid <= 0)
		return;
	kill(-pid, SIGTERM);
	for (int waited = 0; waited < grace_ms; waited += 20) {
		if (proc_poll(pid, &status) != 0) {
			kill(-pid, SIGKILL); /* stragglers of the group, if any */
			return;
		}
		proc_sleep_ms(20);
	}
	kill(-pid, SIGKILL);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int proc_run(char *const argv[], const char *cwd, char *const envp[], const char *log_path,
	     int timeout_s, int (*cancelled)(void *ctx), void *ctx, int *exit_code, char *err,
	     size_t errlen)
{
	double deadline = now_s() + timeout_s;
	pid_t pid;
	int status, r;

	if (proc_spawn(argv, cwd, envp, log_path, &pid, err, errlen))
		return -1;
	while ((r = proc_poll(pid, &status)) == 0) {
		if (now_s() > deadline || (cancelled && cancelled(ctx))) {
			proc_kill_group(pid, 2000);
			snprintf(err, errlen, "%s %s", argv[0],
				 now_s() > deadline ? "timed out" : "stopped by cancel");
			return 1;
		}
		proc_sleep_ms(50);
	}
	if (r < 0) {
		snprintf(err, errlen, "waitpid: %s", strerror(errno));
		return -1;
	}
	*exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
	return 0;
}

int proc_pidfile_write(const char *path, pid_t pid, char *err, size_t errlen)
{
	char tmp[1024];
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w");
	if (!f || fprintf(f, "%d\n", (int)pid) < 0 || fflush(f) || fsync(fileno(f))) {
		snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
		if (f)
			fclose(f);
		return -1;
	}
	if (fclose(f) || rename(tmp, path)) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

int proc_pidfile_kill(const char *path, const char *expect_comm)
{
	char buf[64] = "", procpath[64], comm[64] = "";
	FILE *f = fopen(path, "r");
	int pid, killed = 0;

	if (!f)
		return 0;
	if (fgets(buf, sizeof(buf), f) && (pid = atoi(buf)) > 1) {
		FILE *c;

		snprintf(procpath, sizeof(procpath), "/proc/%d/comm", pid);
		c = fopen(procpath, "r");
		if (c) {
			if (fgets(comm, sizeof(comm), c) &&
			    strncmp(comm, expect_comm, strlen(expect_comm)) == 0) {
				/* Not our child any more (its parent died): kill, no reap. */
				kill(-pid, SIGKILL);
				kill(pid, SIGKILL);
				killed = 1;
			}
			fclose(c);
		}
	}
	fclose(f);
	unlink(path);
	return killed;
}
