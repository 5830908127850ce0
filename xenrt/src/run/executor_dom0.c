/* executor_dom0.c: steps that run in a host's dom0 over SSH.
 *
 * Who failed decides the verdict here too.  A dom0 that never answers SSH
 * is the farm's problem (broken: the port forward, QEMU's network, the
 * boot) unless the code under test visibly ended it: the hypervisor
 * panicked on the console or exited through isa-debug-exit (which Kiln
 * does when dom0 crashes), and the console does not show that the nested
 * host's emulator failed under it (host_console.c).  A dom0 that answers with another host key
 * than its build baked in is not the image under test (broken); one that
 * refuses the farm's key, passed on its command line, is (fail).  Once
 * dom0 is reached, a command's exit status is its verdict, and a command
 * that outlives its step timeout is a hang of the code under test (fail).
 */
#include "executor_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "artifact.h"
#include "config.h"
#include "driver_qemu.h"
#include "host_console.h"
#include "proc.h"
#include "results.h"
#include "ssh_client.h"
#include "suite.h"

#define CONNECT_TRY_MS 5000 /* one attempt while dom0 boots */
#define CONNECT_MS 20000    /* dom0 already answered: a busy TCG guest */
#define RETRY_PAUSE_MS 500
#define COLLECT_TIMEOUT_MS 20000

int dom0_link_init(struct job_run *jr, struct dom0_link *l, char *msg, size_t msglen)
{
	char hex[ARTIFACT_HEX_LEN + 1], path[1200];
	FILE *f;
	int rc;

	if (ssh_farm_key(jr->cfg, l->privkey, sizeof(l->privkey), l->pubkey, sizeof(l->pubkey), msg,
			 msglen))
		return -1;
	rc = artifact_lookup(jr->db, jr->flight_id, SUITE_ROLE_DOM0_HOSTKEY, hex, msg, msglen);
	if (rc == 1)
		snprintf(msg, msglen, "the flight's build stored no %s", SUITE_ROLE_DOM0_HOSTKEY);
	if (rc)
		return -1;
	if (artifact_path(jr->cfg->artifact_dir, hex, path, sizeof(path)) ||
	    !(f = fopen(path, "r"))) {
		snprintf(msg, msglen, "artifact %.12s (%s) unreadable", hex,
			 SUITE_ROLE_DOM0_HOSTKEY);
		return -1;
	}
	if (!fgets(l->hostkey, sizeof(l->hostkey), f))
		l->hostkey[0] = '\0';
	fclose(f);
	l->hostkey[strcspn(l->hostkey, "\r\n")] = '\0';
	if (!strchr(l->hostkey, ' ')) {
		snprintf(msg, msglen, "artifact %.12s is not a public host key", hex);
		return -1;
	}
	return 0;
}

static void target(const struct dom0_link *l, struct ssh_target *t)
{
	t->host = "127.0.0.1";
	t->port = l->q->ssh_port;
	t->user = "root";
	t->privkey = l->privkey;
	t->pubkey = l->pubkey;
	t->hostkey = l->hostkey;
}

/* Polled every 100 ms inside libssh2 waits: a cancel, a stopping daemon
 * or a dead host ends the wait at once. */
struct stop_ctx {
	struct job_run *jr;
	struct dom0_link *l;
	int polls;
};

static int should_stop(void *ctx)
{
	struct stop_ctx *sc = ctx;

	qemu_host_poll(sc->l->q);
	if (sc->l->q->exited)
		return 1;
	/* The cancel flag is a database read: every second is plenty. */
	return sc->polls++ % 10 == 0 && jobrun_should_stop(sc->jr);
}

/* dom0 is gone or never came: whose fault, and why. */
static enum verdict lost(struct job_run *jr, struct dom0_link *l, const char *what, char *msg,
			 size_t msglen)
{
	int code;

	qemu_host_poll(l->q);
	if (jobrun_should_stop(jr) && !l->q->exited) {
		int stopping = executor_stopping(jr->ex);
		snprintf(msg, msglen, stopping ? "daemon stopped" : "cancelled");
		return stopping ? V_BROKEN : V_CANCELLED;
	}
	int signs = host_console_signs(l->q->console);
	if (signs & HOST_CONSOLE_EMULATOR_FAULT) {
		snprintf(msg, msglen,
			 "%s: %s; the host's emulator failed (QEMU's TCG, see the console)",
			 l->host, what);
		jr->host_fault = 1;
		return V_BROKEN;
	}
	if (signs & HOST_CONSOLE_PANIC) {
		snprintf(msg, msglen, "%s: %s; the hypervisor panicked (see the console)", l->host,
			 what);
		return V_FAIL;
	}
	code = qemu_host_debug_exit(l->q);
	if (code >= 0) {
		snprintf(msg, msglen, "%s: %s; the hypervisor exited with code %d", l->host, what,
			 code);
		return V_FAIL;
	}
	if (l->q->exited && WIFSIGNALED(l->q->exit_status)) {
		snprintf(msg, msglen, "%s: %s; QEMU killed by signal %d", l->host, what,
			 WTERMSIG(l->q->exit_status));
		jr->host_fault = 1;
		return V_BROKEN;
	}
	snprintf(msg, msglen, "%s: %s%s", l->host, what,
		 l->q->exited ? "; QEMU exited (reset or power-off)" : "");
	return V_BROKEN;
}

enum verdict dom0_wait(struct job_run *jr, const struct suite *s, struct dom0_link *l, char *msg,
		       size_t msglen)
{
	double deadline = l->handed_over + s->dom0_timeout_s;
	int job_timeout = deadline > jr->job_deadline;
	struct stop_ctx sc = { .jr = jr, .l = l };
	struct ssh_target t;
	char name[96], why[256] = "no answer";
	enum ssh_error e = SSH_NOT_READY;
	enum verdict v;
	long long step;

	snprintf(name, sizeof(name), "dom0-%s", l->host);
	step = step_begin(jr, name, NULL);
	target(l, &t);
	if (job_timeout)
		deadline = jr->job_deadline;
	for (;;) {
		struct ssh_conn *c;

		/* A dead QEMU refuses at once: never wait out the deadline. */
		qemu_host_poll(l->q);
		if (mono_now() >= deadline || l->q->exited)
			break;
		double left_ms = (deadline - mono_now()) * 1000;
		e = ssh_connect(&t, left_ms < CONNECT_TRY_MS ? (int)left_ms + 1 : CONNECT_TRY_MS,
				should_stop, &sc, &c, why, sizeof(why));
		if (e == SSH_OK) {
			ssh_close(c);
			break;
		}
		if (e != SSH_NOT_READY && e != SSH_TIMEOUT)
			break;
		proc_sleep_ms(RETRY_PAUSE_MS);
	}
	if (e == SSH_OK) {
		l->reached = 1;
		metric_add(jr, step, "dom0_ssh_s", mono_now() - l->handed_over, "s");
		snprintf(msg, msglen, "dom0 answers SSH on 127.0.0.1:%d", l->q->ssh_port);
		step_end(jr, step, "pass", msg);
		return V_PASS;
	}
	if (e == SSH_BAD_HOSTKEY) {
		snprintf(msg, msglen, "%s: %s", l->host, why);
		v = V_BROKEN;
	} else if (e == SSH_AUTH_FAILED) {
		snprintf(msg, msglen, "%s: dom0 refused the farm's key (kiln.sshkey=): %s", l->host,
			 why);
		v = V_FAIL;
	} else {
		char what[400];
		if (job_timeout && mono_now() >= deadline)
			snprintf(what, sizeof(what),
				 "job timeout reached waiting for dom0's SSH (%s)", why);
		else
			snprintf(what, sizeof(what),
				 "dom0 did not answer SSH within %ds of the hand-over (%s)",
				 s->dom0_timeout_s, why);
		v = lost(jr, l, what, msg, msglen);
	}
	step_end(jr, step, v == V_CANCELLED ? "skip" : verdict_name(v), msg);
	return v;
}

/* TAP or JSON lines on the command's standard output become sub-steps. */
struct output_state {
	struct job_run *jr;
	const struct suite_step *st;
	struct results_reader *reader;
	char log[96];
	struct tap_tally tally;
	int results, failed, jsonl_end;
};

static void on_result(void *ctx, const struct results_event *ev)
{
	struct output_state *os = ctx;
	char name[400];

	if (os->st->output == SUITE_OUTPUT_TAP && ev->kind == RESULTS_TAP) {
		tap_tally_add(&os->tally, ev->source, &ev->tap);
		if (ev->tap.kind == TAP_RESULT) {
			const char *status = ev->tap.skip || (!ev->tap.ok && ev->tap.todo) ? "skip"
					     : ev->tap.ok                                  ? "pass"
											   : "fail";
			snprintf(name, sizeof(name), "%s:%d %s", os->st->name, ev->tap.number,
				 ev->tap.desc);
			step_record(os->jr, name, status, ev->tap.reason[0] ? ev->tap.reason : NULL,
				    os->log);
			os->results++;
		} else if (ev->tap.kind == TAP_BAIL) {
			snprintf(name, sizeof(name), "%s: bail out", os->st->name);
			step_record(os->jr, name, "fail", ev->tap.reason, os->log);
		}
	} else if (os->st->output == SUITE_OUTPUT_JSONL && ev->kind == RESULTS_JSON_STEP) {
		long long id;
		snprintf(name, sizeof(name), "%s:%s", os->st->name, ev->step);
		id = step_record(os->jr, name, ev->status, ev->message[0] ? ev->message : NULL,
				 os->log);
		for (int i = 0; i < ev->n_metrics; i++)
			metric_add(os->jr, id, ev->metrics[i].name, ev->metrics[i].value,
				   ev->metrics[i].unit);
		os->failed |= strcmp(ev->status, "fail") == 0;
		os->results++;
	} else if (os->st->output == SUITE_OUTPUT_JSONL && ev->kind == RESULTS_JSON_END) {
		os->jsonl_end = 1;
	}
}

static void on_stdout(void *ctx, const char *buf, size_t n)
{
	struct output_state *os = ctx;

	results_feed(os->reader, buf, n);
}

/* The parsed output's verdict, with the exit status already 0. */
static int output_failed(struct output_state *os, char *msg, size_t msglen)
{
	char buf[200];
	const char *why;

	switch (os->st->output) {
	case SUITE_OUTPUT_NONE:
		return 0;
	case SUITE_OUTPUT_TAP:
		why = tap_tally_verdict(&os->tally, NULL, 0, 1, buf, sizeof(buf));
		if (why)
			snprintf(msg, msglen, "%s", why);
		return why != NULL;
	case SUITE_OUTPUT_JSONL:
		if (os->results == 0 || os->failed) {
			snprintf(msg, msglen,
				 os->failed ? "a result failed" : "no JSON-lines results");
			return 1;
		}
		return 0;
	}
	return 0;
}

enum verdict dom0_ssh_step(struct job_run *jr, const struct suite_step *st, struct dom0_link *l,
			   char *msg, size_t msglen)
{
	struct output_state os = { .jr = jr, .st = st };
	struct stop_ctx sc = { .jr = jr, .l = l };
	struct ssh_target t;
	struct ssh_conn *c = NULL;
	char path[1200], err[256];
	enum ssh_error e;
	enum verdict v;
	long long step;
	int status = -1;
	double start = mono_now();
	FILE *log;

	snprintf(os.log, sizeof(os.log), "ssh-%s.log", st->name);
	snprintf(path, sizeof(path), "%s/%s", jr->log_abs, os.log);
	step = step_begin(jr, st->name, os.log);
	log = fopen(path, "a");
	os.reader = results_new(on_result, &os);
	if (!log || !os.reader) {
		snprintf(msg, msglen, "%s: cannot open %s", st->name, os.log);
		if (log)
			fclose(log);
		results_free(os.reader);
		step_end(jr, step, "broken", msg);
		return V_BROKEN;
	}
	fprintf(log, "$ %s\n", st->command);
	fflush(log);
	target(l, &t);
	e = ssh_connect(&t, CONNECT_MS, should_stop, &sc, &c, err, sizeof(err));
	if (e == SSH_OK) {
		int left_ms = (int)((jr->job_deadline - mono_now()) * 1000);
		int timeout_ms = st->timeout_s * 1000;
		e = ssh_exec(c, st->command, left_ms < timeout_ms ? left_ms : timeout_ms, on_stdout,
			     &os, log, should_stop, &sc, &status, err, sizeof(err));
		ssh_close(c);
	}
	if (e == SSH_OK)
		results_flush(os.reader);
	if (e == SSH_OK && status == 0 && !output_failed(&os, msg, msglen)) {
		v = V_PASS;
		snprintf(msg, msglen, "exit status 0 in %.1fs%s", mono_now() - start,
			 os.results ? ", results recorded" : "");
	} else if (e == SSH_OK && status == 0) {
		v = V_FAIL; /* msg says which parsed result failed */
	} else if (e == SSH_OK) {
		v = V_FAIL;
		snprintf(msg, msglen, "%s: exit status %d (see %s)", st->name, status, os.log);
	} else if (e == SSH_TIMEOUT) {
		v = V_FAIL;
		snprintf(msg, msglen, "%s: %s after %ds", st->name,
			 mono_now() > jr->job_deadline ? "job timeout reached" : "timed out",
			 (int)(mono_now() - start));
	} else {
		char what[400];
		snprintf(what, sizeof(what), "%s: SSH %s: %s", st->name, ssh_error_name(e), err);
		v = lost(jr, l, what, msg, msglen);
	}
	fprintf(log, "# %s: %s\n", verdict_name(v), msg);
	fclose(log);
	results_free(os.reader);
	step_end(jr, step, v == V_CANCELLED ? "skip" : verdict_name(v), msg);
	return v;
}

/* One command's whole output into a log file; 0 on exit status 0. */
static int collect(struct dom0_link *l, struct job_run *jr, const char *command, const char *file,
		   char *err, size_t errlen)
{
	struct stop_ctx sc = { .jr = jr, .l = l };
	struct ssh_target t;
	struct ssh_conn *c;
	char path[1200];
	int status = -1;
	enum ssh_error e;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", jr->log_abs, file);
	f = fopen(path, "w");
	if (!f) {
		snprintf(err, errlen, "cannot write %s", file);
		return -1;
	}
	target(l, &t);
	e = ssh_connect(&t, CONNECT_MS, should_stop, &sc, &c, err, errlen);
	if (e == SSH_OK) {
		e = ssh_exec(c, command, COLLECT_TIMEOUT_MS, NULL, NULL, f, should_stop, &sc,
			     &status, err, errlen);
		ssh_close(c);
	}
	fclose(f);
	if (e == SSH_OK && status != 0)
		snprintf(err, errlen, "'%s' exited with %d", command, status);
	return e == SSH_OK && status == 0 ? 0 : -1;
}

void dom0_collect_logs(struct job_run *jr, const struct suite *s, struct dom0_link *l)
{
	char name[96], file[128], err[256], msg[600] = "";
	long long step;

	qemu_host_poll(l->q);
	if (!l->reached || l->q->exited)
		return;
	snprintf(name, sizeof(name), "collect-logs-%s", l->host);
	step = step_begin(jr, name, NULL);
	/* Named console-*: the job page shows them inline like the serial log. */
	snprintf(file, sizeof(file), "console-%s-dom0.log", l->host);
	if (collect(l, jr, "dmesg", file, err, sizeof(err)))
		snprintf(msg, sizeof(msg), "dom0 dmesg: %s", err);
	if (s->dom0 == SUITE_DOM0_KILN) {
		snprintf(file, sizeof(file), "console-%s-hypervisor.log", l->host);
		if (collect(l, jr,
			    "command -v kl >/dev/null || { echo 'kl: not in dom0'; exit 127; }; kl dmesg",
			    file, err, sizeof(err)))
			snprintf(msg + strlen(msg), sizeof(msg) - strlen(msg),
				 "%shypervisor log: %s", msg[0] ? "; " : "", err);
	}
	step_end(jr, step, msg[0] ? "skip" : "pass", msg[0] ? msg : NULL);
}
