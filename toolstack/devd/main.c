/*
 * main.c - kiln-devd: serves one domU's virtio-mmio devices from dom0.
 *
 *   kiln-devd [-n] [-r RUNDIR] [-t TIMEOUT_MS] -d DOMID -i IOREQ_GFN CONFIG
 *
 * Reads the domain's config (the same file `kl create` read), becomes the
 * domain's I/O server (its ioreq page at IOREQ_GFN, a page of its RAM the
 * toolstack reserved; answers due within TIMEOUT_MS, default 10000), opens
 * its disk images and TAP devices, maps its RAM through /dev/kiln and serves
 * I/O requests until killed (SIGTERM/SIGINT) or the transport fails.  The
 * console's `kl console` socket is RUNDIR/DOMID.console (RUNDIR defaults to
 * /run/kiln) and its log RUNDIR/DOMID.console.log.  -n prints the device
 * layout and the Linux command-line words for it, and exits without touching
 * the hypervisor.  Messages go to stderr (kl redirects it to a log).
 */
#include <errno.h>
#include <stdbool.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "consrv.h"
#include "devd.h"
#include "gram_kiln.h"
#include "ioreq_tp.h"
#include "kiln_config.h"
#include "tap.h"
#include "vblk.h"
#include "vcon.h"
#include "vnet.h"

/* The hypervisor forwards whole pages of MMIO. */
_Static_assert(DEVD_MAX_DEVICES * DEVD_MMIO_STRIDE % 4096 == 0, "device window is whole pages");

/* Everything one domU needs; large, so static rather than on the stack. */
static struct {
    struct kiln_config cfg;
    struct gram ram;
    struct gram_kiln ram_ctx;
    struct ioreq_tp tp;
    struct devd d;
    struct vcon con;
    struct consrv cs;
    struct vblk blk[KILN_CONFIG_DISK_MAX];
    struct vnet net[KILN_CONFIG_VIF_MAX];
} s;

static struct devd *running;

static void on_signal(int sig)
{
    (void)sig;
    if (running)
        running->stop = 1;
}

static int usage(void)
{
    fprintf(stderr, "usage: kiln-devd [-n] [-r RUNDIR] [-t TIMEOUT_MS] -d DOMID -i IOREQ_GFN CONFIG\n");
    return 2;
}

static void print_layout(const struct kiln_config *cfg)
{
    char words[DEVD_MAX_DEVICES * 48];
    size_t i = 0;

    printf("console  0x%llx gsi %u\n", DEVD_MMIO_BASE, DEVD_GSI_BASE);
    for (size_t k = 0; k < cfg->n_disks; k++, i++)
        printf("blk %s  0x%llx gsi %u  %s (%s)\n", cfg->disk[k].vdev,
               DEVD_MMIO_BASE + (i + 1) * DEVD_MMIO_STRIDE, DEVD_GSI_BASE + (unsigned)i + 1,
               cfg->disk[k].path, cfg->disk[k].readonly ? "ro" : "rw");
    for (size_t k = 0; k < cfg->n_vifs; k++, i++)
        printf("net %zu    0x%llx gsi %u  bridge %s\n", k,
               DEVD_MMIO_BASE + (i + 1) * DEVD_MMIO_STRIDE, DEVD_GSI_BASE + (unsigned)i + 1,
               cfg->vif[k].bridge);
    if (devd_linux_cmdline(i + 1, words, sizeof(words)) == 0)
        printf("cmdline  %s\n", words);
}

/* A locally administered MAC from the domain id and interface number. */
static void default_mac(uint32_t domid, size_t k, uint8_t mac[6])
{
    mac[0] = 0x02, mac[1] = 0x4b, mac[2] = 0x4c;
    mac[3] = (uint8_t)(domid >> 8), mac[4] = (uint8_t)domid, mac[5] = (uint8_t)k;
}

/* Opens the disks and network interfaces and puts every device on the bus. */
static int setup_devices(uint32_t domid, const char *rundir)
{
    char sock[108], logp[256];
    int r;

    vcon_init(&s.con, &s.ram, (struct vmmio_irq){ 0 }, NULL, NULL);
    snprintf(sock, sizeof(sock), "%s/%u.console", rundir, domid);
    snprintf(logp, sizeof(logp), "%s/%u.console.log", rundir, domid);
    if ((r = consrv_open(&s.cs, &s.con, sock, logp)) < 0) {
        fprintf(stderr, "kiln-devd: console socket %s: %s\n", sock, strerror(-r));
        return r;
    }
    s.d.console = &s.cs;
    /* the config allows at most DEVD_MAX_DEVICES devices, console included */
    if ((r = devd_add(&s.d, &s.con.mmio)) < 0)
        return r;
    for (size_t k = 0; k < s.cfg.n_disks; k++) {
        const struct kiln_config_disk *dk = &s.cfg.disk[k];

        r = vblk_open(&s.blk[k], &s.ram, (struct vmmio_irq){ 0 }, dk->path, dk->readonly, dk->vdev);
        if (r < 0) {
            fprintf(stderr, "kiln-devd: disk %s: %s: %s\n", dk->vdev, dk->path, strerror(-r));
            return r;
        }
        if ((r = devd_add(&s.d, &s.blk[k].mmio)) < 0)
            return r;
    }
    for (size_t k = 0; k < s.cfg.n_vifs; k++) {
        const struct kiln_config_vif *v = &s.cfg.vif[k];
        char want[16], ifname[16];
        uint8_t mac[6];
        int fd;

        snprintf(want, sizeof(want), "kvif%u.%zu", domid, k);
        fd = tap_open(want, ifname);
        if (fd < 0) {
            fprintf(stderr, "kiln-devd: TAP %s: %s\n", want, strerror(-fd));
            return fd;
        }
        if ((r = tap_attach(ifname, v->bridge)) < 0) {
            fprintf(stderr, "kiln-devd: adding %s to bridge %s: %s\n", ifname, v->bridge,
                    strerror(-r));
            return r;
        }
        if (v->has_mac)
            memcpy(mac, v->mac, 6);
        else
            default_mac(domid, k, mac);
        vnet_init(&s.net[k], &s.ram, (struct vmmio_irq){ 0 }, fd, mac);
        if ((r = devd_add_net(&s.d, &s.net[k])) < 0)
            return r;
    }
    return 0;
}

int main(int argc, char **argv)
{
    const char *rundir = "/run/kiln";
    struct devd_transport t;
    bool layout_only = false;
    long domid = -1;
    unsigned long long gfn = 0;
    unsigned long timeout_ms = 10000;
    kiln_handle *h;
    char err[512], *end;
    int opt, r;

    while ((opt = getopt(argc, argv, "nr:d:i:t:")) != -1) {
        switch (opt) {
        case 'n': layout_only = true; break;
        case 'r': rundir = optarg; break;
        case 'd':
            domid = strtol(optarg, &end, 10);
            if (*end || domid < 1 || domid > 0x7fef)
                return usage();
            break;
        case 'i':
            gfn = strtoull(optarg, &end, 0);
            if (*end || !gfn)
                return usage();
            break;
        case 't':
            timeout_ms = strtoul(optarg, &end, 10);
            if (*end || !timeout_ms || timeout_ms > KILN_IOREQ_TIMEOUT_MAX_MS)
                return usage();
            break;
        default:  return usage();
        }
    }
    if (optind != argc - 1 || ((domid < 0 || !gfn) && !layout_only))
        return usage();
    if ((r = kiln_config_load(argv[optind], &s.cfg, err, sizeof(err))) < 0) {
        fprintf(stderr, "kiln-devd: %s\n", err);
        return 1;
    }
    if (layout_only) {
        print_layout(&s.cfg);
        return 0;
    }
    if ((r = kiln_open(&h)) < 0) {
        fprintf(stderr, "kiln-devd: /dev/kiln: %s\n", strerror(-r));
        return 1;
    }
    /* the whole device window: DEVD_MAX_DEVICES * 0x200 is one page */
    r = ioreq_tp_open(&s.tp, h, (uint32_t)domid, s.cfg.vcpus, gfn, (uint32_t)timeout_ms,
                      DEVD_MMIO_BASE, DEVD_MAX_DEVICES * DEVD_MMIO_STRIDE);
    if (r < 0) {
        fprintf(stderr, "kiln-devd: cannot serve d%ld's I/O requests: %s\n", domid, strerror(-r));
        kiln_close(h);
        return 1;
    }
    t = ioreq_tp_transport(&s.tp);
    gram_init(&s.ram);
    if ((r = gram_kiln_attach(&s.ram, &s.ram_ctx, h, (uint32_t)domid, s.cfg.memory_mib << 20)) < 0) {
        fprintf(stderr, "kiln-devd: guest RAM: %s\n", strerror(-r));
        return 1;
    }
    if (mkdir(rundir, 0700) < 0 && errno != EEXIST) {
        fprintf(stderr, "kiln-devd: %s: %s\n", rundir, strerror(errno));
        return 1;
    }
    devd_init(&s.d, &t);
    if (setup_devices((uint32_t)domid, rundir) < 0)
        return 1;
    running = &s.d;
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);
    signal(SIGPIPE, SIG_IGN);
    r = devd_run(&s.d);
    consrv_close(&s.cs);
    gram_release(&s.ram);
    ioreq_tp_close(&s.tp, 1);
    kiln_close(h);
    return r < 0 ? 1 : 0;
}
