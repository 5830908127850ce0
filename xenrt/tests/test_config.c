/* test_config.c: embedded defaults and the JSON config file's errors, which
 * must name the file, the key path and what was expected. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"

static char path[64];

static int setup(void **state)
{
	(void)state;
	snprintf(path, sizeof path, "/tmp/xenrt-test-config-XXXXXX");
	int fd = mkstemp(path);
	if (fd < 0)
		return -1;
	close(fd);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	return unlink(path);
}

static void write_config(const char *text)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* Loads `text` and expects failure with exactly "<path>: <tail>". */
static void expect_error(const char *text, const char *tail)
{
	struct xenrt_config cfg;
	char err[512], want[512];
	write_config(text);
	assert_int_equal(config_load(&cfg, path, err, sizeof err), -1);
	snprintf(want, sizeof want, "%s: %s", path, tail);
	assert_string_equal(err, want);
}

static void defaults_work_without_a_file(void **state)
{
	(void)state;
	struct xenrt_config cfg;
	char err[512];
	assert_int_equal(config_load(&cfg, NULL, err, sizeof err), 0);
	assert_string_equal(cfg.db_path, "var/xenrt.db");
	assert_string_equal(cfg.log_dir, "var/logs");
	assert_string_equal(cfg.http_addr, "127.0.0.1");
	assert_int_equal(cfg.http_port, 8080);
	assert_string_equal(cfg.public_url, "http://10.0.2.2:8080");
	assert_int_equal(cfg.nhosts, 2);
	assert_string_equal(cfg.hosts[0].name, "host0");
	assert_string_equal(cfg.hosts[1].name, "host1");
	assert_string_equal(cfg.hosts[0].driver, "qemu");
	assert_string_equal(cfg.hosts[0].cpu_model, "max");
	assert_int_equal(cfg.hosts[1].memory_mib, 1024);
}

static void file_overrides_defaults(void **state)
{
	(void)state;
	struct xenrt_config cfg;
	char err[512];
	write_config(
		"{\"db_path\": \"/srv/x.db\", \"http_port\": 9000,\n"
		" \"hosts\": [{\"name\": \"amd0\", \"memory_mib\": 2048, \"vcpus\": 4},\n"
		"            {\"name\": \"bx0\", \"driver\": \"bochs\", \"cpu_vendor\": \"intel\","
		" \"cpu_model\": \"corei7_skylake_x\", \"flags\": \"vmx ept\"},\n"
		"            {\"name\": \"amd1\"}]}");
	assert_int_equal(config_load(&cfg, path, err, sizeof err), 0);
	assert_string_equal(cfg.db_path, "/srv/x.db");
	assert_string_equal(cfg.state_dir, "var");
	assert_int_equal(cfg.http_port, 9000);
	assert_string_equal(cfg.public_url, "http://10.0.2.2:9000");
	assert_int_equal(cfg.nhosts, 3);
	assert_int_equal(cfg.hosts[0].memory_mib, 2048);
	assert_int_equal(cfg.hosts[0].vcpus, 4);
	assert_string_equal(cfg.hosts[1].driver, "bochs");
	assert_string_equal(cfg.hosts[1].flags, "vmx ept");
	assert_string_equal(cfg.hosts[2].cpu_model, "max");
}

static void port_flag_moves_derived_public_url_only(void **state)
{
	(void)state;
	struct xenrt_config cfg;
	char err[512];
	config_defaults(&cfg);
	config_set_port(&cfg, 18080);
	assert_string_equal(cfg.public_url, "http://10.0.2.2:18080");
	write_config("{\"public_url\": \"http://192.168.1.5:80\"}");
	assert_int_equal(config_load(&cfg, path, err, sizeof err), 0);
	config_set_port(&cfg, 18081);
	assert_int_equal(cfg.http_port, 18081);
	assert_string_equal(cfg.public_url, "http://192.168.1.5:80");
}

static void bad_values_are_precise(void **state)
{
	(void)state;
	expect_error("{\"hosts\": [{\"name\": \"a\"}, {\"name\": \"b\", \"memory_mib\": 64}]}",
		     "hosts[1].memory_mib: expected integer 128..65536");
	expect_error("{\"hosts\": [{\"name\": \"a\", \"memory_mib\": \"1024\"}]}",
		     "hosts[0].memory_mib: expected integer 128..65536");
	expect_error("{\"hosts\": [{\"name\": \"a\", \"vcpus\": 0}]}",
		     "hosts[0].vcpus: expected integer 1..64");
	expect_error("{\"http_port\": 70000}", "http_port: expected integer 0..65535");
	expect_error("{\"http_port\": 80.5}", "http_port: expected integer 0..65535");
	expect_error("{\"hosts\": [{\"name\": \"a\", \"driver\": \"kvm\"}]}",
		     "hosts[0].driver: expected one of \"qemu\", \"bochs\", \"physical\"");
	expect_error("{\"hosts\": [{\"name\": \"Host A\"}]}",
		     "hosts[0].name: expected 1..63 characters of [a-z0-9_-]");
	expect_error("{\"hosts\": [{\"name\": \"a\"}, {\"name\": \"a\"}]}",
		     "hosts[1].name: duplicate host name");
	expect_error("{\"hosts\": [{\"vcpus\": 2}]}",
		     "hosts[0].name: missing (every host needs a name)");
	expect_error("{\"hosts\": []}", "hosts: expected array of 1..32 host objects");
	expect_error("{\"db_path\": 5}", "db_path: expected string");
	expect_error("{\"db_path\": \"\"}", "db_path: expected a non-empty path");
	expect_error("{\"public_url\": \"ftp://x\"}",
		     "public_url: expected a URL starting with http://");
	expect_error("[1, 2]", "(top level): expected object");
}

static void unknown_keys_are_errors(void **state)
{
	(void)state;
	expect_error(
		"{\"db\": \"x.db\"}",
		"db: unknown key (known: db_path, state_dir, log_dir, artifact_dir, work_dir, "
		"suites_dir, pxe_dir, web_dir, http_addr, http_port, public_url, hosts, "
		"max_queued_per_token, max_patch_bytes, webhooks, webhook_timeout_s, "
		"webhook_retry_ms, webhook_max_attempts, schedules, branches, steward_tick_ms, "
		"bisect_repeats)");
	expect_error("{\"hosts\": [{\"name\": \"a\", \"memory_mb\": 1024}]}",
		     "hosts[0].memory_mb: unknown key (known: name, driver, cpu_vendor, cpu_model, "
		     "vcpus, memory_mib, flags)");
}

static void malformed_json_names_line_and_column(void **state)
{
	(void)state;
	struct xenrt_config cfg;
	char err[512], want[128];
	write_config("{\n  \"http_port\": 80,\n  \"db_path\" \"x\"\n}");
	assert_int_equal(config_load(&cfg, path, err, sizeof err), -1);
	snprintf(want, sizeof want, "%s:3:", path);
	assert_memory_equal(err, want, strlen(want));
	write_config("{\"http_port\": 1, \"http_port\": 2}");
	assert_int_equal(config_load(&cfg, path, err, sizeof err), -1);
	assert_non_null(strstr(err, "duplicate"));
}

/* The example shipped for operators spells out the defaults exactly. */
static void shipped_example_equals_the_defaults(void **state)
{
	(void)state;
	const char *top = getenv("XENRT_TOP");
	char example[512], err[512];
	snprintf(example, sizeof example, "%s/xenrt/etc/xenrt.example.json", top ? top : "..");
	struct xenrt_config a, b;
	assert_int_equal(config_load(&a, example, err, sizeof err), 0);
	config_defaults(&b);
	a.public_url_explicit = b.public_url_explicit;
	assert_memory_equal(&a, &b, sizeof a);
}

static void missing_file_is_an_error(void **state)
{
	(void)state;
	struct xenrt_config cfg;
	char err[512];
	assert_int_equal(config_load(&cfg, "/nonexistent/xenrt.json", err, sizeof err), -1);
	assert_non_null(strstr(err, "/nonexistent/xenrt.json"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(defaults_work_without_a_file, setup, teardown),
		cmocka_unit_test_setup_teardown(file_overrides_defaults, setup, teardown),
		cmocka_unit_test_setup_teardown(port_flag_moves_derived_public_url_only, setup,
						teardown),
		cmocka_unit_test_setup_teardown(bad_values_are_precise, setup, teardown),
		cmocka_unit_test_setup_teardown(unknown_keys_are_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(malformed_json_names_line_and_column, setup,
						teardown),
		cmocka_unit_test_setup_teardown(shipped_example_equals_the_defaults, setup,
						teardown),
		cmocka_unit_test_setup_teardown(missing_file_is_an_error, setup, teardown),
	};
	return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
