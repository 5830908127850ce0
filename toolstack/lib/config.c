/*
 * config.c - the domain configuration file parser (format in kiln_config.h).
 *
 * A person writes these files, so every mistake gets a message naming the
 * file, the line and the value, and nothing is guessed: unknown keys,
 * repeated keys, trailing junk after numbers and out-of-range values are all
 * errors rather than silently ignored or clamped.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "kiln_config.h"

struct parser {
    const char *file;
    unsigned line;
    char *err;
    size_t errlen;
    struct kiln_config *cfg;
    unsigned seen_line[16];   /* per key: line it was set on, 0 = not yet */
};

static int fail(struct parser *p, const char *fmt, ...)
{
    va_list ap;
    int n = snprintf(p->err, p->errlen, "%s:%u: ", p->file, p->line);

    if (n >= 0 && (size_t)n < p->errlen) {
        va_start(ap, fmt);
        vsnprintf(p->err + n, p->errlen - n, fmt, ap);
        va_end(ap);
    }
    return -EINVAL;
}

/* Whole string a decimal or 0x number, no sign, no junk, no overflow. */
static bool parse_u64(const char *s, uint64_t *out)
{
    char *end;

    if (!isdigit((unsigned char)s[0]))
        return false;
    errno = 0;
    *out = strtoull(s, &end, 0);
    return errno == 0 && *end == '\0';
}

static int number(struct parser *p, const char *key, const char *val,
                  uint64_t min, uint64_t max, uint64_t *out)
{
    if (!parse_u64(val, out))
        return fail(p, "%s: '%s' is not a number", key, val);
    if (*out < min || *out > max)
        return fail(p, "%s: %s is out of range %llu..%llu", key, val,
                    (unsigned long long)min, (unsigned long long)max);
    return 0;
}

static int set_name(struct parser *p, const char *val)
{
    size_t len = strlen(val);

    if (len >= KILN_NAME_MAX)
        return fail(p, "name: '%s' is longer than %d characters", val, KILN_NAME_MAX - 1);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = val[i];
        if (!isalnum(c) && c != '.' && c != '_' && c != '-')
            return fail(p, "name: '%s' may only contain letters, digits, '.', '_' and '-'", val);
    }
    memcpy(p->cfg->name, val, len + 1);
    return 0;
}

static int set_kernel(struct parser *p, const char *val)
{
    const char *slash = strrchr(p->file, '/');
    int dirlen = (val[0] != '/' && slash) ? (int)(slash - p->file) : -1;
    int n;

    /* Relative to the config file, so configs can sit beside their images. */
    if (dirlen >= 0)
        n = snprintf(p->cfg->kernel, sizeof(p->cfg->kernel), "%.*s/%s", dirlen, p->file, val);
    else
        n = snprintf(p->cfg->kernel, sizeof(p->cfg->kernel), "%s", val);
    if (n < 0 || (size_t)n >= sizeof(p->cfg->kernel))
        return fail(p, "kernel: path too long");
    return 0;
}

int kiln_cpulist_parse(const char *s, uint64_t *mask, char *err, size_t errlen)
{
    char buf[256], *tok, *save = NULL;
    uint64_t m = 0;

    if (strlen(s) >= sizeof(buf)) {
        snprintf(err, errlen, "CPU list too long");
        return -EINVAL;
    }
    strcpy(buf, s);
    for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        char *dash = strchr(tok, '-');
        uint64_t lo = 0, hi;
        bool ok;

        if (dash)
            *dash = '\0';
        ok = parse_u64(tok, &lo);
        hi = lo;
        if (ok && dash)
            ok = parse_u64(dash + 1, &hi);
        if (dash)
            *dash = '-';
        if (!ok || lo > hi) {
            snprintf(err, errlen, "'%s' is not a CPU number or range like 1-3", tok);
            return -EINVAL;
        }
        if (hi > 63) {
            snprintf(err, errlen, "CPU %llu is out of range 0..63", (unsigned long long)hi);
            return -EINVAL;
        }
        for (uint64_t c = lo; c <= hi; c++)
            m |= 1ull << c;
    }
    if (!m) {
        snprintf(err, errlen, "'%s' names no CPU", s);
        return -EINVAL;
    }
    *mask = m;
    return 0;
}

static int set_cpus(struct parser *p, const char *val)
{
    char msg[128];

    if (kiln_cpulist_parse(val, &p->cfg->cpus, msg, sizeof(msg)) < 0)
        return fail(p, "cpus: %s", msg);
    return 0;
}

static int set_cpuid(struct parser *p, const char *val)
{
    struct kiln_config *cfg = p->cfg;
    struct kiln_domctl_cpuid c = { .eax = ~0u, .ebx = ~0u, .ecx = ~0u, .edx = ~0u };
    char buf[256], *regs, *tok, *save = NULL, *colon;
    uint64_t v;

    if (strlen(val) >= sizeof(buf))
        return fail(p, "cpuid: value too long");
    strcpy(buf, val);
    regs = buf + strcspn(buf, " \t");
    if (*regs == '\0')
        return fail(p, "cpuid: expected 'LEAF[:SUBLEAF] REG=MASK[,REG=MASK...]', got '%s'", val);
    *regs++ = '\0';
    colon = strchr(buf, ':');
    if (colon)
        *colon = '\0';
    if (!parse_u64(buf, &v) || v > UINT32_MAX)
        return fail(p, "cpuid: leaf '%s' is not a 32-bit number", buf);
    c.leaf = (uint32_t)v;
    if (colon) {
        if (!parse_u64(colon + 1, &v) || v > UINT32_MAX)
            return fail(p, "cpuid: subleaf '%s' is not a 32-bit number", colon + 1);
        c.subleaf = (uint32_t)v;
    }
    for (tok = strtok_r(regs, ", \t", &save); tok; tok = strtok_r(NULL, ", \t", &save)) {
        char *eq = strchr(tok, '=');
        uint32_t *reg;

        if (!eq)
            return fail(p, "cpuid: expected REG=MASK, got '%s'", tok);
        *eq = '\0';
        if (!strcmp(tok, "eax"))      reg = &c.eax;
        else if (!strcmp(tok, "ebx")) reg = &c.ebx;
        else if (!strcmp(tok, "ecx")) reg = &c.ecx;
        else if (!strcmp(tok, "edx")) reg = &c.edx;
        else
            return fail(p, "cpuid: unknown register '%s' (eax, ebx, ecx or edx)", tok);
        if (!parse_u64(eq + 1, &v) || v > UINT32_MAX)
            return fail(p, "cpuid: %s mask '%s' is not a 32-bit number", tok, eq + 1);
        *reg = (uint32_t)v;
    }
    for (size_t i = 0; i < cfg->n_cpuid; i++)
        if (cfg->cpuid[i].leaf == c.leaf && cfg->cpuid[i].subleaf == c.subleaf)
            return fail(p, "cpuid: leaf 0x%x:%u is overridden twice", c.leaf, c.subleaf);
    if (cfg->n_cpuid == KILN_CONFIG_CPUID_MAX)
        return fail(p, "cpuid: more than %d overrides", KILN_CONFIG_CPUID_MAX);
    cfg->cpuid[cfg->n_cpuid++] = c;
    return 0;
}

enum key { K_NAME, K_KERNEL, K_MEMORY, K_VCPUS, K_CMDLINE, K_WEIGHT, K_CAP, K_CPUS, K_CPUID, K_COUNT };
static const char *const key_names[K_COUNT] = {
    "name", "kernel", "memory", "vcpus", "cmdline", "weight", "cap", "cpus", "cpuid",
};

static int set_key(struct parser *p, enum key k, const char *val)
{
    struct kiln_config *cfg = p->cfg;
    uint64_t v;
    int r;

    switch (k) {
    case K_NAME:   return set_name(p, val);
    case K_KERNEL: return set_kernel(p, val);
    case K_MEMORY:
        r = number(p, "memory", val, 1, 1048576, &v);
        cfg->memory_mib = v;
        return r;
    case K_VCPUS:
        r = number(p, "vcpus", val, 1, KILN_MAX_VCPUS, &v);
        cfg->vcpus = (uint32_t)v;
        return r;
    case K_CMDLINE:
        if (strlen(val) >= sizeof(cfg->cmdline))
            return fail(p, "cmdline: longer than %d bytes", KILN_CONFIG_CMDLINE_MAX - 1);
        strcpy(cfg->cmdline, val);
        return 0;
    case K_WEIGHT:
        r = number(p, "weight", val, 1, 65535, &v);
        cfg->weight = (uint32_t)v;
        return r;
    case K_CAP:
        r = number(p, "cap", val, 0, 6400, &v);
        cfg->cap = (uint32_t)v;
        return r;
    case K_CPUS:   return set_cpus(p, val);
    case K_CPUID:  return set_cpuid(p, val);
    case K_COUNT:  break;
    }
    return fail(p, "internal error: key %d", (int)k);
}

static char *trim(char *s)
{
    char *end;

    while (isspace((unsigned char)*s))
        s++;
    end = s + strlen(s);
    while (end > s && isspace((unsigned char)end[-1]))
        *--end = '\0';
    return s;
}

/* One line, modified in place. */
static int parse_line(struct parser *p, char *line)
{
    bool quoted = false;
    char *eq, *key, *val;
    int k;

    for (char *c = line; *c; c++) {
        if (*c == '"')
            quoted = !quoted;
        else if (*c == '#' && !quoted) {
            *c = '\0';
            break;
        }
    }
    line = trim(line);
    if (*line == '\0')
        return 0;
    eq = strchr(line, '=');
    if (!eq)
        return fail(p, "expected 'key = value', got '%s'", line);
    *eq = '\0';
    key = trim(line);
    val = trim(eq + 1);
    for (k = 0; k < K_COUNT; k++)
        if (!strcmp(key, key_names[k]))
            break;
    if (k == K_COUNT)
        return fail(p, "unknown key '%s' (known: name, kernel, memory, vcpus, cmdline, "
                       "weight, cap, cpus, cpuid)", key);
    if (k != K_CPUID && p->seen_line[k])
        return fail(p, "'%s' is set twice (first on line %u)", key, p->seen_line[k]);
    p->seen_line[k] = p->line;
    if (*val == '"') {
        size_t len = strlen(val);
        if (len < 2 || val[len - 1] != '"' || memchr(val + 1, '"', len - 2))
            return fail(p, "%s: unterminated or malformed quoted value", key);
        val[len - 1] = '\0';
        val++;
    }
    if (*val == '\0' && k != K_CMDLINE)
        return fail(p, "%s: empty value", key);
    return set_key(p, k, val);
}

int kiln_config_parse(const char *text, const char *filename, struct kiln_config *cfg,
                      char *err, size_t errlen)
{
    struct parser p = { .file = filename, .err = err, .errlen = errlen, .cfg = cfg };
    static const enum key required[] = { K_NAME, K_KERNEL, K_MEMORY };
    const char *s = text;

    memset(cfg, 0, sizeof(*cfg));
    cfg->vcpus = 1;
    cfg->weight = 256;
    while (*s) {
        const char *nl = strchr(s, '\n');
        size_t len = nl ? (size_t)(nl - s) : strlen(s);
        char *line = malloc(len + 1);
        int r;

        if (!line)
            return -ENOMEM;
        memcpy(line, s, len);
        line[len] = '\0';
        p.line++;
        r = parse_line(&p, line);
        free(line);
        if (r)
            return r;
        s += len + (nl ? 1 : 0);
    }
    for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++) {
        if (!p.seen_line[required[i]]) {
            snprintf(err, errlen, "%s: missing required key '%s'", filename, key_names[required[i]]);
            return -EINVAL;
        }
    }
    return 0;
}

int kiln_config_load(const char *path, struct kiln_config *cfg, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    char *text;
    long size;
    int r;

    if (!f) {
        r = -errno;
        snprintf(err, errlen, "%s: %s", path, strerror(-r));
        return r;
    }
    if (fseek(f, 0, SEEK_END) || (size = ftell(f)) < 0 || fseek(f, 0, SEEK_SET)) {
        r = -errno;
        fclose(f);
        snprintf(err, errlen, "%s: %s", path, strerror(-r));
        return r;
    }
    if (size > 1 << 20) {
        fclose(f);
        snprintf(err, errlen, "%s: larger than 1 MiB, not a domain config", path);
        return -EFBIG;
    }
    text = malloc((size_t)size + 1);
    if (!text) {
        fclose(f);
        return -ENOMEM;
    }
    if (fread(text, 1, (size_t)size, f) != (size_t)size) {
        free(text);
        fclose(f);
        snprintf(err, errlen, "%s: read error", path);
        return -EIO;
    }
    fclose(f);
    text[size] = '\0';
    /* A NUL inside the file would end the text early: catch it. */
    if (strlen(text) != (size_t)size) {
        free(text);
        snprintf(err, errlen, "%s: contains a NUL byte, not a text file", path);
        return -EINVAL;
    }
    r = kiln_config_parse(text, path, cfg, err, errlen);
    free(text);
    return r;
}
