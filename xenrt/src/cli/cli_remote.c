/* cli_remote.c: the subcommands that talk to a running daemon over its REST
 * API with libcurl: submit, list, show, cancel, hosts.  They use nothing but
 * the public API, so they work against a daemon on another machine too. */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>

#include "buf.h"
#include "cli.h"
#include "junit.h"

/* --url, else $XENRT_URL, else the daemon's default address. */
static const char *default_url(void)
{
	const char *env = getenv("XENRT_URL");
	return env && *env ? env : "http://127.0.0.1:8080";
}
#define WAIT_POLL_S 2

/* One API call.  Returns the parsed JSON reply for 2xx; otherwise prints the
 * daemon's error (or the transport error) and returns NULL. */
static json_t *call(const char *base, const char *method, const char *path, json_t *body,
		    const char *token)
{
	CURL *c = curl_easy_init();
	if (!c) {
		fprintf(stderr, "xenrt: curl_easy_init failed\n");
		return NULL;
	}
	char url[2048];
	snprintf(url, sizeof url, "%s%s", base, path);
	struct buf rep = { 0 };
	struct curl_slist *hdrs = curl_slist_append(NULL, "Accept: application/json");
	char auth[256];
	if (token) {
		snprintf(auth, sizeof auth, "Authorization: Bearer %s", token);
		hdrs = curl_slist_append(hdrs, auth);
	}
	char *text = NULL;
	if (body) {
		text = json_dumps(body, JSON_COMPACT);
		hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, text ? text : "");
	} else if (!strcmp(method, "POST")) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, "");
	}
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, buf_append);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &rep);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
	CURLcode rc = curl_easy_perform(c);
	long status = 0;
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_cleanup(c);
	curl_slist_free_all(hdrs);
	free(text);
	json_t *doc = NULL;
	if (rc != CURLE_OK) {
		fprintf(stderr, "xenrt: cannot reach the daemon at %s: %s\n", base,
			curl_easy_strerror(rc));
	} else {
		json_error_t jerr;
		doc = rep.data ? json_loads(rep.data, 0, &jerr) : NULL;
		if (status < 200 || status > 299) {
			const char *msg = json_string_value(json_object_get(doc, "error"));
			fprintf(stderr, "xenrt: %s %s: HTTP %ld: %s\n", method, path, status,
				msg ? msg : "(no error message)");
			json_decref(doc);
			doc = NULL;
		} else if (!doc) {
			fprintf(stderr, "xenrt: %s %s: reply is not JSON\n", method, path);
		}
	}
	free(rep.data);
	return doc;
}

static const char *str(json_t *obj, const char *key)
{
	const char *s = json_string_value(json_object_get(obj, key));
	return s ? s : "-";
}

static void when(json_t *t, char *buf, size_t len)
{
	if (!json_is_number(t)) {
		snprintf(buf, len, "-");
		return;
	}
	time_t s = (time_t)json_number_value(t);
	struct tm tm;
	gmtime_r(&s, &tm);
	strftime(buf, len, "%Y-%m-%d %H:%M:%S", &tm);
}

/* Options every remote command takes. */
struct common {
	const char *url;
	const char *config;
};

enum {
	OPT_URL = 0x100,
	OPT_CONFIG,
	OPT_REPO,
	OPT_REF,
	OPT_PATCH,
	OPT_KIND,
	OPT_SUITE,
	OPT_BASELINE,
	OPT_RUNVAR,
	OPT_WAIT,
	OPT_LIMIT,
	OPT_BEFORE,
	OPT_JUNIT
};

static bool common_opt(int o, struct common *c)
{
	if (o == OPT_URL)
		c->url = optarg;
	else if (o == OPT_CONFIG)
		c->config = optarg;
	else
		return false;
	return true;
}

static int parse_id(const char *s, const char *what, long long *out)
{
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (errno || end == s || *end || v < 1) {
		fprintf(stderr, "xenrt: %s: expected a positive integer, got '%s'\n", what, s);
		return -1;
	}
	*out = v;
	return 0;
}

static char *read_file(const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		fprintf(stderr, "xenrt: %s: %s\n", path, strerror(errno));
		return NULL;
	}
	struct buf r = { 0 };
	char chunk[65536];
	size_t n;
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
		if (!buf_append(chunk, 1, n, &r)) {
			fprintf(stderr, "xenrt: %s: out of memory\n", path);
			fclose(f);
			free(r.data);
			return NULL;
		}
	bool failed = ferror(f);
	fclose(f);
	if (failed) {
		fprintf(stderr, "xenrt: %s: read error\n", path);
		free(r.data);
		return NULL;
	}
	return r.data ? r.data : strdup("");
}

/* A local repository path becomes absolute: the daemon runs elsewhere. */
static char *repo_arg(const char *repo)
{
	if (strstr(repo, "://") || (strchr(repo, ':') && !strchr(repo, '/')) ||
	    !strncmp(repo, "git@", 4))
		return strdup(repo);
	char *abs = realpath(repo, NULL);
	if (!abs)
		fprintf(stderr, "xenrt: --repo %s: %s\n", repo, strerror(errno));
	return abs;
}

static const char *verdict_of(json_t *flight)
{
	return str(json_object_get(flight, "verdict"), "summary");
}

static void print_flight(json_t *f)
{
	char created[32];
	when(json_object_get(f, "created_at"), created, sizeof created);
	printf("flight %lld: %s (verdict %s)\n  %s %s @ %s",
	       (long long)json_integer_value(json_object_get(f, "id")), str(f, "status"),
	       verdict_of(f), str(f, "kind"), str(f, "repo"), str(f, "ref"));
	if (json_is_string(json_object_get(f, "revision")))
		printf(" (%s)", str(f, "revision"));
	printf("\n  submitted by %s at %s UTC\n", str(f, "submitter"), created);
	json_t *gate = json_object_get(f, "gate");
	if (json_is_object(gate))
		printf("  gate: %s - %s\n", str(gate, "decision"), str(gate, "reason"));
	size_t i, k;
	json_t *job, *step;
	json_array_foreach(json_object_get(f, "jobs"), i, job)
	{
		int counts[6] = { 0 };
		static const char *const names[] = { "pass",    "fail", "broken",
						     "blocked", "skip", "running" };
		json_array_foreach(json_object_get(job, "steps"), k,
				   step) for (size_t n = 0; n < 6;
					      n++) if (!strcmp(str(step, "status"), names[n]))
			counts[n]++;
		printf("  job %-5lld %-24s %-9s attempt %lld/%lld  steps:",
		       (long long)json_integer_value(json_object_get(job, "id")), str(job, "name"),
		       str(job, "status"),
		       (long long)json_integer_value(json_object_get(job, "attempt")),
		       (long long)json_integer_value(json_object_get(job, "max_attempts")));
		for (size_t n = 0; n < 6; n++)
			if (counts[n])
				printf(" %d %s", counts[n], names[n]);
		printf("\n");
		json_array_foreach(json_object_get(job, "steps"), k,
				   step) if (!strcmp(str(step, "status"), "fail") ||
					     !strcmp(str(step, "status"), "broken"))
			printf("      %s %s: %s\n", str(step, "status"), str(step, "name"),
			       str(step, "message"));
	}
}

static bool finished(json_t *f)
{
	const char *s = str(f, "status");
	return strcmp(s, "queued") && strcmp(s, "running");
}

int cli_submit(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "url", required_argument, NULL, OPT_URL },
		{ "config", required_argument, NULL, OPT_CONFIG },
		{ "repo", required_argument, NULL, OPT_REPO },
		{ "ref", required_argument, NULL, OPT_REF },
		{ "patch", required_argument, NULL, OPT_PATCH },
		{ "kind", required_argument, NULL, OPT_KIND },
		{ "suite", required_argument, NULL, OPT_SUITE },
		{ "baseline", required_argument, NULL, OPT_BASELINE },
		{ "runvar", required_argument, NULL, OPT_RUNVAR },
		{ "wait", no_argument, NULL, OPT_WAIT },
		{ NULL, 0, NULL, 0 },
	};
	struct common c = { default_url(), NULL };
	const char *repo = NULL, *ref = NULL, *patch_file = NULL, *kind = NULL;
	long long baseline = 0;
	bool wait = false;
	json_t *suites = json_array(), *runvars = json_object();
	int o, usage = 0;
	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (common_opt(o, &c))
			continue;
		switch (o) {
		case OPT_REPO:
			repo = optarg;
			break;
		case OPT_REF:
			ref = optarg;
			break;
		case OPT_PATCH:
			patch_file = optarg;
			break;
		case OPT_KIND:
			kind = optarg;
			break;
		case OPT_SUITE:
			json_array_append_new(suites, json_string(optarg));
			break;
		case OPT_BASELINE:
			usage |= parse_id(optarg, "--baseline", &baseline);
			break;
		case OPT_WAIT:
			wait = true;
			break;
		case OPT_RUNVAR: {
			char *eq = strchr(optarg, '=');
			if (!eq || eq == optarg) {
				fprintf(stderr, "xenrt: --runvar: expected NAME=VALUE\n");
				usage = 1;
				break;
			}
			*eq = '\0';
			json_object_set_new(runvars, optarg, json_string(eq + 1));
			break;
		}
		default:
			usage = 1;
		}
	}
	if (usage || optind != argc || !repo || !ref || !json_array_size(suites)) {
		fprintf(stderr,
			"usage: xenrt submit --repo PATH|URL --ref REF --suite S [--suite S2] "
			"[--patch FILE] [--kind patch|branch|nightly|gate] [--baseline FLIGHT] "
			"[--runvar NAME=VALUE] [--wait] [--url URL]\n");
		json_decref(suites);
		json_decref(runvars);
		return XENRT_EXIT_USAGE;
	}
	struct xenrt_config cfg;
	char token[128];
	char *abs = NULL, *patch = NULL;
	int rc = XENRT_EXIT_ERROR;
	json_t *req = NULL, *rep = NULL;
	if (cli_config(&cfg, c.config, NULL) < 0 || cli_read_token(&cfg, token, sizeof token) < 0)
		goto out;
	if (!(abs = repo_arg(repo)))
		goto out;
	if (patch_file && !(patch = read_file(patch_file)))
		goto out;
	req = json_pack("{s:s, s:s, s:O}", "repo", abs, "ref", ref, "suites", suites);
	if (!req) {
		fprintf(stderr, "xenrt: arguments must be valid UTF-8\n");
		goto out;
	}
	if (patch && json_object_set_new(req, "patch", json_string(patch)) < 0) {
		fprintf(stderr, "xenrt: %s: patch must be UTF-8 text\n", patch_file);
		goto out;
	}
	if (kind)
		json_object_set_new(req, "kind", json_string(kind));
	if (baseline)
		json_object_set_new(req, "baseline", json_integer(baseline));
	if (json_object_size(runvars))
		json_object_set(req, "runvars", runvars);
	rep = call(c.url, "POST", "/api/flights", req, token);
	if (!rep)
		goto out;
	long long id = json_integer_value(json_object_get(rep, "id"));
	printf("flight %lld submitted: %s%s\n", id, c.url, str(rep, "url"));
	fflush(stdout);
	rc = XENRT_EXIT_OK;
	if (wait) {
		char path[64];
		snprintf(path, sizeof path, "/api/flights/%lld", id);
		json_t *f = NULL;
		while ((f = call(c.url, "GET", path, NULL, NULL)) && !finished(f)) {
			json_decref(f);
			sleep(WAIT_POLL_S);
		}
		if (!f) {
			rc = XENRT_EXIT_ERROR;
			goto out;
		}
		print_flight(f);
		const char *v = verdict_of(f);
		rc = !strcmp(v, "pass") || !strcmp(v, "tolerable") ? XENRT_EXIT_OK
								   : XENRT_EXIT_FAILED;
		json_decref(f);
	}
out:
	json_decref(rep);
	json_decref(req);
	json_decref(suites);
	json_decref(runvars);
	free(abs);
	free(patch);
	return rc;
}

/* `xenrt list` paging and filter, `xenrt show --junit`. */
struct list_opts {
	long long limit, before;
	const char *kind;
	bool junit;
};

/* Parses the options of list/show/cancel/hosts; id_arg says whether one
 * FLIGHT operand is required, lo (list only) takes --limit/--before/--kind. */
static int simple_args(int argc, char **argv, struct common *c, bool id_arg, long long *id,
		       struct list_opts *lo, const char *usage)
{
	static const struct option opts[] = {
		{ "url", required_argument, NULL, OPT_URL },
		{ "config", required_argument, NULL, OPT_CONFIG },
		{ "limit", required_argument, NULL, OPT_LIMIT },
		{ "before", required_argument, NULL, OPT_BEFORE },
		{ "kind", required_argument, NULL, OPT_KIND },
		{ "junit", no_argument, NULL, OPT_JUNIT },
		{ NULL, 0, NULL, 0 },
	};
	int o, bad = 0;
	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (common_opt(o, c))
			continue;
		if (o == OPT_LIMIT && lo)
			bad |= parse_id(optarg, "--limit", &lo->limit);
		else if (o == OPT_BEFORE && lo && !id_arg)
			bad |= parse_id(optarg, "--before", &lo->before);
		else if (o == OPT_JUNIT && lo && id_arg)
			lo->junit = true;
		else if (o == OPT_KIND && lo && !id_arg &&
			 strspn(optarg, "abcdefghijklmnopqrstuvwxyz") == strlen(optarg))
			lo->kind = optarg;
		else
			bad = 1;
	}
	if (!bad && id_arg && optind == argc - 1)
		bad = parse_id(argv[optind], "FLIGHT", id);
	else if (bad || optind != argc - (id_arg ? 1 : 0))
		bad = 1;
	if (bad)
		fprintf(stderr, "usage: %s\n", usage);
	return bad ? -1 : 0;
}

int cli_list(int argc, char **argv)
{
	struct common c = { default_url(), NULL };
	struct list_opts lo = { 20, 0, NULL, false };
	if (simple_args(
		    argc, argv, &c, false, NULL, &lo,
		    "xenrt list [--limit N] [--before FLIGHT] [--kind patch|branch|nightly|gate] "
		    "[--url URL]") < 0)
		return XENRT_EXIT_USAGE;
	char path[128];
	snprintf(path, sizeof path, "/api/flights?limit=%lld", lo.limit);
	if (lo.before)
		snprintf(path + strlen(path), sizeof path - strlen(path), "&before=%lld",
			 lo.before);
	if (lo.kind)
		snprintf(path + strlen(path), sizeof path - strlen(path), "&kind=%.16s", lo.kind);
	json_t *rep = call(c.url, "GET", path, NULL, NULL);
	if (!rep)
		return XENRT_EXIT_ERROR;
	printf("%-7s %-10s %-11s %-8s %-20s %-16s %s\n", "FLIGHT", "STATUS", "VERDICT", "KIND",
	       "REF", "SUBMITTER", "CREATED (UTC)");
	size_t i;
	json_t *f;
	json_array_foreach(json_object_get(rep, "flights"), i, f)
	{
		char created[32];
		when(json_object_get(f, "created_at"), created, sizeof created);
		printf("%-7lld %-10s %-11s %-8s %-20s %-16s %s\n",
		       (long long)json_integer_value(json_object_get(f, "id")), str(f, "status"),
		       verdict_of(f), str(f, "kind"), str(f, "ref"), str(f, "submitter"), created);
	}
	json_t *next = json_object_get(rep, "next_before");
	if (json_is_integer(next))
		printf("(older: xenrt list --before %lld%s%s)\n",
		       (long long)json_integer_value(next), lo.kind ? " --kind " : "",
		       lo.kind ? lo.kind : "");
	json_decref(rep);
	return XENRT_EXIT_OK;
}

int cli_show(int argc, char **argv)
{
	struct common c = { default_url(), NULL };
	struct list_opts lo = { 0, 0, NULL, false };
	long long id;
	if (simple_args(argc, argv, &c, true, &id, &lo, "xenrt show FLIGHT [--junit] [--url URL]") <
	    0)
		return XENRT_EXIT_USAGE;
	char path[64];
	snprintf(path, sizeof path, "/api/flights/%lld", id);
	json_t *f = call(c.url, "GET", path, NULL, NULL);
	if (!f)
		return XENRT_EXIT_ERROR;
	if (lo.junit) {
		/* The same renderer as GET /api/flights/<id>/junit.xml. */
		size_t len;
		char *xml = junit_render(f, &len);
		json_decref(f);
		if (!xml || fwrite(xml, 1, len, stdout) != len) {
			free(xml);
			fprintf(stderr, "xenrt: writing the JUnit report failed\n");
			return XENRT_EXIT_ERROR;
		}
		free(xml);
		return XENRT_EXIT_OK;
	}
	print_flight(f);
	printf("  %s/flights/%lld\n", c.url, id);
	json_decref(f);
	return XENRT_EXIT_OK;
}

int cli_cancel(int argc, char **argv)
{
	struct common c = { default_url(), NULL };
	long long id;
	if (simple_args(argc, argv, &c, true, &id, NULL,
			"xenrt cancel FLIGHT [--url URL] [--config F]") < 0)
		return XENRT_EXIT_USAGE;
	struct xenrt_config cfg;
	char token[128];
	if (cli_config(&cfg, c.config, NULL) < 0 || cli_read_token(&cfg, token, sizeof token) < 0)
		return XENRT_EXIT_ERROR;
	char path[64];
	snprintf(path, sizeof path, "/api/flights/%lld/cancel", id);
	json_t *rep = call(c.url, "POST", path, NULL, token);
	if (!rep)
		return XENRT_EXIT_ERROR;
	printf("flight %lld: cancel requested\n", id);
	json_decref(rep);
	return XENRT_EXIT_OK;
}

int cli_hosts(int argc, char **argv)
{
	struct common c = { default_url(), NULL };
	if (simple_args(argc, argv, &c, false, NULL, NULL, "xenrt hosts [--url URL]") < 0)
		return XENRT_EXIT_USAGE;
	json_t *rep = call(c.url, "GET", "/api/hosts", NULL, NULL);
	if (!rep)
		return XENRT_EXIT_ERROR;
	printf("%-12s %-13s %-8s %-10s %5s %8s  %s\n", "HOST", "STATE", "DRIVER", "CPU", "VCPUS",
	       "MEMORY", "JOB");
	size_t i;
	json_t *h;
	json_array_foreach(json_object_get(rep, "hosts"), i, h)
	{
		json_t *job = json_object_get(h, "reserved_by");
		printf("%-12s %-13s %-8s %-10s %5lld %5lldMiB  ", str(h, "name"), str(h, "state"),
		       str(h, "driver"), str(h, "cpu_model"),
		       (long long)json_integer_value(json_object_get(h, "vcpus")),
		       (long long)json_integer_value(json_object_get(h, "memory_mib")));
		if (json_is_integer(job))
			printf("%lld", (long long)json_integer_value(job));
		else
			printf("-");
		printf("%s\n", json_integer_value(json_object_get(h, "needs_health_check"))
				       ? "  (health check due)"
				       : "");
	}
	json_decref(rep);
	return XENRT_EXIT_OK;
}
