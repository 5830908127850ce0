/*
 * kiln_priv.h - declarations shared by the files of kiln.ko (not an ABI).
 */
#ifndef KILN_PRIV_H
#define KILN_PRIV_H

#include <linux/fs.h>
#include <linux/mm.h>
#include "kiln_ioctl.h"

/* 0 if we run as Kiln's control domain, else -ENODEV (kiln_platform.c). */
int kiln_check_platform(void);
/* The raw VMMCALL (kiln_vmmcall.c).  Returns the hypervisor's RAX. */
long kiln_vmmcall(unsigned long nr, unsigned long a1, unsigned long a2,
                  unsigned long a3, unsigned long a4, unsigned long a5);
/* One domctl on a kernel copy of the structure (kiln_hypercall.c). */
long kiln_domctl_kernel(struct kiln_domctl *d);

long kiln_ioctl_hypercall(void __user *uarg);
long kiln_ioctl_mmap_foreign(void __user *uarg);
int kiln_mmap(struct file *file, struct vm_area_struct *vma);
/* Module unload: frees the foreign window's slot map. */
void kiln_foreign_exit(void);
/* KILN_IOCTL_EVTCHN_BIND (bind) / _ALLOC: a port as a file descriptor
 * (kiln_evtchn.c). */
long kiln_ioctl_evtchn(void __user *uarg, bool bind);
void kiln_evtchn_exit(void);

#endif /* KILN_PRIV_H */
