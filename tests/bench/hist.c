/* hist.c — a latency histogram in microseconds: exact below 1 ms, within 1.6 % above. */
#include "tests/bench/hist.h"

#include <string.h>

void hist_reset(struct hist *h)
{
    memset(h, 0, sizeof(*h));
}

static unsigned bucket_of(uint64_t us)
{
    unsigned e;

    if (us < HIST_LINEAR)
        return (unsigned)us;
    e = 63u - (unsigned)__builtin_clzll(us); /* 10 and up */
    if (e > 30)
        return HIST_BUCKETS - 1;
    return HIST_LINEAR + (e - 10) * HIST_SUB + (unsigned)((us >> (e - 6)) & (HIST_SUB - 1));
}

/* The middle of a bucket's range of values. */
static uint64_t value_of(unsigned b)
{
    unsigned e, sub;
    uint64_t lo, width;

    if (b < HIST_LINEAR)
        return b;
    e = 10 + (b - HIST_LINEAR) / HIST_SUB;
    sub = (b - HIST_LINEAR) % HIST_SUB;
    width = (uint64_t)1 << (e - 6);
    lo = ((uint64_t)1 << e) + sub * width;
    return lo + width / 2;
}

void hist_add(struct hist *h, uint64_t us)
{
    h->bucket[bucket_of(us)]++;
    h->count++;
    if (us > h->max)
        h->max = us;
}

uint64_t hist_quantile(const struct hist *h, double q)
{
    uint64_t need, seen = 0;

    if (h->count == 0)
        return 0;
    need = (uint64_t)(q * (double)h->count + 0.999999);
    if (need == 0)
        need = 1;
    for (unsigned b = 0; b < HIST_BUCKETS; b++) {
        seen += h->bucket[b];
        if (seen >= need)
            return value_of(b) < h->max ? value_of(b) : h->max;
    }
    return h->max;
}
