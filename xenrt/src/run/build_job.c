/* build_job.c: a flight's build job.
 *
 * Checks out the submitted tree at its ref (a git worktree of a local
 * repository, a clone of a URL), applies the patch if any, runs the tree's
 * own `make -C hypervisor` (not the top-level make, which would install
 * packages and build everything) and stores kiln.elf and the test guests as
 * the flight's artifacts (none when no suite of the flight boots a host:
 * then the checkout is the build).  When one of the flight's suites boots dom0, the
 * tree's `make -C toolstack dom0` also builds dom0's kernel, initramfs and
 * host key; hypervisor-only flights skip it and stay fast.  Its Debian
 * packages come from one cache under the daemon's state directory, shared
 * by every flight (and serialised with a lock: two fetches into one cache
 * would trample each other).  An unpatched revision that was already built
 * is not built again: its artifacts are reused, which keeps a developer's
 * second submission of the same commit fast.
 */
#include "executor_internal.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "artifact.h"
#include "config.h"
#include "proc.h"
#include "job_suite.h"
#include "suite.h"
#include "writes.h"

#define GIT_TIMEOUT_S 120
#define MAKE_TIMEOUT_S 900

struct flight_src {
	char repo[1024];
	char ref[256];
	char *patch;
	int is_url;
};

static int load_flight(struct job_run *jr, struct flight_src *f, char *msg, size_t msglen)
{
	sqlite3_stmt *st;
	int rc;

	memset(f, 0, sizeof(*f));
	if (sqlite3_prepare_v2(jr->db, "SELECT repo, ref, patch FROM flights WHERE id = ?1", -1,
			       &st, NULL) != SQLITE_OK) {
		snprintf(msg, msglen, "flight: %s", sqlite3_errmsg(jr->db));
		return -1;
	}
	sqlite3_bind_int64(st, 1, jr->flight_id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		snprintf(f->repo, sizeof(f->repo), "%s", (const char *)sqlite3_column_text(st, 0));
		snprintf(f->ref, sizeof(f->ref), "%s", (const char *)sqlite3_column_text(st, 1));
		if (sqlite3_column_type(st, 2) != SQLITE_NULL && sqlite3_column_bytes(st, 2) > 0)
			f->patch = strdup((const char *)sqlite3_column_text(st, 2));
		f->is_url = strstr(f->repo, "://") != NULL || strncmp(f->repo, "git@", 4) == 0;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW) {
		snprintf(msg, msglen, "flight %lld not found", jr->flight_id);
		return -1;
	}
	return 0;
}

static int cancelled(void *ctx)
{
	return jobrun_should_stop(ctx);
}

/* The environment for git and make: ours minus make's jobserver variables
 * (a daemon started from make must not hand its jobserver to the build). */
static char **build_env(void)
{
	extern char **environ;
	size_t n = 0, j = 0;
	char **env;

	while (environ[n])
		n++;
	env = calloc(n + 1, sizeof(*env));
	if (!env)
		return NULL;
	for (size_t i = 0; i < n; i++)
		if (strncmp(environ[i], "MAKEFLAGS=", 10) && strncmp(environ[i], "MFLAGS=", 7) &&
		    strncmp(environ[i], "MAKELEVEL=", 10) &&
		    strncmp(environ[i], "MAKEOVERRIDES=", 14))
			env[j++] = environ[i];
	return env;
}

/* Runs a command with output appended to the step's log; 0 ok, 1 failed
 * (exit code in msg), -1 could not run (msg says why). */
static int run(struct job_run *jr, char **env, char *const argv[], const char *cwd, const char *log,
	       int timeout_s, char *msg, size_t msglen)
{
	char path[1200], err[256];
	int code = -1, rc;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", jr->log_abs, log);
	f = fopen(path, "a");
	if (f) {
		fprintf(f, "$");
		for (int i = 0; argv[i]; i++)
			fprintf(f, " %s", argv[i]);
		fprintf(f, "\n");
		fclose(f);
	}
	rc = proc_run(argv, cwd, env, path, timeout_s, cancelled, jr, &code, err, sizeof(err));
	if (rc) {
		snprintf(msg, msglen, "%s", err);
		return rc < 0 ? -1 : 1;
	}
	if (code != 0) {
		snprintf(msg, msglen, "%s exited with status %d", argv[0], code);
		return 1;
	}
	return 0;
}

/* First line of a command's output, e.g. a resolved commit id. */
static int capture(struct job_run *jr, char **env, char *const argv[], const char *cwd, char *out,
		   size_t outlen, char *msg, size_t msglen)
{
	char path[1200];
	FILE *f;
	int rc;

	snprintf(path, sizeof(path), "%s/.capture", jr->log_abs);
	unlink(path);
	rc = proc_run(argv, cwd, env, path, GIT_TIMEOUT_S, cancelled, jr, &(int){ 0 }, msg, msglen);
	f = fopen(path, "r");
	out[0] = '\0';
	if (f) {
		if (fgets(out, (int)outlen, f))
			out[strcspn(out, "\r\n")] = '\0';
		fclose(f);
	}
	unlink(path);
	return rc;
}

static int is_commit_id(const char *s)
{
	size_t n = strspn(s, "0123456789abcdef");
	return (n == 40 || n == 64) && s[n] == '\0';
}

/* What the flight's suites need built: dom0 (any suite boots one) and the
 * hypervisor (any suite boots its hosts, or the flight is a build alone).
 * A suite that no longer loads fails its own job, not the build, and counts
 * as needing the hypervisor. */
static void flight_needs(struct job_run *jr, int *dom0, int *hypervisor)
{
	sqlite3_stmt *st;
	int suites = 0;

	*dom0 = *hypervisor = 0;
	if (sqlite3_prepare_v2(
		    jr->db, "SELECT id, suite FROM jobs WHERE flight_id = ?1 AND suite != 'build'",
		    -1, &st, NULL) != SQLITE_OK) {
		*hypervisor = 1;
		return;
	}
	sqlite3_bind_int64(st, 1, jr->flight_id);
	while (sqlite3_step(st) == SQLITE_ROW) {
		struct suite *s;
		char err[256];

		suites++;
		if (job_suite(jr->db, jr->cfg, sqlite3_column_int64(st, 0),
			      (const char *)sqlite3_column_text(st, 1), &s, err,
			      sizeof(err)) == 0) {
			*dom0 |= suite_needs_dom0(s);
			*hypervisor |= suite_needs_hypervisor(s);
			suite_free(s);
		} else {
			*hypervisor = 1;
		}
	}
	sqlite3_finalize(st);
	if (suites == 0)
		*hypervisor = 1;
}

/* A passed build of the same revision with no patch that stored what this
 * flight needs: returns its flight. */
static long long reusable_build(struct job_run *jr, const char *revision, int dom0)
{
	sqlite3_stmt *st;
	long long id = 0;

	if (sqlite3_prepare_v2(
		    jr->db,
		    "SELECT f.id FROM flights f JOIN jobs j ON j.flight_id = f.id AND j.suite = 'build'"
		    " WHERE f.revision = ?1 AND (f.patch IS NULL OR f.patch = '') AND j.status = 'pass'"
		    " AND f.id != ?2 AND EXISTS (SELECT 1 FROM flight_artifacts a WHERE a.flight_id = f.id"
		    " AND a.role = 'hypervisor') AND (?3 = 0 OR EXISTS (SELECT 1 FROM flight_artifacts a"
		    " WHERE a.flight_id = f.id AND a.role = '" SUITE_ROLE_DOM0_KERNEL "'))"
		    " ORDER BY f.id DESC LIMIT 1",
		    -1, &st, NULL) != SQLITE_OK)
		return 0;
	sqlite3_bind_text(st, 1, revision, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, jr->flight_id);
	sqlite3_bind_int(st, 3, dom0);
	if (sqlite3_step(st) == SQLITE_ROW)
		id = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return id;
}

static int copy_artifacts(struct job_run *jr, long long from, char *msg, size_t msglen)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(
		    jr->db,
		    "INSERT OR REPLACE INTO flight_artifacts (flight_id, role, sha256)"
		    " SELECT ?1, role, sha256 FROM flight_artifacts WHERE flight_id = ?2",
		    -1, &st, NULL) != SQLITE_OK) {
		snprintf(msg, msglen, "reuse: %s", sqlite3_errmsg(jr->db));
		return -1;
	}
	sqlite3_bind_int64(st, 1, jr->flight_id);
	sqlite3_bind_int64(st, 2, from);
	rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
	if (rc)
		snprintf(msg, msglen, "reuse: %s", sqlite3_errmsg(jr->db));
	/* `xenrt gc` may have taken them since reusable_build looked: broken,
     * so the retry builds instead. */
	else if (sqlite3_changes(jr->db) == 0) {
		snprintf(msg, msglen, "reuse: flight %lld's artifacts were garbage-collected",
			 from);
		rc = -1;
	}
	sqlite3_finalize(st);
	return rc;
}

static int set_revision(struct job_run *jr, const char *revision)
{
	return writes_flight_revision(jr->db, jr->flight_id, revision);
}

/* Resolves the ref and prepares the source tree in `dir` (unless reused).
 * Returns a verdict; on V_PASS *reuse_from may name a flight to reuse. */
static enum verdict checkout(struct job_run *jr, char **env, const struct flight_src *f,
			     const char *dir, int dom0, int hypervisor, char revision[80],
			     long long *reuse_from, char *msg, size_t msglen)
{
	char spec[300];
	int rc;

	*reuse_from = 0;
	if (f->is_url) {
		char *const clone[] = { "git",           "clone",     "--quiet", "--no-checkout",
					(char *)f->repo, (char *)dir, NULL };
		rc = run(jr, env, clone, NULL, "checkout.log", GIT_TIMEOUT_S, msg, msglen);
		if (rc)
			return V_BROKEN; /* unreachable or bad URL: not the code's fault */
	}
	/* A URL clone has the branch as origin/<ref>; a commit id resolves as is. */
	const char *src = f->is_url ? dir : f->repo;
	snprintf(spec, sizeof(spec), "%s%s^{commit}",
		 f->is_url && !is_commit_id(f->ref) ? "origin/" : "", f->ref);
	char *const parse[] = { "git",      "-C",      (char *)src, "rev-parse",
				"--verify", "--quiet", spec,        NULL };
	rc = capture(jr, env, parse, NULL, revision, 80, msg, msglen);
	if (rc < 0)
		return V_BROKEN;
	if (rc > 0 || !is_commit_id(revision)) {
		snprintf(msg, msglen, "cannot resolve ref '%s' in %s", f->ref, f->repo);
		return V_FAIL;
	}
	if (set_revision(jr, revision)) {
		snprintf(msg, msglen, "recording revision: %s", sqlite3_errmsg(jr->db));
		return V_BROKEN;
	}
	if (!f->patch && !hypervisor)
		return V_PASS; /* nothing to build: the revision is all the suites need */
	if (!f->patch && (*reuse_from = reusable_build(jr, revision, dom0)) != 0)
		return V_PASS;
	if (f->is_url) {
		char *const co[] = { "git",     "-C",       (char *)dir, "checkout",
				     "--quiet", "--detach", revision,    NULL };
		rc = run(jr, env, co, NULL, "checkout.log", GIT_TIMEOUT_S, msg, msglen);
	} else {
		char *const wt[] = { "git",     "-C",       (char *)f->repo, "worktree", "add",
				     "--force", "--detach", (char *)dir,     revision,   NULL };
		rc = run(jr, env, wt, NULL, "checkout.log", GIT_TIMEOUT_S, msg, msglen);
	}
	return rc ? V_BROKEN : V_PASS;
}

static int store_one(struct job_run *jr, const char *dir, const char *rel, const char *role,
		     char *msg, size_t msglen)
{
	char path[1400], hex[65];

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, rel) >= sizeof(path) ||
	    access(path, R_OK)) {
		snprintf(msg, msglen, "the build produced no %s", rel);
		return 1;
	}
	if (artifact_store(jr->db, jr->cfg->artifact_dir, path, jr->flight_id, role, hex, msg,
			   msglen))
		return -1;
	return 0;
}

/* dom0's image and the host key baked into it, which SSH steps pin.  The
 * root login key the build also made stays out of the store (anyone may
 * read the store over HTTP): the farm logs in with its own key, which the
 * boot script passes as kiln.sshkey=. */
static enum verdict store_dom0(struct job_run *jr, const char *dir, char *msg, size_t msglen)
{
	static const char *const files[][2] = {
		{ "toolstack/build/dom0/vmlinuz", SUITE_ROLE_DOM0_KERNEL },
		{ "toolstack/build/dom0/initramfs.cpio.xz", SUITE_ROLE_DOM0_INITRD },
		{ "toolstack/build/dom0/keys/host_ed25519.pub", SUITE_ROLE_DOM0_HOSTKEY },
	};

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		int rc = store_one(jr, dir, files[i][0], files[i][1], msg, msglen);
		if (rc)
			return rc > 0 ? V_FAIL : V_BROKEN;
	}
	return V_PASS;
}

static enum verdict store(struct job_run *jr, const char *dir, int dom0, char *msg, size_t msglen)
{
	char path[1400], gdir[1200], hex[65];
	struct dirent *e;
	DIR *d;
	int n = 0;

	if ((size_t)snprintf(path, sizeof(path), "%s/hypervisor/build/kiln.elf", dir) >=
		    sizeof(path) ||
	    access(path, R_OK)) {
		snprintf(msg, msglen, "make succeeded but produced no hypervisor/build/kiln.elf");
		return V_FAIL;
	}
	if (artifact_store(jr->db, jr->cfg->artifact_dir, path, jr->flight_id, "hypervisor", hex,
			   msg, msglen))
		return V_BROKEN;
	if ((size_t)snprintf(gdir, sizeof(gdir), "%s/hypervisor/build/guests", dir) >=
	    sizeof(gdir)) {
		snprintf(msg, msglen, "work directory path too long");
		return V_BROKEN;
	}
	d = opendir(gdir);
	while (d && (e = readdir(d))) {
		size_t len = strlen(e->d_name);
		char role[80];

		if (len < 5 || len > 60 || strcmp(e->d_name + len - 4, ".elf") ||
		    e->d_name[0] == '.')
			continue;
		snprintf(role, sizeof(role), "guest-%.*s", (int)(len - 4), e->d_name);
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", gdir, e->d_name) >= sizeof(path))
			continue;
		if (artifact_store(jr->db, jr->cfg->artifact_dir, path, jr->flight_id, role, hex,
				   msg, msglen)) {
			closedir(d);
			return V_BROKEN;
		}
		n++;
	}
	if (d)
		closedir(d);
	if (dom0) {
		enum verdict v = store_dom0(jr, dir, msg, msglen);
		if (v != V_PASS)
			return v;
	}
	snprintf(msg, msglen, "stored hypervisor, %d guest image(s)%s", n,
		 dom0 ? " and dom0's kernel, initramfs and host key" : "");
	return V_PASS;
}

static void cleanup(struct job_run *jr, char **env, const struct flight_src *f, const char *dir)
{
	char msg[256];

	if (!f->is_url) {
		char *const rm[] = { "git",    "-C",      (char *)f->repo, "worktree",
				     "remove", "--force", (char *)dir,     NULL };
		if (run(jr, env, rm, NULL, "checkout.log", GIT_TIMEOUT_S, msg, sizeof(msg)) == 0)
			return;
	}
	char *const rm[] = { "rm", "-rf", (char *)dir, NULL };
	run(jr, env, rm, NULL, "checkout.log", GIT_TIMEOUT_S, msg, sizeof(msg));
}

/* work_dir/flight-F-job-J-A, absolute: git -C and make -C run elsewhere. */
static int work_tree(struct job_run *jr, int attempt, char *out, size_t outlen)
{
	char cwd[512] = "";

	if (jr->cfg->work_dir[0] != '/' && !getcwd(cwd, sizeof(cwd)))
		cwd[0] = '\0';
	if ((size_t)snprintf(out, outlen, "%s%s%s/flight-%lld-job-%lld-%d", cwd, cwd[0] ? "/" : "",
			     jr->cfg->work_dir, jr->flight_id, jr->job_id, attempt) >= outlen)
		return -1;
	return 0;
}

/* state_dir/dom0-cache, absolute: make runs in the work tree. */
static int dom0_cache(struct job_run *jr, char *out, size_t outlen)
{
	char cwd[512] = "";

	if (jr->cfg->state_dir[0] != '/' && !getcwd(cwd, sizeof(cwd)))
		return -1;
	if ((size_t)snprintf(out, outlen, "%s%s%s/dom0-cache", cwd, cwd[0] ? "/" : "",
			     jr->cfg->state_dir) >= outlen)
		return -1;
	return 0;
}

/* A cancelled flight's build is cancelled; a build interrupted by the
 * daemon stopping is broken, so the next start builds it again. */
static enum verdict stop_verdict(struct job_run *jr)
{
	return executor_stopping(jr->ex) ? V_BROKEN : V_CANCELLED;
}

static enum verdict end(struct job_run *jr, long long step, enum verdict v, const char *msg)
{
	if (v == V_CANCELLED)
		step_end(jr, step, "skip", "cancelled");
	else
		step_end(jr, step, verdict_name(v),
			 executor_stopping(jr->ex) && v == V_BROKEN ? "daemon stopped" : msg);
	return v;
}

/* One make as a step NAME logged to NAME.log: the compiler's output is the
 * log of a failed build. */
static enum verdict compile(struct job_run *jr, char **env, const char *name, char *const argv[],
			    const char *dir, char *msg, size_t msglen)
{
	char log[80];
	enum verdict v;
	long long step;
	int rc;

	snprintf(log, sizeof(log), "%s.log", name);
	step = step_begin(jr, name, log);
	rc = run(jr, env, argv, dir, log, MAKE_TIMEOUT_S, msg, msglen);
	if (rc > 0 && jobrun_should_stop(jr))
		v = stop_verdict(jr);
	else
		v = rc == 0 ? V_PASS : rc > 0 ? V_FAIL : V_BROKEN;
	if (rc > 0 && v == V_FAIL) {
		char why[200], what[120] = "";
		snprintf(why, sizeof(why), "%s", msg);
		for (int i = 0; argv[i]; i++)
			if (strcmp(argv[i], "-C") == 0 && argv[i + 1])
				snprintf(what, sizeof(what), "make -C %s", argv[i + 1]);
		snprintf(msg, msglen, "%s failed: %s (see %s)", what, why, log);
	}
	return end(jr, step, v, v == V_PASS ? NULL : msg);
}

enum verdict build_job_run(struct job_run *jr, char *msg, size_t msglen)
{
	struct flight_src f;
	char dir[2048], revision[80] = "", path[1200];
	long long step, reuse_from = 0;
	enum verdict v;
	char **env;
	int dom0, hypervisor;

	flight_needs(jr, &dom0, &hypervisor);

	if (load_flight(jr, &f, msg, msglen))
		return V_BROKEN;
	env = build_env();
	if (!env) {
		free(f.patch);
		snprintf(msg, msglen, "out of memory");
		return V_BROKEN;
	}
	if (work_tree(jr, jr->attempt, dir, sizeof(dir))) {
		snprintf(msg, msglen, "work directory path too long");
		free(env);
		free(f.patch);
		return V_BROKEN;
	}
	char *const mk[] = { "mkdir", "-p", (char *)jr->cfg->work_dir, NULL };
	run(jr, env, mk, NULL, "checkout.log", GIT_TIMEOUT_S, msg, msglen);
	/* Trees of attempts a crash interrupted (and a leftover of this one)
     * would pile up and keep worktrees registered in the submitted repo. */
	for (int a = 1; a <= jr->attempt; a++) {
		char old[2048];
		if (work_tree(jr, a, old, sizeof(old)) == 0 && access(old, F_OK) == 0)
			cleanup(jr, env, &f, old);
	}

	step = step_begin(jr, "checkout", "checkout.log");
	v = checkout(jr, env, &f, dir, dom0, hypervisor, revision, &reuse_from, msg, msglen);
	if (v == V_PASS && reuse_from) {
		end(jr, step, V_PASS, revision);
		step = step_begin(jr, "compile", NULL);
		v = copy_artifacts(jr, reuse_from, msg, msglen) ? V_BROKEN : V_PASS;
		if (v == V_PASS)
			snprintf(msg, msglen,
				 "revision %.12s already built by flight %lld: artifacts reused",
				 revision, reuse_from);
		end(jr, step, v, msg);
		goto out;
	}
	if (jobrun_should_stop(jr))
		v = stop_verdict(jr);
	if (end(jr, step, v, v == V_PASS ? revision : msg) != V_PASS)
		goto out_clean;

	if (!hypervisor && !f.patch)
		goto out; /* checkout() made no tree */
	if (f.patch) {
		FILE *p;
		step = step_begin(jr, "patch", "patch.log");
		snprintf(path, sizeof(path), "%s/submitted.patch", jr->log_abs);
		p = fopen(path, "w");
		if (!p || fputs(f.patch, p) < 0 || fclose(p)) {
			snprintf(msg, msglen, "%s: %s", path, strerror(errno));
			v = end(jr, step, V_BROKEN, msg);
			goto out_clean;
		}
		char *const apply[] = { "git", "apply", "--verbose", path, NULL };
		int rc = run(jr, env, apply, dir, "patch.log", GIT_TIMEOUT_S, msg, msglen);
		v = rc == 0 ? V_PASS : rc > 0 ? V_FAIL : V_BROKEN;
		if (rc > 0)
			snprintf(msg, msglen, "the patch does not apply to %.12s (see patch.log)",
				 revision);
		if (end(jr, step, v, v == V_PASS ? NULL : msg) != V_PASS)
			goto out_clean;
	}

	/* Suites that boot nothing (provision = none) test at the revision
     * itself: checking it out (and applying the patch) is the whole build. */
	if (!hypervisor)
		goto out_clean;
	char *const make[] = { "make", "-j2", "-C", "hypervisor", NULL };
	v = compile(jr, env, "compile", make, dir, msg, msglen);
	if (v != V_PASS)
		goto out_clean;
	if (dom0) {
		char cache[1200], lock[1300], cache_var[1300];
		if (dom0_cache(jr, cache, sizeof(cache))) {
			snprintf(msg, msglen, "state directory path too long");
			v = V_BROKEN;
			goto out_clean;
		}
		snprintf(lock, sizeof(lock), "%s.lock", cache);
		snprintf(cache_var, sizeof(cache_var), "CACHE=%s", cache);
		/* flock(1) holds the cache's lock for the whole make, and dies with
         * it when a timeout or cancel kills the process group. */
		char *const mk0[] = { "flock",     lock,   "make",    "-j2", "-C",
				      "toolstack", "dom0", cache_var, NULL };
		v = compile(jr, env, "compile-dom0", mk0, dir, msg, msglen);
		if (v != V_PASS)
			goto out_clean;
	}

	step = step_begin(jr, "store-artifacts", NULL);
	v = end(jr, step, store(jr, dir, dom0, msg, msglen), msg);
out_clean:
	cleanup(jr, env, &f, dir);
out:
	free(env);
	free(f.patch);
	return v;
}
