/*
 * fuzz_evtchn.c - libFuzzer target for event channels (common/event/): a
 * byte stream drives three domains through every table operation (alloc,
 * bind, send, close, unmask, priority, vCPU, limits, registration at any
 * address, a domain's death and rebirth) while the guests scribble over
 * their own event arrays and control blocks and consume their queues with
 * a bounded consumer.  Guest RAM is an exact-size heap block, so any
 * access outside it is caught by AddressSanitizer.  After each step the
 * table must be consistent: the host count is the sum of the domains',
 * every live port's fields are in range, and every interdomain port's
 * peer exists and points back.
 */
#include <stdlib.h>
#include <string.h>

#include "../common/event/evtchn_table.c"
#include "../common/event/evtchn_fifo.c"

#define CHECK(cond) do { if (!(cond)) abort(); } while (0)

#define NDOM      3
#define RAM_PAGES 8u

static struct domain doms[NDOM];
static struct vcpu vcpus[NDOM][2];
static u8 *ram[NDOM];
spinlock_t domlist_lock;

void *alloc_pages_zeroed(unsigned int order)
{
    void *p = aligned_alloc(PAGE_SIZE, PAGE_SIZE << order);
    CHECK(p);
    memset(p, 0, PAGE_SIZE << order);
    return p;
}
void free_pages(void *p, unsigned int order) { (void)order; free(p); }
void smp_send_ipi(unsigned int cpu, u8 vector) { CHECK(cpu == 0); (void)vector; }
void evtchn_upcall(struct vcpu *v, u8 vector)
{
    CHECK(v && v->domain->state != KILN_DOMSTATE_DYING);
    CHECK(vector >= KILN_EVTCHN_VECTOR_MIN && vector <= KILN_EVTCHN_VECTOR_MAX);
}
struct domain *domain_find(u16 id)
{
    return id < NDOM ? &doms[id] : NULL;
}
void *p2m_hva(struct domain *d, u64 gpa, size_t len)
{
    if (gpa >= RAM_PAGES * PAGE_SIZE || len > PAGE_SIZE || (gpa & 4095) + len > PAGE_SIZE)
        return NULL;
    return ram[d->id] + gpa;
}

static void consume(unsigned int dom, unsigned int vcpu, u32 heads[16])
{
    struct kiln_evtchn_control *c = doms[dom].evtchn ? doms[dom].evtchn->vcpu[vcpu].control : NULL;
    if (!c)
        return;
    struct evtchn_domain *e = doms[dom].evtchn;
    u32 ready = __atomic_exchange_n(&c->ready, 0, __ATOMIC_ACQ_REL);
    for (unsigned int steps = 0; ready && steps < 256; steps++) {
        unsigned int q = (unsigned int)__builtin_ctz(ready);
        u32 port = heads[q] ? heads[q] : c->head[q];
        u32 *w = port < KILN_EVTCHN_MAX_PORTS ? evtchn_fifo_word(e, port) : NULL;
        if (!w) {
            ready &= ~(1u << q);
            heads[q] = 0;
            continue;
        }
        u32 old = __atomic_fetch_and(w, ~(KILN_EVTCHN_LINKED | KILN_EVTCHN_PENDING), __ATOMIC_ACQ_REL);
        heads[q] = old & KILN_EVTCHN_LINK_MASK;
        if (!heads[q])
            ready &= ~(1u << q);
    }
}

static void check_tables(void)
{
    u32 total = 0;
    for (unsigned int i = 0; i < NDOM; i++) {
        struct domain *d = &doms[i];
        struct evtchn_domain *e = d->evtchn;
        if (!e)
            continue;
        CHECK(d->state != KILN_DOMSTATE_DYING);
        total += e->used;
        u32 used = 0;
        for (u32 p = 1; p < e->limit; p++) {
            if (!e->bucket[p / EVTCHN_BUCKET_PORTS]) {
                p |= EVTCHN_BUCKET_PORTS - 1;   /* a whole bucket never used */
                continue;
            }
            struct evtchn *c = evtchn_lookup(d, p);
            if (!c)
                continue;
            used++;
            CHECK(c->state == KILN_EVTCHN_STATE_UNBOUND || c->state == KILN_EVTCHN_STATE_INTERDOMAIN);
            CHECK(c->priority < KILN_EVTCHN_PRIORITIES && c->vcpu < d->nr_vcpus);
            if (c->state == KILN_EVTCHN_STATE_INTERDOMAIN) {
                struct domain *rd = domain_find(c->remote_dom);
                CHECK(rd && rd->state != KILN_DOMSTATE_DYING);
                struct evtchn *rc = evtchn_lookup(rd, c->remote_port);
                CHECK(rc && rc->state == KILN_EVTCHN_STATE_INTERDOMAIN && rc->remote_dom == d->id &&
                      rc->remote_port == p);
            }
        }
        CHECK(used == e->used);
        for (unsigned int v = 0; v < e->nr_vcpus; v++)
            for (unsigned int q = 0; q < KILN_EVTCHN_PRIORITIES; q++)
                CHECK(e->vcpu[v].tail[q] < KILN_EVTCHN_MAX_PORTS);
    }
    CHECK(total == evtchn_host_used());
}

static void reset(void)
{
    for (unsigned int i = 0; i < NDOM; i++) {
        if (doms[i].evtchn) {
            doms[i].state = KILN_DOMSTATE_DYING;
            evtchn_domain_destroy(&doms[i]);
        }
        memset(&doms[i], 0, sizeof(doms[i]));
        doms[i].id = (u16)i;
        doms[i].state = KILN_DOMSTATE_RUNNING;
        doms[i].hardware = i == 0;
        doms[i].nr_vcpus = i == 1 ? 2 : 1;
        for (unsigned int v = 0; v < doms[i].nr_vcpus; v++) {
            vcpus[i][v] = (struct vcpu){ .domain = &doms[i], .id = v };
            doms[i].vcpus[v] = &vcpus[i][v];
        }
        free(ram[i]);
        ram[i] = calloc(1, RAM_PAGES * PAGE_SIZE);
        CHECK(ram[i]);
    }
    CHECK(evtchn_host_used() == 0);
}

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
    static u32 heads[NDOM][2][16];
    reset();
    memset(heads, 0, sizeof(heads));
    for (size_t i = 0; i + 4 <= size; i += 4) {
        u8 op = data[i] & 15, x = (data[i] >> 4) % NDOM, y = data[i + 1] % NDOM;
        u32 arg = (u32)data[i + 2] | (u32)data[i + 3] << 8;
        struct domain *d = &doms[x];
        struct evtchn *c;
        u32 port;
        bool dying = d->state == KILN_DOMSTATE_DYING;

        switch (op) {
        case 0:
            evtchn_alloc_unbound(d, (u16)y, &port);
            break;
        case 1:   /* half the time: a port of y that waits for x, if any */
            port = arg % 64;
            for (u32 p = 1; (arg & 0x8000) && p < 64; p++)
                if ((c = evtchn_lookup(&doms[y], p)) && c->state == KILN_EVTCHN_STATE_UNBOUND &&
                    c->remote_dom == x) {
                    port = p;
                    break;
                }
            evtchn_bind_interdomain(d, (u16)y, port, &port);
            break;
        case 2:
            evtchn_send(d, arg % 64);
            break;
        case 3:
            evtchn_close(d, arg % 64);
            break;
        case 4:
            if (!dying)
                evtchn_fifo_unmask(d, arg % 64);
            break;
        case 5:
            if ((c = evtchn_lookup(d, arg % 64)))
                c->priority = data[i + 1] & 15;
            break;
        case 6:
            if ((c = evtchn_lookup(d, arg % 64)))
                c->vcpu = data[i + 1] % d->nr_vcpus;
            break;
        case 7:   /* the guest scribbles on a word of its RAM */
            if (ram[x])
                ((u32 *)ram[x])[arg % (RAM_PAGES * PAGE_SIZE / 4)] ^=
                    (u32)data[i + 1] << (8 * (data[i + 2] & 3)) | (data[i + 1] & 1 ? 0x80000000u : 0);
            break;
        case 8:
            consume(x, data[i + 1] & 1 && d->nr_vcpus > 1, heads[x][data[i + 1] & 1]);
            break;
        case 9:
            if (!dying)
                evtchn_fifo_init_control(d, data[i + 1] & 1, (u64)arg * 8,
                                         data[i + 2] & 1 ? 0 : 0x20 + (data[i + 3] % 0xd0));
            break;
        case 10:
            if (!dying)
                evtchn_fifo_expand_array(d, (u64)(arg % (RAM_PAGES + 2)) * PAGE_SIZE);
            break;
        case 11:   /* the domain dies: its peers see their ports unbound */
            if (!dying) {
                d->state = KILN_DOMSTATE_DYING;
                evtchn_domain_destroy(d);
            }
            break;
        case 12:   /* ... and a new one comes with the same id */
            if (dying) {
                d->state = KILN_DOMSTATE_RUNNING;
                memset(ram[x], 0, RAM_PAGES * PAGE_SIZE);
                memset(heads[x], 0, sizeof(heads[x]));
            }
            break;
        case 13:
            if (!dying)
                evtchn_set_limit(d, 2 + arg % 200);
            break;
        default:
            break;
        }
        check_tables();
    }
    reset();
    return 0;
}
