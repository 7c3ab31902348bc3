/* hist.h — a latency histogram in microseconds: exact below 1 ms, within 1.6 % above. */
#ifndef TESTS_BENCH_HIST_H
#define TESTS_BENCH_HIST_H

#include <stdint.h>

/* Values below 1024 µs have a bucket each; above, every power of two is cut into 64 buckets,
 * up to 2^31 µs (about 36 minutes; larger values land in the last bucket). */
#define HIST_LINEAR  1024
#define HIST_SUB     64
#define HIST_BUCKETS (HIST_LINEAR + (31 - 10) * HIST_SUB)

/* Embeddable; zero-initialised (or hist_reset) is empty. */
struct hist {
    uint64_t count;
    uint64_t max;
    uint64_t bucket[HIST_BUCKETS];
};

void hist_reset(struct hist *h);

/* Records one value in microseconds. */
void hist_add(struct hist *h, uint64_t us);

/* The value at quantile q (0 < q <= 1): the smallest bucket value with at least q of the
 * recorded values at or below it, as the bucket's midpoint (exact below 1024).  0 when
 * empty. */
uint64_t hist_quantile(const struct hist *h, double q);

#endif
