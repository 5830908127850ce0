/* boot_service.h: the HTTP side of provisioning.
 *
 * Nested and physical hosts fetch their iPXE script (/boot/<host>.ipxe,
 * rendered from pxe/templates for the host's current job) and the artifacts
 * it names (/artifacts/<sha256>, from the content store) from the daemon's
 * HTTP server.  The HTTP router (http.c) calls boot_service_handle first for GET
 * requests.
 */
#ifndef XENRT_BOOT_SERVICE_H
#define XENRT_BOOT_SERVICE_H

#include <microhttpd.h>

struct xenrt_config;

/* Routes: /boot/<host>.ipxe and /artifacts/<sha256>[/<file name>] (the
 * optional file name only makes Multiboot module strings readable, e.g.
 * ".../hello.elf name=hello"; lookup is by hash alone).
 * Returns 1 if url is a boot-service route (the response, possibly a 4xx,
 * has been queued and *ret holds MHD's result), 0 if it is not ours. */
int boot_service_handle(struct MHD_Connection *conn, const struct xenrt_config *cfg,
			const char *url, enum MHD_Result *ret);

#endif
