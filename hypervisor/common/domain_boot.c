/*
 * domain_boot.c - boot domains: guests started from Multiboot modules, so
 * tests run with no dom0 and no toolstack.
 *
 * Which modules become domains, and how they boot:
 *  - a Multiboot1 kernel (the header within its first 8 KiB) becomes a
 *    "PC domain": the emulated PC platform, ACPI tables, and a Multiboot
 *    boot as under `qemu -kernel` (hvm/firmware/pc_boot.c);
 *  - an ELF with a PVH entry note (a Linux vmlinux) becomes a PC domain
 *    booted through the PVH entry; a bzImage that is not dom0's (the
 *    option domu keeps dom0 from taking it), a PC domain booted through
 *    Linux's 64-bit protocol;
 *  - any other x86-64 ELF executable is one of Kiln's own test guests
 *    (guests/): no platform, every vCPU starts at the ELF entry in 32-bit
 *    flat protected mode with paging off, RDI = RAM size in KiB, RSI =
 *    vCPU number (guests/lib/entry.S builds its own page tables);
 *  - the rest (dom0's modules, data) are left alone.
 * The module string carries the options after the file name:
 *   name=NAME mem=SIZE(K/M/G) vcpus=N weight=W cap=PERCENT cpus=LIST priv pc
 *   mmiotest testdev modules=N domu [-- GUEST COMMAND LINE]
 * e.g. "build/guests/cpuid.elf name=cpuid mem=4M cpus=1 weight=512 priv";
 * cpus= is a list of CPUs and ranges ("1", "0-3", "1,3") every vCPU is
 * pinned to; pc makes a test guest a PC domain (the platform, only
 * vCPU 0 started: the guest starts the others with INIT-SIPI-SIPI);
 * mmiotest gives the domain the scratch MMIO registers of testport.h (a
 * test aid); testdev (PC domains only) adds the test devices
 * kvm-unit-tests expects from QEMU; modules=N (PC domains only) hands the
 * next N boot modules to the kernel as its Multiboot/PVH modules (for
 * Linux, N = 1: the initramfs) instead of starting them; everything
 * after " -- " is the guest's command line (PC domains only; a Multiboot
 * kernel gets the file name, a space, then that, as QEMU and GRUB pass
 * it).  Domains get ids
 * 1, 2, ... in module order and are unpaused together once all are built.
 *
 * start_domains() is the platform's hook: it brings up the virtualisation
 * backend and the scheduler, and starts the boot domains.
 */
#include <kiln/boot.h>
#include <kiln/cmdline.h>
#include <kiln/console.h>
#include <kiln/dom0.h>
#include <kiln/domain.h>
#include <kiln/firmware.h>
#include <kiln/hvm.h>
#include <kiln/lib.h>
#include <kiln/mm.h>
#include <kiln/smp.h>

#define DEFAULT_MEM_KIB    4096
#define DEFAULT_PC_MEM_KIB (128 * 1024)
#define CMDLINE_SEP        " -- "

/* How a module boots (see the top of this file). */
enum boot_kind { BOOT_NONE, BOOT_KT, BOOT_MULTIBOOT, BOOT_PVH, BOOT_LINUX };

struct elf64_ehdr {
    u8 ident[16];
    u16 type, machine;
    u32 version;
    u64 entry, phoff, shoff;
    u32 flags;
    u16 ehsize, phentsize, phnum, shentsize, shnum, shstrndx;
};

struct elf64_phdr {
    u32 type, flags;
    u64 offset, vaddr, paddr, filesz, memsz, align;
};

#define PT_LOAD 1

static bool is_guest_elf(const void *image, size_t size)
{
    const struct elf64_ehdr *eh = image;
    return size >= sizeof(*eh) && eh->ident[0] == 0x7f && eh->ident[1] == 'E' &&
           eh->ident[2] == 'L' && eh->ident[3] == 'F' && eh->ident[4] == 2 /* 64-bit */ &&
           eh->type == 2 /* EXEC */ && eh->machine == 62 /* x86-64 */;
}

static enum boot_kind boot_kind_of(const struct boot_module *m)
{
    const void *image = phys_to_virt(m->start);
    size_t size = (size_t)(m->end - m->start);
    u32 entry;
    if (dom0_owns_module(m))
        return BOOT_NONE;
    if (mb_find_header(image, size) >= 0)
        return BOOT_MULTIBOOT;
    if (!pvh_find_entry(image, size, &entry))
        return BOOT_PVH;
    if (linux_is_bzimage_64(image, size))
        return BOOT_LINUX;
    return is_guest_elf(image, size) ? BOOT_KT : BOOT_NONE;
}

int domain_load_elf(struct domain *d, const void *image, size_t size, u64 *entry)
{
    const struct elf64_ehdr *eh = image;
    if (!is_guest_elf(image, size) || eh->phentsize != sizeof(struct elf64_phdr) ||
        eh->phoff > size || (u64)eh->phnum * sizeof(struct elf64_phdr) > size - eh->phoff)
        return -KILN_EINVAL;
    const struct elf64_phdr *ph = (const void *)((const u8 *)image + eh->phoff);
    for (unsigned int i = 0; i < eh->phnum; i++) {
        if (ph[i].type != PT_LOAD)
            continue;
        if (ph[i].filesz > ph[i].memsz || ph[i].offset > size ||
            ph[i].filesz > size - ph[i].offset)
            return -KILN_EINVAL;
        /* The tail (bss) is already zero: domain RAM is allocated zeroed. */
        if (copy_to_guest(d, ph[i].paddr, (const u8 *)image + ph[i].offset, ph[i].filesz) ||
            ph[i].paddr + ph[i].memsz > d->p2m.nr_pages * PAGE_SIZE ||
            ph[i].paddr + ph[i].memsz < ph[i].paddr)
            return -KILN_EFAULT;
    }
    *entry = eh->entry;
    return 0;
}

/* Parses "1", "0-3", "1,3" into a CPU mask; 0 on any error. */
static u64 parse_cpus(const char *s, size_t len)
{
    u64 mask = 0;
    size_t i = 0;
    while (i < len) {
        size_t j = i;
        while (j < len && s[j] != ',' && s[j] != '-')
            j++;
        u64 lo, hi;
        if (kparse_u64(s + i, j - i, &lo))
            return 0;
        hi = lo;
        if (j < len && s[j] == '-') {
            size_t k = ++j;
            while (j < len && s[j] != ',')
                j++;
            if (kparse_u64(s + k, j - k, &hi))
                return 0;
        }
        if (lo > hi || hi >= 64)
            return 0;
        for (u64 c = lo; c <= hi; c++)
            mask |= 1ull << c;
        i = j + 1;
    }
    return mask;
}

struct boot_opts {
    char name[KILN_NAME_MAX];
    u64 mem_kib, vcpus, weight, cap, cpus, modules;
    bool priv, pc, testdev, mmiotest, domu;
    const char *guest_cmdline;   /* after " -- ", NULL when none */
    size_t file_len;             /* the file name at the string's start */
};

/* Where " -- " starts in s, or s's end. */
static const char *opts_end(const char *s)
{
    size_t sep = kstrlen(CMDLINE_SEP);
    for (const char *p = s; *p; p++)
        if (!kstrncmp(p, CMDLINE_SEP, sep))
            return p;
    return s + kstrlen(s);
}

/* Fills o from the module string; returns -1 on a malformed option. */
static int parse_opts(const char *str, struct boot_opts *o)
{
    const char *p = str, *file_end, *end = opts_end(str);
    if (*end)
        o->guest_cmdline = end + kstrlen(CMDLINE_SEP);
    while (p < end && *p != ' ')
        p++;
    file_end = p;
    o->file_len = (size_t)(file_end - str);
    /* Default name: the file name without directory and ".elf". */
    const char *base = str;
    for (const char *q = str; q < file_end; q++)
        if (*q == '/')
            base = q + 1;
    size_t blen = (size_t)(file_end - base);
    if (blen > 4 && !kstrncmp(file_end - 4, ".elf", 4))
        blen -= 4;
    if (blen >= sizeof(o->name))
        blen = sizeof(o->name) - 1;
    kmemcpy(o->name, base, blen);
    o->name[blen] = '\0';

    while (p < end) {
        while (p < end && *p == ' ')
            p++;
        const char *k = p;
        while (p < end && *p != ' ')
            p++;
        size_t len = (size_t)(p - k);
        const char *eq = kstrchr(k, '=');
        if (!len)
            break;
        if (len == 4 && !kstrncmp(k, "priv", 4)) {
            o->priv = true;
            continue;
        }
        if (len == 2 && !kstrncmp(k, "pc", 2)) {
            o->pc = true;
            continue;
        }
        if (len == 7 && !kstrncmp(k, "testdev", 7)) {
            o->testdev = true;
            continue;
        }
        if (len == 8 && !kstrncmp(k, "mmiotest", 8)) {
            o->mmiotest = true;
            continue;
        }
        if (len == 4 && !kstrncmp(k, "domu", 4)) {
            o->domu = true;
            continue;
        }
        if (!eq || eq >= p)
            return -1;
        size_t klen = (size_t)(eq - k), vlen = (size_t)(p - eq - 1);
        const char *val = eq + 1;
        u64 n = 0;
        if (klen == 4 && !kstrncmp(k, "name", 4)) {
            if (!vlen || vlen >= sizeof(o->name))
                return -1;
            kmemcpy(o->name, val, vlen);
            o->name[vlen] = '\0';
        } else if (klen == 4 && !kstrncmp(k, "cpus", 4)) {
            if (!(o->cpus = parse_cpus(val, vlen)))
                return -1;
        } else if (kparse_u64(val, vlen, &n)) {
            return -1;
        } else if (klen == 3 && !kstrncmp(k, "mem", 3)) {
            o->mem_kib = n / 1024;
        } else if (klen == 5 && !kstrncmp(k, "vcpus", 5)) {
            o->vcpus = n;
        } else if (klen == 6 && !kstrncmp(k, "weight", 6)) {
            o->weight = n;
        } else if (klen == 3 && !kstrncmp(k, "cap", 3)) {
            o->cap = n;
        } else if (klen == 7 && !kstrncmp(k, "modules", 7)) {
            o->modules = n;
        } else {
            return -1;
        }
    }
    return 0;
}

/* Loads one of Kiln's test guests: every vCPU at the ELF entry (only
 * vCPU 0 for a PC domain: the guest starts the others). */
static int load_kt(struct domain *d, const void *image, size_t size, u64 cpus)
{
    u64 entry = 0;
    int rc = domain_load_elf(d, image, size, &entry);
    if (!rc && entry > 0xffffffffu)
        rc = -KILN_EINVAL;
    for (unsigned int i = 0; !rc && i < d->nr_vcpus; i++) {
        struct kiln_domctl_vcpu st = { .vcpu = i, .rip = entry, .rdi = d->memory_kib, .rsi = i };
        if (cpus)
            rc = vcpu_set_affinity(d->vcpus[i], cpus);
        if (!rc && (i == 0 || !d->pc_platform))
            vcpu_set_boot_state(d->vcpus[i], &st);
    }
    return rc;
}

/* Loads a PC domain's kernel with the o->modules boot modules after
 * module idx; only vCPU 0 starts (the guest starts the others with
 * INIT-SIPI), all are pinned to cpus. */
static int load_pc(struct domain *d, enum boot_kind kind, unsigned int idx,
                   const struct boot_opts *o)
{
    const struct boot_module *m = boot_module_get(idx);
    struct pc_module mods[PC_MAX_MODULES];
    for (unsigned int i = 0; i < o->modules; i++) {
        const struct boot_module *b = boot_module_get(idx + 1 + i);
        if (!b || dom0_owns_module(b))
            return -KILN_EINVAL;
        mods[i] = (struct pc_module){ phys_to_virt(b->start), (size_t)(b->end - b->start),
                                      b->string };
    }
    struct pc_boot_args args = { .mods = mods, .nr_mods = (unsigned int)o->modules };
    /* Boot domains are built one at a time, on the boot CPU. */
    static char cmdline[MB_CMDLINE_MAX];
    const void *image = phys_to_virt(m->start);
    size_t size = (size_t)(m->end - m->start);
    const char *guest = o->guest_cmdline ? o->guest_cmdline : "";
    struct hvm_boot_state bs;
    int rc;
    for (unsigned int i = 0; i < d->nr_vcpus && o->cpus; i++)
        if ((rc = vcpu_set_affinity(d->vcpus[i], o->cpus)))
            return rc;
    if (kind == BOOT_MULTIBOOT) {
        /* "FILE ARGS", as QEMU and GRUB pass it (argv[0] is the file). */
        size_t flen = o->file_len < sizeof(cmdline) - 1 ? o->file_len : sizeof(cmdline) - 1;
        kmemcpy(cmdline, m->string, flen);
        cmdline[flen] = '\0';
        if (*guest)
            ksnprintf(cmdline + flen, sizeof(cmdline) - flen, " %s", guest);
        args.cmdline = cmdline;
        rc = pc_boot_multiboot(d, image, size, &args, &bs);
    } else if (kind == BOOT_PVH) {
        args.cmdline = guest;
        rc = pc_boot_pvh(d, image, size, &args, &bs);
    } else {
        args.cmdline = guest;
        rc = pc_boot_linux(d, image, size, &args, &bs);
    }
    if (!rc)
        vcpu_set_boot_regs(d->vcpus[0], &bs);
    return rc;
}

/* Builds, loads and lists one boot domain (paused); logs why if it cannot.
 * Returns how many of the following modules are its own (modules=N). */
static unsigned int start_one(unsigned int idx, const struct boot_module *m,
                              enum boot_kind kind, int domid)
{
    bool pc = kind != BOOT_KT;
    struct boot_opts o = { .mem_kib = pc ? DEFAULT_PC_MEM_KIB : DEFAULT_MEM_KIB, .vcpus = 1,
                           .weight = SCHED_WEIGHT_DEFAULT };
    if (parse_opts(m->string, &o)) {
        pr_err("module %u: bad options in '%s'\n", idx, m->string);
        return 0;
    }
    /* Its modules are never started themselves, even if it fails. */
    unsigned int left = boot_module_count() - idx - 1;
    unsigned int own = o.modules < left ? (unsigned int)o.modules : left;
    struct domain_config cfg = {
        .name = o.name, .memory_kib = o.mem_kib, .vcpus = (unsigned int)o.vcpus,
        .flags = o.priv ? KILN_CPUID_F_PRIVILEGED : 0, .weight = (u32)o.weight,
        .cap = (u32)o.cap, .domid = domid, .pc_platform = pc || o.pc, .testdev = o.testdev,
    };
    if (o.weight > SCHED_WEIGHT_MAX || o.cap > 100u * smp_nr_cpus() ||
        o.vcpus > KILN_MAX_VCPUS || o.modules > own || o.modules > PC_MAX_MODULES) {
        pr_err("module %u: weight, cap, vcpus or modules out of range in '%s'\n", idx,
               m->string);
        return own;
    }
    if ((!cfg.pc_platform && (o.testdev || o.guest_cmdline)) || (!pc && o.modules)) {
        pr_err("module %u: testdev, modules and a command line are for PC domains only: '%s'\n",
               idx, m->string);
        return own;
    }
    if (o.domu && kind != BOOT_LINUX) {
        pr_err("module %u: domu is for Linux kernels only: '%s'\n", idx, m->string);
        return own;
    }

    /* Built and loaded unseen, without domlist_lock (zeroing its RAM takes
     * milliseconds per MiB under TCG, and every CPU's scheduling loop needs
     * the lock); listed and started in one step once ready. */
    struct domain *d;
    int rc = domain_build(&cfg, &d);
    if (rc)
        goto out;
    rc = o.mmiotest ? hvm_mmio_scratch_attach(d) : 0;
    if (!rc)
        rc = pc ? load_pc(d, kind, idx, &o)
                : load_kt(d, phys_to_virt(m->start), (size_t)(m->end - m->start), o.cpus);
    if (rc) {
        domain_discard(d);
        goto out;
    }
    unsigned long flags = spin_lock_irqsave(&domlist_lock);
    rc = domain_publish(d, domid);
    spin_unlock_irqrestore(&domlist_lock, flags);
    if (rc)
        domain_discard(d);
out:
    if (rc)
        pr_err("module %u: cannot start '%s': error %d\n", idx, m->string, rc);
    return own;
}

/* Every boot domain is built and listed first and only then are they all
 * unpaused: a privileged one that creates domains as soon as it runs must
 * not take the ids of boot domains not built yet. */
int boot_domains_start(void)
{
    int started = 0, domid = 1;
    for (unsigned int i = 0; i < boot_module_count(); i++) {
        const struct boot_module *m = boot_module_get(i);
        enum boot_kind kind = boot_kind_of(m);
        if (dom0_owns_module(m))
            continue;
        if (kind == BOOT_NONE) {
            pr_info("module %u is not a guest ELF image nor a kernel, not started\n", i);
            continue;
        }
        i += start_one(i, m, kind, domid++);
    }
    unsigned long flags = spin_lock_irqsave(&domlist_lock);
    for (int id = 1; id < domid; id++) {
        /* Looked up again: dom0 may already be running and destroying. */
        struct domain *d = domain_find((u16)id);
        if (d && domain_unpause(d) == 0)
            started++;
    }
    spin_unlock_irqrestore(&domlist_lock, flags);
    return started;
}

void start_domains(void)
{
    domain_bench_native(true);
    int rc = hvm_init();
    if (!rc)
        rc = vcpu_sched_start(dom0_kernel_module() != NULL);
    /* dom0 first: it takes its RAM lowest address first, before boot
     * domains scatter allocations over it. */
    if (!rc && dom0_build() < 0)
        panic("dom0 could not be built (see above)");
    if (!rc)
        pr_info("%d boot domain(s) started\n", boot_domains_start());
    else
        pr_err("cannot run guests: error %d\n", rc);
    unsigned long flags = spin_lock_irqsave(&domlist_lock);
    unsigned int left = domain_count();
    domain_boot_done();
    spin_unlock_irqrestore(&domlist_lock, flags);
    if (!left && cmdline_has("exit_when_idle")) {
        pr_info("no domains to run, exiting (exit_when_idle)\n");
        machine_exit(0);
    }
}
