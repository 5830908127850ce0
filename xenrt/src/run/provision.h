/* provision.h: iPXE scripts for hosts, rendered from pxe/templates.
 *
 * A template is an iPXE script with {{name}} placeholders.  Rendering is
 * strict because the output is executed by firmware: an unknown placeholder
 * or an unterminated "{{" is an error, and values may only hold characters
 * that cannot start a new iPXE command or expansion (no newline, '|', '&',
 * '$', quotes...).  Only values the renderer builds itself (the module lines)
 * may span lines.
 */
#ifndef XENRT_PROVISION_H
#define XENRT_PROVISION_H

#include <sqlite3.h>
#include <stddef.h>

struct xenrt_config;

struct pxe_var {
	const char *name;
	const char *value;
	int multiline; /* built by the renderer from validated parts */
};

/* True if v is safe inside an iPXE command line. */
int pxe_value_valid(const char *v);

/* Renders tmpl; `origin` names the template in errors ("kiln.ipxe:3: ...").
 * *out is malloc'd.  Returns 0 or -1 with a message. */
int pxe_render(const char *tmpl, const char *origin, const struct pxe_var *vars, size_t nvars,
	       char **out, char *err, size_t errlen);

/* The script host `host` must run now: its reserved job's suite with the
 * job's flight artifacts, or the health check (newest built hypervisor) for
 * a quarantined host being checked.  A suite with a dom0 boots it too:
 * under Kiln as its first two modules (kiln.ipxe), or alone (linux.ipxe);
 * either way dom0's command line ends with kiln.sshkey=<the farm's key>.  Returns 0, 1 if the host has nothing to
 * boot (404), or -1 with a message. */
int provision_host_script(sqlite3 *db, const struct xenrt_config *cfg, const char *host, char **out,
			  char *err, size_t errlen);

/* File name a role's artifact is known by in module strings:
 * "hypervisor" -> "kiln.elf", "guest-hello" -> "hello.elf",
 * "dom0-kernel" -> "vmlinuz", "dom0-initrd" -> "initramfs.cpio.xz". */
void provision_role_file(const char *role, char *out, size_t outlen);

/* The line the script prints just before handing over to the hypervisor:
 * before it, a hang is the farm's fault (broken); after, the code's (fail). */
#define PROVISION_HANDOVER_MARK "xenrt-boot: handing over to the hypervisor"
#define PROVISION_FAILED_MARK "xenrt-boot: failed"

#endif
