/*
 * badcalls.c - hostile hypercall arguments from dom0 user space through the
 * real /dev/kiln ioctl path, run in dom0 on the real hypervisor (not the
 * pretend one of tests/kmod/): garbage hypercall and sub-operation numbers,
 * bad user pointers, bad lengths, bad and protected domain ids, malformed
 * create requests, then a seeded fuzz of domctl/sysctl structures.  Each
 * must fail with an error; afterwards the hypervisor must still answer.
 * Prints "PASS name" or "FAIL name: detail" per check; the host-side
 * scenario (hypervisor/tests/qemu/scenarios/dom0-toolstack.sh) turns them
 * into TAP.  Exit status: number of failures (capped at 100).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>
#include "kiln_ioctl.h"
#include "../pass_fail.h"

#define FUZZ_ROUNDS 2000

static int fd;

/* 0 when the hypercall succeeded; else the ioctl's errno (refused by the
 * module) or the hypervisor's error (KILN_E* numbers are Linux's). */
static int call(uint64_t op, uint64_t a0, uint64_t a1)
{
    struct kiln_ioctl_hypercall hc = { .op = op, .arg = { a0, a1 } };
    if (ioctl(fd, KILN_IOCTL_HYPERCALL, &hc) < 0)
        return errno;
    return hc.result < 0 ? (int)-hc.result : 0;
}

static int domctl(struct kiln_domctl *d)
{
    return call(KILN_HC_DOMCTL, (uintptr_t)d, 0);
}

/* want 0: any error will do; otherwise exactly that errno. */
static void expect_err(int got, int want, const char *name)
{
    char detail[96];
    snprintf(detail, sizeof(detail), "got %s, want %s", got ? strerror(got) : "success",
             want ? strerror(want) : "an error");
    check(want ? got == want : got != 0, name, detail);
}

static void domctl_err(uint32_t cmd, uint32_t domid, int want, const char *name)
{
    struct kiln_domctl d;
    memset(&d, 0, sizeof(d));
    d.cmd = cmd;
    d.domid = domid;
    expect_err(domctl(&d), want, name);
}

static void create_err(uint64_t kib, uint32_t vcpus, uint32_t flags, const char *dname, int want,
                       const char *name)
{
    struct kiln_domctl d;
    memset(&d, 0, sizeof(d));
    d.cmd = KILN_DOMCTL_CREATE;
    d.u.create.memory_kib = kib;
    d.u.create.vcpus = vcpus;
    d.u.create.flags = flags;
    if (dname)
        memcpy(d.u.create.name, dname, strnlen(dname, KILN_NAME_MAX));
    expect_err(domctl(&d), want, name);
}

/* errno of open(/dev/kiln) in a child that became nobody (0 = opened). */
static int open_as_nobody(void)
{
    pid_t pid = fork();
    int status;
    if (pid == 0) {
        if (setgid(65534) || setuid(65534))
            _exit(200);
        int f = open(KILN_DEVICE_PATH, O_RDWR);
        _exit(f >= 0 ? 0 : errno);
    }
    if (pid < 0 || waitpid(pid, &status, 0) < 0 || !WIFEXITED(status))
        return -1;
    return WEXITSTATUS(status);
}

/* A hypercall without the device: VMMCALL straight from this process. */
static long raw_vmmcall(unsigned long nr, unsigned long a0)
{
    long ret;
    __asm__ __volatile__("vmmcall" : "=a"(ret) : "a"(nr), "D"(a0) : "memory");
    return ret;
}

static int alive(void)
{
    struct kiln_sysctl s;
    struct kiln_domctl d;
    memset(&s, 0, sizeof(s));
    s.cmd = KILN_SYSCTL_PHYSINFO;
    memset(&d, 0, sizeof(d));
    d.cmd = KILN_DOMCTL_GETINFO;
    d.domid = 0;
    return call(KILN_HC_SYSCTL, (uintptr_t)&s, 0) == 0 && s.u.physinfo.nr_cpus > 0 &&
           domctl(&d) == 0 && d.domid == 0;
}

static void fuzz(void)
{
    static const uint32_t ids[] = { 0, 1, 2, 7, KILN_DOMID_SELF, KILN_DOMID_INVALID, 0xffffffffu };
    unsigned int errors = 0, successes = 0;
    srand(4);
    for (int i = 0; i < FUZZ_ROUNDS; i++) {
        union {
            struct kiln_domctl d;
            struct kiln_sysctl s;
            unsigned char b[sizeof(struct kiln_domctl)];
        } u;
        for (size_t k = 0; k < sizeof(u.b); k++)
            u.b[k] = (unsigned char)rand();
        int rc;
        if (i % 4 == 3) {
            u.s.cmd = (uint32_t)(rand() % 4);
            rc = call(KILN_HC_SYSCTL, (uintptr_t)&u.s, 0);
        } else {
            /* Never CREATE (a valid one would leave a domain behind) nor
             * SET_CPUID (a valid one could strip dom0's own features). */
            u.d.cmd = 2 + (uint32_t)(rand() % 14);
            if (u.d.cmd == KILN_DOMCTL_SET_CPUID)
                u.d.cmd = 0;
            u.d.domid = ids[rand() % (int)(sizeof(ids) / sizeof(ids[0]))];
            rc = domctl(&u.d);
        }
        if (rc)
            errors++;
        else
            successes++;
    }
    char detail[96];
    snprintf(detail, sizeof(detail), "%u refused, %u harmless successes", errors, successes);
    check(alive(), "hypervisor answers after 2000 random domctl/sysctl structures", detail);
    printf("# fuzz: %s\n", detail);
}

int main(void)
{
    fd = open(KILN_DEVICE_PATH, O_RDWR);
    check(fd >= 0, "root opens /dev/kiln", strerror(errno));
    if (fd < 0)
        return 1;
    check(alive(), "physinfo and dom0's getinfo answer", "no answer");

    expect_err(call(999, 0, 0), ENOSYS, "unknown hypercall number");
    expect_err(call(0xffffffffffffffffull, 0, 0), ENOSYS, "hypercall number 2^64-1");
    domctl_err(0, 0, 0, "domctl cmd 0");
    domctl_err(99, 0, 0, "domctl cmd 99");
    domctl_err(0xffffffffu, 0, 0, "domctl cmd 0xffffffff");
    domctl_err(KILN_DOMCTL_GETINFO, 0xffffffffu, ESRCH, "getinfo of domid 0xffffffff");
    domctl_err(KILN_DOMCTL_DESTROY, 12345, ESRCH, "destroy of a domain that does not exist");
    domctl_err(KILN_DOMCTL_UNPAUSE, KILN_DOMID_INVALID, ESRCH, "unpause of DOMID_INVALID");
    domctl_err(KILN_DOMCTL_DESTROY, 0, EPERM, "destroy of dom0");
    domctl_err(KILN_DOMCTL_DESTROY, KILN_DOMID_SELF, EPERM, "destroy of DOMID_SELF (dom0)");
    domctl_err(KILN_DOMCTL_PAUSE, 0, EPERM, "pause of dom0");
    domctl_err(KILN_DOMCTL_SET_VCPU, 0, EPERM, "set_vcpu of dom0");
    domctl_err(KILN_DOMCTL_WRITE_MEM, 0, 0, "write_mem into dom0");
    domctl_err(KILN_DOMCTL_VCPU_PIN, 0, EPERM, "vcpu_pin of dom0");

    create_err(0, 1, 0, "zero", EINVAL, "create with 0 KiB");
    create_err(3, 1, 0, "odd", EINVAL, "create with 3 KiB");
    create_err(1ull << 50, 1, 0, "huge", EINVAL, "create with 2^50 KiB");
    create_err(4096, 0, 0, "novcpu", EINVAL, "create with 0 vCPUs");
    create_err(4096, 100000, 0, "manyvcpu", EINVAL, "create with 100000 vCPUs");
    create_err(4096, 1, 0xffff, "flags", EINVAL, "create with unknown flags");
    create_err(4096, 1, 0, "", EINVAL, "create with an empty name");
    create_err(4096, 1, 0, "0123456789abcdef0123456789abcdefXX", EINVAL,
               "create with an unterminated name");

    expect_err(call(KILN_HC_DOMCTL, 16, 0), EFAULT, "domctl struct at user address 16");
    expect_err(call(KILN_HC_DOMCTL, 0xffff888000000000ull, 0), EFAULT,
               "domctl struct at a kernel address");
    expect_err(call(KILN_HC_SYSCTL, 0, 0), EFAULT, "sysctl struct at NULL");
    expect_err(call(KILN_HC_CONSOLE_WRITE, 16, 10), EFAULT, "console write from address 16");
    expect_err(call(KILN_HC_CONSOLE_WRITE, (uintptr_t)"x", 1ull << 40), 0,
               "console write of 2^40 bytes");

    struct kiln_sysctl s;
    memset(&s, 0, sizeof(s));
    s.cmd = 99;
    expect_err(call(KILN_HC_SYSCTL, (uintptr_t)&s, 0), 0, "sysctl cmd 99");
    s.cmd = KILN_SYSCTL_LOG_READ;
    s.u.log.buf_gpa = 0;
    s.u.log.len = ~0ull;
    expect_err(call(KILN_HC_SYSCTL, (uintptr_t)&s, 0), 0, "log read of 2^64-1 bytes");
    s.u.log.buf_gpa = 16;   /* the log is never empty: bytes must be copied */
    s.u.log.len = 100;
    s.u.log.offset = 0;
    expect_err(call(KILN_HC_SYSCTL, (uintptr_t)&s, 0), EFAULT, "log read into user address 16");

    expect_err(open_as_nobody(), EACCES, "an unprivileged process cannot open /dev/kiln");
    expect_err((int)-raw_vmmcall(KILN_HC_SYSCTL, 0), EPERM,
               "a raw VMMCALL from user space (CPL 3) is refused");
    s.u.log.buf_gpa = 16;   /* the log is never empty: bytes must be copied */
    s.u.log.len = 100;
    s.u.log.offset = 0;
    expect_err(call(KILN_HC_SYSCTL, (uintptr_t)&s, 0), EFAULT, "log read into user address 16");

    fuzz();
    check(alive(), "hypervisor and dom0 still answer at the end", "no answer");
    close(fd);
    return failures > 100 ? 100 : failures;
}
