/* config_auto.c: the config keys of the farm's automation: webhooks,
 * schedules and tracked branches (config.h).  Like the rest of the config,
 * every mistake names the file and the key path, e.g.
 * "cfg.json: schedules[0].every_s: expected integer 1..604800". */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "config.h"

struct actx {
	const char *file;
	char *err;
	size_t errlen;
};

static int bad(struct actx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int bad(struct actx *c, const char *fmt, ...)
{
	char msg[400];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	snprintf(c->err, c->errlen, "%s: %s", c->file, msg);
	return -1;
}

/* A string without control characters that fits in len (NUL included). */
static int str(struct actx *c, const char *key, json_t *v, char *dst, size_t len)
{
	if (!json_is_string(v) || json_string_length(v) >= len ||
	    json_string_length(v) != strlen(json_string_value(v)))
		return bad(c, "%s: expected a string of at most %zu bytes", key, len - 1);
	for (const char *s = json_string_value(v); *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return bad(c, "%s: control characters are not allowed", key);
	snprintf(dst, len, "%s", json_string_value(v));
	return 0;
}

static bool name_ok(const char *s)
{
	size_t n = strlen(s);
	return n > 0 && n < 64 && strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_-") == n;
}

/* repo and ref become git arguments: no option look-alikes. */
static int git_arg(struct actx *c, const char *key, json_t *v, char *dst, size_t len)
{
	if (str(c, key, v, dst, len))
		return -1;
	if (!dst[0] || dst[0] == '-' || strstr(dst, "..") || strchr(dst, ' '))
		return bad(c,
			   "%s: expected a path, URL or ref: not empty, not starting with '-', "
			   "no spaces or '..'",
			   key);
	return 0;
}

static int load_webhook(struct actx *c, size_t i, json_t *o, struct xenrt_webhook *w)
{
	char key[96];
	const char *k;
	json_t *v;
	if (!json_is_object(o))
		return bad(c, "webhooks[%zu]: expected an object {url, events}", i);
	json_object_foreach(o, k, v)
	{
		snprintf(key, sizeof key, "webhooks[%zu].%.40s", i, k);
		if (!strcmp(k, "url")) {
			if (str(c, key, v, w->url, sizeof w->url))
				return -1;
			if (strncmp(w->url, "http://", 7) && strncmp(w->url, "https://", 8))
				return bad(c, "%s: expected an http:// or https:// URL", key);
		} else if (!strcmp(k, "events")) {
			static const struct {
				const char *name;
				unsigned bit;
			} ev[] = {
				{ "flight-finished", WEBHOOK_FLIGHT_FINISHED },
				{ "regression", WEBHOOK_REGRESSION },
				{ "tested-ref-pushed", WEBHOOK_TESTED_REF_PUSHED },
				{ "host-offline", WEBHOOK_HOST_OFFLINE },
			};
			size_t j;
			json_t *e;
			if (!json_is_array(v) || json_array_size(v) == 0)
				return bad(c, "%s: expected a non-empty array of event names", key);
			json_array_foreach(v, j, e)
			{
				unsigned bit = 0;
				for (size_t x = 0; x < sizeof ev / sizeof ev[0]; x++)
					if (json_is_string(e) &&
					    !strcmp(json_string_value(e), ev[x].name))
						bit = ev[x].bit;
				if (!bit)
					return bad(
						c,
						"%s[%zu]: expected one of \"flight-finished\", "
						"\"regression\", \"tested-ref-pushed\", \"host-offline\"",
						key, j);
				w->events |= bit;
			}
		} else {
			return bad(c, "%s: unknown key (known: url, events)", key);
		}
	}
	if (!w->url[0] || !w->events)
		return bad(c, "webhooks[%zu]: needs both url and events", i);
	return 0;
}

static int load_schedule(struct actx *c, size_t i, json_t *o, struct xenrt_schedule_decl *d)
{
	char key[96];
	const char *k;
	json_t *v;
	if (!json_is_object(o))
		return bad(c, "schedules[%zu]: expected an object", i);
	snprintf(d->kind, sizeof d->kind, "nightly");
	json_object_foreach(o, k, v)
	{
		snprintf(key, sizeof key, "schedules[%zu].%.40s", i, k);
		int rc = 0;
		if (!strcmp(k, "name")) {
			rc = str(c, key, v, d->name, sizeof d->name);
			if (!rc && !name_ok(d->name))
				rc = bad(c, "%s: expected 1..63 characters of [a-z0-9_-]", key);
		} else if (!strcmp(k, "repo")) {
			rc = git_arg(c, key, v, d->repo, sizeof d->repo);
		} else if (!strcmp(k, "ref")) {
			rc = git_arg(c, key, v, d->ref, sizeof d->ref);
		} else if (!strcmp(k, "kind")) {
			rc = str(c, key, v, d->kind, sizeof d->kind);
			if (!rc && strcmp(d->kind, "nightly") && strcmp(d->kind, "branch") &&
			    strcmp(d->kind, "gate"))
				rc = bad(c, "%s: expected one of \"nightly\", \"branch\", \"gate\"",
					 key);
		} else if (!strcmp(k, "suites")) {
			size_t j;
			json_t *s;
			if (!json_is_array(v) || json_array_size(v) == 0 ||
			    json_array_size(v) > XENRT_MAX_SUITES)
				return bad(c, "%s: expected an array of 1..%d suite names", key,
					   XENRT_MAX_SUITES);
			json_array_foreach(v, j, s)
			{
				if (str(c, key, s, d->suites[j], sizeof d->suites[j]))
					return -1;
				if (!name_ok(d->suites[j]))
					return bad(c, "%s[%zu]: not a suite name", key, j);
			}
			d->nsuites = (int)json_array_size(v);
		} else if (!strcmp(k, "runvars")) {
			const char *rk;
			json_t *rv;
			if (!json_is_object(v))
				return bad(c, "%s: expected an object of strings", key);
			json_object_foreach(v, rk, rv) if (!json_is_string(rv)) return bad(
				c, "%s.%.40s: expected a string", key, rk);
			char *text = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS);
			if (!text || strlen(text) >= sizeof d->runvars)
				rc = bad(c, "%s: longer than %zu bytes as JSON", key,
					 sizeof d->runvars - 1);
			else
				snprintf(d->runvars, sizeof d->runvars, "%s", text);
			free(text);
		} else if (!strcmp(k, "at")) {
			unsigned hh, mm;
			char tail;
			rc = str(c, key, v, d->at, sizeof d->at);
			if (!rc && (sscanf(d->at, "%2u:%2u%c", &hh, &mm, &tail) != 2 || hh > 23 ||
				    mm > 59 || strlen(d->at) != 5))
				rc = bad(c, "%s: expected \"HH:MM\" (UTC)", key);
		} else if (!strcmp(k, "every_s")) {
			if (!json_is_integer(v) || json_integer_value(v) < 1 ||
			    json_integer_value(v) > 7 * 86400)
				return bad(c, "%s: expected integer 1..604800", key);
			d->every_s = (int)json_integer_value(v);
		} else {
			rc = bad(c,
				 "%s: unknown key (known: name, repo, ref, kind, suites, runvars, "
				 "at, every_s)",
				 key);
		}
		if (rc)
			return -1;
	}
	if (!d->name[0] || !d->repo[0] || !d->ref[0] || !d->nsuites)
		return bad(c, "schedules[%zu]: needs name, repo, ref and suites", i);
	if (!d->at[0] == !d->every_s)
		return bad(c, "schedules[%zu]: needs exactly one of at and every_s", i);
	return 0;
}

static int load_branch(struct actx *c, size_t i, json_t *o, struct xenrt_branch *b)
{
	char key[96];
	const char *k;
	json_t *v;
	if (!json_is_object(o))
		return bad(c, "branches[%zu]: expected an object {repo, branch, tested_ref}", i);
	json_object_foreach(o, k, v)
	{
		snprintf(key, sizeof key, "branches[%zu].%.40s", i, k);
		int rc;
		if (!strcmp(k, "repo"))
			rc = git_arg(c, key, v, b->repo, sizeof b->repo);
		else if (!strcmp(k, "branch"))
			rc = git_arg(c, key, v, b->branch, sizeof b->branch);
		else if (!strcmp(k, "tested_ref")) {
			rc = git_arg(c, key, v, b->tested_ref, sizeof b->tested_ref);
			if (!rc && strncmp(b->tested_ref, "refs/", 5))
				rc = bad(c, "%s: expected a full ref name (refs/...)", key);
		} else
			rc = bad(c, "%s: unknown key (known: repo, branch, tested_ref)", key);
		if (rc)
			return -1;
	}
	if (!b->repo[0] || !b->branch[0])
		return bad(c, "branches[%zu]: needs repo and branch", i);
	if (!b->tested_ref[0] &&
	    (size_t)snprintf(b->tested_ref, sizeof b->tested_ref, "refs/heads/tested/%s",
			     b->branch) >= sizeof b->tested_ref)
		return bad(c, "branches[%zu].branch: too long for its tested ref", i);
	return 0;
}

int config_auto_key(const char *file, const char *key, void *value, struct xenrt_config *cfg,
		    char *err, size_t errlen)
{
	struct actx c = { file, err, errlen };
	json_t *v = value, *o;
	size_t i;
	if (!strcmp(key, "webhooks")) {
		if (!json_is_array(v) || json_array_size(v) > XENRT_MAX_WEBHOOKS)
			return bad(&c, "webhooks: expected an array of at most %d webhooks",
				   XENRT_MAX_WEBHOOKS);
		memset(cfg->webhooks, 0, sizeof cfg->webhooks);
		json_array_foreach(v, i,
				   o) if (load_webhook(&c, i, o, &cfg->webhooks[i])) return -1;
		cfg->nwebhooks = json_array_size(v);
		return 0;
	}
	if (!strcmp(key, "schedules")) {
		if (!json_is_array(v) || json_array_size(v) > XENRT_MAX_SCHEDULES)
			return bad(&c, "schedules: expected an array of at most %d schedules",
				   XENRT_MAX_SCHEDULES);
		memset(cfg->schedules, 0, sizeof cfg->schedules);
		json_array_foreach(v, i, o)
		{
			if (load_schedule(&c, i, o, &cfg->schedules[i]))
				return -1;
			for (size_t j = 0; j < i; j++)
				if (!strcmp(cfg->schedules[j].name, cfg->schedules[i].name))
					return bad(&c, "schedules[%zu].name: duplicate name", i);
		}
		cfg->nschedules = json_array_size(v);
		return 0;
	}
	if (!strcmp(key, "branches")) {
		if (!json_is_array(v) || json_array_size(v) > XENRT_MAX_BRANCHES)
			return bad(&c, "branches: expected an array of at most %d branches",
				   XENRT_MAX_BRANCHES);
		memset(cfg->branches, 0, sizeof cfg->branches);
		json_array_foreach(v, i, o) if (load_branch(&c, i, o, &cfg->branches[i])) return -1;
		cfg->nbranches = json_array_size(v);
		return 0;
	}
	return 1;
}
