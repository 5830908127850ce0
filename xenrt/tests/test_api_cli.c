/* test_api_cli.c: the xenrt binary as users run it: `xenrt serve` started
 * as a real process (on an ephemeral port, temporary state), the CLI
 * commands against it with their messages and exit codes, and a clean stop
 * on SIGTERM.  Uses the binary named by $XENRT_BIN (set by the Makefile). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

static char dir[64], cfg[128], bin[512], url[64], token[256];
static pid_t daemon_pid;

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* Runs a shell command line; returns its exit status, output in out. */
static int run(char *out, size_t len, const char *fmt, ...)
{
	char cmd[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof cmd, fmt, ap);
	va_end(ap);
	FILE *p = popen(cmd, "r");
	assert_non_null(p);
	size_t n = fread(out, 1, len - 1, p);
	out[n] = '\0';
	int st = pclose(p);
	int rc = WIFEXITED(st) ? WEXITSTATUS(st) : 128;
	return rc;
}

static pid_t start_serve(const char *args, const char *log)
{
	pid_t pid = fork();
	if (pid == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		if (fd < 0 || dup2(fd, 2) < 0 || chdir(dir) < 0)
			_exit(127);
		char cmd[1024];
		snprintf(cmd, sizeof cmd, "exec '%s' serve %s", bin, args);
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	return pid;
}

/* Waits for the daemon's start-up line and takes the port from it. */
static int wait_port(const char *log)
{
	for (int i = 0; i < 200; i++) {
		char buf[1024] = "";
		FILE *f = fopen(log, "r");
		if (f) {
			size_t n = fread(buf, 1, sizeof buf - 1, f);
			buf[n] = '\0';
			fclose(f);
		}
		const char *p = strstr(buf, "status page http://127.0.0.1:");
		if (p)
			return atoi(p + strlen("status page http://127.0.0.1:"));
		struct timespec ts = { 0, 25 * 1000 * 1000 };
		nanosleep(&ts, NULL);
	}
	return -1;
}

static int group_setup(void **state)
{
	(void)state;
	const char *b = getenv("XENRT_BIN"), *top = getenv("XENRT_TOP");
	snprintf(bin, sizeof bin, "%s", b ? b : "build/xenrt");
	snprintf(dir, sizeof dir, "/tmp/xenrt-test-cli-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(cfg, sizeof cfg, "%s/cfg.json", dir);
	char text[1024];
	snprintf(text, sizeof text,
		 "{\"db_path\": \"%s/x.db\", \"state_dir\": \"%s\", \"log_dir\": "
		 "\"%s/logs\", \"suites_dir\": \"%s/testsuites\", \"web_dir\": \"%s/web-status\", "
		 "\"http_port\": 0}",
		 dir, dir, dir, top ? top : "..", top ? top : "..");
	write_file(cfg, text);
	char out[256], path[128];
	if (run(out, sizeof out, "'%s' token create cli --config '%s' 2>/dev/null", bin, cfg) != 0)
		return -1;
	out[strcspn(out, "\n")] = '\0';
	snprintf(token, sizeof token, "%s", out);
	snprintf(path, sizeof path, "%s/token", dir);
	write_file(path, token);
	char log[128];
	snprintf(log, sizeof log, "%s/serve.log", dir);
	char args[256];
	snprintf(args, sizeof args, "--config '%s' --no-executor", cfg);
	daemon_pid = start_serve(args, log);
	int port = wait_port(log);
	if (port <= 0)
		return -1;
	snprintf(url, sizeof url, "http://127.0.0.1:%d", port);
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	if (daemon_pid > 0) {
		kill(daemon_pid, SIGKILL);
		waitpid(daemon_pid, NULL, 0);
	}
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	return system(cmd);
}

static void submit_then_list_and_show(void **state)
{
	(void)state;
	char out[4096];
	assert_int_equal(run(out, sizeof out,
			     "cd '%s' && '%s' submit --url %s --config '%s' "
			     "--repo . --ref HEAD --suite smoke --runvar a=b 2>&1",
			     dir, bin, url, cfg),
			 0);
	assert_non_null(strstr(out, "flight 1 submitted: "));
	assert_non_null(strstr(out, "/flights/1"));
	assert_int_equal(run(out, sizeof out, "'%s' list --url %s 2>&1", bin, url), 0);
	assert_non_null(strstr(out, "1       queued     pending"));
	assert_int_equal(run(out, sizeof out, "'%s' list --kind gate --url %s 2>&1", bin, url), 0);
	assert_null(strstr(out, "1       queued"));
	assert_int_equal(run(out, sizeof out, "'%s' list --kind weekly --url %s 2>&1", bin, url),
			 3);
	assert_non_null(strstr(out, "HTTP 400: query parameter 'kind'"));
	assert_int_equal(run(out, sizeof out, "'%s' show 1 --url %s 2>&1", bin, url), 0);
	assert_non_null(strstr(out, "flight 1: queued (verdict pending)"));
	assert_non_null(strstr(out, "smoke"));
	/* The local path was sent absolute. */
	char want[128];
	snprintf(want, sizeof want, "branch %s @ HEAD", dir);
	assert_non_null(strstr(out, want));
}

static void rejected_requests_exit_3_with_the_reason(void **state)
{
	(void)state;
	char out[4096];
	assert_int_equal(run(out, sizeof out,
			     "'%s' submit --url %s --config '%s' --repo . --ref m "
			     "--suite no-such 2>&1",
			     bin, url, cfg),
			 3);
	assert_non_null(strstr(out, "HTTP 422: suite 'no-such': unknown suite"));
	assert_int_equal(run(out, sizeof out,
			     "'%s' submit --url %s --config '%s' --repo /no/such/dir "
			     "--ref m --suite smoke 2>&1",
			     bin, url, cfg),
			 3);
	assert_non_null(strstr(out, "--repo /no/such/dir: No such file or directory"));
	assert_int_equal(run(out, sizeof out, "'%s' show 999 --url %s 2>&1", bin, url), 3);
	assert_non_null(strstr(out, "HTTP 404: no flight 999"));
	assert_int_equal(
		run(out, sizeof out, "XENRT_TOKEN=%064d '%s' cancel 1 --url %s 2>&1", 0, bin, url),
		3);
	assert_non_null(strstr(out, "HTTP 401: invalid or revoked token"));
	assert_int_equal(run(out, sizeof out, "'%s' list --url http://127.0.0.1:1 2>&1", bin), 3);
	assert_non_null(strstr(out, "cannot reach the daemon at http://127.0.0.1:1"));
}

static void usage_errors_exit_2(void **state)
{
	(void)state;
	char out[4096];
	assert_int_equal(run(out, sizeof out, "'%s' submit --repo /r --ref m 2>&1", bin), 2);
	assert_non_null(strstr(out, "usage: xenrt submit"));
	assert_int_equal(run(out, sizeof out, "'%s' show abc 2>&1", bin), 2);
	assert_int_equal(run(out, sizeof out, "'%s' frobnicate 2>&1", bin), 2);
	assert_non_null(strstr(out, "unknown command 'frobnicate'"));
	assert_int_equal(run(out, sizeof out, "'%s' serve --port 99999 2>&1", bin), 2);
}

static void cancel_and_hosts(void **state)
{
	(void)state;
	char out[4096];
	assert_int_equal(
		run(out, sizeof out, "'%s' cancel 1 --url %s --config '%s' 2>&1", bin, url, cfg),
		0);
	assert_non_null(strstr(out, "flight 1: cancel requested"));
	assert_int_equal(run(out, sizeof out, "XENRT_URL=%s '%s' hosts 2>&1", url, bin), 0);
	assert_non_null(strstr(out, "host0"));
	assert_non_null(strstr(out, "host1"));
}

static void tokens_on_the_local_database(void **state)
{
	(void)state;
	char out[4096];
	assert_int_equal(run(out, sizeof out, "'%s' token list --config '%s' 2>&1", bin, cfg), 0);
	assert_non_null(strstr(out, "cli "));
	assert_int_equal(run(out, sizeof out, "'%s' token check --config '%s' 2>&1", bin, cfg), 0);
	assert_int_equal(
		run(out, sizeof out, "'%s' token revoke nobody --config '%s' 2>&1", bin, cfg), 3);
	assert_non_null(strstr(out, "no live token named 'nobody'"));
	assert_int_equal(
		run(out, sizeof out, "'%s' token create 'a b' --config '%s' 2>&1", bin, cfg), 3);
}

/* `xenrt gc` on the local database: what it would free, what it frees. */
static void gc_frees_old_artifacts(void **state)
{
	(void)state;
	char out[4096], gcfg[128], text[512];
	static const char hex[] =
		"5994471abb01112afcc18159f6cc74b4f511b99806da59b3caf5a9c173cacfc5";
	snprintf(gcfg, sizeof gcfg, "%s/gc.json", dir);
	snprintf(text, sizeof text,
		 "{\"db_path\": \"%s/gc.db\", \"state_dir\": \"%s\", "
		 "\"artifact_dir\": \"%s/art\"}",
		 dir, dir, dir);
	write_file(gcfg, text);
	assert_int_equal(
		run(out, sizeof out,
		    "'%s' db migrate --config '%s' 2>&1 && mkdir '%s/art' && "
		    "printf 12345 > '%s/art/%s' && sqlite3 '%s/gc.db' \"INSERT INTO flights "
		    "(id, kind, repo, ref, submitter, created_at, status) VALUES (1, 'branch', "
		    "'/r', 'm', 't', 1, 'pass'), (2, 'branch', '/r', 'm', 't', 2, 'pass'); "
		    "INSERT INTO artifacts VALUES ('%s', 5, 1); INSERT INTO flight_artifacts "
		    "VALUES (1, 'hypervisor', '%s')\"",
		    bin, gcfg, dir, dir, hex, dir, hex, hex),
		0);
	assert_int_equal(run(out, sizeof out,
			     "'%s' gc --keep-flights 1 --dry-run --config '%s' 2>&1", bin, gcfg),
			 0);
	char want[256];
	snprintf(want, sizeof want,
		 "would remove %s (5 bytes)\nwould free 1 artifact file(s), "
		 "5 bytes; kept 0 in use",
		 hex);
	assert_non_null(strstr(out, want));
	assert_int_equal(run(out, sizeof out, "test -f '%s/art/%s'", dir, hex), 0);
	assert_int_equal(
		run(out, sizeof out, "'%s' gc --keep-flights 2 --config '%s' 2>&1", bin, gcfg), 0);
	assert_non_null(strstr(out, "freed 0 artifact file(s), 0 bytes; kept 1 in use"));
	assert_int_equal(
		run(out, sizeof out, "'%s' gc --keep-flights 1 --config '%s' 2>&1", bin, gcfg), 0);
	snprintf(want, sizeof want, "removed %s (5 bytes)\nfreed 1 artifact file(s), 5 bytes", hex);
	assert_non_null(strstr(out, want));
	assert_int_equal(run(out, sizeof out, "test -e '%s/art/%s'", dir, hex), 1);
	assert_int_equal(
		run(out, sizeof out, "sqlite3 '%s/gc.db' 'SELECT count(*) FROM artifacts'", dir),
		0);
	assert_string_equal(out, "0\n");
	assert_int_equal(
		run(out, sizeof out, "'%s' gc --keep-flights -1 --config '%s' 2>&1", bin, gcfg), 2);
	assert_non_null(strstr(out, "--keep-flights: expected an integer 0..1000000, got '-1'"));
}

static void bad_config_and_newer_database_stop_serve(void **state)
{
	(void)state;
	char out[4096], bad[128];
	snprintf(bad, sizeof bad, "%s/bad.json", dir);
	write_file(bad, "{\"hosts\": [{\"name\": \"a\"}, {\"name\": \"b\", \"memory_mib\": 64}]}");
	assert_int_equal(run(out, sizeof out, "'%s' serve --config '%s' 2>&1", bin, bad), 3);
	char want[256];
	snprintf(want, sizeof want, "%s: hosts[1].memory_mib: expected integer 128..65536", bad);
	assert_non_null(strstr(out, want));
	assert_int_equal(run(out, sizeof out,
			     "sqlite3 '%s/new.db' 'PRAGMA user_version = 999' && "
			     "'%s' serve --db '%s/new.db' --port 0 2>&1",
			     dir, bin, dir),
			 3);
	assert_non_null(strstr(out, "newer than this xenrt knows"));
}

/* submit --wait follows the flight to its end and exits with the verdict:
 * 1 for a failed flight.  With --no-executor the test plays the executor. */
static void submit_wait_exits_with_the_verdict(void **state)
{
	(void)state;
	char out[4096], rcfile[128];
	snprintf(rcfile, sizeof rcfile, "%s/wait.rc", dir);
	assert_int_equal(run(out, sizeof out,
			     "(cd '%s' && '%s' submit --url %s --config '%s' --repo . "
			     "--ref HEAD --suite smoke --wait > wait.out 2>&1; echo $? > wait.rc) "
			     "> /dev/null 2>&1 &",
			     dir, bin, url, cfg),
			 0);
	int found = 0;
	for (int i = 0; i < 100 && !found; i++) {
		run(out, sizeof out, "grep -o 'flight [0-9]* submitted' '%s/wait.out' 2>/dev/null",
		    dir);
		found = strstr(out, "submitted") != NULL;
		struct timespec ts = { 0, 50 * 1000 * 1000 };
		nanosleep(&ts, NULL);
	}
	assert_true(found);
	int id = atoi(out + strlen("flight "));
	assert_int_equal(
		run(out, sizeof out,
		    "sqlite3 '%s/x.db' \"UPDATE flights SET status = "
		    "'fail' WHERE id = %d; UPDATE jobs SET status = 'fail' WHERE flight_id = %d;"
		    "INSERT INTO steps(job_id, seq, name, status, started_at, message) SELECT "
		    "max(id), 1, 'boot', 'fail', 1, 'no banner' FROM jobs WHERE flight_id = %d\"",
		    dir, id, id, id),
		0);
	int rc = -1;
	for (int i = 0; i < 200 && rc < 0; i++) {
		if (run(out, sizeof out, "cat '%s' 2>/dev/null", rcfile) == 0 && out[0])
			rc = atoi(out);
		struct timespec ts = { 0, 50 * 1000 * 1000 };
		nanosleep(&ts, NULL);
	}
	assert_int_equal(rc, 1);
	assert_int_equal(run(out, sizeof out, "cat '%s/wait.out'", dir), 0);
	assert_non_null(strstr(out, ": fail (verdict fail)"));
	assert_non_null(strstr(out, "fail boot: no banner"));
}

static void serve_stops_cleanly_on_sigterm(void **state)
{
	(void)state;
	char log[128], args[256];
	snprintf(log, sizeof log, "%s/serve2.log", dir);
	snprintf(args, sizeof args, "--config '%s' --no-executor", cfg);
	pid_t pid = start_serve(args, log);
	assert_true(wait_port(log) > 0);
	assert_int_equal(kill(pid, SIGTERM), 0);
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	char out[2048];
	assert_int_equal(run(out, sizeof out, "cat '%s'", log), 0);
	assert_non_null(strstr(out, "shutting down"));
	assert_non_null(strstr(out, "xenrt serve: stopped"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(submit_then_list_and_show),
		cmocka_unit_test(rejected_requests_exit_3_with_the_reason),
		cmocka_unit_test(usage_errors_exit_2),
		cmocka_unit_test(cancel_and_hosts),
		cmocka_unit_test(tokens_on_the_local_database),
		cmocka_unit_test(gc_frees_old_artifacts),
		cmocka_unit_test(bad_config_and_newer_database_stop_serve),
		cmocka_unit_test(submit_wait_exits_with_the_verdict),
		cmocka_unit_test(serve_stops_cleanly_on_sigterm),
	};
	return cmocka_run_group_tests_name("cli", tests, group_setup, group_teardown);
}
