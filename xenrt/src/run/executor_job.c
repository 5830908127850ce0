/* executor_job.c: runs a suite on its hosts.
 *
 * Every host is started as a QEMU process that network-boots through iPXE
 * from the daemon; its serial console file is tailed line by line and fed
 * to a results reader whose events go to the step currently reading that
 * host.  Lines are consumed one at a time, so a step that completes in the
 * middle of a chunk leaves the rest for the next step on that host.
 *
 * Who failed decides the verdict.  Before the boot script's hand-over mark
 * (PROVISION_HANDOVER_MARK) the farm is responsible: no iPXE, no script, no
 * payload, QEMU not starting = broken.  After it the code under test is:
 * a banner that never comes, TAP that never finishes = fail.  A QEMU that
 * dies from a signal is always broken (the host died, not the code).
 * Suites with a dom0 also get a loopback port forwarded to dom0's SSH on
 * each host; their ssh steps run in executor_dom0.c.
 */
#include "executor_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "config.h"
#include "db.h"
#include "driver_qemu.h"
#include "hostpool.h"
#include "proc.h"
#include "provision.h"
#include "results.h"
#include "job_suite.h"
#include "suite.h"

#define PROVISION_TIMEOUT_S 60
#define POLL_MS 100

struct step_state;

struct host_console {
	struct qemu_host q;
	struct pool_host h;
	struct results_reader *reader;
	char log_name[96]; /* console-<host>.log, as steps name it */
	FILE *f;
	long offset;
	int script_seen; /* iPXE ran our script */
	int handed_over; /* the hypervisor has control */
	int boot_failed; /* the script reported a fetch/boot failure */
	struct step_state *cur;
	struct dom0_link dom0;
};

struct step_state {
	struct job_run *jr;
	const struct suite_step *step;
	int done;
	int failed; /* a TAP/JSON result failed */
	int bad_lines;
	int results;
	struct tap_tally tally;
	char message[256];
};

static void on_event(void *ctx, const struct results_event *ev)
{
	struct host_console *hc = ctx;
	struct step_state *ss = hc->cur;

	if (ev->kind == RESULTS_LINE) {
		if (strstr(ev->raw, "xenrt-boot: host "))
			hc->script_seen = 1;
		if (strstr(ev->raw, PROVISION_FAILED_MARK))
			hc->boot_failed = 1;
		if (strstr(ev->raw, PROVISION_HANDOVER_MARK))
			hc->handed_over = 1;
	}
	if (!ss || ss->done)
		return;
	const struct suite_step *st = ss->step;
	switch (st->kind) {
	case SUITE_STEP_CONSOLE_MATCH:
		if (ev->kind == RESULTS_LINE && strstr(ev->raw, st->expect))
			ss->done = 1;
		break;
	case SUITE_STEP_CONSOLE_TAP:
		if (ev->kind == RESULTS_TAP) {
			char name[400], msg[TAP_TEXT_MAX + 16];
			const char *status = ev->tap.ok ? "pass" : ev->tap.todo ? "skip" : "fail";

			tap_tally_add(&ss->tally, ev->source, &ev->tap);
			if (ev->tap.skip)
				status = "skip";
			if (ev->tap.kind == TAP_RESULT) {
				snprintf(name, sizeof(name), "%s:%s:%d %s", st->name,
					 ev->source[0] ? ev->source : "console", ev->tap.number,
					 ev->tap.desc);
				snprintf(msg, sizeof(msg), "%s%s", ev->tap.todo ? "TODO " : "",
					 ev->tap.reason);
				step_record(ss->jr, name, status, msg[0] ? msg : NULL,
					    hc->log_name);
				ss->results++;
			} else if (ev->tap.kind == TAP_BAIL) {
				snprintf(name, sizeof(name), "%s:%s bail out", st->name,
					 ev->source[0] ? ev->source : "console");
				step_record(ss->jr, name, "fail", ev->tap.reason, NULL);
			}
			if (st->n_sources && st->exit_code < 0 &&
			    tap_tally_all_done(&ss->tally, st->sources, st->n_sources))
				ss->done = 1;
		}
		break;
	case SUITE_STEP_CONSOLE_JSONL:
		if (ev->kind == RESULTS_JSON_STEP) {
			char name[400];
			long long id;

			snprintf(name, sizeof(name), "%s:%s", st->name, ev->step);
			id = step_record(ss->jr, name, ev->status,
					 ev->message[0] ? ev->message : NULL, hc->log_name);
			for (int i = 0; i < ev->n_metrics; i++)
				metric_add(ss->jr, id, ev->metrics[i].name, ev->metrics[i].value,
					   ev->metrics[i].unit);
			ss->failed |= strcmp(ev->status, "fail") == 0;
			ss->results++;
		} else if (ev->kind == RESULTS_JSON_BAD) {
			ss->bad_lines++;
		} else if (ev->kind == RESULTS_JSON_END) {
			ss->done = 1;
		}
		break;
	case SUITE_STEP_SSH:
	case SUITE_STEP_LOCAL:
		break;
	}
}

/* Feeds complete lines of the console to the reader until the current
 * step is done; at_end also feeds a last unterminated line. */
static void pump(struct host_console *hc, int at_end)
{
	char buf[RESULTS_LINE_MAX + 2];
	size_t n;

	if (!hc->f) {
		hc->f = fopen(hc->q.console, "rb");
		if (!hc->f)
			return;
	}
	for (;;) {
		/* Provisioning stops at the hand-over: what follows is the steps'. */
		if ((hc->cur && hc->cur->done) || (!hc->cur && hc->handed_over))
			return;
		clearerr(hc->f);
		if (fseek(hc->f, hc->offset, SEEK_SET))
			return;
		n = fread(buf, 1, sizeof(buf) - 1, hc->f);
		if (n == 0)
			return;
		char *nl = memchr(buf, '\n', n);
		if (!nl && n < sizeof(buf) - 1) {
			if (at_end) {
				results_feed(hc->reader, buf, n);
				results_flush(hc->reader);
				hc->offset += (long)n;
			}
			return;
		}
		/* One line (or a full buffer of an endless line) at a time. */
		size_t take = nl ? (size_t)(nl - buf) + 1 : n;
		results_feed(hc->reader, buf, take);
		hc->offset += (long)take;
	}
}

static int host_died(const struct host_console *hc)
{
	return hc->q.exited && WIFSIGNALED(hc->q.exit_status);
}

static void describe_exit(const struct host_console *hc, char *out, size_t outlen)
{
	int code = qemu_host_debug_exit(&hc->q);

	if (code >= 0)
		snprintf(out, outlen, "%s: hypervisor exited with code %d", hc->h.name, code);
	else if (WIFSIGNALED(hc->q.exit_status))
		snprintf(out, outlen, "%s: QEMU killed by signal %d", hc->h.name,
			 WTERMSIG(hc->q.exit_status));
	else
		snprintf(out, outlen, "%s: QEMU exited with status %d (reset or power-off)",
			 hc->h.name, WEXITSTATUS(hc->q.exit_status));
}

/* Where dom0's SSH is forwarded, on the attempt's host row (NULL = none). */
static int record_ssh_port(struct job_run *jr, const struct host_console *hc)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(jr->db,
			       "UPDATE job_hosts SET ssh_port = ?4 WHERE job_id = ?1"
			       " AND attempt = ?2 AND host_id = ?3",
			       -1, &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_int64(st, 1, jr->job_id);
	sqlite3_bind_int(st, 2, jr->attempt);
	sqlite3_bind_int64(st, 3, hc->h.id);
	if (hc->q.ssh_port)
		sqlite3_bind_int(st, 4, hc->q.ssh_port);
	else
		sqlite3_bind_null(st, 4);
	rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
	sqlite3_finalize(st);
	return rc;
}

/* Waits for the boot script to hand over on every host. */
static enum verdict provision(struct job_run *jr, struct host_console *hcs, int n, char *msg,
			      size_t msglen)
{
	double start = mono_now(), deadline = start + PROVISION_TIMEOUT_S;
	long long steps[HOSTPOOL_MAX_HOSTS];
	char name[96];
	int pending = n;

	for (int i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "provision-%s", hcs[i].h.name);
		steps[i] = step_begin(jr, name, hcs[i].log_name);
	}
	while (pending) {
		int stop = jobrun_should_stop(jr);
		pending = 0;
		for (int i = 0; i < n; i++) {
			struct host_console *hc = &hcs[i];
			if (steps[i] == -2)
				continue;
			qemu_host_poll(&hc->q);
			pump(hc, hc->q.exited);
			const char *why = NULL;
			char buf[200];
			if (hc->handed_over) {
				/* Power-on to hand-over: what a slow DHCP or HTTP shows in. */
				hc->dom0.handed_over = mono_now();
				metric_add(jr, steps[i], "provision_s", mono_now() - start, "s");
				step_end(jr, steps[i], "pass", NULL);
				steps[i] = -2;
				if (jr->job_id) {
					char e[256], reason[96] = "hypervisor booting";
					if (hc->q.ssh_port)
						snprintf(reason, sizeof(reason),
							 "booting; dom0 SSH on 127.0.0.1:%d",
							 hc->q.ssh_port);
					if (db_exec(jr->db, "BEGIN IMMEDIATE", e, sizeof(e)) ==
					    SQLITE_OK) {
						if (hostpool_set_state(jr->db, hc->h.id, "running",
								       jr->job_id, -1, reason, e,
								       sizeof(e)) == 0 &&
						    record_ssh_port(jr, hc) == 0)
							db_exec(jr->db, "COMMIT", e, sizeof(e));
						else
							db_exec(jr->db, "ROLLBACK", e, sizeof(e));
					}
				}
				continue;
			}
			if (hc->boot_failed)
				why = "iPXE could not load the hypervisor or a module";
			else if (hc->q.exited) {
				describe_exit(hc, buf, sizeof(buf));
				why = buf;
			} else if (stop)
				why = "stopped";
			else if (mono_now() > deadline)
				why = hc->script_seen ? "timed out loading the payload over HTTP"
						      : "iPXE never fetched the boot script";
			if (why) {
				if (why == buf)
					snprintf(msg, msglen, "%s", why);
				else
					snprintf(msg, msglen, "%s: %s", hc->h.name, why);
				step_end(jr, steps[i], stop ? "skip" : "broken", msg);
				for (int j = 0; j < n; j++)
					if (steps[j] >= 0 && j != i)
						step_end(jr, steps[j], "skip",
							 "another host failed to provision");
				jr->host_fault = !stop;
				return stop && !executor_stopping(jr->ex) ? V_CANCELLED : V_BROKEN;
			}
			pending++;
		}
		if (pending)
			proc_sleep_ms(POLL_MS);
	}
	return V_PASS;
}

/* Turns the end of a console step into a verdict and message. */
static enum verdict judge(struct step_state *ss, struct host_console *hc, int timed_out)
{
	const struct suite_step *st = ss->step;
	char buf[200];
	const char *why;

	switch (st->kind) {
	case SUITE_STEP_LOCAL:
		break;
	case SUITE_STEP_CONSOLE_MATCH:
		if (ss->done)
			return V_PASS;
		if (timed_out)
			snprintf(ss->message, sizeof(ss->message),
				 "timed out after %ds waiting for '%.80s'", st->timeout_s,
				 st->expect);
		else {
			describe_exit(hc, buf, sizeof(buf));
			snprintf(ss->message, sizeof(ss->message), "%.150s before '%.80s'", buf,
				 st->expect);
		}
		return V_FAIL;
	case SUITE_STEP_CONSOLE_TAP:
		why = tap_tally_verdict(&ss->tally, st->sources, st->n_sources, st->min_sources,
					buf, sizeof(buf));
		if (timed_out && !ss->done) {
			snprintf(ss->message, sizeof(ss->message), "timed out after %ds%s%s",
				 st->timeout_s, why ? ": " : "", why ? why : "");
			return V_FAIL;
		}
		if (why) {
			snprintf(ss->message, sizeof(ss->message), "%s", why);
			return V_FAIL;
		}
		if (st->exit_code >= 0 && qemu_host_debug_exit(&hc->q) != st->exit_code) {
			describe_exit(hc, buf, sizeof(buf));
			snprintf(ss->message, sizeof(ss->message), "%s, wanted exit code %d", buf,
				 st->exit_code);
			return V_FAIL;
		}
		snprintf(ss->message, sizeof(ss->message), "%d TAP result(s) from %d source(s)",
			 ss->results, ss->tally.n);
		return V_PASS;
	case SUITE_STEP_CONSOLE_JSONL:
		if (timed_out && !ss->done) {
			snprintf(ss->message, sizeof(ss->message), "timed out after %ds",
				 st->timeout_s);
			return V_FAIL;
		}
		if (ss->results == 0 || ss->failed) {
			snprintf(ss->message, sizeof(ss->message),
				 ss->failed ? "a result failed" : "no results");
			return V_FAIL;
		}
		snprintf(ss->message, sizeof(ss->message), "%d result(s), %d unparsable line(s)",
			 ss->results, ss->bad_lines);
		return V_PASS;
	case SUITE_STEP_SSH:
		break;
	}
	/* ssh steps never come here (dom0_ssh_step judges them). */
	snprintf(ss->message, sizeof(ss->message), "step kind %s has no console verdict",
		 suite_step_kind_name(st->kind));
	return V_BROKEN;
}

static enum verdict run_step(struct job_run *jr, const struct suite *s, const struct suite_step *st,
			     struct host_console *hcs, int n, char *msg, size_t msglen)
{
	struct host_console *hc = &hcs[st->host];
	struct step_state ss = { .jr = jr, .step = st };
	double deadline = mono_now() + st->timeout_s;
	long long id;
	enum verdict v;
	int timed_out = 0;

	if (st->kind == SUITE_STEP_SSH) {
		v = hc->dom0.reached ? V_PASS : dom0_wait(jr, s, &hc->dom0, msg, msglen);
		return v == V_PASS ? dom0_ssh_step(jr, st, &hc->dom0, msg, msglen) : v;
	}
	id = step_begin(jr, st->name, hc->log_name);
	hc->cur = &ss;
	for (;;) {
		for (int i = 0; i < n; i++)
			qemu_host_poll(&hcs[i].q);
		pump(hc, hc->q.exited);
		if (ss.done)
			break;
		for (int i = 0; i < n; i++) {
			if (host_died(&hcs[i])) {
				hc->cur = NULL;
				jr->host_fault = 1;
				describe_exit(&hcs[i], msg, msglen);
				step_end(jr, id, "broken", msg);
				return V_BROKEN;
			}
		}
		if (hc->q.exited)
			break;
		if (jobrun_should_stop(jr)) {
			hc->cur = NULL;
			int stopping = executor_stopping(jr->ex);
			snprintf(msg, msglen, stopping ? "daemon stopped" : "cancelled");
			step_end(jr, id, stopping ? "broken" : "skip", msg);
			return stopping ? V_BROKEN : V_CANCELLED;
		}
		if (mono_now() > deadline || mono_now() > jr->job_deadline) {
			timed_out = 1;
			break;
		}
		proc_sleep_ms(POLL_MS);
	}
	hc->cur = NULL;
	v = judge(&ss, hc, timed_out);
	if (timed_out && mono_now() > jr->job_deadline && mono_now() <= deadline)
		snprintf(ss.message, sizeof(ss.message), "job timeout reached");
	step_end(jr, id, verdict_name(v), v == V_PASS && !ss.message[0] ? NULL : ss.message);
	snprintf(msg, msglen, "%s: %s", st->name, ss.message);
	return v;
}

static int load_hosts(struct job_run *jr, struct host_console *hcs, int want, char *msg,
		      size_t msglen)
{
	sqlite3_stmt *st;
	int n = 0;

	if (sqlite3_prepare_v2(
		    jr->db,
		    "SELECT h.id, h.name, h.cpu_model, h.vcpus, h.memory_mib FROM hosts h"
		    " JOIN job_hosts jh ON jh.host_id = h.id AND jh.job_id = ?1 AND jh.attempt = ?2"
		    " WHERE h.reserved_by = ?1 ORDER BY jh.role",
		    -1, &st, NULL) != SQLITE_OK) {
		snprintf(msg, msglen, "hosts: %s", sqlite3_errmsg(jr->db));
		return -1;
	}
	sqlite3_bind_int64(st, 1, jr->job_id);
	sqlite3_bind_int(st, 2, jr->attempt);
	while (sqlite3_step(st) == SQLITE_ROW && n < want) {
		struct pool_host *h = &hcs[n++].h;
		h->id = sqlite3_column_int64(st, 0);
		snprintf(h->name, sizeof(h->name), "%s", (const char *)sqlite3_column_text(st, 1));
		snprintf(h->cpu_model, sizeof(h->cpu_model), "%s",
			 (const char *)sqlite3_column_text(st, 2));
		h->vcpus = sqlite3_column_int(st, 3);
		h->memory_mib = sqlite3_column_int(st, 4);
	}
	sqlite3_finalize(st);
	if (n != want) {
		snprintf(msg, msglen, "job holds %d host(s), suite needs %d", n, want);
		return -1;
	}
	return 0;
}

enum verdict test_job_run(struct job_run *jr, const struct pool_host *hosts, int nhosts, char *msg,
			  size_t msglen)
{
	struct host_console hcs[HOSTPOOL_MAX_HOSTS];
	struct suite *s = NULL;
	enum verdict v = V_PASS;
	int started = 0, n;

	memset(hcs, 0, sizeof(hcs));
	if (job_suite(jr->db, jr->cfg, jr->job_id, jr->suite, &s, msg, msglen))
		return V_BROKEN;
	n = s->hosts_needed;
	jr->job_deadline = mono_now() + s->job_timeout_s;
	if (hosts) {
		if (nhosts != n) {
			snprintf(msg, msglen, "suite %s needs %d host(s), got %d", s->name, n,
				 nhosts);
			suite_free(s);
			return V_BROKEN;
		}
		for (int i = 0; i < n; i++)
			hcs[i].h = hosts[i];
	} else if (load_hosts(jr, hcs, n, msg, msglen)) {
		suite_free(s);
		return V_BROKEN;
	}
	if (!s->provision) {
		/* Nothing to boot: the steps run here, for the job's first host. */
		for (int i = 0; i < s->n_steps && v == V_PASS; i++)
			v = local_step_run(jr, &s->steps[i], hcs[s->steps[i].host].h.name, msg,
					   msglen);
		if (v == V_PASS)
			snprintf(msg, msglen, "%d step(s) passed", s->n_steps);
		suite_free(s);
		return v;
	}
	for (int i = 0; i < n && v == V_PASS && suite_needs_dom0(s); i++) {
		hcs[i].dom0.host = hcs[i].h.name;
		hcs[i].dom0.q = &hcs[i].q;
		if (dom0_link_init(jr, &hcs[i].dom0, msg, msglen)) {
			step_record(jr, "dom0-setup", "broken", msg, NULL);
			v = V_BROKEN;
		}
	}
	for (int i = 0; i < n && v == V_PASS; i++) {
		char e[256];
		int port = suite_needs_dom0(s) ? qemu_free_port() : 0;
		/* The boot service only serves a script to a provisioning host. */
		if (jr->job_id &&
		    (db_exec(jr->db, "BEGIN IMMEDIATE", e, sizeof(e)) != SQLITE_OK ||
		     hostpool_set_state(jr->db, hcs[i].h.id, "provisioning", jr->job_id, -1,
					"network boot", e, sizeof(e)) ||
		     db_exec(jr->db, "COMMIT", e, sizeof(e)) != SQLITE_OK)) {
			db_exec(jr->db, "ROLLBACK", e, sizeof(e));
			snprintf(msg, msglen, "host state: %s", e);
			step_record(jr, "provision", "broken", msg, NULL);
			v = V_BROKEN;
			break;
		}
		snprintf(hcs[i].log_name, sizeof(hcs[i].log_name), "console-%s.log", hcs[i].h.name);
		hcs[i].reader = results_new(on_event, &hcs[i]);
		if (!hcs[i].reader || port < 0 ||
		    qemu_host_start(jr->cfg, &hcs[i].h, jr->log_abs, port, &hcs[i].q, msg,
				    msglen)) {
			if (!hcs[i].reader || port < 0)
				snprintf(msg, msglen,
					 port < 0 ? "no free loopback port for dom0's SSH"
						  : "out of memory");
			else
				jr->host_fault = 1; /* this host's QEMU would not start */
			step_record(jr, "provision", "broken", msg, NULL);
			v = V_BROKEN;
		} else {
			started++;
		}
	}
	if (v == V_PASS)
		v = provision(jr, hcs, n, msg, msglen);
	for (int i = 0; i < s->n_steps && v == V_PASS; i++)
		v = run_step(jr, s, &s->steps[i], hcs, n, msg, msglen);
	if (v == V_PASS)
		snprintf(msg, msglen, "%d step(s) passed", s->n_steps);
	/* Whatever the verdict, dom0's and the hypervisor's logs help most
     * when a step failed; a cancelled or stopping job goes at once. */
	for (int i = 0; i < started && v != V_CANCELLED && !executor_stopping(jr->ex); i++)
		if (hcs[i].dom0.reached)
			dom0_collect_logs(jr, s, &hcs[i].dom0);
	for (int i = 0; i < started; i++)
		qemu_host_stop(&hcs[i].q);
	for (int i = 0; i < n; i++) {
		if (hcs[i].f)
			fclose(hcs[i].f);
		results_free(hcs[i].reader);
	}
	suite_free(s);
	return v;
}
