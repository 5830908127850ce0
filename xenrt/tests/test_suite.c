/* test_suite.c: suite file loading, including the real testsuites/ files
 * and every kind of mistake a person editing a suite can make. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "suite.h"

static char err[512];

static const char *suites_dir(void)
{
	static char dir[1024];
	const char *top = getenv("XENRT_TOP");

	snprintf(dir, sizeof(dir), "%s/testsuites", top ? top : "..");
	return dir;
}

static const char good[] = "# a comment\n"
			   "description = two steps\n"
			   "hosts = 2\n"
			   "job_timeout = 120\n"
			   "cmdline = console=com1 exit_when_idle\n"
			   "module = guest-hello name=d1 weight=256\n"
			   "\n"
			   "[step boot]\n"
			   "kind = console-match\n"
			   "expect = (kiln) Kiln\n"
			   "timeout = 30\n"
			   "[step guests]\n"
			   "kind = console-tap\n"
			   "host = 1\n"
			   "sources = kiln d1\n"
			   "exit_code = 0\n"
			   "timeout = 60\n";

static void parses_every_field(void **state)
{
	struct suite *s;

	(void)state;
	assert_int_equal(suite_parse(good, "x.suite", "x", &s, err, sizeof(err)), 0);
	assert_string_equal(s->name, "x");
	assert_int_equal(s->hosts_needed, 2);
	assert_int_equal(s->job_timeout_s, 120);
	assert_string_equal(s->hypervisor, "hypervisor");
	assert_string_equal(s->cmdline, "console=com1 exit_when_idle");
	assert_int_equal(s->n_modules, 1);
	assert_string_equal(s->modules[0].artifact, "guest-hello");
	assert_string_equal(s->modules[0].args, "name=d1 weight=256");
	assert_int_equal(s->n_steps, 2);
	assert_int_equal(s->steps[0].kind, SUITE_STEP_CONSOLE_MATCH);
	assert_string_equal(s->steps[0].expect, "(kiln) Kiln");
	assert_int_equal(s->steps[0].exit_code, -1);
	assert_int_equal(s->steps[1].kind, SUITE_STEP_CONSOLE_TAP);
	assert_int_equal(s->steps[1].host, 1);
	assert_int_equal(s->steps[1].n_sources, 2);
	assert_string_equal(s->steps[1].sources[1], "d1");
	assert_int_equal(s->steps[1].exit_code, 0);
	assert_int_equal(s->steps[1].timeout_s, 60);
	suite_free(s);
}

struct bad_case {
	const char *text;
	const char *expect; /* substring of the error, with its line number */
};

static void rejects_mistakes_with_line(void **state)
{
	static const struct bad_case cases[] = {
		{ "job_timeout = 10\nfoo = 1\n", "t.suite:2: unknown key 'foo'" },
		{ "job_timeout = 10\nhosts = 0\n",
		  "t.suite:2: 'hosts' must be an integer in 1..8" },
		{ "job_timeout = ten\n", "t.suite:1: 'job_timeout' must be an integer" },
		{ "job_timeout = 10\n[step a]\nkind = telnet\n",
		  "t.suite:3: unknown step kind 'telnet'" },
		{ "job_timeout = 10\n[step a]\nkind = console-tap\n",
		  "t.suite:2: step 'a' has no 'timeout'" },
		{ "job_timeout = 10\n[step a]\ntimeout = 5\n",
		  "t.suite:2: step 'a' has no 'kind'" },
		{ "job_timeout = 10\n[step A B]\n", "t.suite:2: bad step name" },
		{ "job_timeout = 10\n[stepx]\n", "t.suite:2: unknown section" },
		{ "job_timeout = 10\n[step a\n", "t.suite:2: malformed section header" },
		{ "job_timeout = 10\njust words\n", "t.suite:2: expected 'key = value'" },
		{ "job_timeout = 10\n", "suite has no [step] section" },
		{ "[step a]\nkind = console-tap\ntimeout = 5\n", "suite has no 'job_timeout'" },
		{ "job_timeout = 10\n[step a]\nkind = console-tap\ntimeout = 5\n[step a]\n",
		  "t.suite:5: duplicate step 'a'" },
		{ "job_timeout = 10\n[step a]\nkind = console-match\ntimeout = 5\n",
		  "t.suite:2: console-match step 'a' needs 'expect'" },
		{ "job_timeout = 10\n[step a]\nkind = console-tap\nhost = 1\ntimeout = 5\n",
		  "t.suite:2: step 'a' reads host 1 but the suite has 1 host(s)" },
		{ "job_timeout = 10\n[step a]\nkind = ssh\ncommand = true\ntimeout = 5\n",
		  "t.suite:2: ssh step 'a' needs a dom0 (dom0 = kiln or plain)" },
		{ "job_timeout = 10\ndom0 = xen\n",
		  "t.suite:2: 'dom0' must be none, kiln or plain" },
		{ "job_timeout = 10\ndom0 = kiln\ndom0_timeout = 0\n",
		  "t.suite:3: 'dom0_timeout' must be an integer in 1..3600" },
		{ "job_timeout = 10\ndom0 = kiln\n[step a]\nkind = ssh\ntimeout = 5\n",
		  "t.suite:3: ssh step 'a' needs 'command'" },
		{ "job_timeout = 10\ndom0 = kiln\n[step a]\nkind = ssh\ncommand = x\noutput = xml\n",
		  "t.suite:6: 'output' must be none, tap or jsonl" },
		{ "job_timeout = 10\n[step a]\nkind = console-tap\ncommand = ls\ntimeout = 5\n",
		  "t.suite:2: 'command' is for ssh and local steps, not 'a'" },
		{ "job_timeout = 10\n[step a]\nkind = local\ncommand = true\ntimeout = 5\n",
		  "t.suite:2: step 'a': local steps need 'provision = none'" },
		{ "job_timeout = 10\nprovision = none\n[step a]\nkind = console-match\nexpect = x\n"
		  "timeout = 5\n",
		  "t.suite:3: step 'a': local steps need 'provision = none', and only" },
		{ "job_timeout = 10\nprovision = none\n[step a]\nkind = local\ntimeout = 5\n",
		  "t.suite:3: local step 'a' needs 'command'" },
		{ "job_timeout = 10\nprovision = none\ncmdline = x\n[step a]\nkind = local\n"
		  "command = true\ntimeout = 5\n",
		  "provision = none boots nothing" },
		{ "job_timeout = 10\nprovision = pxe\n",
		  "t.suite:2: 'provision' must be ipxe or none" },
		{ "job_timeout = 10\ndom0 = plain\nmodule = guest-hello\n[step a]\nkind = ssh\n"
		  "command = x\ntimeout = 5\n",
		  "dom0 = plain boots no hypervisor" },
		{ "job_timeout = 10\nmodule = ../etc x\n", "t.suite:2: bad module artifact role" },
		{ "job_timeout = 10\ncmdline = a\x01"
		  "b\n",
		  "t.suite:2: value of 'cmdline' contains a control character" },
		{ "job_timeout = 10\n[step a]\nsources = \n",
		  "t.suite:3: 'sources' needs at least one name" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct suite *s = (struct suite *)1;
		int rc = suite_parse(cases[i].text, "t.suite", "t", &s, err, sizeof(err));
		if (rc == 0 || !strstr(err, cases[i].expect))
			fail_msg("case %zu: rc=%d err='%s', wanted '%s'", i, rc, err,
				 cases[i].expect);
		assert_null(s);
	}
}

static const char with_dom0[] = "job_timeout = 100\n"
				"dom0 = kiln\n"
				"dom0_cmdline = console=ttyS0\n"
				"dom0_timeout = 30\n"
				"[step list]\n"
				"kind = ssh\n"
				"command = kl list | grep -q dom0\n"
				"output = tap\n"
				"timeout = 10\n";

static void parses_dom0_and_ssh_steps(void **state)
{
	struct suite *s;

	(void)state;
	assert_int_equal(suite_parse(with_dom0, "d.suite", "d", &s, err, sizeof(err)), 0);
	assert_int_equal(s->dom0, SUITE_DOM0_KILN);
	assert_true(suite_needs_dom0(s));
	assert_string_equal(s->dom0_cmdline, "console=ttyS0");
	assert_int_equal(s->dom0_timeout_s, 30);
	assert_int_equal(s->steps[0].kind, SUITE_STEP_SSH);
	assert_string_equal(s->steps[0].command, "kl list | grep -q dom0");
	assert_int_equal(s->steps[0].output, SUITE_OUTPUT_TAP);
	suite_free(s);
	/* Defaults: no dom0; with one, a quiet serial console and 60 s. */
	assert_int_equal(suite_parse(good, "x.suite", "x", &s, err, sizeof(err)), 0);
	assert_false(suite_needs_dom0(s));
	assert_string_equal(s->dom0_cmdline, "console=ttyS0 quiet");
	assert_int_equal(s->dom0_timeout_s, 60);
	suite_free(s);
}

static void rejects_long_values(void **state)
{
	char text[2048];
	struct suite *s;

	(void)state;
	snprintf(text, sizeof(text), "job_timeout = 1\ncmdline = %0700d\n", 0);
	assert_int_equal(suite_parse(text, "t.suite", "t", &s, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "t.suite:2: value of 'cmdline' too long"));
}

static void rejects_bad_names(void **state)
{
	static const char *const names[] = {
		"",
		"../smoke",
		"Smoke",
		"a/b",
		"a.b",
		"smoke\n",
		"0123456789012345678901234567890123456789012345678901234567890123"
	};
	struct suite *s;

	(void)state;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		assert_int_equal(suite_load(suites_dir(), names[i], &s, err, sizeof(err)), -1);
		assert_non_null(strstr(err, "invalid suite name"));
		assert_false(suite_name_valid(names[i]));
	}
	assert_true(suite_name_valid("smoke"));
	assert_true(suite_name_valid("hv-selftest_2"));
}

static void unknown_suite(void **state)
{
	struct suite *s;

	(void)state;
	assert_int_equal(suite_load(suites_dir(), "no-such-suite", &s, err, sizeof(err)), -1);
	assert_string_equal(err, "unknown suite 'no-such-suite'");
}

/* The shipped suites are what users submit: they must load. */
static void shipped_suites_load(void **state)
{
	static const char *const names[] = { "smoke", "hv-selftest", "hv-guests", "smoke-2host",
					     "health" };
	struct suite *s;

	(void)state;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (suite_load(suites_dir(), names[i], &s, err, sizeof(err)))
			fail_msg("%s: %s", names[i], err);
		assert_true(s->n_steps > 0);
		suite_free(s);
	}
	assert_int_equal(suite_load(suites_dir(), "smoke-2host", &s, err, sizeof(err)), 0);
	assert_int_equal(s->hosts_needed, 2);
	suite_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(parses_every_field),
		cmocka_unit_test(rejects_mistakes_with_line),
		cmocka_unit_test(parses_dom0_and_ssh_steps),
		cmocka_unit_test(rejects_long_values),
		cmocka_unit_test(rejects_bad_names),
		cmocka_unit_test(unknown_suite),
		cmocka_unit_test(shipped_suites_load),
	};
	return cmocka_run_group_tests_name("suite", tests, NULL, NULL);
}
