// SPDX-License-Identifier: GPL-2.0
/*
 * kiln_evtchn.c - event channels for dom0 processes (KILN_IOCTL_EVTCHN_*,
 * kiln_ioctl.h): each port a process binds or allocates becomes a file
 * descriptor; read() takes the notifications, write() sends one, poll()
 * waits, close() closes the port.
 *
 * dom0's vCPU registers one control block and its event array pages
 * (include/public/event_channel.h) the first time a port is wanted.  They
 * are kernel pages the hypervisor writes into for as long as dom0 runs,
 * so they are never freed and the module pins itself then (it cannot be
 * unloaded under them).  A module gets no interrupt vector of its own, so
 * the registration asks for no upcall (KILN_EVTCHN_VECTOR_NONE) and a
 * timer consumes the queues once per jiffy while a port is open.
 *
 * An event for a port no descriptor holds yet (bound a moment ago) is
 * left PENDING in its word and picked up when the descriptor is made.
 */
#define pr_fmt(fmt) "kiln: " fmt

#include <linux/anon_inodes.h>
#include <linux/atomic.h>
#include <linux/errno.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/poll.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/timer.h>
#include <linux/uaccess.h>
#include <linux/wait.h>
#include <linux/xarray.h>
#include <asm/io.h>
#include "kiln_priv.h"

struct kiln_chan {
    u32 port;
    atomic_t count;             /* notifications not read yet */
    wait_queue_head_t wq;
};

static DEFINE_MUTEX(reg_lock);                  /* registration, array growth */
static struct kiln_evtchn_control *ctl;
static u32 *array[KILN_EVTCHN_ARRAY_PAGES];
static unsigned int array_pages;
static u32 qhead[KILN_EVTCHN_PRIORITIES];      /* the consumer's own heads */

static DEFINE_SPINLOCK(chan_lock);              /* chans and the consumer */
static DEFINE_XARRAY(chans);                    /* port -> struct kiln_chan */
static unsigned int nr_chans;
static struct timer_list poll_timer;
static bool timer_ready;

/* One EVTCHN_OP on a kernel copy (its physical address is what dom0's
 * 1:1 memory gives the hypervisor). */
static long evtchn_op(u32 cmd, struct kiln_evtchn_op *op)
{
    struct kiln_evtchn_op *k = kmalloc(sizeof(*k), GFP_KERNEL);
    long r;

    if (!k)
        return -ENOMEM;
    memcpy(k, op, sizeof(*k));
    r = kiln_vmmcall(KILN_HC_EVTCHN_OP, cmd, virt_to_phys(k), 0, 0, 0);
    memcpy(op, k, sizeof(*op));
    kfree(k);
    return kiln_hv_result_to_errno(r);
}

static u32 *word_of(u32 port)
{
    unsigned int page = port / KILN_EVTCHN_WORDS_PER_PAGE;

    return page < READ_ONCE(array_pages) ? &array[page][port % KILN_EVTCHN_WORDS_PER_PAGE] : NULL;
}

/* Hands one handled port to its descriptor; false if none holds it. */
static bool notify_chan(u32 port)
{
    struct kiln_chan *c = xa_load(&chans, port);

    if (!c)
        return false;
    atomic_inc(&c->count);
    wake_up_interruptible(&c->wq);
    return true;
}

/* The FIFO consumer (event_channel.h), bounded against a corrupted queue. */
static void consume(void)
{
    unsigned int steps = 0;
    u32 ready = xchg(&ctl->ready, 0);

    while (ready && steps++ < 4 * KILN_EVTCHN_WORDS_PER_PAGE) {
        unsigned int q = __ffs(ready);
        u32 port = qhead[q] ? qhead[q] : READ_ONCE(ctl->head[q]);
        u32 *w = port ? word_of(port) : NULL;
        u32 old, next;

        if (!w) {
            ready &= ~(1u << q);
            qhead[q] = 0;
            continue;
        }
        old = (u32)atomic_fetch_andnot((int)KILN_EVTCHN_LINKED, (atomic_t *)w);
        next = old & KILN_EVTCHN_LINK_MASK;
        qhead[q] = next;
        if (!next)
            ready &= ~(1u << q);
        if ((old & KILN_EVTCHN_PENDING) && !(old & KILN_EVTCHN_MASKED) && notify_chan(port))
            atomic_andnot((int)KILN_EVTCHN_PENDING, (atomic_t *)w);
        ready |= xchg(&ctl->ready, 0);
    }
}

static void poll_fn(struct timer_list *t)
{
    spin_lock(&chan_lock);
    consume();
    if (nr_chans)
        mod_timer(t, jiffies + 1);
    spin_unlock(&chan_lock);
}

/* Allocates and registers one more array page (reg_lock held). */
static long expand(void)
{
    struct kiln_evtchn_op op = { 0 };
    u32 *page;
    long r;

    if (array_pages == KILN_EVTCHN_ARRAY_PAGES)
        return -ENOSPC;
    page = (u32 *)get_zeroed_page(GFP_KERNEL);
    if (!page)
        return -ENOMEM;
    op.array_gpa = virt_to_phys(page);
    r = evtchn_op(KILN_EVTCHNOP_EXPAND_ARRAY, &op);
    if (r < 0) {
        free_page((unsigned long)page);
        return r;
    }
    array[array_pages] = page;
    smp_store_release(&array_pages, array_pages + 1);
    return 0;
}

/* dom0's control block and first array page, once (reg_lock held). */
static long ensure_registered(void)
{
    struct kiln_evtchn_op op = { 0 };
    long r;

    if (ctl)
        return 0;
    ctl = (struct kiln_evtchn_control *)get_zeroed_page(GFP_KERNEL);
    if (!ctl)
        return -ENOMEM;
    op.vcpu = 0;
    op.vector = KILN_EVTCHN_VECTOR_NONE;
    op.control_gpa = virt_to_phys(ctl);
    r = evtchn_op(KILN_EVTCHNOP_INIT_CONTROL, &op);
    if (r < 0) {
        pr_err("cannot register dom0's event channel control block: %ld\n", r);
        free_page((unsigned long)ctl);
        ctl = NULL;
        return r == -EEXIST ? -EBUSY : r;
    }
    /* The hypervisor now writes into these pages: stay loaded. */
    __module_get(THIS_MODULE);
    if (!timer_ready) {
        timer_setup(&poll_timer, poll_fn, 0);
        timer_ready = true;
    }
    return expand();
}

static ssize_t chan_read(struct file *file, char __user *buf, size_t len, loff_t *ppos)
{
    struct kiln_chan *c = file->private_data;
    u32 n;
    int err;

    if (len < sizeof(n))
        return -EINVAL;
    for (;;) {
        n = atomic_xchg(&c->count, 0);
        if (n)
            break;
        if (file->f_flags & O_NONBLOCK)
            return -EAGAIN;
        err = wait_event_interruptible(c->wq, atomic_read(&c->count));
        if (err)
            return err;
    }
    if (copy_to_user(buf, &n, sizeof(n))) {
        atomic_add(n, &c->count);
        return -EFAULT;
    }
    return sizeof(n);
}

static ssize_t chan_write(struct file *file, const char __user *buf, size_t len, loff_t *ppos)
{
    struct kiln_chan *c = file->private_data;
    struct kiln_evtchn_op op = { .port = c->port };
    long r;

    if (!len || len > 8)
        return -EINVAL;
    r = evtchn_op(KILN_EVTCHNOP_SEND, &op);
    return r < 0 ? r : (ssize_t)len;
}

static __poll_t chan_poll(struct file *file, poll_table *wait)
{
    struct kiln_chan *c = file->private_data;

    poll_wait(file, &c->wq, wait);
    return EPOLLOUT | EPOLLWRNORM | (atomic_read(&c->count) ? EPOLLIN | EPOLLRDNORM : 0);
}

static int chan_release(struct inode *inode, struct file *file)
{
    struct kiln_chan *c = file->private_data;
    struct kiln_evtchn_op op = { .port = c->port };

    spin_lock_bh(&chan_lock);
    xa_erase(&chans, c->port);
    nr_chans--;
    spin_unlock_bh(&chan_lock);
    evtchn_op(KILN_EVTCHNOP_CLOSE, &op);
    kfree(c);
    return 0;
}

static const struct file_operations chan_fops = {
    .owner   = THIS_MODULE,
    .read    = chan_read,
    .write   = chan_write,
    .poll    = chan_poll,
    .release = chan_release,
    .llseek  = noop_llseek,
};

/* A descriptor for a port the hypervisor just gave dom0. */
static long chan_fd(u32 port)
{
    struct kiln_evtchn_op op = { .port = port };
    struct kiln_chan *c;
    u32 *w;
    long r;
    int fd;

    mutex_lock(&reg_lock);
    r = 0;
    while (!r && port >= array_pages * KILN_EVTCHN_WORDS_PER_PAGE)
        r = expand();
    mutex_unlock(&reg_lock);
    c = r ? NULL : kzalloc(sizeof(*c), GFP_KERNEL);
    if (!c)
        goto fail;
    c->port = port;
    init_waitqueue_head(&c->wq);
    spin_lock_bh(&chan_lock);
    r = xa_err(xa_store(&chans, port, c, GFP_ATOMIC));
    if (!r) {
        /* What arrived before the descriptor existed. */
        w = word_of(port);
        if (w && (atomic_fetch_andnot((int)KILN_EVTCHN_PENDING, (atomic_t *)w) & KILN_EVTCHN_PENDING))
            atomic_inc(&c->count);
        if (!nr_chans++)
            mod_timer(&poll_timer, jiffies + 1);
    }
    spin_unlock_bh(&chan_lock);
    if (r)
        goto fail;
    fd = anon_inode_getfd("kiln-evtchn", &chan_fops, c, O_RDWR | O_CLOEXEC);
    if (fd >= 0)
        return fd;
    spin_lock_bh(&chan_lock);
    xa_erase(&chans, port);
    nr_chans--;
    spin_unlock_bh(&chan_lock);
    r = fd;
fail:
    kfree(c);
    evtchn_op(KILN_EVTCHNOP_CLOSE, &op);
    return r ? r : -ENOMEM;
}

long kiln_ioctl_evtchn(void __user *uarg, bool bind)
{
    struct kiln_ioctl_evtchn a;
    struct kiln_evtchn_op op = { 0 };
    long r, fd;

    if (copy_from_user(&a, uarg, sizeof(a)))
        return -EFAULT;
    mutex_lock(&reg_lock);
    r = ensure_registered();
    mutex_unlock(&reg_lock);
    if (r)
        return r;
    op.dom = KILN_DOMID_SELF;
    op.remote_dom = a.remote_dom;
    op.remote_port = a.remote_port;
    r = evtchn_op(bind ? KILN_EVTCHNOP_BIND_INTERDOMAIN : KILN_EVTCHNOP_ALLOC_UNBOUND, &op);
    if (r < 0)
        return r;
    a.port = op.port;
    fd = chan_fd(op.port);
    if (fd < 0)
        return fd;
    if (copy_to_user(uarg, &a, sizeof(a)))
        return -EFAULT;   /* the descriptor stays: the process owns it */
    return fd;
}

void kiln_evtchn_exit(void)
{
    /* Only reached when no port was ever registered (we pin ourselves
     * after the first), so there is nothing of the hypervisor's to undo. */
    if (timer_ready)
        del_timer_sync(&poll_timer);
}
