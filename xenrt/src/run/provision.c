/* provision.c: strict iPXE template rendering (see provision.h). */
#include "provision.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "suite.h"

int pxe_value_valid(const char *v)
{
	for (; *v; v++) {
		char c = *v;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      strchr(" _-.,:=/+@%~", c)))
			return 0;
	}
	return 1;
}

struct buf {
	char *p;
	size_t len, cap;
};

static int put(struct buf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 1024;
		while (cap < b->len + n + 1)
			cap *= 2;
		char *p = realloc(b->p, cap);
		if (!p)
			return -1;
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
	return 0;
}

static int fail(char *err, size_t errlen, const char *origin, int line, const char *fmt, ...)
{
	char msg[200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(err, errlen, "%s:%d: %s", origin, line, msg);
	return -1;
}

static const struct pxe_var *find(const struct pxe_var *vars, size_t nvars, const char *name,
				  size_t n)
{
	for (size_t i = 0; i < nvars; i++)
		if (strlen(vars[i].name) == n && memcmp(vars[i].name, name, n) == 0)
			return &vars[i];
	return NULL;
}

int pxe_render(const char *tmpl, const char *origin, const struct pxe_var *vars, size_t nvars,
	       char **out, char *err, size_t errlen)
{
	struct buf b = { 0 };
	const char *s = tmpl;
	int line = 1;

	*out = NULL;
	while (*s) {
		const char *open = strstr(s, "{{"), *close, *name;
		const struct pxe_var *v;
		size_t n;

		if (!open)
			open = s + strlen(s);
		for (const char *c = s; c < open; c++)
			line += *c == '\n';
		if (put(&b, s, (size_t)(open - s)))
			goto oom;
		if (!*open)
			break;
		name = open + 2;
		close = strstr(name, "}}");
		n = close ? (size_t)(close - name) : 0;
		if (!close || memchr(name, '\n', n)) {
			free(b.p);
			return fail(err, errlen, origin, line, "unterminated placeholder");
		}
		v = find(vars, nvars, name, n);
		if (!v) {
			free(b.p);
			return fail(err, errlen, origin, line, "unknown placeholder {{%.*s}}",
				    (int)(n > 40 ? 40 : n), name);
		}
		if (!v->multiline && !pxe_value_valid(v->value)) {
			free(b.p);
			return fail(err, errlen, origin, line,
				    "value of {{%s}} has characters unsafe in iPXE", v->name);
		}
		if (put(&b, v->value, strlen(v->value)))
			goto oom;
		s = close + 2;
	}
	if (!b.p && put(&b, "", 0))
		goto oom;
	*out = b.p;
	return 0;
oom:
	free(b.p);
	snprintf(err, errlen, "out of memory");
	return -1;
}

void provision_role_file(const char *role, char *out, size_t outlen)
{
	if (strcmp(role, "hypervisor") == 0)
		snprintf(out, outlen, "kiln.elf");
	else if (strcmp(role, SUITE_ROLE_DOM0_KERNEL) == 0)
		snprintf(out, outlen, "vmlinuz");
	else if (strcmp(role, SUITE_ROLE_DOM0_INITRD) == 0)
		snprintf(out, outlen, "initramfs.cpio.xz");
	else if (strncmp(role, "guest-", 6) == 0 && role[6])
		snprintf(out, outlen, "%s.elf", role + 6);
	else
		snprintf(out, outlen, "%s", role);
}
