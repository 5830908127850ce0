/* suite.c: loader for testsuites/<name>.suite files.
 *
 * The format is INI-like on purpose (see testsuites/README.md): people edit
 * suites by hand, so every mistake is reported as "file:line: reason" and
 * nothing is silently defaulted except the documented defaults.
 */
#include "suite.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SUITE_FILE_MAX (64 * 1024)

struct parser {
	struct suite *s;
	struct suite_step *step; /* the [step] section being read, or NULL */
	const char *origin;
	int line;
	char *err;
	size_t errlen;
};

static int fail(struct parser *p, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(p->err, p->errlen, "%s:%d: %s", p->origin, p->line, msg);
	return -1;
}

int suite_name_valid(const char *name)
{
	size_t n = 0;

	if (!name)
		return 0;
	for (; name[n]; n++) {
		char c = name[n];
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-'))
			return 0;
	}
	return n > 0 && n < SUITE_NAME_MAX;
}

const char *suite_step_kind_name(enum suite_step_kind kind)
{
	switch (kind) {
	case SUITE_STEP_CONSOLE_MATCH:
		return "console-match";
	case SUITE_STEP_CONSOLE_TAP:
		return "console-tap";
	case SUITE_STEP_CONSOLE_JSONL:
		return "console-jsonl";
	case SUITE_STEP_SSH:
		return "ssh";
	case SUITE_STEP_LOCAL:
		return "local";
	}
	return "?";
}

int suite_needs_hypervisor(const struct suite *s)
{
	return s->provision;
}

int suite_needs_dom0(const struct suite *s)
{
	return s->dom0 != SUITE_DOM0_NONE;
}

static char *trim(char *s)
{
	char *end;

	while (*s == ' ' || *s == '\t')
		s++;
	end = s + strlen(s);
	while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
		*--end = '\0';
	return s;
}

/* Values are copied into fixed fields; a value that does not fit is an error
 * rather than a truncated command line booting the wrong thing. */
static int copy_value(struct parser *p, char *dst, size_t dstlen, const char *key,
		      const char *value)
{
	size_t n = strlen(value);

	if (n >= dstlen)
		return fail(p, "value of '%s' too long (%zu bytes, max %zu)", key, n, dstlen - 1);
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)value[i] < 0x20 || value[i] == 0x7f)
			return fail(p, "value of '%s' contains a control character", key);
	memcpy(dst, value, n + 1);
	return 0;
}

static int parse_int(struct parser *p, const char *key, const char *value, long lo, long hi,
		     int *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(value, &end, 10);
	if (errno || end == value || *end || v < lo || v > hi)
		return fail(p, "'%s' must be an integer in %ld..%ld, not '%s'", key, lo, hi, value);
	*out = (int)v;
	return 0;
}

static int parse_kind(struct parser *p, const char *value, enum suite_step_kind *out)
{
	static const enum suite_step_kind kinds[] = {
		SUITE_STEP_CONSOLE_MATCH, SUITE_STEP_CONSOLE_TAP, SUITE_STEP_CONSOLE_JSONL,
		SUITE_STEP_SSH,           SUITE_STEP_LOCAL,
	};

	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		if (strcmp(value, suite_step_kind_name(kinds[i])) == 0) {
			*out = kinds[i];
			return 0;
		}
	}
	return fail(p,
		    "unknown step kind '%s' (console-match, console-tap, console-jsonl, ssh, "
		    "local)",
		    value);
}

static int parse_sources(struct parser *p, struct suite_step *st, char *value)
{
	char *save = NULL;

	st->n_sources = 0;
	for (char *tok = strtok_r(value, " \t", &save); tok; tok = strtok_r(NULL, " \t", &save)) {
		size_t n = strlen(tok);
		if (st->n_sources == SUITE_MAX_SOURCES)
			return fail(p, "too many sources (max %d)", SUITE_MAX_SOURCES);
		if (n >= sizeof(st->sources[0]))
			return fail(p, "source name '%s' too long", tok);
		for (size_t i = 0; i < n; i++)
			if (!isalnum((unsigned char)tok[i]) && tok[i] != '-' && tok[i] != '_')
				return fail(p, "bad source name '%s'", tok);
		memcpy(st->sources[st->n_sources++], tok, n + 1);
	}
	if (st->n_sources == 0)
		return fail(p, "'sources' needs at least one name");
	return 0;
}

static int parse_module(struct parser *p, const char *value)
{
	struct suite_module *m;
	size_t n = strcspn(value, " \t");

	if (p->s->n_modules == SUITE_MAX_MODULES)
		return fail(p, "too many modules (max %d)", SUITE_MAX_MODULES);
	m = &p->s->modules[p->s->n_modules];
	if (n == 0 || n >= sizeof(m->artifact))
		return fail(p, "module needs an artifact role of 1..%zu characters",
			    sizeof(m->artifact) - 1);
	memcpy(m->artifact, value, n);
	m->artifact[n] = '\0';
	if (!suite_name_valid(m->artifact))
		return fail(p, "bad module artifact role '%s'", m->artifact);
	value += n;
	while (*value == ' ' || *value == '\t')
		value++;
	if (copy_value(p, m->args, sizeof(m->args), "module", value))
		return -1;
	p->s->n_modules++;
	return 0;
}

static int parse_dom0(struct parser *p, const char *value)
{
	if (strcmp(value, "none") == 0)
		p->s->dom0 = SUITE_DOM0_NONE;
	else if (strcmp(value, "kiln") == 0)
		p->s->dom0 = SUITE_DOM0_KILN;
	else if (strcmp(value, "plain") == 0)
		p->s->dom0 = SUITE_DOM0_PLAIN;
	else
		return fail(p, "'dom0' must be none, kiln or plain, not '%s'", value);
	return 0;
}

static int parse_output(struct parser *p, const char *value, enum suite_output *out)
{
	if (strcmp(value, "none") == 0)
		*out = SUITE_OUTPUT_NONE;
	else if (strcmp(value, "tap") == 0)
		*out = SUITE_OUTPUT_TAP;
	else if (strcmp(value, "jsonl") == 0)
		*out = SUITE_OUTPUT_JSONL;
	else
		return fail(p, "'output' must be none, tap or jsonl, not '%s'", value);
	return 0;
}

static int suite_key(struct parser *p, const char *key, char *value)
{
	struct suite *s = p->s;

	if (strcmp(key, "description") == 0)
		return copy_value(p, s->description, sizeof(s->description), key, value);
	if (strcmp(key, "hosts") == 0)
		return parse_int(p, key, value, 1, 8, &s->hosts_needed);
	if (strcmp(key, "job_timeout") == 0)
		return parse_int(p, key, value, 1, 24 * 3600, &s->job_timeout_s);
	if (strcmp(key, "hypervisor") == 0) {
		if (!suite_name_valid(value))
			return fail(p, "bad hypervisor artifact role '%s'", value);
		return copy_value(p, s->hypervisor, sizeof(s->hypervisor), key, value);
	}
	if (strcmp(key, "cmdline") == 0)
		return copy_value(p, s->cmdline, sizeof(s->cmdline), key, value);
	if (strcmp(key, "module") == 0)
		return parse_module(p, value);
	if (strcmp(key, "dom0") == 0)
		return parse_dom0(p, value);
	if (strcmp(key, "provision") == 0) {
		if (strcmp(value, "ipxe") && strcmp(value, "none"))
			return fail(p, "'provision' must be ipxe or none, not '%s'", value);
		s->provision = strcmp(value, "ipxe") == 0;
		return 0;
	}
	if (strcmp(key, "dom0_cmdline") == 0)
		return copy_value(p, s->dom0_cmdline, sizeof(s->dom0_cmdline), key, value);
	if (strcmp(key, "dom0_timeout") == 0)
		return parse_int(p, key, value, 1, 3600, &s->dom0_timeout_s);
	return fail(p, "unknown key '%s' before any [step]", key);
}

static int step_key(struct parser *p, const char *key, char *value)
{
	struct suite_step *st = p->step;

	if (strcmp(key, "kind") == 0)
		return parse_kind(p, value, &st->kind);
	if (strcmp(key, "timeout") == 0)
		return parse_int(p, key, value, 1, 24 * 3600, &st->timeout_s);
	if (strcmp(key, "host") == 0)
		return parse_int(p, key, value, 0, 7, &st->host);
	if (strcmp(key, "expect") == 0)
		return copy_value(p, st->expect, sizeof(st->expect), key, value);
	if (strcmp(key, "command") == 0)
		return copy_value(p, st->command, sizeof(st->command), key, value);
	if (strcmp(key, "sources") == 0)
		return parse_sources(p, st, value);
	if (strcmp(key, "min_sources") == 0)
		return parse_int(p, key, value, 0, SUITE_MAX_SOURCES, &st->min_sources);
	if (strcmp(key, "exit_code") == 0)
		return parse_int(p, key, value, 0, 127, &st->exit_code);
	if (strcmp(key, "output") == 0)
		return parse_output(p, value, &st->output);
	return fail(p, "unknown key '%s' in [step %s]", key, st->name);
}

static int section(struct parser *p, char *line)
{
	char *close = strchr(line, ']');
	char *name;

	if (!close || trim(close + 1)[0] != '\0')
		return fail(p, "malformed section header");
	*close = '\0';
	name = trim(line + 1);
	if (strncmp(name, "step", 4) != 0 || (name[4] != ' ' && name[4] != '\t'))
		return fail(p, "unknown section '[%s]' (only [step NAME])", name);
	name = trim(name + 4);
	if (!suite_name_valid(name))
		return fail(p, "bad step name '%s' ([a-z0-9_-]+)", name);
	for (int i = 0; i < p->s->n_steps; i++)
		if (strcmp(p->s->steps[i].name, name) == 0)
			return fail(p, "duplicate step '%s'", name);
	if (p->s->n_steps == SUITE_MAX_STEPS)
		return fail(p, "too many steps (max %d)", SUITE_MAX_STEPS);
	p->step = &p->s->steps[p->s->n_steps++];
	memset(p->step, 0, sizeof(*p->step));
	snprintf(p->step->name, sizeof(p->step->name), "%s", name);
	p->step->line = p->line;
	p->step->kind = -1;
	p->step->exit_code = -1;
	p->step->min_sources = 1;
	return 0;
}

/* Checks what can only be checked once a step (or the file) is complete. */
static int check_step(struct parser *p, const struct suite_step *st)
{
	p->line = st->line;
	if ((int)st->kind == -1)
		return fail(p, "step '%s' has no 'kind'", st->name);
	if (st->timeout_s == 0)
		return fail(p, "step '%s' has no 'timeout'", st->name);
	if (st->host >= p->s->hosts_needed)
		return fail(p, "step '%s' reads host %d but the suite has %d host(s)", st->name,
			    st->host, p->s->hosts_needed);
	if (st->kind == SUITE_STEP_CONSOLE_MATCH && !st->expect[0])
		return fail(p, "console-match step '%s' needs 'expect'", st->name);
	if (st->kind == SUITE_STEP_SSH && !st->command[0])
		return fail(p, "ssh step '%s' needs 'command'", st->name);
	if (st->kind == SUITE_STEP_SSH && p->s->dom0 == SUITE_DOM0_NONE)
		return fail(p, "ssh step '%s' needs a dom0 (dom0 = kiln or plain)", st->name);
	if (st->kind == SUITE_STEP_LOCAL && !st->command[0])
		return fail(p, "local step '%s' needs 'command'", st->name);
	if (st->kind != SUITE_STEP_SSH && st->output != SUITE_OUTPUT_NONE)
		return fail(p, "'output' is for ssh steps, not '%s'", st->name);
	if (st->kind != SUITE_STEP_SSH && st->kind != SUITE_STEP_LOCAL && st->command[0])
		return fail(p, "'command' is for ssh and local steps, not '%s'", st->name);
	/* A booted host's steps read its console; an unbooted one has none. */
	if ((st->kind == SUITE_STEP_LOCAL) == p->s->provision)
		return fail(p,
			    "step '%s': local steps need 'provision = none', and only they run "
			    "without it",
			    st->name);
	return 0;
}

static int check_suite(struct parser *p)
{
	if (p->s->n_steps == 0)
		return fail(p, "suite has no [step] section");
	if (!p->s->job_timeout_s)
		return fail(p, "suite has no 'job_timeout'");
	if (!p->s->provision &&
	    (p->s->dom0 != SUITE_DOM0_NONE || p->s->n_modules || p->s->cmdline[0]))
		return fail(p, "provision = none boots nothing: 'dom0', 'module' and 'cmdline' do "
			       "not apply");
	/* A plain dom0 boot has no hypervisor to give modules or a command line. */
	if (p->s->dom0 == SUITE_DOM0_PLAIN && (p->s->n_modules || p->s->cmdline[0]))
		return fail(
			p, "dom0 = plain boots no hypervisor: 'module' and 'cmdline' do not apply");
	for (int i = 0; i < p->s->n_steps; i++)
		if (check_step(p, &p->s->steps[i]))
			return -1;
	return 0;
}

static int parse_line(struct parser *p, char *line)
{
	char *eq, *key, *value;

	line = trim(line);
	if (line[0] == '\0' || line[0] == '#' || line[0] == ';')
		return 0;
	if (line[0] == '[')
		return section(p, line);
	eq = strchr(line, '=');
	if (!eq)
		return fail(p, "expected 'key = value' or '[step NAME]'");
	*eq = '\0';
	key = trim(line);
	value = trim(eq + 1);
	if (!key[0])
		return fail(p, "empty key");
	return p->step ? step_key(p, key, value) : suite_key(p, key, value);
}

int suite_parse(const char *text, const char *origin, const char *name, struct suite **out,
		char *err, size_t errlen)
{
	struct parser p = { .origin = origin, .err = err, .errlen = errlen };
	char *copy, *cur, *nl;
	int rc = 0;

	*out = NULL;
	if (!suite_name_valid(name)) {
		snprintf(err, errlen, "invalid suite name (allowed: [a-z0-9_-], 1..63 chars)");
		return -1;
	}
	p.s = calloc(1, sizeof(*p.s));
	copy = strdup(text);
	if (!p.s || !copy) {
		free(p.s);
		free(copy);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	snprintf(p.s->name, sizeof(p.s->name), "%s", name);
	p.s->hosts_needed = 1;
	p.s->provision = 1;
	snprintf(p.s->hypervisor, sizeof(p.s->hypervisor), "hypervisor");
	/* quiet cuts serial exits tenfold; ttyS0 is the captured console. */
	snprintf(p.s->dom0_cmdline, sizeof(p.s->dom0_cmdline), "console=ttyS0 quiet");
	p.s->dom0_timeout_s = 60;
	for (cur = copy; cur && rc == 0; cur = nl) {
		nl = strchr(cur, '\n');
		if (nl)
			*nl++ = '\0';
		p.line++;
		rc = parse_line(&p, cur);
	}
	free(copy);
	if (rc == 0)
		rc = check_suite(&p);
	if (rc) {
		free(p.s);
		return -1;
	}
	*out = p.s;
	return 0;
}

static int read_file(const char *path, char **out, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	size_t n;

	if (!f) {
		int e = errno;
		snprintf(err, errlen, "%s: %s", path, strerror(e));
		return e == ENOENT ? -2 : -1;
	}
	buf = malloc(SUITE_FILE_MAX + 1);
	if (!buf) {
		fclose(f);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	n = fread(buf, 1, SUITE_FILE_MAX + 1, f);
	if (ferror(f) || n > SUITE_FILE_MAX) {
		snprintf(err, errlen, "%s: %s", path, ferror(f) ? "read error" : "file too large");
		fclose(f);
		free(buf);
		return -1;
	}
	fclose(f);
	if (memchr(buf, '\0', n)) {
		snprintf(err, errlen, "%s: contains a NUL byte", path);
		free(buf);
		return -1;
	}
	buf[n] = '\0';
	*out = buf;
	return 0;
}

int suite_read(const char *suites_dir, const char *name, char **text, char *err, size_t errlen)
{
	char path[4096];
	int rc;

	*text = NULL;
	if (!suite_name_valid(name)) {
		snprintf(err, errlen, "invalid suite name (allowed: [a-z0-9_-], 1..63 chars)");
		return -1;
	}
	if ((size_t)snprintf(path, sizeof(path), "%s/%s.suite", suites_dir, name) >= sizeof(path)) {
		snprintf(err, errlen, "suites directory path too long");
		return -1;
	}
	rc = read_file(path, text, err, errlen);
	if (rc == -2)
		snprintf(err, errlen, "unknown suite '%s'", name);
	return rc ? -1 : 0;
}

int suite_load(const char *suites_dir, const char *name, struct suite **out, char *err,
	       size_t errlen)
{
	char path[4096];
	char *text;
	int rc;

	*out = NULL;
	if (suite_read(suites_dir, name, &text, err, errlen))
		return -1;
	snprintf(path, sizeof(path), "%s/%s.suite", suites_dir, name);
	rc = suite_parse(text, path, name, out, err, errlen);
	free(text);
	return rc;
}

void suite_free(struct suite *s)
{
	free(s);
}
