/*
 * hvm.c - picks the virtualisation backend for this machine.
 *
 * AMD-V (svm/) and Intel VT-x (vmx/) sit behind the same struct hvm_ops;
 * a CPU offers at most one of them, so the order of the probes matters
 * only for an emulator that would offer both.
 */
#include <kiln/console.h>
#include <kiln/hvm.h>
#include <public/kiln.h>

const struct hvm_ops *hvm;

int hvm_init(void)
{
    hvm = svm_probe();
    if (!hvm)
        hvm = vmx_probe();
    if (!hvm) {
        pr_err("hvm: no usable hardware virtualisation (need AMD-V with nested paging, or "
               "VT-x with EPT, VPID and unrestricted guest)\n");
        return -KILN_ENOSYS;
    }
    int rc = hvm_cpuid_host_init();
    if (rc)
        pr_err("hvm: cannot read the host's CPUID leaves (%d)\n", rc);
    return rc;
}
