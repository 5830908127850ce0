// SPDX-License-Identifier: GPL-2.0
/*
 * kiln_main.c - kiln.ko's entry points: module load (after the platform
 * check of kiln_platform.c) and the /dev/kiln misc device (root only).
 */
#define pr_fmt(fmt) "kiln: " fmt

#include <linux/module.h>
#include <linux/miscdevice.h>
#include <linux/capability.h>
#include "kiln_priv.h"

static int kiln_open(struct inode *inode, struct file *file)
{
    /* The node is 0600 root, but a root process may have dropped its
     * capabilities: hypercalls act on every domain, so insist on admin. */
    if (!capable(CAP_SYS_ADMIN))
        return -EPERM;
    return 0;
}

static long kiln_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
    switch (cmd) {
    case KILN_IOCTL_HYPERCALL:
        return kiln_ioctl_hypercall((void __user *)arg);
    case KILN_IOCTL_MMAP_FOREIGN:
        return kiln_ioctl_mmap_foreign((void __user *)arg);
    case KILN_IOCTL_EVTCHN_BIND:
        return kiln_ioctl_evtchn((void __user *)arg, true);
    case KILN_IOCTL_EVTCHN_ALLOC:
        return kiln_ioctl_evtchn((void __user *)arg, false);
    default:
        return -ENOTTY;
    }
}

static const struct file_operations kiln_fops = {
    .owner          = THIS_MODULE,
    .open           = kiln_open,
    .unlocked_ioctl = kiln_ioctl,
    .mmap           = kiln_mmap,
    .llseek         = noop_llseek,
};

static struct miscdevice kiln_dev = {
    .minor = MISC_DYNAMIC_MINOR,
    .name  = "kiln",
    .fops  = &kiln_fops,
    .mode  = 0600,
};

static int __init kiln_init(void)
{
    int err = kiln_check_platform();

    if (err)
        return err;
    err = misc_register(&kiln_dev);
    if (err)
        pr_err("cannot register /dev/kiln: %d\n", err);
    return err;
}

static void __exit kiln_exit(void)
{
    misc_deregister(&kiln_dev);
    kiln_foreign_exit();
    kiln_evtchn_exit();
}

module_init(kiln_init);
module_exit(kiln_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Kiln hypervisor control device (hypercalls, foreign mappings, event channels)");
