/*
 * kiln-devtest.c - checks /dev/kiln's ioctl interface from user space, run
 * inside dom0 against the test build of the module (kiln_fakehv.ko): who may
 * open the device, which hypercalls the module refuses before any reaches
 * the hypervisor, and the foreign-mapping ioctl's argument checks and its
 * clean ENOSYS when the hypervisor offers no foreign window (the fake has none).
 * Prints one line per check, "PASS name" or "FAIL name: detail"; the host
 * side (tests/kmod-fake.sh) turns them into TAP.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include "kiln_ioctl.h"
#include "../pass_fail.h"

/* errno of a hypercall ioctl (0 if it was made), result in *result. */
static int hypercall(int fd, uint64_t op, uint64_t a0, uint64_t a1, int64_t *result)
{
    struct kiln_ioctl_hypercall hc = { .op = op, .arg = { a0, a1 } };

    if (ioctl(fd, KILN_IOCTL_HYPERCALL, &hc) < 0)
        return errno;
    *result = hc.result;
    return 0;
}

static void expect_errno(int got, int want, const char *name)
{
    char detail[96];

    snprintf(detail, sizeof(detail), "got %s, want %s", got ? strerror(got) : "success", strerror(want));
    check(got == want, name, detail);
}

/* Opens /dev/kiln in a child after drop(); the errno of open (0 = opened). */
static int open_in_child(int (*drop)(void))
{
    pid_t pid = fork();
    int status;

    if (pid == 0) {
        int fd;
        if (drop() != 0)
            _exit(200);
        fd = open(KILN_DEVICE_PATH, O_RDWR);
        _exit(fd >= 0 ? 0 : errno);
    }
    if (pid < 0 || waitpid(pid, &status, 0) < 0 || !WIFEXITED(status))
        return -1;
    return WEXITSTATUS(status);
}

static int become_nobody(void)
{
    return setgid(65534) || setuid(65534);
}

static int drop_sys_admin(void)
{
    struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
    struct __user_cap_data_struct data[2];

    if (syscall(SYS_capget, &hdr, data))
        return -1;
    data[CAP_SYS_ADMIN / 32].effective &= ~(1u << (CAP_SYS_ADMIN % 32));
    data[CAP_SYS_ADMIN / 32].permitted &= ~(1u << (CAP_SYS_ADMIN % 32));
    return (int)syscall(SYS_capset, &hdr, data);
}

int main(void)
{
    struct kiln_domctl d = { 0 };
    struct kiln_ioctl_mmap_foreign mf = { 0 };
    char big[KILN_CONSOLE_MAX + 1];
    int64_t r = 0;
    void *map;
    int fd;

    fd = open(KILN_DEVICE_PATH, O_RDWR);
    check(fd >= 0, "root opens /dev/kiln", strerror(errno));
    if (fd < 0)
        return 1;
    expect_errno(open_in_child(become_nobody), EACCES, "an unprivileged user cannot open /dev/kiln");
    expect_errno(open_in_child(drop_sys_admin), EPERM, "root without CAP_SYS_ADMIN cannot open /dev/kiln");

    check(hypercall(fd, KILN_HC_VERSION, 0, 0, &r) == 0 && r == ((KILN_ABI_MAJOR << 16) | KILN_ABI_MINOR),
          "version hypercall goes through", "wrong result");
    expect_errno(hypercall(fd, KILN_HC_SHUTDOWN, 0, 0, &r), EPERM, "shutdown of dom0 from a process is refused");
    expect_errno(hypercall(fd, 999, 0, 0, &r), ENOSYS, "unknown hypercall is refused by the module");
    memset(big, 'x', sizeof(big));
    expect_errno(hypercall(fd, KILN_HC_CONSOLE_WRITE, (uintptr_t)big, sizeof(big), &r), E2BIG,
                 "console write over KILN_CONSOLE_MAX is refused");
    expect_errno(hypercall(fd, KILN_HC_DOMCTL, 16, 0, &r), EFAULT, "domctl at a bad user address faults cleanly");
    d.cmd = KILN_DOMCTL_WRITE_MEM;
    d.u.write_mem.src_gpa = (uintptr_t)big;
    d.u.write_mem.len = 4097;
    expect_errno(hypercall(fd, KILN_HC_DOMCTL, (uintptr_t)&d, 0, &r), E2BIG, "write_mem over one page is refused");
    d.cmd = KILN_DOMCTL_MAP_FOREIGN;
    check(hypercall(fd, KILN_HC_DOMCTL, (uintptr_t)&d, 0, &r) == 0 && r == -KILN_ENOSYS,
          "raw MAP_FOREIGN domctl reaches the hypervisor", "refused by the module or wrong result");

    map = mmap(NULL, 2 * 4096, PROT_READ, MAP_PRIVATE, fd, 0);
    check(map == MAP_FAILED && errno == EINVAL, "private mmap of /dev/kiln is refused", "mapped or wrong errno");
    map = mmap(NULL, 2ul << 30, PROT_READ, MAP_SHARED, fd, 0);
    check(map == MAP_FAILED && errno == EINVAL, "mmap of /dev/kiln over 1 GiB is refused", "mapped or wrong errno");
    map = mmap(NULL, 2 * 4096, PROT_READ, MAP_SHARED, fd, 0);
    check(map != MAP_FAILED, "shared mmap of /dev/kiln reserves a range", strerror(errno));
    if (map != MAP_FAILED) {
        mf = (struct kiln_ioctl_mmap_foreign){ .addr = (uintptr_t)map + 4096, .gfn = 0x100, .nr_pages = 2, .domid = 1 };
        expect_errno(ioctl(fd, KILN_IOCTL_MMAP_FOREIGN, &mf) < 0 ? errno : 0, EINVAL,
                     "foreign map past the end of the range is refused");
        mf.addr = (uintptr_t)map;
        mf.nr_pages = 0;
        expect_errno(ioctl(fd, KILN_IOCTL_MMAP_FOREIGN, &mf) < 0 ? errno : 0, EINVAL,
                     "foreign map of zero pages is refused");
        mf.nr_pages = 2;
        expect_errno(ioctl(fd, KILN_IOCTL_MMAP_FOREIGN, &mf) < 0 ? errno : 0, ENOSYS,
                     "foreign map returns ENOSYS when the hypervisor offers no window");
        check(munmap(map, 2 * 4096) == 0, "the reserved range unmaps", strerror(errno));
    }
    close(fd);
    return failures ? 1 : 0;
}
