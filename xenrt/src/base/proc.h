/* proc.h: child processes of the executor (QEMU hosts, git, make).
 *
 * Every child runs in its own process group so one kill reaches everything
 * it started (make's compilers, QEMU's helpers), with stdin from /dev/null
 * and stdout+stderr appended to a log file the job keeps.  Long-lived
 * children also get a pid file, so a restarted daemon can find and kill
 * what a dead one left running.
 */
#ifndef XENRT_PROC_H
#define XENRT_PROC_H

#include <stddef.h>
#include <sys/types.h>

/* Starts argv[0] (PATH searched) in `cwd` (NULL = ours) in a new process
 * group, output appended to log_path, with environment envp (NULL = ours).
 * Returns 0 with *pid, or -1. */
int proc_spawn(char *const argv[], const char *cwd, char *const envp[], const char *log_path,
	       pid_t *pid, char *err, size_t errlen);

/* Non-blocking: 1 if the child exited (*status as from waitpid), 0 if it
 * still runs, -1 on error. */
int proc_poll(pid_t pid, int *status);

/* SIGTERM to the group, up to `grace_ms` to exit, then SIGKILL; reaps. */
void proc_kill_group(pid_t pid, int grace_ms);

/* Runs a command to completion with a timeout, output appended to
 * log_path; `cancelled(ctx)` is polled so a cancel stops a long build.
 * Returns 0 and *exit_code (or -1 if killed by a signal), 1 on timeout or
 * cancel (child killed), -1 if it could not start. */
int proc_run(char *const argv[], const char *cwd, char *const envp[], const char *log_path,
	     int timeout_s, int (*cancelled)(void *ctx), void *ctx, int *exit_code, char *err,
	     size_t errlen);

/* Pid files: write, and kill whatever a stale one names if that process
 * is still `expect_comm` (a reused pid is left alone); the file is removed. */
int proc_pidfile_write(const char *path, pid_t pid, char *err, size_t errlen);
int proc_pidfile_kill(const char *path, const char *expect_comm);

/* Sleeps ms milliseconds (EINTR-safe). */
void proc_sleep_ms(int ms);

#endif
