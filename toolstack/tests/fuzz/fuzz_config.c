/*
 * fuzz_config.c - libFuzzer target for the domain config parser: any text
 * either parses into values inside their documented ranges or fails with a
 * "file:line: ..." message; never a crash, a hang or an overrun.
 */
#include <assert.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "kiln_config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct kiln_config cfg;
    char err[256], *text = malloc(size + 1);
    int r;

    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    err[0] = '\0';
    r = kiln_config_parse(text, "/etc/kiln/f.cfg", &cfg, err, sizeof(err));
    if (r == 0) {
        assert(cfg.name[0] && strlen(cfg.name) < sizeof(cfg.name));
        assert(cfg.memory_mib >= 1 && cfg.memory_mib <= 1048576);
        assert(cfg.vcpus >= 1 && cfg.vcpus <= KILN_MAX_VCPUS);
        assert(cfg.n_disks <= KILN_CONFIG_DISK_MAX && cfg.n_vifs <= KILN_CONFIG_VIF_MAX);
        for (size_t i = 0; i < cfg.n_disks; i++)
            assert(cfg.disk[i].path[0] && cfg.disk[i].vdev[0] == 'v');
        for (size_t i = 0; i < cfg.n_vifs; i++)
            assert(cfg.vif[i].bridge[0] && !(cfg.vif[i].mac[0] & 1));
        assert(!cfg.ramdisk[0] || cfg.type == KILN_GUEST_LINUX);
    } else {
        assert(r == -EINVAL || r == -ENOMEM);
        assert(!strncmp(err, "/etc/kiln/f.cfg", 15));
    }
    free(text);
    return 0;
}
