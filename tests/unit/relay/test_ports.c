/* test_ports.c — the relay port pool: ranges, exhaustion, EVEN/PAIR, put, and four threads. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "relay/ports.h"
#include "tests/lib/check.h"

/* xorshift64*: a deterministic stream of "random" numbers for rnd. */
static uint64_t next_rnd(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 0x2545f4914f6cdd1dull;
}

static struct relay_ports *pool(uint16_t min, uint16_t max)
{
    struct relay_ports *p = NULL;

    if (!CHECK_INT(relay_ports_new(&p, min, max), 0))
        return NULL;
    CHECK_INT(relay_ports_available(p), max - min + 1);
    return p;
}

/* Takes up to limit ports with flags, marking them in seen; checks each is new, in range and
 * fits flags.  Returns how many were taken (a PAIR counting as one). */
static int take_n(struct relay_ports *p, uint8_t *seen, uint16_t min, uint16_t max, unsigned flags,
                  uint64_t seed, int limit)
{
    int n = 0;
    uint16_t port;

    while (n < limit && (port = relay_ports_take(p, next_rnd(&seed), flags)) != 0) {
        int ok = CHECK(port >= min && port <= max) & CHECK(!seen[port]);
        if (flags & (RELAY_PORTS_EVEN | RELAY_PORTS_PAIR))
            ok &= CHECK_INT(port % 2, 0);
        if (flags & RELAY_PORTS_PAIR)
            ok &= CHECK(!seen[port + 1]) & CHECK(!relay_ports_take_exact(p, port + 1));
        seen[port] = 1;
        seen[(flags & RELAY_PORTS_PAIR) ? port + 1 : port] = 1;
        n++;
        if (!ok)
            break;
    }
    return n;
}

/* Takes ports with flags until none is left (see take_n). */
static int drain(struct relay_ports *p, uint16_t min, uint16_t max, unsigned flags, uint64_t seed)
{
    uint8_t *seen = calloc(65536, 1);
    int n = -1;

    if (CHECK(seen != NULL))
        n = take_n(p, seen, min, max, flags, seed, 65536);
    free(seen);
    return n;
}

static void test_new_checks_the_range(void)
{
    struct relay_ports *p = NULL;

    CHECK_INT(relay_ports_new(&p, 0, 10), -1);
    CHECK_INT(relay_ports_new(&p, 11, 10), -1);
    CHECK(p == NULL);
    relay_ports_free(NULL);
}

static void test_take_until_exhausted(void)
{
    struct relay_ports *p = pool(1000, 1099);

    if (p == NULL)
        return;
    CHECK_INT(drain(p, 1000, 1099, 0, 42), 100);
    CHECK_INT(relay_ports_available(p), 0);
    CHECK_INT(relay_ports_take(p, 0, 0), 0);
    CHECK_INT(relay_ports_take(p, 12345, RELAY_PORTS_EVEN), 0);
    CHECK_INT(relay_ports_take(p, 99, RELAY_PORTS_PAIR), 0);
    CHECK(!relay_ports_take_exact(p, 1050));
    CHECK_INT(relay_ports_available(p), 0);
    relay_ports_put(p, 1077);
    CHECK_INT(relay_ports_available(p), 1);
    CHECK_INT(relay_ports_take(p, 3, 0), 1077);
    CHECK_INT(relay_ports_available(p), 0);
    relay_ports_free(p);
}

/* The first free port at or after the random start, wrapping round the range. */
static void test_random_start_and_wrap(void)
{
    struct relay_ports *p = pool(2000, 2999);

    if (p == NULL)
        return;
    CHECK_INT(relay_ports_take(p, 5, 0), 2005);
    CHECK_INT(relay_ports_take(p, 5, 0), 2006);
    CHECK_INT(relay_ports_take(p, 1000 + 7, 0), 2007); /* rnd is taken modulo the range */
    CHECK_INT(relay_ports_take(p, 999, 0), 2999);
    CHECK_INT(relay_ports_take(p, 999, 0), 2000); /* wrapped */
    CHECK_INT(relay_ports_take(p, 130, RELAY_PORTS_EVEN), 2130);
    CHECK_INT(relay_ports_take(p, 131, RELAY_PORTS_EVEN), 2132);
    CHECK_INT(relay_ports_available(p), 1000 - 7);
    for (uint16_t port = 2500; port <= 2999; port++)
        relay_ports_take_exact(p, port);
    CHECK_INT(relay_ports_take(p, 700, 0), 2001); /* 2500..2999 gone, 2000 gone */
    relay_ports_free(p);
}

static void test_take_exact_and_put(void)
{
    struct relay_ports *p = pool(5000, 5009);

    if (p == NULL)
        return;
    CHECK(!relay_ports_take_exact(p, 4999));
    CHECK(!relay_ports_take_exact(p, 5010));
    CHECK(!relay_ports_take_exact(p, 0));
    CHECK(relay_ports_take_exact(p, 5003));
    CHECK(!relay_ports_take_exact(p, 5003));
    CHECK_INT(relay_ports_available(p), 9);
    relay_ports_put(p, 5003);
    CHECK_INT(relay_ports_available(p), 10);
    CHECK(relay_ports_take_exact(p, 5003));
    for (int i = 0; i < 1000; i++) {
        uint16_t port = relay_ports_take(p, (uint64_t)i * 7919, 0);
        if (!CHECK(port >= 5000 && port <= 5009 && port != 5003))
            break;
        relay_ports_put(p, port);
    }
    CHECK_INT(relay_ports_available(p), 9);
    relay_ports_free(p);
}

/* Giving back a free port, or one outside the range, changes nothing. */
static void test_double_and_stray_put(void)
{
    struct relay_ports *p = pool(1001, 1010);

    if (p == NULL)
        return;
    relay_ports_put(p, 1005);
    CHECK_INT(relay_ports_available(p), 10);
    CHECK_INT(drain(p, 1001, 1010, 0, 7), 10);
    relay_ports_put(p, 1005);
    relay_ports_put(p, 1005);
    CHECK_INT(relay_ports_available(p), 1);
    relay_ports_put(p, 1000); /* the unused bit below an odd min */
    relay_ports_put(p, 1011);
    relay_ports_put(p, 0);
    relay_ports_put(p, 65535);
    CHECK_INT(relay_ports_available(p), 1);
    CHECK_INT(relay_ports_take(p, 0, 0), 1005);
    CHECK_INT(relay_ports_take(p, 0, 0), 0);
    CHECK_INT(relay_ports_available(p), 0);
    relay_ports_free(p);
}

static void test_one_port_ranges(void)
{
    static const struct {
        uint16_t port;
        unsigned flags;
        uint16_t want;
    } cases[] = {
        {.port = 7, .flags = 0, .want = 7},
        {.port = 7, .flags = RELAY_PORTS_EVEN, .want = 0},
        {.port = 8, .flags = RELAY_PORTS_EVEN, .want = 8},
        {.port = 8, .flags = RELAY_PORTS_PAIR, .want = 0}, /* 9 is not in the pool */
        {.port = 1, .flags = 0, .want = 1},
        {.port = 65535, .flags = 0, .want = 65535},
        {.port = 65534, .flags = RELAY_PORTS_PAIR, .want = 0},
    };

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct relay_ports *p = pool(cases[i].port, cases[i].port);
        if (p == NULL)
            return;
        for (uint64_t rnd = 0; rnd < 3; rnd++) {
            uint16_t want = rnd == 0 ? cases[i].want : 0;
            CHECK_INT(relay_ports_take(p, rnd * 0x9e3779b97f4a7c15ull, cases[i].flags), want);
        }
        CHECK_INT(relay_ports_available(p), cases[i].want ? 0 : 1);
        relay_ports_free(p);
    }
}

/* EVEN hands out every even port and no odd one, whether min is odd or even. */
static void test_even(void)
{
    static const uint16_t mins[] = {1001, 1000};

    for (size_t i = 0; i < 2; i++) {
        struct relay_ports *p = pool(mins[i], 1100);
        if (p == NULL)
            return;
        int evens = (1100 - (mins[i] + 1) / 2 * 2) / 2 + 1;
        CHECK_INT(drain(p, mins[i], 1100, RELAY_PORTS_EVEN, 3), evens);
        CHECK_INT(relay_ports_available(p), 1100 - mins[i] + 1 - evens);
        uint16_t odd = relay_ports_take(p, 0, 0);
        CHECK_INT(odd % 2, 1);
        relay_ports_free(p);
    }
}

static void test_pairs(void)
{
    struct relay_ports *p = pool(1000, 1099);

    if (p == NULL)
        return;
    uint16_t port = relay_ports_take(p, 37, RELAY_PORTS_PAIR);
    CHECK_INT(port, 1038);
    CHECK(!relay_ports_take_exact(p, 1038));
    CHECK(!relay_ports_take_exact(p, 1039));
    CHECK_INT(relay_ports_available(p), 98);
    CHECK_INT(drain(p, 1000, 1099, RELAY_PORTS_PAIR, 11), 49);
    CHECK_INT(relay_ports_available(p), 0);
    relay_ports_free(p);
}

/* PAIR takes both ports or neither: free evens whose successor is taken, or free odds whose
 * successor is free, make no pair, and the failed attempt takes nothing. */
static void test_pair_needs_both(void)
{
    struct relay_ports *p = pool(2000, 2010);

    if (p == NULL)
        return;
    for (uint16_t port = 2001; port <= 2009; port += 2)
        CHECK(relay_ports_take_exact(p, port));
    CHECK_INT(relay_ports_available(p), 6);
    CHECK_INT(relay_ports_take(p, 0, RELAY_PORTS_PAIR), 0);
    CHECK_INT(relay_ports_available(p), 6);
    relay_ports_put(p, 2005);
    CHECK_INT(relay_ports_take(p, 9, RELAY_PORTS_PAIR), 2004);
    CHECK_INT(relay_ports_take(p, 0, RELAY_PORTS_PAIR), 0); /* 2010's successor is out of range */
    CHECK_INT(relay_ports_take(p, 9, RELAY_PORTS_EVEN), 2010);
    CHECK_INT(relay_ports_available(p), 4);
    relay_ports_free(p);
}

/* Pairs next to the 64-port word boundaries, for an odd and an even min: (1062, 1063) and
 * (1064, 1065) are pairs, (1063, 1064) is not one. */
static void test_pair_at_word_boundaries(void)
{
    static const uint16_t mins[] = {1001, 1000};

    for (size_t i = 0; i < 2; i++) {
        struct relay_ports *p = pool(mins[i], 1300);
        if (p == NULL)
            return;
        for (uint32_t port = mins[i]; port <= 1300; port++)
            relay_ports_take_exact(p, (uint16_t)port);
        relay_ports_put(p, 1063);
        relay_ports_put(p, 1064);
        for (uint64_t rnd = 0; rnd < 300; rnd += 13)
            CHECK_INT(relay_ports_take(p, rnd, RELAY_PORTS_PAIR), 0);
        CHECK_INT(relay_ports_available(p), 2);
        relay_ports_put(p, 1065);
        CHECK_INT(relay_ports_take(p, 250, RELAY_PORTS_PAIR), 1064);
        relay_ports_put(p, 1062);
        CHECK_INT(relay_ports_take(p, 100, RELAY_PORTS_PAIR), 1062);
        CHECK_INT(relay_ports_available(p), 0);
        relay_ports_free(p);
    }
}

/* The default range and the widest one: every port once, random starts, down to the last. */
static void test_wide_ranges_to_the_last_port(void)
{
    struct relay_ports *p = pool(49152, 65535);
    uint8_t *seen = calloc(65536, 1);

    if (p == NULL || !CHECK(seen != NULL)) {
        relay_ports_free(p);
        free(seen);
        return;
    }
    CHECK_INT(take_n(p, seen, 49152, 65535, 0, 0x1234, 10000), 10000);
    CHECK_INT(relay_ports_available(p), 16384 - 10000);
    CHECK_INT(take_n(p, seen, 49152, 65535, 0, 99, 65536), 16384 - 10000);
    CHECK_INT(relay_ports_available(p), 0);
    relay_ports_free(p);
    free(seen);

    p = pool(1, 65535);
    if (p == NULL)
        return;
    CHECK_INT(drain(p, 1, 65535, 0, 5), 65535);
    CHECK_INT(relay_ports_take(p, 777, 0), 0);
    relay_ports_free(p);
}

/* ---- four threads ------------------------------------------------------------------------ */

#define NTHREADS 4
#define ITERS    200000
#define HOLD     96
#define TMIN     40001
#define TMAX     40400

/* What the threads share: the pool and, per port, who holds it (0: nobody).  A port handed out
 * twice shows as a claim on a port that already has an owner. */
struct shared {
    struct relay_ports *pool;
    pthread_barrier_t start; /* so that the four really run at once */
    atomic_int owner[65536];
    atomic_int doubles;
    atomic_int wrong;
};

struct worker {
    struct shared *sh;
    int id;
    uint64_t rng;
    uint16_t held[HOLD];
    int nheld;
};

static void claim(struct worker *k, uint16_t port)
{
    if (port < TMIN || port > TMAX)
        atomic_fetch_add(&k->sh->wrong, 1);
    else if (atomic_exchange(&k->sh->owner[port], k->id) != 0)
        atomic_fetch_add(&k->sh->doubles, 1);
    k->held[k->nheld++] = port;
}

/* The owner mark goes before the port does: after the put another thread may take it. */
static void give_back(struct worker *k, int i)
{
    uint16_t port = k->held[i];

    if (atomic_exchange(&k->sh->owner[port], 0) != k->id)
        atomic_fetch_add(&k->sh->wrong, 1);
    k->held[i] = k->held[--k->nheld];
    relay_ports_put(k->sh->pool, port);
}

static void take_some(struct worker *k, uint64_t r)
{
    struct relay_ports *p = k->sh->pool;
    uint16_t port;

    switch (r % 4) {
    case 0:
        if ((port = relay_ports_take(p, r >> 8, 0)) != 0)
            claim(k, port);
        break;
    case 1:
        if ((port = relay_ports_take(p, r >> 8, RELAY_PORTS_EVEN)) != 0) {
            if (port % 2 != 0)
                atomic_fetch_add(&k->sh->wrong, 1);
            claim(k, port);
        }
        break;
    case 2:
        if ((port = relay_ports_take(p, r >> 8, RELAY_PORTS_PAIR)) != 0) {
            claim(k, port);
            claim(k, (uint16_t)(port + 1));
        }
        break;
    default:
        port = (uint16_t)(TMIN + (r >> 8) % (TMAX - TMIN + 1));
        if (relay_ports_take_exact(p, port))
            claim(k, port);
        break;
    }
}

static void *churn(void *arg)
{
    struct worker *k = arg;

    pthread_barrier_wait(&k->sh->start);
    for (int i = 0; i < ITERS; i++) {
        uint64_t r = next_rnd(&k->rng);
        if (k->nheld > HOLD - 2 || (k->nheld > 0 && r % 3 == 0))
            give_back(k, (int)((r >> 32) % (uint64_t)k->nheld));
        else
            take_some(k, r >> 2);
    }
    return NULL;
}

static void test_four_threads_never_share_a_port(void)
{
    struct shared *sh = calloc(1, sizeof *sh);
    struct worker ws[NTHREADS];
    pthread_t th[NTHREADS];

    if (!CHECK(sh != NULL) || !CHECK_INT(relay_ports_new(&sh->pool, TMIN, TMAX), 0)) {
        free(sh);
        return;
    }
    pthread_barrier_init(&sh->start, NULL, NTHREADS);
    for (int i = 0; i < NTHREADS; i++) {
        ws[i] = (struct worker){.sh = sh, .id = i + 1, .rng = 0x9e3779b97f4a7c15ull * (i + 1)};
        CHECK_INT(pthread_create(&th[i], NULL, churn, &ws[i]), 0);
    }
    size_t held = 0;
    for (int i = 0; i < NTHREADS; i++) {
        pthread_join(th[i], NULL);
        held += (size_t)ws[i].nheld;
    }
    CHECK_INT(atomic_load(&sh->doubles), 0);
    CHECK_INT(atomic_load(&sh->wrong), 0);
    CHECK_INT(relay_ports_available(sh->pool), (TMAX - TMIN + 1) - held);
    for (int i = 0; i < NTHREADS; i++) {
        while (ws[i].nheld > 0)
            give_back(&ws[i], 0);
    }
    CHECK_INT(atomic_load(&sh->wrong), 0);
    /* The bitmap afterwards: every port free exactly once, nothing else. */
    CHECK_INT(relay_ports_available(sh->pool), TMAX - TMIN + 1);
    CHECK_INT(drain(sh->pool, TMIN, TMAX, 0, 1), TMAX - TMIN + 1);
    pthread_barrier_destroy(&sh->start);
    relay_ports_free(sh->pool);
    free(sh);
}

int main(void)
{
    RUN(test_new_checks_the_range);
    RUN(test_take_until_exhausted);
    RUN(test_random_start_and_wrap);
    RUN(test_take_exact_and_put);
    RUN(test_double_and_stray_put);
    RUN(test_one_port_ranges);
    RUN(test_even);
    RUN(test_pairs);
    RUN(test_pair_needs_both);
    RUN(test_pair_at_word_boundaries);
    RUN(test_wide_ranges_to_the_last_port);
    RUN(test_four_threads_never_share_a_port);
    return check_summary();
}
