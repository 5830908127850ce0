/*
 * vplatform.h - the emulated PC platform of a PC domain (struct
 * domain.pc_platform): a local APIC per vCPU, the IOAPIC, the 8259 pair and
 * the other devices (arch/x86/hvm/devices/), and the glue that wires them
 * to the vCPUs (arch/x86/hvm/vplatform.c, vlapic_glue.c, virq.c).  What the
 * rest of the hypervisor calls; the glue's own pieces are in
 * arch/x86/hvm/vplatform.h.
 */
#ifndef KILN_VPLATFORM_H
#define KILN_VPLATFORM_H

#include <kiln/types.h>

struct domain;
struct vcpu;

/* APIC ids are vCPU ids 0..7, the IOAPIC's is 8 (its id is 4 bits). */
#define VPLATFORM_MAX_VCPUS 8
#define VPLATFORM_IOAPIC_ID 8

/* Builds the platform of a PC domain whose vCPUs exist (domain_build);
 * vCPUs other than 0 then wait for INIT-SIPI.  0 or -KILN_ENOMEM. */
int vplatform_create(struct domain *d);
/* Frees it (no vCPU of d runs any more). */
void vplatform_destroy(struct domain *d);

/* RDMSR/WRMSR of the local APIC's MSRs (IA32_APIC_BASE, TSC_DEADLINE, the
 * x2APIC range): false when msr is not the platform's; otherwise *rc is 0
 * or -1 for #GP. */
bool vplatform_msr_read(struct vcpu *v, u32 msr, u64 *val, int *rc);
bool vplatform_msr_write(struct vcpu *v, u32 msr, u64 val, int *rc);

/* IA32_APIC_BASE.EN of v's local APIC (CPUID leaf 1 reports it). */
bool vplatform_apic_enabled(struct vcpu *v);

/* The APIC timer's frequency the timing CPUID leaf reports, in kHz. */
u32 vplatform_apic_khz(void);

#endif
