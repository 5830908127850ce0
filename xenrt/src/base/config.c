/* config.c: embedded defaults and the JSON configuration file.
 *
 * Unknown keys are errors, not warnings: a misspelt "memory_mb" silently
 * ignored would run every job with the wrong memory size.  Every error names
 * the file and the key path.
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "config.h"

static void set(char *dst, size_t len, const char *src)
{
	snprintf(dst, len, "%s", src);
}
#define SET(field, value) set(field, sizeof(field), value)

static void default_host(struct xenrt_host_decl *h, const char *name)
{
	SET(h->name, name);
	SET(h->driver, "qemu");
	SET(h->cpu_vendor, "amd");
	SET(h->cpu_model, "max");
	/* Two vCPUs: dom0 is pinned to pCPU 0 and domUs need at least one more. */
	h->vcpus = 2;
	h->memory_mib = 1024;
	SET(h->flags, "svm npt");
}

void config_defaults(struct xenrt_config *cfg)
{
	memset(cfg, 0, sizeof *cfg);
	SET(cfg->db_path, "var/xenrt.db");
	SET(cfg->state_dir, "var");
	SET(cfg->log_dir, "var/logs");
	SET(cfg->artifact_dir, "var/artifacts");
	SET(cfg->work_dir, "var/work");
	SET(cfg->suites_dir, "testsuites");
	SET(cfg->pxe_dir, "pxe");
	SET(cfg->web_dir, "web-status");
	SET(cfg->http_addr, "127.0.0.1");
	config_set_port(cfg, 8080);
	cfg->webhook_timeout_s = 5;
	cfg->webhook_retry_ms = 5000;
	cfg->webhook_max_attempts = 6;
	cfg->steward_tick_ms = 1000;
	cfg->bisect_repeats = 2;
	cfg->max_queued_per_token = 100;
	cfg->max_patch_bytes = 512 * 1024;
	cfg->nhosts = 2;
	default_host(&cfg->hosts[0], "host0");
	default_host(&cfg->hosts[1], "host1");
}

void config_set_port(struct xenrt_config *cfg, int port)
{
	cfg->http_port = port;
	/* Inside QEMU's user network the machine running the daemon is 10.0.2.2. */
	if (!cfg->public_url_explicit)
		snprintf(cfg->public_url, sizeof cfg->public_url, "http://10.0.2.2:%d", port);
}

/* The names hosts get are used in file names and URLs (/boot/<host>.ipxe). */
static bool valid_name(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 63)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-'))
			return false;
	}
	return true;
}

struct ctx {
	const char *file;
	char *err;
	size_t errlen;
};

static int fail(struct ctx *c, const char *key, const char *what)
{
	snprintf(c->err, c->errlen, "%s: %s: %s", c->file, key, what);
	return -1;
}

static int get_string(struct ctx *c, const char *key, json_t *v, char *dst, size_t len)
{
	if (!json_is_string(v))
		return fail(c, key, "expected string");
	const char *s = json_string_value(v);
	if (strlen(s) >= len || strlen(s) != json_string_length(v)) {
		char what[64];
		snprintf(what, sizeof what, "expected string of at most %zu bytes without NUL",
			 len - 1);
		return fail(c, key, what);
	}
	set(dst, len, s);
	return 0;
}

static int get_path(struct ctx *c, const char *key, json_t *v, char *dst, size_t len)
{
	if (get_string(c, key, v, dst, len) < 0)
		return -1;
	if (dst[0] == '\0')
		return fail(c, key, "expected a non-empty path");
	return 0;
}

static int get_int(struct ctx *c, const char *key, json_t *v, int lo, int hi, int *dst)
{
	char what[64];
	snprintf(what, sizeof what, "expected integer %d..%d", lo, hi);
	if (!json_is_integer(v))
		return fail(c, key, what);
	json_int_t x = json_integer_value(v);
	if (x < lo || x > hi)
		return fail(c, key, what);
	*dst = (int)x;
	return 0;
}

static int load_host(struct ctx *c, size_t idx, json_t *obj, struct xenrt_host_decl *h)
{
	char key[96];
	snprintf(key, sizeof key, "hosts[%zu]", idx);
	if (!json_is_object(obj))
		return fail(c, key, "expected object");
	default_host(h, "");
	const char *k;
	json_t *v;
	bool named = false;
	json_object_foreach(obj, k, v)
	{
		snprintf(key, sizeof key, "hosts[%zu].%.40s", idx, k);
		int rc;
		if (strcmp(k, "name") == 0) {
			rc = get_string(c, key, v, h->name, sizeof h->name);
			if (rc == 0 && !valid_name(h->name))
				rc = fail(c, key, "expected 1..63 characters of [a-z0-9_-]");
			named = true;
		} else if (strcmp(k, "driver") == 0) {
			rc = get_string(c, key, v, h->driver, sizeof h->driver);
			if (rc == 0 && strcmp(h->driver, "qemu") && strcmp(h->driver, "bochs") &&
			    strcmp(h->driver, "physical"))
				rc = fail(c, key,
					  "expected one of \"qemu\", \"bochs\", \"physical\"");
		} else if (strcmp(k, "cpu_vendor") == 0) {
			rc = get_string(c, key, v, h->cpu_vendor, sizeof h->cpu_vendor);
			if (rc == 0 && strcmp(h->cpu_vendor, "amd") &&
			    strcmp(h->cpu_vendor, "intel") && h->cpu_vendor[0])
				rc = fail(c, key, "expected one of \"amd\", \"intel\", \"\"");
		} else if (strcmp(k, "cpu_model") == 0) {
			rc = get_string(c, key, v, h->cpu_model, sizeof h->cpu_model);
		} else if (strcmp(k, "vcpus") == 0) {
			rc = get_int(c, key, v, 1, 64, &h->vcpus);
		} else if (strcmp(k, "memory_mib") == 0) {
			rc = get_int(c, key, v, 128, 65536, &h->memory_mib);
		} else if (strcmp(k, "flags") == 0) {
			rc = get_string(c, key, v, h->flags, sizeof h->flags);
		} else {
			rc = fail(c, key,
				  "unknown key (known: name, driver, cpu_vendor, cpu_model, "
				  "vcpus, memory_mib, flags)");
		}
		if (rc < 0)
			return -1;
	}
	if (!named) {
		snprintf(key, sizeof key, "hosts[%zu].name", idx);
		return fail(c, key, "missing (every host needs a name)");
	}
	return 0;
}

static int load_hosts(struct ctx *c, json_t *arr, struct xenrt_config *cfg)
{
	char what[64];
	snprintf(what, sizeof what, "expected array of 1..%d host objects", XENRT_MAX_HOSTS);
	if (!json_is_array(arr) || json_array_size(arr) == 0 ||
	    json_array_size(arr) > XENRT_MAX_HOSTS)
		return fail(c, "hosts", what);
	size_t i;
	json_t *v;
	json_array_foreach(arr, i, v)
	{
		if (load_host(c, i, v, &cfg->hosts[i]) < 0)
			return -1;
		for (size_t j = 0; j < i; j++) {
			if (strcmp(cfg->hosts[j].name, cfg->hosts[i].name) == 0) {
				char key[32];
				snprintf(key, sizeof key, "hosts[%zu].name", i);
				return fail(c, key, "duplicate host name");
			}
		}
	}
	cfg->nhosts = json_array_size(arr);
	return 0;
}

static int load_key(struct ctx *c, const char *k, json_t *v, struct xenrt_config *cfg)
{
	static const struct {
		const char *key;
		size_t off;
	} paths[] = {
		{ "db_path", offsetof(struct xenrt_config, db_path) },
		{ "state_dir", offsetof(struct xenrt_config, state_dir) },
		{ "log_dir", offsetof(struct xenrt_config, log_dir) },
		{ "artifact_dir", offsetof(struct xenrt_config, artifact_dir) },
		{ "work_dir", offsetof(struct xenrt_config, work_dir) },
		{ "suites_dir", offsetof(struct xenrt_config, suites_dir) },
		{ "pxe_dir", offsetof(struct xenrt_config, pxe_dir) },
		{ "web_dir", offsetof(struct xenrt_config, web_dir) },
	};
	for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++)
		if (strcmp(k, paths[i].key) == 0)
			return get_path(c, k, v, (char *)cfg + paths[i].off, XENRT_PATH_MAX);
	if (strcmp(k, "http_addr") == 0)
		return get_string(c, k, v, cfg->http_addr, sizeof cfg->http_addr);
	if (strcmp(k, "http_port") == 0) {
		int port;
		if (get_int(c, k, v, 0, 65535, &port) < 0)
			return -1;
		config_set_port(cfg, port);
		return 0;
	}
	if (strcmp(k, "public_url") == 0) {
		if (get_string(c, k, v, cfg->public_url, sizeof cfg->public_url) < 0)
			return -1;
		if (strncmp(cfg->public_url, "http://", 7) != 0)
			return fail(c, k, "expected a URL starting with http://");
		cfg->public_url_explicit = true;
		return 0;
	}
	if (strcmp(k, "hosts") == 0)
		return load_hosts(c, v, cfg);
	if (strcmp(k, "max_queued_per_token") == 0)
		return get_int(c, k, v, 1, 100000, &cfg->max_queued_per_token);
	if (strcmp(k, "max_patch_bytes") == 0)
		return get_int(c, k, v, 1, 1024 * 1024, &cfg->max_patch_bytes);
	static const struct {
		const char *key;
		size_t off;
		int lo, hi;
	} ints[] = {
		{ "webhook_timeout_s", offsetof(struct xenrt_config, webhook_timeout_s), 1, 300 },
		{ "webhook_retry_ms", offsetof(struct xenrt_config, webhook_retry_ms), 10,
		  3600000 },
		{ "webhook_max_attempts", offsetof(struct xenrt_config, webhook_max_attempts), 1,
		  50 },
		{ "steward_tick_ms", offsetof(struct xenrt_config, steward_tick_ms), 10, 60000 },
		{ "bisect_repeats", offsetof(struct xenrt_config, bisect_repeats), 1, 5 },
	};
	for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++)
		if (strcmp(k, ints[i].key) == 0)
			return get_int(c, k, v, ints[i].lo, ints[i].hi,
				       (int *)((char *)cfg + ints[i].off));
	int rc = config_auto_key(c->file, k, v, cfg, c->err, c->errlen);
	if (rc <= 0)
		return rc;
	return fail(c, k,
		    "unknown key (known: db_path, state_dir, log_dir, artifact_dir, work_dir, "
		    "suites_dir, pxe_dir, web_dir, http_addr, http_port, public_url, hosts, "
		    "max_queued_per_token, max_patch_bytes, webhooks, webhook_timeout_s, "
		    "webhook_retry_ms, webhook_max_attempts, schedules, branches, steward_tick_ms, "
		    "bisect_repeats)");
}

int config_load(struct xenrt_config *cfg, const char *path, char *err, size_t errlen)
{
	config_defaults(cfg);
	if (!path)
		return 0;
	json_error_t jerr;
	json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
	if (!root) {
		if (jerr.line < 0)
			snprintf(err, errlen, "%s: %s", path, jerr.text);
		else
			snprintf(err, errlen, "%s:%d:%d: %s", path, jerr.line, jerr.column,
				 jerr.text);
		return -1;
	}
	struct ctx c = { path, err, errlen };
	int rc = 0;
	if (!json_is_object(root)) {
		rc = fail(&c, "(top level)", "expected object");
	} else {
		const char *k;
		json_t *v;
		json_object_foreach(root, k, v)
		{
			rc = load_key(&c, k, v, cfg);
			if (rc < 0)
				break;
		}
	}
	json_decref(root);
	return rc;
}
