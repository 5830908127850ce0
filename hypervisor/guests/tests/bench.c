/*
 * bench.c - the guest half of `make bench`.  It reports raw numbers (TSC
 * cycles) as "bench: key=value" lines; bench/run.sh turns them into
 * microseconds and ratios with the TSC frequency printed here too.
 *   first_insn_tsc   TSC at the guest's first instruction (QEMU's TSC starts
 *                    at 0 at power-on, so this is the time to get here)
 *   cpuid/vmmcall/pio_tsc_per_exit   one intercepted instruction, round trip
 *   loop_tsc_per_iter                the same loop without the exiting
 *                                    instruction (the baseline)
 *   evtchn_tsc_per_send  an event channel send to a port of its own and
 *                    the event consumed from its own queue (one hypercall,
 *                    the FIFO linking, no other domain involved)
 *   compute_run=i tsc=T   bench/compute.h's loop, PAIRS times, each next
 *                    to a native run the hypervisor times and logs
 *                    (KT_PORT_BENCH): before it on even i, after it on odd
 *                    i, so a trend in the host's load favours neither side;
 *                    run.sh takes the median of the PAIRS paired ratios
 *   compute_exits    exits during all guest runs (timer interrupts)
 */
#include "kt.h"
#include "kt_evtchn.h"
#include "../../bench/compute.h"

#define BATCHES 20
#define EXITS   100
#define PAIRS   31

static struct kiln_sysctl sc __attribute__((aligned(256)));
static struct kt_evtchn ev;
static struct kiln_evtchn_op op __attribute__((aligned(64)));
static unsigned int events;

static void on_event(u32 port)
{
    (void)port;
    events++;
}

/* A loopback channel: our port 1 bound to our port 2; 0 if none. */
static u32 loopback(void)
{
    if (kt_evtchn_init(&ev, 0x40))
        return 0;
    op.dom = op.remote_dom = KILN_DOMID_SELF;
    if (kt_evtchn_op(KILN_EVTCHNOP_ALLOC_UNBOUND, &op))
        return 0;
    op.remote_port = op.port;
    if (kt_evtchn_op(KILN_EVTCHNOP_BIND_INTERDOMAIN, &op))
        return 0;
    kt_evtchn_consume(&ev, on_event);
    op.port = op.remote_port;     /* sends on port 1 reach port 2 */
    return op.port;
}

/* The best of several batches: the machine is shared, and the minimum is
 * the figure least disturbed by other load. */
static u64 per_iter(int kind)
{
    u64 best = ~0ull;
    for (int b = 0; b < BATCHES; b++) {
        u64 t0 = kt_rdtsc();
        for (int i = 0; i < EXITS; i++) {
            switch (kind) {
            case 0: kt_cpuid(0, 0); break;
            case 1: kt_hc_version(); break;
            case 2: kt_outb(KT_PORT_NULL, 0); break;
            case 4:
                kt_evtchn_op(KILN_EVTCHNOP_SEND, &op);
                kt_evtchn_consume(&ev, on_event);
                break;
            default: __asm__ __volatile__("" ::: "memory"); break;
            }
        }
        u64 t = (kt_rdtsc() - t0) / EXITS;
        if (t < best)
            best = t;
    }
    return best;
}

void kt_main(void)
{
    u64 first = kt_boot_tsc;
    sc.cmd = KILN_SYSCTL_PHYSINFO;
    if (kt_hc_sysctl(&sc) == 0)
        kt_printf("bench: tsc_khz=%lu\n", (unsigned long)sc.u.physinfo.cpu_khz);
    kt_printf("bench: first_insn_tsc=%lu\n", (unsigned long)first);
    per_iter(0);   /* warm up: translation caches, mappings */
    kt_printf("bench: cpuid_tsc_per_exit=%lu\n", (unsigned long)per_iter(0));
    kt_printf("bench: vmmcall_tsc_per_exit=%lu\n", (unsigned long)per_iter(1));
    kt_printf("bench: pio_tsc_per_exit=%lu\n", (unsigned long)per_iter(2));
    kt_printf("bench: loop_tsc_per_iter=%lu\n", (unsigned long)per_iter(3));
    if (loopback()) {
        events = 0;
        u64 t = per_iter(4);
        if (events == BATCHES * EXITS)
            kt_printf("bench: evtchn_tsc_per_send=%lu\n", (unsigned long)t);
    }
    bench_compute(BENCH_COMPUTE_ITERS / 10);
    u64 x = 0;
    u32 exits = 0;
    for (int r = 0; r < PAIRS; r++) {
        if (r % 2 == 0)
            kt_outl(KT_PORT_BENCH, 0);
        u32 e0 = kt_stat(KT_STAT_TOTAL);
        u64 t0 = kt_rdtsc();
        x = bench_compute(BENCH_COMPUTE_ITERS);
        u64 t = kt_rdtsc() - t0;
        /* The second read's own two port exits are not the loop's. */
        exits += kt_stat(KT_STAT_TOTAL) - e0 - 2;
        if (r % 2 == 1)
            kt_outl(KT_PORT_BENCH, 0);
        kt_printf("bench: compute_run=%d tsc=%lu x=%lx\n", r, (unsigned long)t, (unsigned long)x);
    }
    kt_printf("bench: compute_exits=%u\n", exits);
}
