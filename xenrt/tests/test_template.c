/* test_template.c: iPXE script rendering: placeholders, strictness, value
 * validation (no command or newline injection), and the script a host gets
 * from the database with the real pxe/templates. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "artifact.h"
#include "config.h"
#include "db.h"
#include "fixture_farm.h"
#include "provision.h"
#include "ssh_client.h"

static char err[512];

static void renders_placeholders(void **state)
{
	const struct pxe_var vars[] = { { "a", "x=1 y", 0 }, { "bb", "http://10.0.2.2:80/z", 0 } };
	char *out;

	(void)state;
	assert_int_equal(
		pxe_render("k {{bb}} {{a}}\n{{a}}{{a}}", "t", vars, 2, &out, err, sizeof(err)), 0);
	assert_string_equal(out, "k http://10.0.2.2:80/z x=1 y\nx=1 yx=1 y");
	free(out);
	assert_int_equal(pxe_render("", "t", vars, 2, &out, err, sizeof(err)), 0);
	assert_string_equal(out, "");
	free(out);
}

static void strict_placeholders(void **state)
{
	const struct pxe_var vars[] = { { "a", "1", 0 } };
	char *out = (char *)1;

	(void)state;
	assert_int_equal(pxe_render("ok\n{{b}}\n", "t.ipxe", vars, 1, &out, err, sizeof(err)), -1);
	assert_string_equal(err, "t.ipxe:2: unknown placeholder {{b}}");
	assert_null(out);
	assert_int_equal(pxe_render("x\ny\n{{a", "t.ipxe", vars, 1, &out, err, sizeof(err)), -1);
	assert_string_equal(err, "t.ipxe:3: unterminated placeholder");
	assert_int_equal(pxe_render("{{a\n}}", "t.ipxe", vars, 1, &out, err, sizeof(err)), -1);
	assert_string_equal(err, "t.ipxe:1: unterminated placeholder");
	assert_int_equal(pxe_render("{{}}", "t.ipxe", vars, 1, &out, err, sizeof(err)), -1);
	assert_string_equal(err, "t.ipxe:1: unknown placeholder {{}}");
}

static void rejects_injection(void **state)
{
	static const char *const evil[] = {
		"a\nshell", "a || shell", "a && shell", "${net0/ip}", "a\rb", "\"q\"",  "a'b",
		"a;b",      "a\\nb",      "a#b",        "a`b`",       "a<b",  "a{{b}}",
	};
	char *out;

	(void)state;
	for (size_t i = 0; i < sizeof(evil) / sizeof(evil[0]); i++) {
		const struct pxe_var vars[] = { { "cmdline", evil[i], 0 } };
		assert_false(pxe_value_valid(evil[i]));
		assert_int_equal(
			pxe_render("kernel x {{cmdline}}\n", "t", vars, 1, &out, err, sizeof(err)),
			-1);
		assert_non_null(
			strstr(err, "t:1: value of {{cmdline}} has characters unsafe in iPXE"));
	}
	assert_true(pxe_value_valid("loglvl=info exit_when_idle dom0_cpus=1 name=a,b:c/d+e@f%g~h"));
	/* Renderer-built multi-line values pass through as they are. */
	const struct pxe_var ml[] = { { "modules", "module a\nmodule b", 1 } };
	assert_int_equal(pxe_render("{{modules}}\nboot\n", "t", ml, 1, &out, err, sizeof(err)), 0);
	assert_string_equal(out, "module a\nmodule b\nboot\n");
	free(out);
}

static void role_files(void **state)
{
	char f[64];

	(void)state;
	provision_role_file("hypervisor", f, sizeof(f));
	assert_string_equal(f, "kiln.elf");
	provision_role_file("guest-hello", f, sizeof(f));
	assert_string_equal(f, "hello.elf");
	provision_role_file("dom0-kernel", f, sizeof(f));
	assert_string_equal(f, "vmlinuz");
	provision_role_file("dom0-initrd", f, sizeof(f));
	assert_string_equal(f, "initramfs.cpio.xz");
	provision_role_file("dom0-hostkey", f, sizeof(f));
	assert_string_equal(f, "dom0-hostkey");
}

/* The real templates and suites, a temp database: what /boot/host0.ipxe
 * returns for a reserved host, a health check, and an idle host. */
/* A farm in a temporary directory (defaults: host0, host1) whose boot
 * scripts point at a fixed public URL. */
static sqlite3 *script_farm(struct xenrt_config *cfg, char *dir, size_t dirlen)
{
	sqlite3 *db;

	assert_int_equal(fx_farm_dirs(cfg, dir, dirlen, "/tmp/xenrt-tmpl-XXXXXX"), 0);
	snprintf(cfg->suites_dir, sizeof(cfg->suites_dir), "%s/testsuites", fx_repo_top());
	snprintf(cfg->pxe_dir, sizeof(cfg->pxe_dir), "%s/pxe", fx_repo_top());
	snprintf(cfg->public_url, sizeof(cfg->public_url), "http://10.0.2.2:8123");
	assert_int_equal(fx_open_db(cfg, &db), 0);
	return db;
}

static void host_scripts_from_db(void **state)
{
	struct xenrt_config cfg;
	char dir[64], src[128], hv[65], guest[65], *out;
	sqlite3 *db = script_farm(&cfg, dir, sizeof(dir));
	FILE *f;

	(void)state;
	assert_int_equal(db_exec(db,
				 "INSERT INTO flights (id, kind, repo, ref, submitter, created_at) "
				 "VALUES (1,'patch','/r','main','t',0)",
				 err, sizeof(err)),
			 SQLITE_OK);
	snprintf(src, sizeof(src), "%s/k", dir);
	f = fopen(src, "w");
	fputs("kernel", f);
	fclose(f);
	assert_int_equal(
		artifact_store(db, cfg.artifact_dir, src, 1, "hypervisor", hv, err, sizeof(err)),
		0);
	f = fopen(src, "w");
	fputs("guest", f);
	fclose(f);
	assert_int_equal(artifact_store(db, cfg.artifact_dir, src, 1, "guest-hello", guest, err,
					sizeof(err)),
			 0);

	/* Idle host: nothing to boot. */
	assert_int_equal(provision_host_script(db, &cfg, "host0", &out, err, sizeof(err)), 1);
	assert_int_equal(provision_host_script(db, &cfg, "nohost", &out, err, sizeof(err)), 1);
	/* Quarantined host under check, before any build: an error, not a script. */
	assert_int_equal(
		db_exec(db,
			"UPDATE hosts SET state='provisioning', needs_health_check=1 WHERE name='host1'",
			err, sizeof(err)),
		SQLITE_OK);
	assert_int_equal(provision_host_script(db, &cfg, "host1", &out, err, sizeof(err)), -1);

	char sql[1024];
	snprintf(
		sql, sizeof(sql),
		"INSERT INTO jobs (id, flight_id, name, suite, hosts_needed, status, finished_at) VALUES (1,1,'build','build',0,'pass',1);"
		"INSERT INTO jobs (id, flight_id, name, suite, depends_on, status, attempt) VALUES (2,1,'smoke','smoke',1,'running',2);"
		"UPDATE hosts SET state='provisioning', reserved_by=2 WHERE name='host0';");
	assert_int_equal(db_exec(db, sql, err, sizeof(err)), SQLITE_OK);
	if (provision_host_script(db, &cfg, "host0", &out, err, sizeof(err)))
		fail_msg("%s", err);
	char want[512];
	snprintf(
		want, sizeof(want),
		"kernel http://10.0.2.2:8123/artifacts/%s/kiln.elf loglvl=info exit_when_idle || goto failed\n"
		"module http://10.0.2.2:8123/artifacts/%s/hello.elf name=hello || goto failed\n"
		"echo " PROVISION_HANDOVER_MARK "\n",
		hv, guest);
	if (!strstr(out, want))
		fail_msg("script:\n%s\nwanted:\n%s", out, want);
	assert_non_null(strstr(out, "#!ipxe\n"));
	assert_non_null(strstr(out, "echo xenrt-boot: host host0 job 2 attempt 2\n"));
	assert_null(strstr(out, "{{"));
	free(out);
	/* The health check boots the newest passed build's hypervisor. */
	if (provision_host_script(db, &cfg, "host1", &out, err, sizeof(err)))
		fail_msg("%s", err);
	assert_non_null(strstr(out, "job health-check"));
	assert_non_null(strstr(out, hv));
	free(out);
	fx_farm_close(db, dir);
}

/* Suites with a dom0: under Kiln its kernel and initramfs are the first
 * modules, with the farm's key on dom0's command line; dom0 = plain boots
 * them with iPXE's kernel/initrd and no hypervisor.  No farm key: no script. */
static void dom0_scripts_from_db(void **state)
{
	struct xenrt_config cfg;
	char dir[64], src[128], art[3][65], *out;
	char priv[1100], pub[1100], key[256], sql[1024], want[1024];
	sqlite3 *db = script_farm(&cfg, dir, sizeof(dir));

	(void)state;
	static const char *const roles[] = { "hypervisor", "dom0-kernel", "dom0-initrd" };
	assert_int_equal(db_exec(db,
				 "INSERT INTO flights (id, kind, repo, ref, submitter, created_at) "
				 "VALUES (1,'patch','/r','main','t',0)",
				 err, sizeof(err)),
			 SQLITE_OK);
	for (int i = 0; i < 3; i++) {
		snprintf(src, sizeof(src), "%s/a%d", dir, i);
		FILE *f = fopen(src, "w");
		fprintf(f, "artifact %d", i);
		fclose(f);
		assert_int_equal(artifact_store(db, cfg.artifact_dir, src, 1, roles[i], art[i], err,
						sizeof(err)),
				 0);
	}
	snprintf(
		sql, sizeof(sql),
		"INSERT INTO jobs (id, flight_id, name, suite, hosts_needed, status, finished_at) VALUES (1,1,'build','build',0,'pass',1);"
		"INSERT INTO jobs (id, flight_id, name, suite, depends_on, status) VALUES (2,1,'dom0-smoke','dom0-smoke',1,'running');"
		"INSERT INTO jobs (id, flight_id, name, suite, depends_on, status) VALUES (3,1,'dom0-plain','dom0-plain',1,'running');"
		"UPDATE hosts SET state='provisioning', reserved_by=2 WHERE name='host0';"
		"UPDATE hosts SET state='provisioning', reserved_by=3 WHERE name='host1';");
	assert_int_equal(db_exec(db, sql, err, sizeof(err)), SQLITE_OK);
	assert_int_equal(provision_host_script(db, &cfg, "host0", &out, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "farm SSH key"));

	assert_int_equal(ssh_farm_key(&cfg, priv, sizeof(priv), pub, sizeof(pub), err, sizeof(err)),
			 0);
	assert_int_equal(ssh_farm_key_arg(&cfg, key, sizeof(key), err, sizeof(err)), 0);
	assert_memory_equal(key, "ssh-ed25519:AAAA", 16);
	if (provision_host_script(db, &cfg, "host0", &out, err, sizeof(err)))
		fail_msg("%s", err);
	snprintf(
		want, sizeof(want),
		"kernel http://10.0.2.2:8123/artifacts/%s/kiln.elf loglvl=info || goto failed\n"
		"module http://10.0.2.2:8123/artifacts/%s/vmlinuz console=ttyS0 quiet kiln.sshkey=%s || goto failed\n"
		"module http://10.0.2.2:8123/artifacts/%s/initramfs.cpio.xz  || goto failed\n"
		"echo " PROVISION_HANDOVER_MARK "\n",
		art[0], art[1], key, art[2]);
	if (!strstr(out, want))
		fail_msg("script:\n%s\nwanted:\n%s", out, want);
	free(out);

	if (provision_host_script(db, &cfg, "host1", &out, err, sizeof(err)))
		fail_msg("%s", err);
	snprintf(
		want, sizeof(want),
		"kernel http://10.0.2.2:8123/artifacts/%s/vmlinuz console=ttyS0 quiet kiln.sshkey=%s || goto failed\n"
		"initrd http://10.0.2.2:8123/artifacts/%s/initramfs.cpio.xz || goto failed\n"
		"echo " PROVISION_HANDOVER_MARK "\n",
		art[1], key, art[2]);
	if (!strstr(out, want))
		fail_msg("script:\n%s\nwanted:\n%s", out, want);
	assert_null(strstr(out, "kiln.elf"));
	assert_null(strstr(out, "{{"));
	free(out);
	fx_farm_close(db, dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(renders_placeholders), cmocka_unit_test(strict_placeholders),
		cmocka_unit_test(rejects_injection),    cmocka_unit_test(role_files),
		cmocka_unit_test(host_scripts_from_db), cmocka_unit_test(dom0_scripts_from_db),
	};
	return cmocka_run_group_tests_name("template", tests, NULL, NULL);
}
