/*
 * cpuid.c - the CPUID policy a guest sees: the hypervisor bit, Kiln's
 * signature and version leaves, and no SVM/VMX (guests cannot nest).
 */
#include "kt.h"

void kt_main(void)
{
    kt_plan(9);
    u32 before = kt_stat(KT_STAT_CPUID);

    struct kt_cpuid l1 = kt_cpuid(1, 0);
    kt_ok(l1.c & (1u << 31), "leaf 1: hypervisor bit set (ecx=%#x)", l1.c);
    kt_ok(!(l1.c & (1u << 5)), "leaf 1: VMX hidden");

    struct kt_cpuid sig = kt_cpuid(KILN_CPUID_SIGNATURE, 0);
    char name[13];
    kt_memcpy(name, &sig.b, 4);
    kt_memcpy(name + 4, &sig.c, 4);
    kt_memcpy(name + 8, &sig.d, 4);
    name[12] = '\0';
    kt_ok(sig.b == KILN_CPUID_SIG_EBX && sig.c == KILN_CPUID_SIG_ECX && sig.d == KILN_CPUID_SIG_EDX,
          "leaf 0x40000000: signature \"%s\"", name);
    kt_ok(sig.a >= KILN_CPUID_VERSION, "leaf 0x40000000: max leaf %#x covers the version leaf", sig.a);

    struct kt_cpuid ver = kt_cpuid(KILN_CPUID_VERSION, 0);
    kt_ok(ver.a == ((KILN_ABI_MAJOR << 16) | KILN_ABI_MINOR) && ver.a == (u32)kt_hc_version(),
          "leaf 0x40000001: ABI version %u.%u matches the version hypercall", ver.a >> 16,
          ver.a & 0xffff);
    kt_ok(ver.b >= 1 && ver.b < KILN_DOMID_SELF, "leaf 0x40000001: domain id %u", ver.b);
    kt_ok(ver.c == 0, "leaf 0x40000001: unprivileged domain has no flags (ecx=%#x)", ver.c);

    struct kt_cpuid ext = kt_cpuid(0x80000001, 0);
    struct kt_cpuid svm = kt_cpuid(0x8000000a, 0);
    kt_ok(!(ext.c & (1u << 2)) && !svm.a && !svm.b && !svm.c && !svm.d,
          "SVM hidden: 0x80000001 ecx bit 2 clear, leaf 0x8000000a empty");

    u32 after = kt_stat(KT_STAT_CPUID);
    kt_ok(after - before == 5, "every CPUID exited to the hypervisor (%u exits for 5)",
          after - before);
}
