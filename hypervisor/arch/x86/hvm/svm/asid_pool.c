/*
 * asid_pool.c - one CPU's ASIDs by generation (see asid_pool.h).
 */
#include "asid_pool.h"

void asid_pool_init(struct asid_pool *p, u32 nr)
{
    p->nr = nr < 2 ? 2 : nr;
    p->next = 1;
    p->gen = 1;
}

bool asid_pool_assign(struct asid_pool *p, unsigned int cpu, struct asid_holder *h)
{
    bool reuse = p->gen > 1;

    if (h->cpu == (int)cpu && h->gen == p->gen)
        return false;
    if (p->next >= p->nr) {
        p->gen++;
        p->next = 1;
        reuse = true;
    }
    h->asid = p->next++;
    h->gen = p->gen;
    h->cpu = (int)cpu;
    return reuse;
}
