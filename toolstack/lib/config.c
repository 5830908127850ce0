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

enum key {
    K_NAME, K_TYPE, K_KERNEL, K_RAMDISK, K_MEMORY, K_VCPUS, K_CMDLINE, K_WEIGHT, K_CAP,
    K_CPUS, K_CPUID, K_DISK, K_VIF, K_ON_POWEROFF, K_ON_REBOOT, K_ON_CRASH, K_TESTDEV, K_COUNT
};
static const char *const key_names[K_COUNT] = {
    "name", "type", "kernel", "ramdisk", "memory", "vcpus", "cmdline", "weight", "cap",
    "cpus", "cpuid", "disk", "vif", "on_poweroff", "on_reboot", "on_crash", "testdev",
};

struct parser {
    const char *file;
    char dir[KILN_CONFIG_PATH_MAX];   /* the file's folder, "" if none */
    unsigned line;
    char *err;
    size_t errlen;
    struct kiln_config *cfg;
    unsigned seen_line[K_COUNT];      /* per key: line it was set on, 0 = not yet */
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

/* kernel and ramdisk: relative to the config file, so configs can sit
 * beside their images. */
static int set_path(struct parser *p, const char *key, const char *val, char *dest)
{
    int n;

    if (val[0] != '/' && p->dir[0])
        n = snprintf(dest, KILN_CONFIG_PATH_MAX, "%s/%s", p->dir, val);
    else
        n = snprintf(dest, KILN_CONFIG_PATH_MAX, "%s", val);
    if (n < 0 || n >= KILN_CONFIG_PATH_MAX)
        return fail(p, "%s: path too long", key);
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

static int set_type(struct parser *p, const char *val)
{
    if (!strcmp(val, "elf"))
        p->cfg->type = KILN_GUEST_ELF;
    else if (!strcmp(val, "linux"))
        p->cfg->type = KILN_GUEST_LINUX;
    else if (!strcmp(val, "multiboot"))
        p->cfg->type = KILN_GUEST_MULTIBOOT;
    else if (!strcmp(val, "auto"))
        p->cfg->type = KILN_GUEST_AUTO;
    else
        return fail(p, "type: '%s' is not elf, multiboot, linux or auto", val);
    return 0;
}

static int set_action(struct parser *p, const char *key, const char *val, enum kiln_action *a)
{
    if (!strcmp(val, "destroy"))
        *a = KILN_ACTION_DESTROY;
    else if (!strcmp(val, "restart"))
        *a = KILN_ACTION_RESTART;
    else if (!strcmp(val, "preserve"))
        *a = KILN_ACTION_PRESERVE;
    else
        return fail(p, "%s: '%s' is not destroy, restart or preserve", key, val);
    return 0;
}

static int add_disk(struct parser *p, const char *item)
{
    struct kiln_config *cfg = p->cfg;
    struct kiln_config_disk *d = &cfg->disk[cfg->n_disks];
    char msg[KILN_CONFIG_PATH_MAX + 64];

    if (cfg->n_disks == KILN_CONFIG_DISK_MAX)
        return fail(p, "disk: more than %d disks", KILN_CONFIG_DISK_MAX);
    if (kiln_disk_parse(item, p->dir, d, msg, sizeof(msg)))
        return fail(p, "disk: %s", msg);
    for (size_t i = 0; i < cfg->n_disks; i++) {
        if (!strcmp(cfg->disk[i].vdev, d->vdev))
            return fail(p, "disk: %s is named twice", d->vdev);
        if (!strcmp(cfg->disk[i].path, d->path))
            return fail(p, "disk: image '%s' is used twice", d->path);
    }
    cfg->n_disks++;
    return 0;
}

static int add_vif(struct parser *p, const char *item)
{
    struct kiln_config *cfg = p->cfg;
    struct kiln_config_vif *v = &cfg->vif[cfg->n_vifs];
    char msg[128];

    if (cfg->n_vifs == KILN_CONFIG_VIF_MAX)
        return fail(p, "vif: more than %d interfaces", KILN_CONFIG_VIF_MAX);
    if (kiln_vif_parse(item, v, msg, sizeof(msg)))
        return fail(p, "vif: %s", msg);
    for (size_t i = 0; v->has_mac && i < cfg->n_vifs; i++)
        if (cfg->vif[i].has_mac && !memcmp(cfg->vif[i].mac, v->mac, 6))
            return fail(p, "vif: mac %02x:%02x:%02x:%02x:%02x:%02x is used twice",
                        v->mac[0], v->mac[1], v->mac[2], v->mac[3], v->mac[4], v->mac[5]);
    cfg->n_vifs++;
    return 0;
}

/* `[ "item", "item", ]`: each item handed to add (items may not contain
 * '"'; an empty list is allowed). */
static int parse_list(struct parser *p, const char *key, char *val,
                      int (*add)(struct parser *, const char *))
{
    char *s = val;
    int r;

    if (*s != '[')
        return fail(p, "%s: expected a list like [ \"...\", \"...\" ]", key);
    s++;
    for (;;) {
        char *end;

        while (isspace((unsigned char)*s))
            s++;
        if (*s == ']')
            break;
        if (*s != '"')
            return fail(p, "%s: list items must be double-quoted, at '%s'", key, s);
        end = strchr(s + 1, '"');
        if (!end)
            return fail(p, "%s: unterminated quoted item", key);
        *end = '\0';
        if ((r = add(p, s + 1)))
            return r;
        s = end + 1;
        while (isspace((unsigned char)*s))
            s++;
        if (*s == ',')
            s++;
        else if (*s != ']')
            return fail(p, "%s: expected ',' or ']' after an item, at '%s'", key, s);
    }
    s++;
    while (isspace((unsigned char)*s))
        s++;
    if (*s)
        return fail(p, "%s: text after the list: '%s'", key, s);
    return 0;
}

static int set_key(struct parser *p, enum key k, char *val)
{
    struct kiln_config *cfg = p->cfg;
    uint64_t v;
    int r;

    switch (k) {
    case K_NAME:    return set_name(p, val);
    case K_TYPE:    return set_type(p, val);
    case K_KERNEL:  return set_path(p, "kernel", val, cfg->kernel);
    case K_RAMDISK: return set_path(p, "ramdisk", val, cfg->ramdisk);
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
    case K_TESTDEV:
        r = number(p, "testdev", val, 0, 1, &v);
        cfg->testdev = (int)v;
        return r;
    case K_CPUS:   return set_cpus(p, val);
    case K_CPUID:  return set_cpuid(p, val);
    case K_DISK:   return parse_list(p, "disk", val, add_disk);
    case K_VIF:    return parse_list(p, "vif", val, add_vif);
    case K_ON_POWEROFF: return set_action(p, "on_poweroff", val, &cfg->on_poweroff);
    case K_ON_REBOOT:   return set_action(p, "on_reboot", val, &cfg->on_reboot);
    case K_ON_CRASH:    return set_action(p, "on_crash", val, &cfg->on_crash);
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

/* Cuts a comment ('#' outside double quotes) off line. */
static void strip_comment(char *line)
{
    bool quoted = false;

    for (char *c = line; *c; c++) {
        if (*c == '"')
            quoted = !quoted;
        else if (*c == '#' && !quoted) {
            *c = '\0';
            return;
        }
    }
}

/* '[' minus ']' outside double quotes: > 0 while a list is open. */
static long brackets(const char *line)
{
    bool quoted = false;
    long depth = 0;

    for (const char *c = line; *c; c++) {
        if (*c == '"')
            quoted = !quoted;
        else if (!quoted && *c == '[')
            depth++;
        else if (!quoted && *c == ']')
            depth--;
    }
    return depth;
}

static bool is_list_key(int k)
{
    return k == K_DISK || k == K_VIF;
}

/* One logical line (a list may have joined several), comments removed,
 * modified in place. */
static int parse_line(struct parser *p, char *line)
{
    char *eq, *key, *val;
    int k;

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
    if (k == K_COUNT) {
        char known[256];
        size_t n = 0;

        for (int i = 0; i < K_COUNT; i++)
            n += (size_t)snprintf(known + n, sizeof(known) - n, "%s%s", i ? ", " : "",
                                  key_names[i]);
        return fail(p, "unknown key '%s' (known: %s)", key, known);
    }
    if (k != K_CPUID && p->seen_line[k])
        return fail(p, "'%s' is set twice (first on line %u)", key, p->seen_line[k]);
    p->seen_line[k] = p->line;
    if (is_list_key(k))
        return set_key(p, k, val);
    if (*val == '[')
        return fail(p, "%s: takes one value, not a list", key);
    if (*val == '"') {
        size_t len = strlen(val);
        if (len < 2 || val[len - 1] != '"' || memchr(val + 1, '"', len - 2))
            return fail(p, "%s: unterminated or malformed quoted value", key);
        val[len - 1] = '\0';
        val++;
    }
    if (*val == '\0' && k != K_CMDLINE && k != K_RAMDISK)
        return fail(p, "%s: empty value", key);
    return set_key(p, k, val);
}

/* Appends text[0..len) to the growing buffer *buf of *used bytes. */
static int append(char **buf, size_t *used, size_t *cap, const char *text, size_t len)
{
    if (*used + len + 2 > *cap) {
        size_t ncap = (*used + len + 2) * 2;
        char *n = realloc(*buf, ncap);

        if (!n)
            return -ENOMEM;
        *buf = n;
        *cap = ncap;
    }
    if (*used)
        (*buf)[(*used)++] = ' ';
    memcpy(*buf + *used, text, len);
    *used += len;
    (*buf)[*used] = '\0';
    return 0;
}

/* Appends the next physical line of *s, its comment removed, to the
 * buffer and adds its bracket balance to *depth; 0 or -ENOMEM. */
static int take_line(const char **s, char **buf, size_t *used, size_t *cap, long *depth)
{
    const char *nl = strchr(*s, '\n');
    size_t len = nl ? (size_t)(nl - *s) : strlen(*s);
    size_t start = *used ? *used + 1 : 0;
    int r = append(buf, used, cap, *s, len);

    if (r)
        return r;
    strip_comment(*buf + start);
    *used = start + strlen(*buf + start);
    *depth += brackets(*buf + start);
    *s += len + (nl ? 1 : 0);
    return 0;
}

static int check_whole(struct parser *p)
{
    static const enum key required[] = { K_NAME, K_KERNEL, K_MEMORY };

    for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++) {
        if (!p->seen_line[required[i]]) {
            snprintf(p->err, p->errlen, "%s: missing required key '%s'", p->file,
                     key_names[required[i]]);
            return -EINVAL;
        }
    }
    if (p->cfg->ramdisk[0] && p->cfg->type != KILN_GUEST_LINUX) {
        p->line = p->seen_line[K_RAMDISK];
        return fail(p, "ramdisk: only a type = \"linux\" guest takes a ramdisk");
    }
    if (p->cfg->testdev && p->cfg->type != KILN_GUEST_MULTIBOOT &&
        p->cfg->type != KILN_GUEST_AUTO) {
        p->line = p->seen_line[K_TESTDEV];
        return fail(p, "testdev: only a type = \"multiboot\" guest has test devices");
    }
    return 0;
}

int kiln_config_parse(const char *text, const char *filename, struct kiln_config *cfg,
                      char *err, size_t errlen)
{
    struct parser p = { .file = filename, .err = err, .errlen = errlen, .cfg = cfg };
    const char *slash = strrchr(filename, '/');
    const char *s = text;
    char *buf = NULL;
    size_t cap = 0;
    int r = 0;

    memset(cfg, 0, sizeof(*cfg));
    cfg->vcpus = 1;
    cfg->weight = 256;
    cfg->on_poweroff = KILN_ACTION_DESTROY;
    cfg->on_reboot = KILN_ACTION_RESTART;
    cfg->on_crash = KILN_ACTION_DESTROY;
    if (slash && (size_t)(slash - filename) < sizeof(p.dir))
        memcpy(p.dir, filename, (size_t)(slash - filename));
    else if (slash) {
        snprintf(err, errlen, "%s: path too long", filename);
        return -EINVAL;
    }
    while (*s && !r) {
        unsigned first = p.line + 1;
        size_t used = 0;
        long depth = 0;

        /* a line that opens a list takes further lines until it closes */
        do {
            r = take_line(&s, &buf, &used, &cap, &depth);
            p.line++;
        } while (!r && depth > 0 && *s);
        if (r)
            break;
        if (depth > 0) {
            p.line = first;
            r = fail(&p, "a list opened here is not closed with ']'");
            break;
        }
        {
            unsigned last = p.line;

            p.line = first;
            r = parse_line(&p, buf);
            p.line = last;
        }
    }
    free(buf);
    return r ? r : check_whole(&p);
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
