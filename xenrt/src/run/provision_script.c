/* provision_script.c: which script a host runs now, from the database.
 *
 * A host reserved by a job boots that job's suite with its flight's
 * artifacts; a quarantined host being health-checked boots the newest
 * hypervisor any successful build produced.  Everything else gets nothing,
 * so a stray host cannot boot someone else's job.
 */
#include "provision.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "artifact.h"
#include "config.h"
#include "job_suite.h"
#include "provision_internal.h"
#include "ssh_client.h"
#include "suite.h"

static int read_template(const struct xenrt_config *cfg, const char *name, char **out, char *err,
			 size_t errlen)
{
	char path[1024];
	FILE *f;
	long n;

	snprintf(path, sizeof(path), "%s/templates/%s", cfg->pxe_dir, name);
	f = fopen(path, "rb");
	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fseek(f, 0, SEEK_END) || (n = ftell(f)) < 0 || n > 65536 || fseek(f, 0, SEEK_SET)) {
		snprintf(err, errlen, "%s: unreadable or too large", path);
		fclose(f);
		return -1;
	}
	*out = malloc((size_t)n + 1);
	if (!*out || fread(*out, 1, (size_t)n, f) != (size_t)n) {
		snprintf(err, errlen, "%s: read failed", path);
		free(*out);
		fclose(f);
		return -1;
	}
	(*out)[n] = '\0';
	fclose(f);
	return 0;
}

int provision_health_artifact(sqlite3 *db, char hex[65], char *err, size_t errlen)
{
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(
		db,
		"SELECT fa.sha256 FROM flight_artifacts fa JOIN jobs j ON j.flight_id = fa.flight_id"
		" WHERE fa.role = 'hypervisor' AND j.suite = 'build' AND j.status = 'pass'"
		" ORDER BY j.finished_at DESC, j.id DESC LIMIT 1",
		-1, &st, NULL);

	if (rc != SQLITE_OK) {
		snprintf(err, errlen, "health artifact: %s", sqlite3_errmsg(db));
		return -1;
	}
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW && artifact_name_valid((const char *)sqlite3_column_text(st, 0))) {
		memcpy(hex, sqlite3_column_text(st, 0), 65);
		rc = 0;
	} else if (rc == SQLITE_DONE) {
		snprintf(err, errlen, "no successful build yet: nothing to health-check with");
		rc = 1;
	} else {
		snprintf(err, errlen, "health artifact: %s", sqlite3_errmsg(db));
		rc = -1;
	}
	sqlite3_finalize(st);
	return rc;
}

/* What the host is doing: its job (0 = health check) and attempt. */
static int host_target(sqlite3 *db, const char *host, long long *job, long long *flight,
		       int *attempt, char suite[64], char *err, size_t errlen)
{
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(
		db,
		"SELECT h.state, h.needs_health_check, j.id, j.flight_id, j.attempt, j.suite"
		" FROM hosts h LEFT JOIN jobs j ON j.id = h.reserved_by WHERE h.name = ?1",
		-1, &st, NULL);

	if (rc != SQLITE_OK) {
		snprintf(err, errlen, "host lookup: %s", sqlite3_errmsg(db));
		return -1;
	}
	sqlite3_bind_text(st, 1, host, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		snprintf(err, errlen, rc == SQLITE_DONE ? "unknown host" : "host lookup failed");
		sqlite3_finalize(st);
		return rc == SQLITE_DONE ? 1 : -1;
	}
	const char *state = (const char *)sqlite3_column_text(st, 0);
	rc = 1;
	snprintf(err, errlen, "host %s has nothing to boot", host);
	if (sqlite3_column_type(st, 2) != SQLITE_NULL &&
	    (!strcmp(state, "provisioning") || !strcmp(state, "running"))) {
		*job = sqlite3_column_int64(st, 2);
		*flight = sqlite3_column_int64(st, 3);
		*attempt = sqlite3_column_int(st, 4);
		snprintf(suite, 64, "%s", (const char *)sqlite3_column_text(st, 5));
		rc = 0;
	} else if (sqlite3_column_int(st, 1) && !strcmp(state, "provisioning")) {
		*job = 0;
		*flight = 0;
		*attempt = 1;
		snprintf(suite, 64, "health");
		rc = 0;
	}
	sqlite3_finalize(st);
	return rc;
}

static int artifact_url(sqlite3 *db, const struct xenrt_config *cfg, long long flight,
			const char *role, char *url, size_t urllen, char *err, size_t errlen)
{
	char hex[65], file[80];
	int rc;

	if (flight == 0)
		rc = provision_health_artifact(db, hex, err, errlen);
	else
		rc = artifact_lookup(db, flight, role, hex, err, errlen);
	if (rc == 1 && flight)
		snprintf(err, errlen, "flight %lld has no artifact '%s'", flight, role);
	if (rc)
		return -1;
	provision_role_file(role, file, sizeof(file));
	snprintf(url, urllen, "%s/artifacts/%s/%s", cfg->public_url, hex, file);
	return 0;
}

/* dom0's command line: the suite's, then the farm's login key. */
static int dom0_cmdline(const struct xenrt_config *cfg, const struct suite *s, char *out,
			size_t outlen, char *err, size_t errlen)
{
	char key[256];

	if (ssh_farm_key_arg(cfg, key, sizeof(key), err, errlen))
		return -1;
	if ((size_t)snprintf(out, outlen, "%s%skiln.sshkey=%s", s->dom0_cmdline,
			     s->dom0_cmdline[0] ? " " : "", key) >= outlen) {
		snprintf(err, errlen, "dom0 command line too long");
		return -1;
	}
	return 0;
}

static int module_lines(sqlite3 *db, const struct xenrt_config *cfg, long long flight,
			const struct suite *s, char **out, char *err, size_t errlen)
{
	struct suite_module mods[SUITE_MAX_MODULES + 2];
	char *tmpl, *lines = strdup(""), *line;
	int n = 0, rc = read_template(cfg, "module.ipxe", &tmpl, err, errlen);

	if (rc || !lines) {
		free(lines);
		free(tmpl);
		return -1;
	}
	/* Kiln takes the first bzImage module as dom0 and the next plain
     * module as its initramfs. */
	if (s->dom0 == SUITE_DOM0_KILN) {
		snprintf(mods[0].artifact, sizeof(mods[0].artifact), SUITE_ROLE_DOM0_KERNEL);
		snprintf(mods[1].artifact, sizeof(mods[1].artifact), SUITE_ROLE_DOM0_INITRD);
		mods[1].args[0] = '\0';
		rc = dom0_cmdline(cfg, s, mods[0].args, sizeof(mods[0].args), err, errlen);
		n = 2;
	}
	for (int i = 0; i < s->n_modules; i++)
		mods[n++] = s->modules[i];
	for (int i = 0; i < n && rc == 0; i++) {
		char url[512];
		struct pxe_var vars[] = {
			{ "module_url", url, 0 },
			{ "module_args", mods[i].args, 0 },
		};

		rc = artifact_url(db, cfg, flight, mods[i].artifact, url, sizeof(url), err, errlen);
		if (rc == 0)
			rc = pxe_render(tmpl, "module.ipxe", vars, 2, &line, err, errlen);
		if (rc == 0) {
			char *joined;
			if (asprintf(&joined, "%s%s", lines, line) < 0)
				rc = -1;
			else {
				free(lines);
				lines = joined;
			}
			free(line);
		}
	}
	free(tmpl);
	if (rc) {
		free(lines);
		return -1;
	}
	/* The template puts {{modules}} on its own line: drop our last newline. */
	if (*lines && lines[strlen(lines) - 1] == '\n')
		lines[strlen(lines) - 1] = '\0';
	*out = lines;
	return 0;
}

/* dom0 = plain: iPXE boots dom0's kernel and initramfs itself. */
static int linux_script(sqlite3 *db, const struct xenrt_config *cfg, long long flight,
			const struct suite *s, struct pxe_var *common, size_t ncommon, char **out,
			char *err, size_t errlen)
{
	char kernel[512], initrd[512], cmdline[SUITE_TEXT_MAX];
	char *tmpl = NULL;
	int rc = -1;

	if (artifact_url(db, cfg, flight, SUITE_ROLE_DOM0_KERNEL, kernel, sizeof(kernel), err,
			 errlen) == 0 &&
	    artifact_url(db, cfg, flight, SUITE_ROLE_DOM0_INITRD, initrd, sizeof(initrd), err,
			 errlen) == 0 &&
	    dom0_cmdline(cfg, s, cmdline, sizeof(cmdline), err, errlen) == 0 &&
	    read_template(cfg, "linux.ipxe", &tmpl, err, errlen) == 0) {
		struct pxe_var vars[16];
		size_t n = 0;

		for (; n < ncommon; n++)
			vars[n] = common[n];
		vars[n++] = (struct pxe_var){ "kernel_url", kernel, 0 };
		vars[n++] = (struct pxe_var){ "initrd_url", initrd, 0 };
		vars[n++] = (struct pxe_var){ "cmdline", cmdline, 0 };
		rc = pxe_render(tmpl, "linux.ipxe", vars, n, out, err, errlen);
	}
	free(tmpl);
	return rc;
}

int provision_host_script(sqlite3 *db, const struct xenrt_config *cfg, const char *host, char **out,
			  char *err, size_t errlen)
{
	long long job = 0, flight = 0;
	int attempt = 1, rc;
	char suite_name[64], url[512], job_s[32], attempt_s[16];
	struct suite *s = NULL;
	char *tmpl = NULL, *modules = NULL;

	*out = NULL;
	rc = host_target(db, host, &job, &flight, &attempt, suite_name, err, errlen);
	if (rc)
		return rc;
	if (job_suite(db, cfg, job, suite_name, &s, err, errlen))
		return -1;
	snprintf(job_s, sizeof(job_s), job ? "%lld" : "health-check", job);
	snprintf(attempt_s, sizeof(attempt_s), "%d", attempt);
	if (s->dom0 == SUITE_DOM0_PLAIN) {
		struct pxe_var common[] = {
			{ "host", host, 0 },
			{ "job", job_s, 0 },
			{ "attempt", attempt_s, 0 },
			{ "public_url", cfg->public_url, 0 },
			{ "handover_mark", PROVISION_HANDOVER_MARK, 0 },
			{ "failed_mark", PROVISION_FAILED_MARK, 0 },
		};
		rc = linux_script(db, cfg, flight, s, common, sizeof(common) / sizeof(common[0]),
				  out, err, errlen);
		suite_free(s);
		return rc;
	}
	rc = -1;
	if (artifact_url(db, cfg, flight, s->hypervisor, url, sizeof(url), err, errlen) == 0 &&
	    module_lines(db, cfg, flight, s, &modules, err, errlen) == 0 &&
	    read_template(cfg, "kiln.ipxe", &tmpl, err, errlen) == 0) {
		struct pxe_var vars[] = {
			{ "host", host, 0 },
			{ "job", job_s, 0 },
			{ "attempt", attempt_s, 0 },
			{ "public_url", cfg->public_url, 0 },
			{ "hypervisor_url", url, 0 },
			{ "cmdline", s->cmdline, 0 },
			{ "modules", modules, 1 },
			{ "handover_mark", PROVISION_HANDOVER_MARK, 0 },
			{ "failed_mark", PROVISION_FAILED_MARK, 0 },
		};
		rc = pxe_render(tmpl, "kiln.ipxe", vars, sizeof(vars) / sizeof(vars[0]), out, err,
				errlen);
	}
	free(tmpl);
	free(modules);
	suite_free(s);
	return rc;
}
