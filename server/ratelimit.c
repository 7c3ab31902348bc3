/* ratelimit.c — at most N answers of a kind per second to one client IP, per worker. */
#include "server/ratelimit.h"

#include <stdlib.h>
#include <string.h>

#define SLOTS 4096

struct slot {
    union addr ip;
    uint32_t second;
    uint32_t count;
};

struct ratelimit {
    unsigned per_second;
    uint32_t seed;
    struct slot slots[SLOTS];
};

int ratelimit_new(struct ratelimit **out, unsigned per_second)
{
    struct ratelimit *rl = calloc(1, sizeof(*rl));

    if (rl == NULL)
        return -1;
    rl->per_second = per_second;
    rl->seed = (uint32_t)(uintptr_t)rl;
    *out = rl;
    return 0;
}

void ratelimit_free(struct ratelimit *rl)
{
    free(rl);
}

bool ratelimit_allow(struct ratelimit *rl, const union addr *ip, uint32_t now)
{
    struct slot *s = &rl->slots[addr_ip_hash(ip, rl->seed) % SLOTS];

    if (s->second != now || !addr_ip_equal(&s->ip, ip)) {
        s->ip = *ip;
        s->second = now;
        s->count = 0;
    }
    return ++s->count <= rl->per_second;
}
