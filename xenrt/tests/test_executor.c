/* test_executor.c: the executor against a real database and a real git
 * repository whose hypervisor/Makefile is a stand-in (no QEMU needed):
 * build jobs (artifacts, revision, reuse, compile errors with the compiler
 * output as log, patches), blocked dependants, flight verdicts, and crash
 * recovery (running jobs broken and retried within max_attempts, running
 * steps kept and marked broken, hosts reset, stray QEMU killed). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <dirent.h>
#include <cmocka.h>

#include "config.h"
#include "db.h"
#include "executor.h"
#include "fixture_farm.h"

static char err[512];

static int setup(void **state)
{
	struct fx_farm *f = fx_farm_new("/tmp/xenrt-exec-XXXXXX");

	if (!f)
		return -1;
	f->cfg.nhosts = 0;
	snprintf(f->cfg.suites_dir, XENRT_PATH_MAX, "%s/testsuites", fx_repo_top());
	snprintf(f->cfg.pxe_dir, XENRT_PATH_MAX, "%s/pxe", fx_repo_top());
	if (db_open(f->cfg.db_path, &f->db, err, sizeof(err)) != SQLITE_OK)
		return -1;
	/* A tree whose hypervisor build is a stand-in: kiln.elf and one guest. */
	fx_sh("set -e; cd %s && git init -q -b main repo && cd repo && mkdir hypervisor &&"
	      " printf 'all:\\n\\tmkdir -p build/guests\\n\\techo kernel > build/kiln.elf\\n"
	      "\\techo guest > build/guests/hello.elf\\n' > hypervisor/Makefile &&"
	      " git add . && git -c user.email=t@t -c user.name=t commit -q -m one",
	      f->dir);
	*state = f;
	return 0;
}

static const char *repo_form = "%s/repo"; /* or "file://%s/repo": a URL, cloned */

static long long submit(struct fx_farm *f, const char *ref, const char *patch, int with_test_job)
{
	sqlite3_stmt *st;
	char repo[128];
	long long flight, build;

	snprintf(repo, sizeof(repo), repo_form, f->dir);
	/* One transaction, as the API submits: a worker never sees half a flight. */
	assert_int_equal(db_exec(f->db, "BEGIN IMMEDIATE", err, sizeof(err)), SQLITE_OK);
	assert_int_equal(
		sqlite3_prepare_v2(f->db,
				   "INSERT INTO flights (kind, repo, ref, patch, submitter,"
				   " created_at) VALUES ('patch', ?1, ?2, ?3, 'test', 0)",
				   -1, &st, NULL),
		SQLITE_OK);
	sqlite3_bind_text(st, 1, repo, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, ref, -1, SQLITE_STATIC);
	if (patch)
		sqlite3_bind_text(st, 3, patch, -1, SQLITE_STATIC);
	assert_int_equal(sqlite3_step(st), SQLITE_DONE);
	sqlite3_finalize(st);
	flight = sqlite3_last_insert_rowid(f->db);
	char sql[512];
	snprintf(
		sql, sizeof(sql),
		"INSERT INTO jobs (flight_id, name, suite, hosts_needed) VALUES (%lld, 'build', 'build', 0)",
		flight);
	assert_int_equal(db_exec(f->db, sql, err, sizeof(err)), SQLITE_OK);
	build = sqlite3_last_insert_rowid(f->db);
	if (with_test_job) {
		snprintf(sql, sizeof(sql),
			 "INSERT INTO jobs (flight_id, name, suite, depends_on, hosts_needed)"
			 " VALUES (%lld, 'smoke', 'smoke', %lld, 1)",
			 flight, build);
		assert_int_equal(db_exec(f->db, sql, err, sizeof(err)), SQLITE_OK);
	}
	assert_int_equal(db_exec(f->db, "COMMIT", err, sizeof(err)), SQLITE_OK);
	return flight;
}

static void steps_of(struct fx_farm *f, long long flight, const char *job, char *out, size_t outlen)
{
	fx_text(f->db, out, outlen,
		"SELECT group_concat(name || '=' || status, ' ') FROM"
		" (SELECT s.name, s.status FROM steps s JOIN jobs j ON j.id = s.job_id"
		" WHERE j.flight_id = %lld AND j.name = '%s' ORDER BY s.seq)",
		flight, job);
}

static void build_pass_then_reuse(void **state)
{
	struct fx_farm *f = *state;
	struct executor *ex = executor_start(&f->cfg, err, sizeof(err));
	char buf[512], rev[80], path[1024];
	FILE *p;

	assert_non_null(ex);
	long long a = submit(f, "main", NULL, 0);
	executor_kick(ex);
	fx_wait_flight(f->db, a, "pass");
	steps_of(f, a, "build", buf, sizeof(buf));
	assert_string_equal(buf, "checkout=pass compile=pass store-artifacts=pass");
	snprintf(path, sizeof(path), "git -C %s/repo rev-parse HEAD", f->dir);
	p = popen(path, "r");
	assert_non_null(fgets(rev, sizeof(rev), p));
	pclose(p);
	rev[strcspn(rev, "\n")] = '\0';
	fx_text(f->db, buf, sizeof(buf), "SELECT revision FROM flights WHERE id = %lld", a);
	assert_string_equal(buf, rev);
	fx_text(f->db, buf, sizeof(buf),
		"SELECT group_concat(role, ' ') FROM (SELECT role FROM flight_artifacts"
		" WHERE flight_id = %lld ORDER BY role)",
		a);
	assert_string_equal(buf, "guest-hello hypervisor");
	/* The stored file is the build output, named by its hash. */
	fx_text(f->db, buf, sizeof(buf),
		"SELECT sha256 FROM flight_artifacts WHERE flight_id = %lld AND role = 'hypervisor'",
		a);
	snprintf(path, sizeof(path), "%s/artifacts/%s", f->dir, buf);
	assert_int_equal(access(path, R_OK), 0);
	/* The worktree is gone after the build. */
	snprintf(path, sizeof(path), "%s/work/flight-%lld-job-1-1", f->dir, a);
	assert_int_not_equal(access(path, F_OK), 0);

	long long b = submit(f, rev, NULL, 0);
	executor_kick(ex);
	fx_wait_flight(f->db, b, "pass");
	steps_of(f, b, "build", buf, sizeof(buf));
	assert_string_equal(buf, "checkout=pass compile=pass");
	fx_text(f->db, buf, sizeof(buf),
		"SELECT message FROM steps s JOIN jobs j ON j.id = s.job_id"
		" WHERE j.flight_id = %lld AND s.name = 'compile'",
		b);
	assert_non_null(strstr(buf, "artifacts reused"));
	fx_text(f->db, buf, sizeof(buf),
		"SELECT count(*) FROM flight_artifacts x JOIN flight_artifacts y"
		" ON x.role = y.role AND x.sha256 = y.sha256 WHERE x.flight_id = %lld AND y.flight_id = %lld",
		a, b);
	assert_string_equal(buf, "2");
	executor_stop(ex);
}

static void compile_error_blocks_tests(void **state)
{
	struct fx_farm *f = *state;
	struct executor *ex;
	char buf[512], path[1024], log[4096] = "";
	FILE *fp;

	fx_sh("set -e; cd %s/repo && printf 'all:\\n\\t@echo \"kiln.c:3: error: deliberate\" >&2; exit 1\\n'"
	      " > hypervisor/Makefile && git -c user.email=t@t -c user.name=t commit -q -am broken",
	      f->dir);
	ex = executor_start(&f->cfg, err, sizeof(err));
	assert_non_null(ex);
	long long a = submit(f, "main", NULL, 1);
	executor_kick(ex);
	fx_wait_flight(f->db, a, "fail");
	steps_of(f, a, "build", buf, sizeof(buf));
	assert_string_equal(buf, "checkout=pass compile=fail");
	fx_text(f->db, buf, sizeof(buf),
		"SELECT status FROM jobs WHERE flight_id = %lld AND name = 'smoke'", a);
	assert_string_equal(buf, "blocked");
	steps_of(f, a, "smoke", buf, sizeof(buf));
	assert_string_equal(buf, "blocked=blocked");
	/* The compiler's output is the failed step's log. */
	fx_text(f->db, buf, sizeof(buf),
		"SELECT j.log_dir || '/' || s.log FROM steps s JOIN jobs j ON j.id = s.job_id"
		" WHERE j.flight_id = %lld AND s.name = 'compile'",
		a);
	snprintf(path, sizeof(path), "%s/logs/%s", f->dir, buf);
	fp = fopen(path, "r");
	assert_non_null(fp);
	size_t n = fread(log, 1, sizeof(log) - 1, fp);
	log[n] = '\0';
	fclose(fp);
	assert_non_null(strstr(log, "kiln.c:3: error: deliberate"));
	executor_stop(ex);
}

static void patches(void **state)
{
	struct fx_farm *f = *state;
	struct executor *ex = executor_start(&f->cfg, err, sizeof(err));
	char buf[512];
	static const char good[] =
		"--- a/hypervisor/Makefile\n+++ b/hypervisor/Makefile\n@@ -1,4 +1,4 @@\n all:\n"
		" \tmkdir -p build/guests\n-\techo kernel > build/kiln.elf\n+\techo patched > build/kiln.elf\n"
		" \techo guest > build/guests/hello.elf\n";

	assert_non_null(ex);
	long long a = submit(f, "main", "this is not a patch\n", 0);
	long long b = submit(f, "main", good, 0);
	long long c = submit(f, "no-such-branch", NULL, 0);
	executor_kick(ex);
	fx_wait_flight(f->db, a, "fail");
	steps_of(f, a, "build", buf, sizeof(buf));
	assert_string_equal(buf, "checkout=pass patch=fail");
	fx_wait_flight(f->db, b, "pass");
	steps_of(f, b, "build", buf, sizeof(buf));
	assert_string_equal(buf, "checkout=pass patch=pass compile=pass store-artifacts=pass");
	/* sha256("patched\n") */
	fx_text(f->db, buf, sizeof(buf),
		"SELECT sha256 FROM flight_artifacts WHERE flight_id = %lld AND role = 'hypervisor'",
		b);
	assert_string_equal(buf,
			    "1094f4a608520e6cd87446d714acc1d2a9fab625af2e03e561bfa50639443eae");
	fx_wait_flight(f->db, c, "fail");
	fx_text(f->db, buf, sizeof(buf),
		"SELECT message FROM steps s JOIN jobs j ON j.id = s.job_id WHERE j.flight_id = %lld",
		c);
	assert_non_null(strstr(buf, "cannot resolve ref 'no-such-branch' in /"));
	executor_stop(ex);
}

/* A daemon died with two jobs running: one on its last attempt, one not;
 * a host reserved and a "QEMU" (a renamed sleep) still running. */
static void crash_recovery(void **state)
{
	struct fx_farm *f = *state;
	struct executor *ex;
	char buf[512], fake[128];
	pid_t pid;
	FILE *fp;

	long long a = submit(f, "main", NULL, 0);
	char sql[2048];
	snprintf(
		sql, sizeof(sql),
		"UPDATE flights SET status = 'running' WHERE id = %lld;"
		"UPDATE jobs SET status = 'pass' WHERE flight_id = %lld;"
		"INSERT INTO jobs (id, flight_id, name, suite, hosts_needed, status, attempt, max_attempts)"
		" VALUES (10, %lld, 'smoke-2host', 'smoke-2host', 2, 'running', 1, 3),"
		"        (11, %lld, 'smoke', 'smoke', 1, 'running', 3, 3);"
		"INSERT INTO steps (job_id, seq, name, status, started_at, finished_at) VALUES"
		" (10, 1, 'provision-host0', 'pass', 1, 2), (10, 2, 'boot-host0', 'running', 2, NULL),"
		" (11, 1, 'provision-host0', 'running', 1, NULL);"
		"INSERT INTO hosts (id, name, driver, state, reserved_by, needs_health_check, updated_at) VALUES"
		" (1, 'host0', 'qemu', 'running', 10, 0, 0), (2, 'host1', 'qemu', 'broken', NULL, 1, 0);",
		a, a, a, a);
	assert_int_equal(db_exec(f->db, sql, err, sizeof(err)), SQLITE_OK);
	/* host1 is quarantined and no build exists to health-check it with, so
     * the requeued 2-host job stays queued here. */
	snprintf(fake, sizeof(fake), "%s/qemu-system-x86_64", f->dir);
	fx_sh("cp /bin/sleep %s && mkdir -p %s/hosts", fake, f->dir);
	pid = fork();
	if (pid == 0) {
		setpgid(0, 0);
		execl(fake, fake, "60", (char *)NULL);
		_exit(127);
	}
	snprintf(buf, sizeof(buf), "%s/hosts/host0.pid", f->dir);
	fp = fopen(buf, "w");
	fprintf(fp, "%d\n", (int)pid);
	fclose(fp);
	usleep(200000);

	ex = executor_start(&f->cfg, err, sizeof(err));
	assert_non_null(ex);
	int status = 0;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status));
	assert_int_not_equal(access(buf, F_OK), 0);
	fx_text(f->db, buf, sizeof(buf), "SELECT status || ' ' || attempt FROM jobs WHERE id = 10");
	assert_string_equal(buf, "queued 2");
	fx_text(f->db, buf, sizeof(buf), "SELECT status || ' ' || attempt FROM jobs WHERE id = 11");
	assert_string_equal(buf, "broken 3");
	/* Committed steps are all there; the interrupted ones say why. */
	fx_text(f->db, buf, sizeof(buf),
		"SELECT group_concat(job_id || ':' || name || '=' || status, ' ') FROM"
		" (SELECT * FROM steps WHERE job_id IN (10, 11) ORDER BY job_id, seq)");
	assert_string_equal(
		buf, "10:provision-host0=pass 10:boot-host0=broken 11:provision-host0=broken");
	fx_text(f->db, buf, sizeof(buf), "SELECT message FROM steps WHERE job_id = 11");
	assert_string_equal(buf, "the daemon died during this step");
	fx_text(f->db, buf, sizeof(buf),
		"SELECT state || ' ' || coalesce(reserved_by, 'none') FROM hosts WHERE id = 1");
	assert_string_equal(buf, "idle none");
	fx_text(f->db, buf, sizeof(buf), "SELECT status FROM flights WHERE id = %lld", a);
	assert_string_equal(buf, "running");
	executor_stop(ex);
}

static int procs_under(const char *dir)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d))) {
		char link[300], target[1024];
		ssize_t len;

		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		snprintf(link, sizeof(link), "/proc/%s/cwd", e->d_name);
		len = readlink(link, target, sizeof(target) - 1);
		if (len > 0) {
			target[len] = '\0';
			n += strncmp(target, dir, strlen(dir)) == 0;
		}
	}
	closedir(d);
	return n;
}

/* Commits a build that sleeps, submits it (with a test job behind it when
 * with_test_job) to a new executor and waits until it compiles. */
static long long start_slow_build(struct fx_farm *f, struct executor **ex, int with_test_job)
{
	char buf[512];

	fx_sh("set -e; cd %s/repo && printf 'all:\\n\\tsleep 60\\n' > hypervisor/Makefile &&"
	      " git -c user.email=t@t -c user.name=t commit -q -am slow",
	      f->dir);
	*ex = executor_start(&f->cfg, err, sizeof(err));
	assert_non_null(*ex);
	long long a = submit(f, "main", NULL, with_test_job);
	executor_kick(*ex);
	for (int i = 0; i < 100; i++) {
		steps_of(f, a, "build", buf, sizeof(buf));
		if (strstr(buf, "compile=running"))
			break;
		usleep(100000);
	}
	assert_non_null(strstr(buf, "compile=running"));
	return a;
}

/* Cancel stops a running build (its whole process group) and cancels the
 * queued test job; the flight ends cancelled in seconds, not after make. */
static void cancel_running_build(void **state)
{
	struct fx_farm *f = *state;
	struct executor *ex;
	char buf[512], sql[128];

	long long a = start_slow_build(f, &ex, 1);
	snprintf(sql, sizeof(sql), "UPDATE flights SET cancel_requested = 1 WHERE id = %lld", a);
	assert_int_equal(db_exec(f->db, sql, err, sizeof(err)), SQLITE_OK);
	executor_kick(ex);
	fx_wait_flight(f->db, a, "cancelled");
	steps_of(f, a, "build", buf, sizeof(buf));
	assert_string_equal(buf, "checkout=pass compile=skip");
	fx_text(f->db, buf, sizeof(buf),
		"SELECT group_concat(status, ' ') FROM (SELECT status FROM jobs WHERE flight_id = %lld ORDER BY id)",
		a);
	assert_string_equal(buf, "cancelled cancelled");
	/* make and its sleep are gone with their process group: no process
     * runs in the build's work tree any more. */
	assert_int_equal(procs_under(f->dir), 0);
	executor_stop(ex);
}

/* A clean stop in the middle of a build: the build is interrupted (its
 * processes killed) and requeued for the next start, not cancelled. */
static void stop_requeues_running_build(void **state)
{
	struct fx_farm *f = *state;
	struct executor *ex;
	char buf[512];

	long long a = start_slow_build(f, &ex, 0);
	executor_stop(ex);
	steps_of(f, a, "build", buf, sizeof(buf));
	assert_string_equal(buf, "checkout=pass compile=broken");
	fx_text(f->db, buf, sizeof(buf),
		"SELECT status || ' ' || attempt FROM jobs WHERE flight_id = %lld", a);
	assert_string_equal(buf, "queued 2");
	fx_text(f->db, buf, sizeof(buf), "SELECT status FROM flights WHERE id = %lld", a);
	assert_string_equal(buf, "running");
	assert_int_equal(procs_under(f->dir), 0);
}

/* A job needing more hosts than the pool could ever give is broken at
 * once, saying why, instead of holding every later host job in the queue. */
static void impossible_job_is_broken(void **state)
{
	struct fx_farm *f = *state;
	struct executor *ex;
	char buf[512], sql[512];

	long long a = submit(f, "main", NULL, 0);
	snprintf(sql, sizeof(sql),
		 "INSERT INTO hosts (id, name, driver, state, updated_at) VALUES"
		 " (1, 'host0', 'qemu', 'idle', 0), (2, 'host1', 'qemu', 'offline', 0);"
		 "INSERT INTO jobs (flight_id, name, suite, depends_on, hosts_needed) SELECT %lld,"
		 " 'smoke-2host', 'smoke-2host', id, 2 FROM jobs WHERE flight_id = %lld",
		 a, a);
	assert_int_equal(db_exec(f->db, sql, err, sizeof(err)), SQLITE_OK);
	ex = executor_start(&f->cfg, err, sizeof(err));
	assert_non_null(ex);
	fx_wait_flight(f->db, a, "broken");
	steps_of(f, a, "smoke-2host", buf, sizeof(buf));
	assert_string_equal(buf, "hosts-allocate=broken");
	fx_text(f->db, buf, sizeof(buf), "SELECT message FROM steps WHERE name = 'hosts-allocate'");
	assert_string_equal(buf, "suite needs 2 hosts, the pool has 1 usable");
	executor_stop(ex);
}

/* A repository given as a URL is cloned (not a worktree), branch refs
 * resolve through origin/, and the clone is removed afterwards. */
static void builds_from_url(void **state)
{
	struct fx_farm *f = *state;
	struct executor *ex = executor_start(&f->cfg, err, sizeof(err));
	char buf[512], path[1024];

	assert_non_null(ex);
	repo_form = "file://%s/repo";
	long long a = submit(f, "main", NULL, 0);
	repo_form = "%s/repo";
	executor_kick(ex);
	fx_wait_flight(f->db, a, "pass");
	steps_of(f, a, "build", buf, sizeof(buf));
	assert_string_equal(buf, "checkout=pass compile=pass store-artifacts=pass");
	fx_text(f->db, buf, sizeof(buf),
		"SELECT count(*) FROM flight_artifacts WHERE flight_id = %lld", a);
	assert_string_equal(buf, "2");
	snprintf(path, sizeof(path), "%s/work/flight-%lld-job-1-1", f->dir, a);
	assert_int_not_equal(access(path, F_OK), 0);
	executor_stop(ex);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(build_pass_then_reuse, setup, fx_farm_teardown),
		cmocka_unit_test_setup_teardown(compile_error_blocks_tests, setup,
						fx_farm_teardown),
		cmocka_unit_test_setup_teardown(patches, setup, fx_farm_teardown),
		cmocka_unit_test_setup_teardown(crash_recovery, setup, fx_farm_teardown),
		cmocka_unit_test_setup_teardown(cancel_running_build, setup, fx_farm_teardown),
		cmocka_unit_test_setup_teardown(stop_requeues_running_build, setup,
						fx_farm_teardown),
		cmocka_unit_test_setup_teardown(impossible_job_is_broken, setup, fx_farm_teardown),
		cmocka_unit_test_setup_teardown(builds_from_url, setup, fx_farm_teardown),
	};
	return cmocka_run_group_tests_name("executor", tests, NULL, NULL);
}
