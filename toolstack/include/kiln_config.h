/*
 * kiln_config.h - a domain's configuration file, as `kl create` reads it.
 *
 * Format (xl.cfg's spirit): one `key = value` per line; `#` starts a
 * comment outside double quotes; blank lines are ignored; values may be
 * double-quoted (needed for a cmdline with '#'); list values are
 * `[ "item", "item" ]` (items double-quoted, a trailing comma allowed, and
 * the list may continue over several lines).  Keys:
 *   name    = 1..31 characters of [A-Za-z0-9._-]                (required)
 *   type    = "elf" (a test-guest ELF image, started as the hypervisor starts
 *             its boot domains), "multiboot" (a Multiboot1 kernel, e.g. a
 *             kvm-unit-tests .flat: a PC domain with the emulated platform,
 *             booted as the hypervisor boots such a boot module, the
 *             kernel's command line "KERNEL CMDLINE" as QEMU and GRUB pass
 *             it), "linux" (a Linux bzImage) or "auto": multiboot if the
 *             kernel has a Multiboot1 header in its first 8 KiB, elf
 *             otherwise (the hypervisor's rule for boot modules)
 *                                                    (default auto)
 *   kernel  = the image, relative to the file's folder          (required)
 *   ramdisk = initramfs for type linux, relative to the folder  (default none)
 *   memory  = MiB, 1..1048576                                    (required)
 *   vcpus   = 1..64 (multiboot: 1..8; only vCPU 0 starts, the guest
 *             starts the others with INIT-SIPI)         (default 1)
 *   testdev = 0 or 1: the test devices kvm-unit-tests expects from QEMU
 *             (pc-testdev, fw_cfg), multiboot guests only  (default 0)
 *   cmdline = text, up to 1023 bytes                 (default empty)
 *   weight  = credit weight 1..65535                 (default 256)
 *   cap     = percent of one CPU, 0 = none, 0..6400  (default 0)
 *   cpus    = physical CPUs, e.g. "1-3,5" (0..63)    (default any)
 *   cpuid   = LEAF[:SUBLEAF] REG=MASK[,REG=MASK...]  (repeatable, up to 16;
 *             REG is eax/ebx/ecx/edx, values ANDed with the host policy)
 *   disk    = [ "PATH,ro|rw,vdX", ... ]  up to 4 virtio disks: a raw image
 *             (relative to the folder), read-only or read-write, and its
 *             name vda..vdz; names and images may not repeat
 *   vif     = [ "bridge=BR[,mac=XX:XX:XX:XX:XX:XX]", ... ]  up to 3 virtio
 *             network interfaces on dom0 bridges (mac: unicast, not zero;
 *             default derived from the domain id by kiln-devd)
 *   on_poweroff, on_reboot, on_crash = destroy | restart | preserve
 *             what happens when the guest powers off, reboots or crashes
 *             (defaults: destroy, restart, destroy)
 * Every key but cpuid may appear once.  Errors read "FILE:LINE: KEY: message".
 */
#ifndef KILN_CONFIG_H
#define KILN_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include "kiln.h"

#define KILN_CONFIG_CMDLINE_MAX 1024
#define KILN_CONFIG_CPUID_MAX   16
#define KILN_CONFIG_PATH_MAX    4096
#define KILN_CONFIG_DISK_MAX    4
#define KILN_CONFIG_VIF_MAX     3
#define KILN_CONFIG_BRIDGE_MAX  16      /* IFNAMSIZ, with the NUL */

enum kiln_guest_type { KILN_GUEST_AUTO, KILN_GUEST_ELF, KILN_GUEST_LINUX, KILN_GUEST_MULTIBOOT };
enum kiln_action { KILN_ACTION_DESTROY, KILN_ACTION_RESTART, KILN_ACTION_PRESERVE };

struct kiln_config_disk {
    char path[KILN_CONFIG_PATH_MAX];
    int  readonly;
    char vdev[4];                       /* "vda".."vdz" */
};

struct kiln_config_vif {
    char    bridge[KILN_CONFIG_BRIDGE_MAX];
    int     has_mac;
    uint8_t mac[6];
};

struct kiln_config {
    char     name[KILN_NAME_MAX];
    enum kiln_guest_type type;
    char     kernel[KILN_CONFIG_PATH_MAX];
    char     ramdisk[KILN_CONFIG_PATH_MAX];   /* "" = none */
    char     cmdline[KILN_CONFIG_CMDLINE_MAX];
    uint64_t memory_mib;
    uint32_t vcpus;
    uint32_t weight;
    uint32_t cap;
    int      testdev;
    uint64_t cpus;            /* 0 = any */
    size_t   n_cpuid;
    struct kiln_domctl_cpuid cpuid[KILN_CONFIG_CPUID_MAX];
    size_t   n_disks;
    struct kiln_config_disk disk[KILN_CONFIG_DISK_MAX];
    size_t   n_vifs;
    struct kiln_config_vif vif[KILN_CONFIG_VIF_MAX];
    enum kiln_action on_poweroff, on_reboot, on_crash;
};

/* Parses text (as read from file `filename`, used in messages and to
 * resolve a relative kernel path).  On error returns -EINVAL and writes one
 * line "filename:line: message" into err. */
int kiln_config_parse(const char *text, const char *filename, struct kiln_config *cfg,
                      char *err, size_t errlen);
/* Reads and parses a file; I/O errors return -errno with a message too. */
int kiln_config_load(const char *path, struct kiln_config *cfg, char *err, size_t errlen);

/* One disk or vif item (the text between the quotes); dir is the folder
 * relative disk paths are resolved against ("" for none).  -EINVAL with a
 * message (without file or line) otherwise. */
int kiln_disk_parse(const char *spec, const char *dir, struct kiln_config_disk *out,
                    char *err, size_t errlen);
int kiln_vif_parse(const char *spec, struct kiln_config_vif *out, char *err, size_t errlen);
/* Names for messages: "destroy", ...; "auto", "elf", "linux", "multiboot". */
const char *kiln_action_name(enum kiln_action a);
const char *kiln_guest_type_name(enum kiln_guest_type t);

/* "1-3,5" -> bit mask of CPUs 0..63; -EINVAL with a message otherwise. */
int kiln_cpulist_parse(const char *s, uint64_t *mask, char *err, size_t errlen);

#endif /* KILN_CONFIG_H */
