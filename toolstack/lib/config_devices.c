/*
 * config_devices.c - the items of a domain config's `disk` and `vif` lists
 * ("PATH,ro|rw,vdX" and "bridge=BR[,mac=...]"), and the names of the action
 * and guest-type values.  Split from config.c, which handles the file's
 * syntax; these only see one item's text and report what is wrong with it.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "kiln_config.h"

static int bad(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -EINVAL;
}

int kiln_disk_parse(const char *spec, const char *dir, struct kiln_config_disk *out,
                    char *err, size_t errlen)
{
    const char *c1 = strchr(spec, ','), *c2 = c1 ? strchr(c1 + 1, ',') : NULL;
    size_t plen, mlen;
    const char *mode, *vdev;
    int n;

    if (!c1 || !c2 || strchr(c2 + 1, ','))
        return bad(err, errlen, "'%s' is not 'PATH,ro|rw,vdX'", spec);
    plen = (size_t)(c1 - spec);
    mode = c1 + 1;
    mlen = (size_t)(c2 - mode);
    vdev = c2 + 1;
    if (plen == 0)
        return bad(err, errlen, "'%s' names no image file", spec);
    memset(out, 0, sizeof(*out));
    if (mlen == 2 && !strncmp(mode, "ro", 2))
        out->readonly = 1;
    else if (!(mlen == 2 && !strncmp(mode, "rw", 2)))
        return bad(err, errlen, "access '%.*s' is not ro or rw", (int)mlen, mode);
    if (strlen(vdev) != 3 || strncmp(vdev, "vd", 2) || vdev[2] < 'a' || vdev[2] > 'z')
        return bad(err, errlen, "device '%s' is not vda..vdz", vdev);
    memcpy(out->vdev, vdev, 4);
    if (spec[0] != '/' && dir[0])
        n = snprintf(out->path, sizeof(out->path), "%s/%.*s", dir, (int)plen, spec);
    else
        n = snprintf(out->path, sizeof(out->path), "%.*s", (int)plen, spec);
    if (n < 0 || (size_t)n >= sizeof(out->path))
        return bad(err, errlen, "image path too long");
    return 0;
}

/* "XX:XX:XX:XX:XX:XX", hex digits, unicast and not all zero. */
static int parse_mac(const char *s, uint8_t mac[6], char *err, size_t errlen)
{
    for (int i = 0; i < 6; i++) {
        const char *p = s + 3 * i;

        if (!isxdigit((unsigned char)p[0]) || !isxdigit((unsigned char)p[1]) ||
            p[2] != (i < 5 ? ':' : '\0'))
            return bad(err, errlen, "mac '%s' is not XX:XX:XX:XX:XX:XX", s);
        sscanf(p, "%2hhx", &mac[i]);
    }
    if (mac[0] & 1)
        return bad(err, errlen, "mac '%s' is a multicast address", s);
    if (!(mac[0] | mac[1] | mac[2] | mac[3] | mac[4] | mac[5]))
        return bad(err, errlen, "mac '%s' is zero", s);
    return 0;
}

int kiln_vif_parse(const char *spec, struct kiln_config_vif *out, char *err, size_t errlen)
{
    char buf[256], *tok, *save = NULL;
    int r;

    if (strlen(spec) >= sizeof(buf))
        return bad(err, errlen, "'%.32s...' is too long", spec);
    strcpy(buf, spec);
    memset(out, 0, sizeof(*out));
    for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(tok, '=');
        const char *val = eq ? eq + 1 : "";

        if (!eq)
            return bad(err, errlen, "'%s' is not KEY=VALUE", tok);
        *eq = '\0';
        if (!strcmp(tok, "bridge")) {
            size_t len = strlen(val);

            if (out->bridge[0])
                return bad(err, errlen, "bridge given twice");
            if (len == 0 || len >= KILN_CONFIG_BRIDGE_MAX)
                return bad(err, errlen, "bridge '%s' is not 1..%d characters", val,
                           KILN_CONFIG_BRIDGE_MAX - 1);
            for (size_t i = 0; i < len; i++)
                if (!isalnum((unsigned char)val[i]) && !strchr("._-", val[i]))
                    return bad(err, errlen, "bridge '%s' may only contain letters, digits, "
                               "'.', '_' and '-'", val);
            memcpy(out->bridge, val, len + 1);
        } else if (!strcmp(tok, "mac")) {
            if (out->has_mac)
                return bad(err, errlen, "mac given twice");
            if ((r = parse_mac(val, out->mac, err, errlen)))
                return r;
            out->has_mac = 1;
        } else {
            return bad(err, errlen, "unknown setting '%s' (bridge, mac)", tok);
        }
    }
    if (!out->bridge[0])
        return bad(err, errlen, "'%s' names no bridge (bridge=NAME)", spec);
    return 0;
}

const char *kiln_action_name(enum kiln_action a)
{
    switch (a) {
    case KILN_ACTION_DESTROY:  return "destroy";
    case KILN_ACTION_RESTART:  return "restart";
    case KILN_ACTION_PRESERVE: return "preserve";
    }
    return "?";
}

const char *kiln_guest_type_name(enum kiln_guest_type t)
{
    switch (t) {
    case KILN_GUEST_AUTO:      return "auto";
    case KILN_GUEST_ELF:       return "elf";
    case KILN_GUEST_LINUX:     return "linux";
    case KILN_GUEST_MULTIBOOT: return "multiboot";
    }
    return "?";
}
