/*
 * hvm.c - picks the virtualisation backend for this machine.
 *
 * Only SVM exists today; a VT-x backend would be probed here too, and
 * nothing outside arch/x86/hvm/ would change.
 */
#include <kiln/console.h>
#include <kiln/hvm.h>
#include <public/kiln.h>

const struct hvm_ops *hvm;

int hvm_init(void)
{
    hvm = svm_probe();
    if (!hvm) {
        pr_err("hvm: no usable hardware virtualisation (need AMD-V with nested paging)\n");
        return -KILN_ENOSYS;
    }
    int rc = hvm_cpuid_host_init();
    if (rc)
        pr_err("hvm: cannot read the host's CPUID leaves (%d)\n", rc);
    return rc;
}
