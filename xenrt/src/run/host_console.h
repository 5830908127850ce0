/* host_console.h: what a host's serial console says about how its run ended. */
#ifndef XENRT_HOST_CONSOLE_H
#define XENRT_HOST_CONSOLE_H

enum host_console_sign {
	/* The hypervisor's panic report: "(kiln) ERROR: PANIC on CPU n: ...". */
	HOST_CONSOLE_PANIC = 1 << 0,
	/* QEMU's TCG failed, not the code under test: Kiln's report of a VMCB
     * that came back holding the host's own state (hypervisor/README.md,
     * "QEMU 7.2 itself fails now and then"). */
	HOST_CONSOLE_EMULATOR_FAULT = 1 << 1,
};

/* The signs (an OR of host_console_sign) found in the console file at path;
 * 0 when there are none or the file cannot be read. */
int host_console_signs(const char *path);

#endif
