/*
 * domain.h - domains (guests) and their vCPUs.
 *
 * Lifetime rules, because a domain can die on one CPU while its vCPUs run
 * on others:
 *  - domlist_lock (one lock, taken with interrupts off) covers the domain
 *    list, domain and vCPU run states (paused, blocked, wake lists), every
 *    domain operation that looks a domain up by id, and the per-CPU loop's
 *    pick-and-enter step, so a vCPU the scheduler hands out is never freed
 *    under the loop's feet;
 *  - domain_kill() marks the domain DYING, removes its vCPUs from the
 *    scheduler (nobody can pick them again) and kicks their CPUs; the
 *    memory is freed ("reaped") by whoever sees the last vCPU leave guest
 *    mode, or at once when none is running;
 *  - v->run_cpu names the one CPU using v's backend state (VMCB, saved
 *    registers) from the pick to the put-back; picking a vCPU another CPU
 *    still uses, or freeing one in use, panics (domain-churn scenario);
 *  - a guest's fault only ever ends in domain_crash() of that domain.
 */
#ifndef KILN_DOMAIN_H
#define KILN_DOMAIN_H

#include <kiln/compiler.h>
#include <kiln/cpuid_policy.h>
#include <kiln/dom0.h>
#include <kiln/hvm.h>
#include <kiln/hvm_event.h>
#include <kiln/hvm_mmio.h>
#include <kiln/list.h>
#include <kiln/sched.h>
#include <kiln/spinlock.h>
#include <kiln/types.h>
#include <public/kiln.h>
#include <public/testport.h>

#define DOMAIN_CONSOLE_RING        4096   /* bytes, one page */
#define DOMAIN_LINE_MAX            256

/* Guest RAM: per-page host frames, plus which 2 MiB regions are backed by
 * one 2 MiB-aligned host block (those get 2 MiB nested mappings). */
struct evtchn_domain;
struct ioreq_server;

struct p2m {
    u64 *root;              /* nested PML4 (direct-map address) */
    paddr_t root_pa;
    u64 nr_pages;           /* guest RAM, 4 KiB pages from GPA 0 */
    paddr_t *frames;        /* host physical address of each guest page */
    unsigned int frames_order;
    u8 *big;                /* per 2 MiB region: 1 if one order-9 block */
    spinlock_t lock;        /* nested page table updates */
    u64 pt_pages;           /* page-table pages in use (for the log) */
    /* dom0 (1:1): GPA == HPA over these host ranges, all of them mapped
     * up front together with every non-RAM address; frames is NULL. */
    bool identity;
    const struct mem_range *owned;
    unsigned int nr_owned;
};

struct vcpu {
    struct domain *domain;
    unsigned int id;
    struct sched_vcpu sv;

    /* Run state, all under domlist_lock. */
    bool in_sched;          /* registered with the scheduler */
    bool initialised;       /* has a boot state: may run once unpaused */
    bool blocked;
    u64 wake_deadline;      /* absolute ns, 0 = none */
    int wake_cpu;           /* CPU whose wake list holds us, -1 = none */
    struct list_head wake_elem;
    /* CPU between picking this vCPU and being done with its state (VMCB,
     * registers), -1 = none: checked so that a vCPU is never run on two
     * CPUs at once, nor freed while a CPU still uses it. */
    int run_cpu;
    /* MMIO instructions whose emulation ended (mmio.c): tells a device
     * that answers HVM_MMIO_RETRY when an instruction is over. */
    u64 mmio_insns;

    u64 runtime_ns;         /* time spent in guest mode, up to the last exit */
    u64 guest_entry_tsc;    /* TSC at the current VMRUN, 0 when not in guest mode */
    u64 stats[KT_STAT_COUNT];
    u32 port_stat_sel;      /* last selector written to KT_PORT_STAT */
    u32 port_scratch;

    struct hvm_events ev;   /* pending exception, NMI, INIT/SIPI, HLT */

    void *hvm;              /* backend state (VMCB, saved GPRs, ...) */
};

struct vplatform;

struct domain {
    u16 id;
    char name[KILN_NAME_MAX];
    u32 flags;              /* KILN_CPUID_F_* */
    bool hardware;          /* dom0: 1:1 memory, owns devices and CPU 0 */
    u32 state;              /* KILN_DOMSTATE_* */
    u32 shutdown_reason;
    u32 exit_code;          /* a PC domain's isa-debug-exit value */
    bool paused;
    bool reaped;
    /* With a dom0, a domain that shut down stays (DYING, memory and
     * console kept) until the toolstack destroys it, as in Xen: that is
     * how `kl` learns the shutdown reason and reads the last output. */
    bool destroyed;
    int running;            /* vCPUs in guest mode right now (domlist_lock) */

    u64 memory_kib;
    struct p2m p2m;
    struct hvm_mmio mmio;   /* emulated device memory (arch/x86/hvm/mmio.c) */

    unsigned int nr_vcpus;
    struct vcpu *vcpus[KILN_MAX_VCPUS];
    struct sched_dom sd;

    struct cpuid_policy *cpuid;   /* derived from the host's at creation */

    /* A PC domU (a Multiboot1, PVH or Linux kernel, or a test guest with
     * `pc`): gets the emulated PC platform (vplatform.h, ACPI tables), and
     * its vCPUs other than 0 wait for INIT-SIPI. */
    bool pc_platform;
    bool testdev;           /* PC domU with kvm-unit-tests' test devices */
    struct vplatform *platform;
    struct hvm_ioports ioports;   /* port handlers of its devices */

    spinlock_t console_lock;
    char *console_ring;     /* DOMAIN_CONSOLE_RING bytes */
    u64 console_pos;        /* bytes ever written */
    char line[DOMAIN_LINE_MAX];
    unsigned int line_len;

    struct list_head elem;  /* in the domain list */

    struct evtchn_domain *evtchn; /* event channels (evtchn.h), NULL until used */
    struct ioreq_server *ioreq;   /* its I/O server (ioreq.h), NULL if none */
};

extern spinlock_t domlist_lock;

/* ---- domain.c (callers hold domlist_lock unless noted) ------------------ */

struct domain_config {
    const char *name;
    u64 memory_kib;
    unsigned int vcpus;
    u32 flags;
    u32 weight, cap;
    int domid;              /* -1: next free id */
    /* dom0 only: its RAM, mapped 1:1 (memory_kib is then ignored). */
    const struct dom0_mem *identity;
    bool pc_platform, testdev;   /* copied to struct domain */
};

/*
 * Creating a domain is two steps, so the slow one never holds the lock:
 * domain_build() (NO lock held) allocates and zeroes everything (RAM
 * zeroing costs ~4 ms per MiB under TCG; a 64 MiB domain ~370 ms) into a
 * paused domain in state BUILDING that no other CPU can see; the caller
 * may load it (copy_to_guest, vcpu_set_boot_state, vcpu_set_affinity)
 * before domain_publish() (lock held) gives it its id (cfg->domid, or the
 * next free one) and the CPUID policy that reports it, and lists it.  A
 * domain that fails either step goes to domain_discard().  domain_create()
 * does both under the lock, for callers that already hold it (dom0's
 * build, domctl CREATE).  All return 0 or a negated KILN_E* code.
 */
int domain_build(const struct domain_config *cfg, struct domain **out);
int domain_publish(struct domain *d, int domid);
void domain_discard(struct domain *d);
int domain_create(const struct domain_config *cfg, struct domain **out);
struct domain *domain_find(u16 id);
/* First domain with id >= id, or NULL. */
struct domain *domain_find_from(u16 id);
unsigned int domain_count(void);
int domain_pause(struct domain *d);
int domain_unpause(struct domain *d);
/* Ends the domain: logs "(kiln) dN destroyed: <reason>" and frees it as
 * soon as no vCPU of it is in guest mode. */
void domain_kill(struct domain *d, u32 shutdown_reason, const char *reason);
/* domain_kill for a guest's fault; takes domlist_lock itself. */
void domain_crash(struct domain *d, const char *fmt, ...) __printf(2, 3);
/* Frees everything if the domain is dying and nobody runs it (and, after
 * domain_keep_until_destroyed(), the toolstack destroyed it). */
void domain_try_reap(struct domain *d);
/* From now on a domain that shuts down stays (DYING, reason and console
 * readable) until DESTROY, as in Xen with a toolstack: dom0 asks for it. */
void domain_keep_until_destroyed(void);
int domain_set_cpuid(struct domain *d, const struct kiln_domctl_cpuid *c);
/* Appends guest console output: the ring and the hypervisor log. */
void domain_console_write(struct domain *d, const char *buf, size_t len);
size_t domain_console_read(struct domain *d, char *buf, size_t len, u64 *offset);
u64 domain_cpu_time(const struct domain *d);
/* v's guest-mode time including the run in progress (any CPU may ask). */
u64 vcpu_runtime(const struct vcpu *v);

/* ---- arch/x86/hvm/p2m.c: guest RAM and nested page tables -------------- */

/* Allocates kib of zeroed RAM (2 MiB blocks where possible) and an empty
 * nested page table; pages are mapped on first touch.  0 or -KILN_ENOMEM. */
int p2m_init(struct domain *d, u64 kib);
/* dom0's nested page table: identity over every address below 512 GiB
 * except RAM it does not own.  0 or -KILN_ENOMEM. */
int p2m_init_identity(struct domain *d, const struct dom0_mem *m);
/* Frees every data page and every page-table page (dom0: only the tables). */
void p2m_destroy(struct domain *d);

/* Host address of [gpa, gpa + len) when that range lies inside the
 * domain's RAM and within one page; NULL otherwise. */
void *p2m_hva(struct domain *d, u64 gpa, size_t len);

/* Copies between hypervisor memory and guest RAM (GPAs inside the
 * domain's RAM only; may cross pages).  Return 0 or -KILN_EFAULT. */
int copy_from_guest(struct domain *d, void *dst, u64 gpa, size_t len);
int copy_to_guest(struct domain *d, u64 gpa, const void *src, size_t len);

/* Loads an ELF64 image (PT_LOAD segments at their physical addresses) into
 * d's RAM; *entry gets the entry point.  0 or -KILN_EINVAL/-KILN_EFAULT. */
int domain_load_elf(struct domain *d, const void *image, size_t size, u64 *entry);

/* ---- vcpu.c ------------------------------------------------------------- */

int vcpu_create(struct domain *d, unsigned int id);
void vcpu_destroy(struct vcpu *v);
void vcpu_set_boot_state(struct vcpu *v, const struct kiln_domctl_vcpu *st);
/* The same from the backend's form (all registers a boot protocol sets). */
struct hvm_boot_state;
void vcpu_set_boot_regs(struct vcpu *v, const struct hvm_boot_state *b);
/* Re-evaluates whether v may run and tells the scheduler. */
void vcpu_update_runnable(struct vcpu *v);
/* v (running on this CPU) blocks until woken or deadline_ns (0 = none);
 * nothing happens when the deadline already passed. */
void vcpu_block(struct vcpu *v, u64 deadline_ns);
/* The same with domlist_lock held; false when it did not block. */
bool vcpu_block_locked(struct vcpu *v, u64 deadline_ns);
void vcpu_wake(struct vcpu *v);
void vcpu_yield(struct vcpu *v);
int vcpu_set_affinity(struct vcpu *v, u64 mask);

/* ---- vcpu_sched.c: the per-CPU loop ------------------------------------- */

/* Initialises the scheduler and starts the loop on every CPU;
 * cpu0_dedicated keeps the scheduler off CPU 0 (a dom0 will own it). */
int vcpu_sched_start(bool cpu0_dedicated);
/* From now on CPU 0 runs v and nothing else (v is never scheduled); when
 * v's domain dies, CPU 0 calls ended(), which must not return. */
void vcpu_sched_dedicate_cpu0(struct vcpu *v, void (*ended)(void));
/* Asks this CPU's loop to reschedule at its next chance. */
void vcpu_sched_raise(void);
/* This CPU's timer fires at t (absolute ns) at the latest, for the
 * running vCPU's own timers (its platform's deadlines); 0 = none. */
void vcpu_sched_guest_deadline(u64 t);
/* Wake list of a CPU: v is woken when its deadline passes. */
void vcpu_sched_add_wakeup(struct vcpu *v);
void vcpu_sched_del_wakeup(struct vcpu *v);

/* ---- domain_boot.c ----------------------------------------------------- */

/* Creates and starts a domain for every guest ELF module; returns how many. */
int boot_domains_start(void);
/* From now on, the last domain going away ends the machine when the
 * command line has exit_when_idle. */
void domain_boot_done(void);

/* ---- domain_bench.c ----------------------------------------------------- */

/* With `bench` on the command line: times the native compute loop and
 * logs it (at boot with a warm-up, and on a guest's request through
 * KT_PORT_BENCH); does nothing otherwise. */
void domain_bench_native(bool at_boot);

#endif
