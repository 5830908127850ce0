/* test_executor_console.c: test jobs end to end inside the executor, with
 * a stand-in for QEMU (a script first in PATH that writes a given console
 * and exits like QEMU would): JSON-lines steps and metrics, a failing TAP
 * point (fail: no retry, no quarantine), a host that dies every attempt
 * (broken, retried up to max_attempts, then quarantined), a job timeout
 * while the hypervisor hangs (fail).  The real QEMU path is covered by
 * tests/e2e. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "config.h"
#include "db.h"
#include "executor.h"
#include "fixture_farm.h"

struct fx {
	char dir[64];
	struct xenrt_config cfg;
	sqlite3 *db;
	struct executor *ex;
};

static char err[512];

static const char suites[] =
	"printf 'hosts = 1\\njob_timeout = 30\\n[step boot]\\nkind = console-match\\n"
	"expect = (kiln) Kiln hypervisor starting\\ntimeout = 10\\n[step perf]\\nkind = console-jsonl\\n"
	"timeout = 10\\n' > %1$s/suites/perf.suite && "
	"printf 'hosts = 1\\njob_timeout = 30\\n[step boot]\\nkind = console-match\\n"
	"expect = (kiln) Kiln hypervisor starting\\ntimeout = 10\\n[step guests]\\nkind = console-tap\\n"
	"exit_code = 0\\ntimeout = 10\\n' > %1$s/suites/tap.suite && "
	"printf 'hosts = 1\\njob_timeout = 2\\n[step boot]\\nkind = console-match\\n"
	"expect = (kiln) Kiln hypervisor starting\\ntimeout = 10\\n[step never]\\nkind = console-match\\n"
	"expect = never printed\\ntimeout = 60\\n' > %1$s/suites/hang.suite";

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	char path[4096];

	if (!f || fx_farm_dirs(&f->cfg, f->dir, sizeof(f->dir), "/tmp/xenrt-console-XXXXXX") < 0)
		return -1;
	f->cfg.nhosts = 2;
	snprintf(f->cfg.suites_dir, XENRT_PATH_MAX, "%s/suites", f->dir);
	if (fx_open_db(&f->cfg, &f->db) < 0)
		return -1;
	fx_sh("set -e; cd %s && mkdir suites bin && git init -q -b main repo && cd repo && mkdir hypervisor &&"
	      " printf 'all:\\n\\tmkdir -p build\\n\\techo kernel > build/kiln.elf\\n' > hypervisor/Makefile &&"
	      " git add . && git -c user.email=t@t -c user.name=t commit -q -m one",
	      f->dir);
	fx_sh(suites, f->dir);
	/* The stand-in QEMU: console from $FAKE_CONSOLE, then exit like QEMU
     * after isa-debug-exit(0) (status 1), or die from SIGKILL, or hang. */
	fx_sh("printf '#!/bin/bash\\nfor a in \"$@\"; do case $a in file:*) out=${a#file:};; esac; done\\n"
	      "cat \"$FAKE_CONSOLE\" >> \"$out\"\\ncase $FAKE_END in kill) kill -9 $$;; hang) exec sleep 60;; esac\\n"
	      "exit 1\\n' > %s/bin/qemu-system-x86_64 && chmod +x %s/bin/qemu-system-x86_64",
	      f->dir, f->dir);
	snprintf(path, sizeof(path), "%s/bin:%s", f->dir, getenv("PATH"));
	setenv("PATH", path, 1);
	f->ex = executor_start(&f->cfg, err, sizeof(err));
	if (!f->ex)
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	executor_stop(f->ex);
	fx_farm_close(f->db, f->dir);
	free(f);
	return 0;
}

static void console(struct fx *f, const char *end, const char *text)
{
	char path[128];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/console.txt", f->dir);
	fp = fopen(path, "w");
	assert_non_null(fp);
	fputs("iPXE initialising devices...ok\r\nxenrt-boot: host hostX job 1 attempt 1\r\n"
	      "xenrt-boot: handing over to the hypervisor\r\nxenrt-boot: boo"
	      "[    0.050000] (kiln) TSC: 2600 MHz\r\n[    0.051000] (kiln) Kiln hypervisor starting (ABI 1.0)\r\n",
	      fp);
	fputs(text, fp);
	fclose(fp);
	setenv("FAKE_CONSOLE", path, 1);
	setenv("FAKE_END", end, 1);
}

static long long submit(struct fx *f, const char *suite)
{
	char sql[1024];
	long long flight;

	snprintf(
		sql, sizeof(sql),
		"BEGIN; INSERT INTO flights (kind, repo, ref, submitter, created_at) VALUES ('patch', '%s/repo', 'main', 't', 0);"
		"INSERT INTO jobs (flight_id, name, suite, hosts_needed) VALUES (last_insert_rowid(), 'build', 'build', 0);"
		"INSERT INTO jobs (flight_id, name, suite, depends_on, hosts_needed)"
		" SELECT flight_id, '%s', '%s', id, 1 FROM jobs WHERE id = last_insert_rowid(); COMMIT;",
		f->dir, suite, suite);
	assert_int_equal(db_exec(f->db, sql, err, sizeof(err)), SQLITE_OK);
	flight = sqlite3_last_insert_rowid(f->db);
	executor_kick(f->ex);
	sqlite3_stmt *st;
	assert_int_equal(sqlite3_prepare_v2(f->db, "SELECT max(id) FROM flights", -1, &st, NULL),
			 SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	flight = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return flight;
}

static void steps_of(struct fx *f, long long flight, char *out, size_t outlen)
{
	fx_text(f->db, out, outlen,
		"SELECT group_concat(name || '=' || status, ' ') FROM"
		" (SELECT s.name, s.status FROM steps s JOIN jobs j ON j.id = s.job_id"
		" WHERE j.flight_id = %lld AND j.name != 'build' ORDER BY s.seq)",
		flight);
}

static void json_lines_steps_and_metrics(void **state)
{
	struct fx *f = *state;
	char buf[1024];

	console(f, "exit",
		"[    0.2] (d1) {\"step\": \"exit-cpuid\", \"status\": \"pass\", \"metrics\": {\"exit_us\": 14.2}}\n"
		"[    0.2] (d1) {garbage\n"
		"[    0.3] (d1) {\"step\": \"exit-pio\", \"status\": \"skip\", \"message\": \"no port\"}\n"
		"[    0.3] (d1) {\"end\": true}\n");
	long long a = submit(f, "perf");
	fx_wait_flight(f->db, a, "pass");
	steps_of(f, a, buf, sizeof(buf));
	assert_string_equal(
		buf,
		"provision-host0=pass boot=pass perf=pass perf:exit-cpuid=pass perf:exit-pio=skip");
	fx_text(f->db, buf, sizeof(buf),
		"SELECT m.name || '=' || m.value || ' ' || m.unit FROM metrics m"
		" JOIN steps s ON s.id = m.step_id WHERE s.name = 'perf:exit-cpuid'");
	assert_string_equal(buf, "exit_us=14.2 us");
	fx_text(f->db, buf, sizeof(buf), "SELECT message FROM steps WHERE name = 'perf'");
	assert_string_equal(buf, "2 result(s), 1 unparsable line(s)");
	fx_text(f->db, buf, sizeof(buf), "SELECT count(*) FROM metrics WHERE name = 'provision_s'");
	assert_string_equal(buf, "1");
}

static void failing_tap_is_fail(void **state)
{
	struct fx *f = *state;
	char buf[1024];

	console(f, "exit",
		"[    0.2] (d1) 1..2\n[    0.2] (d1) ok 1 - boots\n[    0.3] (d1) not ok 2 - cpuid leaf\n");
	long long a = submit(f, "tap");
	fx_wait_flight(f->db, a, "fail");
	steps_of(f, a, buf, sizeof(buf));
	assert_string_equal(
		buf,
		"provision-host0=pass boot=pass guests=fail guests:d1:1 boots=pass guests:d1:2 cpuid leaf=fail");
	fx_text(f->db, buf, sizeof(buf), "SELECT message FROM steps WHERE name = 'guests'");
	assert_string_equal(buf, "d1: 1 of 2 test(s) failed");
	fx_text(f->db, buf, sizeof(buf),
		"SELECT status || ' ' || attempt FROM jobs WHERE name = 'tap'");
	assert_string_equal(buf, "fail 1");
	fx_text(f->db, buf, sizeof(buf),
		"SELECT count(*) FROM hosts WHERE needs_health_check = 1 OR state != 'idle'");
	assert_string_equal(buf, "0");
}

static void dying_host_is_broken_and_bounded(void **state)
{
	struct fx *f = *state;
	char buf[1024];

	/* A third host, so that each attempt finds a fresh one. */
	assert_int_equal(
		db_exec(f->db,
			"INSERT INTO hosts (name, driver, updated_at) VALUES ('host2', 'qemu', 0)",
			err, sizeof(err)),
		SQLITE_OK);
	console(f, "kill", "");
	long long a = submit(f, "tap");
	fx_wait_flight(f->db, a, "broken");
	fx_text(f->db, buf, sizeof(buf),
		"SELECT status || ' ' || attempt FROM jobs WHERE name = 'tap'");
	assert_string_equal(buf, "broken 3");
	/* Three attempts, each on another host; each says the host died. */
	fx_text(f->db, buf, sizeof(buf),
		"SELECT count(*) FROM steps WHERE status = 'broken'"
		" AND message LIKE '%%QEMU killed by signal 9'");
	assert_string_equal(buf, "3");
	fx_text(f->db, buf, sizeof(buf),
		"SELECT count(DISTINCT s.attempt) FROM steps s JOIN jobs j ON j.id = s.job_id WHERE j.name = 'tap'");
	assert_string_equal(buf, "3");
	fx_text(f->db, buf, sizeof(buf),
		"SELECT group_concat(DISTINCT h.name) FROM job_hosts jh"
		" JOIN hosts h ON h.id = jh.host_id JOIN jobs j ON j.id = jh.job_id WHERE j.name = 'tap'");
	assert_string_equal(buf, "host0,host1,host2");
	/* All three quarantined; their health checks fail too (this stand-in
     * host always dies), so none is back in the pool. */
	fx_text(f->db, buf, sizeof(buf), "SELECT count(*) FROM hosts WHERE needs_health_check = 1");
	assert_string_equal(buf, "3");
}

static void hang_is_fail_at_job_timeout(void **state)
{
	struct fx *f = *state;
	char buf[1024];

	console(f, "hang", "");
	long long a = submit(f, "hang");
	fx_wait_flight(f->db, a, "fail");
	steps_of(f, a, buf, sizeof(buf));
	assert_string_equal(buf, "provision-host0=pass boot=pass never=fail");
	fx_text(f->db, buf, sizeof(buf), "SELECT message FROM steps WHERE name = 'never'");
	assert_string_equal(buf, "job timeout reached");
	fx_text(f->db, buf, sizeof(buf),
		"SELECT count(*) FROM hosts WHERE needs_health_check = 1 OR state != 'idle'");
	assert_string_equal(buf, "0");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(json_lines_steps_and_metrics, setup, teardown),
		cmocka_unit_test_setup_teardown(failing_tap_is_fail, setup, teardown),
		cmocka_unit_test_setup_teardown(dying_host_is_broken_and_bounded, setup, teardown),
		cmocka_unit_test_setup_teardown(hang_is_fail_at_job_timeout, setup, teardown),
	};
	return cmocka_run_group_tests_name("executor_console", tests, NULL, NULL);
}
