/*
 * cmdline.c - split the hypervisor command line into options.
 *
 * Loaders put the image's own name first ("kiln.elf loglvl=debug" from QEMU,
 * the URL from iPXE, the path from GRUB): a first word without '=' that
 * looks like a file name (contains '/' or '.') is skipped.
 */
#include <kiln/cmdline.h>
#include <kiln/lib.h>

#define CMDLINE_MAX 2048
#define OPTIONS_MAX 64

struct option {
    const char *key;
    const char *value;   /* "" for a bare flag */
};

static char raw_copy[CMDLINE_MAX];
static char words[CMDLINE_MAX];
static struct option options[OPTIONS_MAX];
static unsigned int nr_options;
static bool parsed;

static bool looks_like_image_name(const char *w)
{
    return !kstrchr(w, '=') && (kstrchr(w, '/') || kstrchr(w, '.'));
}

int cmdline_parse(const char *raw)
{
    size_t len = kstrlen(raw);
    char *p;
    bool first = true;

    nr_options = 0;
    parsed = true;
    if (len >= CMDLINE_MAX) {
        raw_copy[0] = '\0';
        return -1;
    }
    kmemcpy(raw_copy, raw, len + 1);
    kmemcpy(words, raw, len + 1);

    for (p = words; *p;) {
        while (*p == ' ' || *p == '\t')
            *p++ = '\0';
        if (!*p)
            break;
        char *word = p;
        while (*p && *p != ' ' && *p != '\t')
            p++;
        if (*p)
            *p++ = '\0';
        if (first && looks_like_image_name(word)) {
            first = false;
            continue;
        }
        first = false;
        if (nr_options == OPTIONS_MAX)
            return -1;
        char *eq = kstrchr(word, '=');
        if (eq) {
            *eq = '\0';
            options[nr_options].value = eq + 1;
        } else {
            options[nr_options].value = "";
        }
        options[nr_options].key = word;
        nr_options++;
    }
    return (int)nr_options;
}

const char *cmdline_get(const char *key)
{
    /* Last one wins, so search backwards. */
    for (unsigned int i = nr_options; i-- > 0;) {
        if (!kstrcmp(options[i].key, key))
            return options[i].value;
    }
    return NULL;
}

bool cmdline_has(const char *key)
{
    return cmdline_get(key) != NULL;
}

u64 cmdline_get_u64(const char *key, u64 dflt)
{
    const char *v = cmdline_get(key);
    u64 out;
    if (!v || kparse_u64(v, kstrlen(v), &out) < 0)
        return dflt;
    return out;
}

int cmdline_option(unsigned int i, const char **key, const char **value)
{
    if (i >= nr_options)
        return -1;
    *key = options[i].key;
    *value = options[i].value;
    return 0;
}

const char *cmdline_raw(void)
{
    return parsed ? raw_copy : NULL;
}
