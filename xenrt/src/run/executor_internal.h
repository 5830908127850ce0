/* executor_internal.h: what the executor's files share.
 *
 * A job_run is one attempt of one job being executed by one worker, with
 * the worker's own DB connection.  Steps and metrics are written through
 * the helpers below, each in its own autocommit statement, so whatever a
 * step recorded survives a kill -9 of the daemon the moment it happened.
 */
#ifndef XENRT_EXECUTOR_INTERNAL_H
#define XENRT_EXECUTOR_INTERNAL_H

#include <sqlite3.h>
#include <stddef.h>

struct xenrt_config;
struct executor;

/* Job verdicts, from the farm's point of view. */
enum verdict {
	V_PASS,
	V_FAIL,
	V_BROKEN,
	V_CANCELLED
};

/* job_id 0 is a health check: the same boot and console machinery, with
 * nothing recorded as steps. */
struct job_run {
	sqlite3 *db;
	const struct xenrt_config *cfg;
	struct executor *ex;
	long long flight_id, job_id;
	int attempt;
	char suite[64];
	char log_rel[128]; /* <flight>/<job>/<attempt>, under cfg->log_dir */
	char log_abs[1024];
	int next_seq;
	double job_deadline; /* monotonic seconds */
	int host_fault;      /* broken because a host failed: quarantine it */
};

const char *verdict_name(enum verdict v);

/* Creates the attempt's log directory and finds the next step seq. */
int jobrun_prepare(struct job_run *jr, char *err, size_t errlen);

/* Inserts a running step; returns its id or -1. `log` may be NULL. */
long long step_begin(struct job_run *jr, const char *name, const char *log);
/* Finishes a step: status pass/fail/broken/skip/blocked, message may be NULL. */
int step_end(struct job_run *jr, long long step_id, const char *status, const char *message);
/* A step that is already over (a TAP point, a JSON line). */
long long step_record(struct job_run *jr, const char *name, const char *status, const char *message,
		      const char *log);
int metric_add(struct job_run *jr, long long step_id, const char *name, double value,
	       const char *unit);

/* The flight asked to be cancelled, or the executor is stopping. */
int jobrun_should_stop(struct job_run *jr);
int executor_stopping(struct executor *ex);

/* Monotonic clock, seconds. */
double mono_now(void);

/* The build job: checkout, patch, make -C hypervisor, store artifacts. */
enum verdict build_job_run(struct job_run *jr, char *msg, size_t msglen);

/* A test job on its reserved hosts (or, with job_id 0, a health check of
 * `hosts`): provision through iPXE, run the suite's steps. */
struct pool_host;
enum verdict test_job_run(struct job_run *jr, const struct pool_host *hosts, int nhosts, char *msg,
			  size_t msglen);

/* A local step (suites with provision = none) on behalf of `host`
 * (executor_local.c). */
struct suite_step;
enum verdict local_step_run(struct job_run *jr, const struct suite_step *st, const char *host,
			    char *msg, size_t msglen);

/* dom0 of one host, reached over SSH through QEMU's port forward
 * (executor_dom0.c). */
struct qemu_host;
struct suite;
struct suite_step;

struct dom0_link {
	const char *host;                 /* the pool host's name */
	struct qemu_host *q;              /* its QEMU: polled while waiting */
	double handed_over;               /* mono_now() of the boot script's hand-over */
	int reached;                      /* dom0 answered SSH with the right key */
	char hostkey[512];                /* "TYPE BASE64": the flight's dom0-hostkey */
	char privkey[1100], pubkey[1100]; /* the farm's login key */
};

/* Loads the farm's key and the flight's pinned host key.  -1 = broken. */
int dom0_link_init(struct job_run *jr, struct dom0_link *l, char *msg, size_t msglen);

/* Waits (suite's dom0_timeout from the hand-over) for dom0's SSH; records
 * a step "dom0-<host>" with the wait as metric dom0_ssh_s. */
enum verdict dom0_wait(struct job_run *jr, const struct suite *s, struct dom0_link *l, char *msg,
		       size_t msglen);

/* Runs an ssh step (dom0 must be reached). */
enum verdict dom0_ssh_step(struct job_run *jr, const struct suite_step *st, struct dom0_link *l,
			   char *msg, size_t msglen);

/* Copies dom0's `dmesg` (and with Kiln the hypervisor's log, `kl dmesg`)
 * into the job's log directory; recorded as step "collect-logs-<host>",
 * never changing the verdict. */
void dom0_collect_logs(struct job_run *jr, const struct suite *s, struct dom0_link *l);

#endif
