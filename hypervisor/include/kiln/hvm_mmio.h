/*
 * hvm_mmio.h - emulated device memory of a domain (arch/x86/hvm/mmio.c).
 *
 * A device model claims a range of guest-physical addresses outside the
 * domain's RAM with hvm_mmio_register().  Those addresses are never mapped
 * in the nested page table, so every guest access exits as a nested page
 * fault; the hypervisor then fetches the instruction, performs it with the
 * instruction emulator (x86_emulate.h) and hands each access to the range
 * to the device's read or write op, translating every other operand
 * through the guest's own page tables (RAM, another device, or a #PF for
 * the guest).  An instruction the emulator does not support, or an
 * operand in unclaimed memory, destroys the domain (never the hypervisor)
 * with the instruction's bytes in the log.
 */
#ifndef KILN_HVM_MMIO_H
#define KILN_HVM_MMIO_H

#include <kiln/spinlock.h>
#include <kiln/types.h>

struct domain;
struct vcpu;

#define HVM_MMIO_MAX_REGIONS 16

struct hvm_mmio_ops {
    /* An access of size 1, 2, 4 or 8 bytes at gpa, wholly inside the
     * region (a wider or straddling guest access arrives byte by byte),
     * on the vCPU v that made it; vCPUs of one domain may call at the
     * same time, so the device does its own locking.  Values are little
     * endian in the low size bytes.  Return 0, or a negative KILN_E* code
     * to have the domain destroyed for that access. */
    int (*read)(void *dev, struct vcpu *v, u64 gpa, unsigned int size, u64 *val);
    /* (Either op may also return HVM_MMIO_RETRY, below.) */
    int (*write)(void *dev, struct vcpu *v, u64 gpa, unsigned int size, u64 val);
    /* Optional: frees dev when the domain is freed. */
    void (*release)(void *dev);
};

/*
 * A device op's "not yet": the access is served elsewhere (ioreq.c sends
 * it to a dom0 process) and the device has blocked the vCPU until the
 * answer.  The instruction is abandoned with nothing written back and RIP
 * on it, and is emulated again from its start when the vCPU runs next: the
 * device then gives back the accesses it already answered.  v->mmio_insns
 * counts the instructions whose emulation ended, so the device knows when
 * one is over.
 */
#define HVM_MMIO_RETRY 1

struct hvm_mmio_region {
    u64 base, len;
    const struct hvm_mmio_ops *ops;
    void *dev;
};

/* In struct domain; all zero is the valid empty table. */
struct hvm_mmio {
    spinlock_t lock;            /* serialises registrations */
    unsigned int count;         /* regions[0..count) are live (published last) */
    struct hvm_mmio_region regions[HVM_MMIO_MAX_REGIONS];
};

/*
 * Claims [base, base + len) for a device.  The range must lie outside the
 * domain's RAM and overlap no other region; dom0 (whose devices are its
 * own, mapped 1:1) has none.  May be called while the domain runs (the
 * table only grows until the domain is freed).  0, -KILN_EINVAL, -KILN_EEXIST
 * (overlap) or -KILN_E2BIG (HVM_MMIO_MAX_REGIONS reached).
 */
int hvm_mmio_register(struct domain *d, u64 base, u64 len, const struct hvm_mmio_ops *ops,
                      void *dev);

/* Calls every region's release op and empties the table (the domain is
 * being freed: no vCPU of it runs). */
void hvm_mmio_release(struct domain *d);

/* True when a region claims gpa. */
bool hvm_mmio_claimed(struct domain *d, u64 gpa);

/*
 * A nested page fault at a claimed gpa (error_code as the exit gives it):
 * emulates the instruction at the vCPU's RIP, advancing it or raising the
 * exception the instruction raises.  Returns 0, or -1 when it destroyed
 * the domain.
 */
int hvm_mmio_fault(struct vcpu *v, u64 gpa, u64 error_code);

/* A test aid: a 4 KiB scratch register file at KT_MMIO_SCRATCH (testport.h)
 * for domains whose boot module asks for it (`mmiotest`), so test guests
 * can drive the whole MMIO path.  mmio_scratch.c; 0 or a KILN_E* code. */
int hvm_mmio_scratch_attach(struct domain *d);

#endif
