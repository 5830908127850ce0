/*
 * dom0.c - building the control domain from the Multiboot modules and
 * what happens when it ends.
 *
 * The first module that is a Linux bzImage is dom0's kernel; its module
 * string, minus the file name, is Linux's command line.  The next module
 * after it that is neither a guest ELF image nor a bzImage is its
 * initramfs.  dom0 is domain 0, privileged, one vCPU bound to CPU 0 for
 * good: it never goes through the scheduler (sched/vcpu_sched.c runs it
 * on CPU 0 from start to end), and when it ends, so does the machine, as
 * when Xen's dom0 dies.
 */
#include <kiln/cmdline.h>
#include <kiln/console.h>
#include <kiln/dom0.h>
#include <kiln/domain.h>
#include <kiln/hvm.h>
#include <kiln/lib.h>
#include <kiln/mm.h>
#include <kiln/percpu.h>

static struct dom0_mem dom0_mem;
static struct domain *dom0;
static const struct boot_module *dom0_kernel, *dom0_initrd;

static bool is_elf(const struct boot_module *m)
{
    const u8 *p = phys_to_virt(m->start);
    return m->end - m->start >= 4 && p[0] == 0x7f && p[1] == 'E' && p[2] == 'L' && p[3] == 'F';
}

/* A bzImage whose options (before " -- ") include the word "domu" is a
 * Linux PC domU's kernel (domain_boot.c), not dom0's. */
static bool for_domu(const struct boot_module *m)
{
    for (const char *p = m->string; *p && kstrncmp(p, " -- ", 4); p++)
        if (!kstrncmp(p, " domu", 5) && (p[5] == ' ' || !p[5]))
            return true;
    return false;
}

const struct boot_module *dom0_kernel_module(void)
{
    if (dom0_kernel)
        return dom0_kernel;
    for (unsigned int i = 0; i < boot_module_count(); i++) {
        const struct boot_module *m = boot_module_get(i);
        if (!linux_is_bzimage(m) || for_domu(m))
            continue;
        dom0_kernel = m;
        for (unsigned int j = i + 1; j < boot_module_count(); j++) {
            const struct boot_module *r = boot_module_get(j);
            if (!is_elf(r) && !linux_is_bzimage(r)) {
                dom0_initrd = r;
                break;
            }
        }
        break;
    }
    return dom0_kernel;
}

bool dom0_owns_module(const struct boot_module *m)
{
    return m && (m == dom0_kernel || m == dom0_initrd);
}

struct domain *dom0_domain(void)
{
    return dom0;
}

/* The module string without its first word (the file name). */
static const char *cmdline_of(const struct boot_module *m)
{
    const char *s = m->string;
    while (*s && *s != ' ')
        s++;
    while (*s == ' ')
        s++;
    return s;
}

static int collect_memory(void)
{
    /* Real-mode memory: all of the firmware's RAM below 1 MiB. */
    for (unsigned int i = 0; i < boot_memmap_count(); i++) {
        const struct boot_mem_range *b = boot_memmap_get(i);
        paddr_t s = ALIGN_UP(b->start, PAGE_SIZE), e = ALIGN_DOWN(b->end, PAGE_SIZE);
        if (e > 0x100000)
            e = 0x100000;
        if (b->type == 1 && s < e && dom0_mem_add(&dom0_mem, s, e))
            return -KILN_E2BIG;
    }
    /* Its own modules stay where the loader put them and become its RAM
     * (the initramfs is used in place; the bzImage's pages are free RAM
     * for Linux once the kernel was copied out). */
    const struct boot_module *mods[2] = { dom0_kernel, dom0_initrd };
    for (unsigned int i = 0; i < 2; i++) {
        if (mods[i] && dom0_mem_add(&dom0_mem, ALIGN_DOWN(mods[i]->start, PAGE_SIZE),
                                    ALIGN_UP(mods[i]->end, PAGE_SIZE)))
            return -KILN_E2BIG;
    }
    dom0_mem_claim(&dom0_mem, dom0_mem_target());
    pr_info("dom0: %lu MiB of RAM in %u ranges, the hypervisor keeps %lu MiB free\n",
            (unsigned long)(dom0_mem.pages >> (20 - PAGE_SHIFT)), dom0_mem.nr,
            (unsigned long)(mm_free_pages() >> (20 - PAGE_SHIFT)));
    return 0;
}

int dom0_build(void)
{
    if (!dom0_kernel_module())
        return 0;
    if (cmdline_get_u64("dom0_cpus", 1) != 1)
        pr_warn("dom0: dom0_cpus=%s ignored: dom0 has one vCPU, on CPU 0\n", cmdline_get("dom0_cpus"));
    int rc = collect_memory();
    if (rc) {
        pr_err("dom0: too many memory ranges\n");
        return rc;
    }
    struct linux_boot lb = { .kernel = dom0_kernel, .initrd = dom0_initrd,
                             .cmdline = cmdline_of(dom0_kernel) };
    rc = linux_load(&lb, &dom0_mem);
    if (rc)
        return rc;
    if (acpi_madt_only_cpu(percpu_of(0)->apic_id))
        pr_warn("dom0: no MADT to patch, dom0 may see every CPU\n");

    struct domain_config cfg = {
        .name = "dom0", .vcpus = 1, .flags = KILN_CPUID_F_PRIVILEGED,
        .weight = SCHED_WEIGHT_DEFAULT, .domid = 0, .identity = &dom0_mem,
    };
    struct hvm_boot_state st = { .rip = lb.entry, .rsi = lb.zero_page, .cr3 = lb.cr3 };
    unsigned long flags = spin_lock_irqsave(&domlist_lock);
    struct domain *d;
    rc = domain_create(&cfg, &d);
    if (!rc) {
        hvm->vcpu_set_boot_state(d->vcpus[0], &st);
        d->state = KILN_DOMSTATE_RUNNING;
        d->running = 1;   /* for good: CPU 0 runs it until the machine stops */
        dom0 = d;
        domain_keep_until_destroyed();
        vcpu_sched_dedicate_cpu0(d->vcpus[0], dom0_ended);
    }
    spin_unlock_irqrestore(&domlist_lock, flags);
    if (rc) {
        pr_err("dom0: cannot create the domain: error %d\n", rc);
        return rc;
    }
    pr_info("dom0: command line '%s'\n", lb.cmdline);
    /* CPU 0 enters it as soon as the boot domains are started. */
    pr_info("dom0: entering Linux on CPU 0\n");
    return 1;
}

__noreturn void dom0_ended(void)
{
    u32 why = dom0->shutdown_reason;
    pr_info("dom0 has ended (%s): stopping the machine\n",
            why == KILN_SHUTDOWN_POWEROFF ? "poweroff" : why == KILN_SHUTDOWN_REBOOT ? "reboot" : "crash");
    machine_exit(why == KILN_SHUTDOWN_CRASH ? 2 : 0);
}
