/* test_reservation.c — RESERVATION-TOKENs: add, take, expiry, a full table, unknown tokens. */
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#include "relay/reservation.h"
#include "tests/lib/check.h"

static const uint8_t tok_a[RELAY_TOKEN_LEN] = {1, 2, 3, 4, 5, 6, 7, 8};
static const uint8_t tok_b[RELAY_TOKEN_LEN] = {1, 2, 3, 4, 5, 6, 7, 9}; /* a's last byte + 1 */
static const uint8_t tok_c[RELAY_TOKEN_LEN] = {0xff, 0, 0, 0, 0, 0, 0, 0};

static union addr relay_addr(const char *s)
{
    union addr a;

    memset(&a, 0, sizeof a);
    CHECK_INT(addr_parse(&a, s, 0), 0);
    return a;
}

static struct relay_reservations *table(size_t max)
{
    struct relay_reservations *r = NULL;

    CHECK_INT(relay_reservations_new(&r, max), 0);
    return r;
}

/* What release() saw. */
struct released {
    union addr addrs[8];
    size_t n;
};

static void on_release(const union addr *a, void *held, void *arg)
{
    (void)held;
    struct released *rel = arg;

    if (rel->n < 8)
        rel->addrs[rel->n] = *a;
    rel->n++;
}

static void test_add_then_take(void)
{
    struct relay_reservations *r = table(4);
    union addr a = relay_addr("192.0.2.10:50001"), v6 = relay_addr("[2001:db8::7]:50003");
    union addr got;

    if (r == NULL)
        return;
    CHECK_INT(relay_reservations_add(r, tok_a, &a, NULL, 1000), 0);
    CHECK_INT(relay_reservations_add(r, tok_b, &v6, NULL, 1000), 0);
    CHECK(relay_reservations_take(r, tok_b, 1001, &got, NULL));
    CHECK(addr_equal(&got, &v6));
    CHECK(relay_reservations_take(r, tok_a, 1029, &got, NULL));
    CHECK(addr_equal(&got, &a));
    CHECK_INT(addr_port(&got), 50001);
    CHECK(!relay_reservations_take(r, tok_a, 1029, &got, NULL)); /* a token redeems once */
    CHECK_INT(relay_reservations_expire(r, 5000, on_release, NULL), 0);
    relay_reservations_free(r, NULL, NULL);
    relay_reservations_free(NULL, NULL, NULL);
}

static void test_unknown_token(void)
{
    struct relay_reservations *r = table(4);
    union addr a = relay_addr("192.0.2.10:50001"), got = relay_addr("198.51.100.1:1");

    if (r == NULL)
        return;
    CHECK(!relay_reservations_take(r, tok_a, 0, &got, NULL));
    CHECK_INT(relay_reservations_add(r, tok_a, &a, NULL, 0), 0);
    CHECK(!relay_reservations_take(r, tok_b, 1, &got, NULL)); /* differs in the last byte only */
    CHECK(!relay_reservations_take(r, tok_c, 1, &got, NULL));
    CHECK_INT(addr_port(&got), 1); /* untouched */
    CHECK(relay_reservations_take(r, tok_a, 1, &got, NULL));
    relay_reservations_free(r, NULL, NULL);
}

/* A reservation lives RELAY_RESERVATION_LIFETIME seconds: takeable until the second before,
 * expired from that second on; expire() hands each expired address back exactly once. */
static void test_lifetime_and_expire(void)
{
    struct relay_reservations *r = table(4);
    union addr a = relay_addr("192.0.2.10:50001"), b = relay_addr("192.0.2.10:50002");
    union addr got;
    struct released rel = {.n = 0};

    if (r == NULL)
        return;
    CHECK_INT(RELAY_RESERVATION_LIFETIME, 30);
    CHECK_INT(relay_reservations_add(r, tok_a, &a, NULL, 100), 0);
    CHECK_INT(relay_reservations_add(r, tok_b, &b, NULL, 110), 0);
    CHECK_INT(relay_reservations_expire(r, 129, on_release, &rel), 0);
    CHECK(!relay_reservations_take(r, tok_a, 130, &got, NULL));
    CHECK(!relay_reservations_take(r, tok_a, 131, &got, NULL)); /* still there for expire() */
    CHECK_INT(relay_reservations_expire(r, 130, on_release, &rel), 1);
    CHECK_INT(rel.n, 1);
    CHECK(addr_equal(&rel.addrs[0], &a));
    CHECK_INT(relay_reservations_expire(r, 130, on_release, &rel), 0);
    CHECK(relay_reservations_take(r, tok_b, 139, &got, NULL));
    CHECK(addr_equal(&got, &b));
    CHECK_INT(relay_reservations_expire(r, 1000, on_release, &rel), 0);
    CHECK_INT(rel.n, 1);
    relay_reservations_free(r, NULL, NULL);
}

/* Full means every place taken, expired entries included, until expire() clears them. */
static void test_full_table(void)
{
    struct relay_reservations *r = table(2);
    union addr a = relay_addr("192.0.2.10:50001"), got;
    struct released rel = {.n = 0};

    if (r == NULL)
        return;
    CHECK_INT(relay_reservations_add(r, tok_a, &a, NULL, 0), 0);
    CHECK_INT(relay_reservations_add(r, tok_b, &a, NULL, 0), 0);
    CHECK_INT(relay_reservations_add(r, tok_c, &a, NULL, 0), -1);
    CHECK_INT(relay_reservations_add(r, tok_c, &a, NULL, 100), -1);
    CHECK(relay_reservations_take(r, tok_a, 1, &got, NULL));
    CHECK_INT(relay_reservations_add(r, tok_c, &a, NULL, 1), 0);
    CHECK_INT(relay_reservations_add(r, tok_a, &a, NULL, 1), -1);
    CHECK_INT(relay_reservations_expire(r, 31, on_release, &rel), 2);
    CHECK_INT(rel.n, 2);
    CHECK_INT(relay_reservations_add(r, tok_a, &a, NULL, 40), 0);
    relay_reservations_free(r, NULL, NULL);

    r = table(0);
    if (r == NULL)
        return;
    CHECK_INT(relay_reservations_add(r, tok_a, &a, NULL, 0), -1);
    CHECK(!relay_reservations_take(r, tok_a, 0, &got, NULL));
    CHECK_INT(relay_reservations_expire(r, 100, NULL, NULL), 0);
    relay_reservations_free(r, NULL, NULL);
}

/* A live token cannot be added twice: the second holder would be unreachable. */
static void test_duplicate_token(void)
{
    struct relay_reservations *r = table(4);
    union addr a = relay_addr("192.0.2.10:50001"), b = relay_addr("192.0.2.10:50002"), got;

    if (r == NULL)
        return;
    CHECK_INT(relay_reservations_add(r, tok_a, &a, NULL, 0), 0);
    CHECK_INT(relay_reservations_add(r, tok_a, &b, NULL, 5), -1);
    CHECK(relay_reservations_take(r, tok_a, 6, &got, NULL));
    CHECK(addr_equal(&got, &a));
    CHECK_INT(relay_reservations_add(r, tok_a, &b, NULL, 7), 0);
    relay_reservations_free(r, NULL, NULL);
}

/* release runs without the table's lock: it may add to the table itself. */
struct readd {
    struct relay_reservations *r;
    int added;
};

static void release_and_readd(const union addr *a, void *held, void *arg)
{
    struct readd *x = arg;

    x->added += relay_reservations_add(x->r, tok_c, a, held, 1000) == 0;
}

static void test_release_may_use_the_table(void)
{
    struct relay_reservations *r = table(2);
    union addr a = relay_addr("192.0.2.10:50001"), got;
    struct readd x = {.r = r};

    if (r == NULL)
        return;
    CHECK_INT(relay_reservations_add(r, tok_a, &a, NULL, 0), 0);
    CHECK_INT(relay_reservations_expire(r, 30, release_and_readd, &x), 1);
    CHECK_INT(x.added, 1);
    CHECK(relay_reservations_take(r, tok_c, 1001, &got, NULL));
    CHECK(addr_equal(&got, &a));
    relay_reservations_free(r, NULL, NULL);
}

/* Four threads adding and redeeming their own tokens in one small table: every token
 * redeemed gives back the address it was added with, and the table ends empty. */
#define NTHREADS 4
#define ROUNDS   2000

struct racer {
    struct relay_reservations *r;
    uint8_t id;
    int mismatches;
    int redeemed;
};

static void *race(void *arg)
{
    struct racer *k = arg;

    for (int i = 0; i < ROUNDS; i++) {
        uint8_t tok[RELAY_TOKEN_LEN] = {k->id, (uint8_t)i, (uint8_t)(i >> 8)};
        union addr a, got;
        addr_from_bytes(&a, AF_INET, (const uint8_t[]){192, 0, 2, k->id}, (uint16_t)(1024 + i));
        if (relay_reservations_add(k->r, tok, &a, NULL, 0) != 0)
            continue; /* full for now: the others hold the places */
        if (!relay_reservations_take(k->r, tok, 1, &got, NULL) || !addr_equal(&got, &a))
            k->mismatches++;
        else
            k->redeemed++;
    }
    return NULL;
}

static void test_threads(void)
{
    struct relay_reservations *r = table(3);
    struct racer ks[NTHREADS];
    pthread_t th[NTHREADS];
    int redeemed = 0;

    if (r == NULL)
        return;
    for (int i = 0; i < NTHREADS; i++) {
        ks[i] = (struct racer){.r = r, .id = (uint8_t)(i + 1)};
        CHECK_INT(pthread_create(&th[i], NULL, race, &ks[i]), 0);
    }
    for (int i = 0; i < NTHREADS; i++) {
        pthread_join(th[i], NULL);
        CHECK_INT(ks[i].mismatches, 0);
        redeemed += ks[i].redeemed;
    }
    CHECK(redeemed > 0);
    CHECK_INT(relay_reservations_expire(r, 1000, NULL, NULL), 0);
    relay_reservations_free(r, NULL, NULL);
}

/* What the caller holds the port with comes back on redemption, on expiry and at free. */
static int held_released;

static void count_release(const union addr *a, void *held, void *arg)
{
    (void)a;
    (void)arg;
    held_released += *(int *)held;
}

static void test_held_handles(void)
{
    struct relay_reservations *r = table(4);
    union addr a = relay_addr("192.0.2.10:50001"), got;
    int one = 1, ten = 10, hundred = 100;
    void *h = NULL;

    if (r == NULL)
        return;
    held_released = 0;
    CHECK_INT(relay_reservations_add(r, tok_a, &a, &one, 0), 0);
    CHECK_INT(relay_reservations_add(r, tok_b, &a, &ten, 0), 0);
    CHECK_INT(relay_reservations_add(r, tok_c, &a, &hundred, 20), 0);
    CHECK(relay_reservations_take(r, tok_a, 1, &got, &h));
    CHECK(h == &one);
    CHECK_INT(relay_reservations_expire(r, 30, count_release, NULL), 1);
    CHECK_INT(held_released, 10);
    relay_reservations_free(r, count_release, NULL);
    CHECK_INT(held_released, 110);
}

int main(void)
{
    RUN(test_add_then_take);
    RUN(test_unknown_token);
    RUN(test_lifetime_and_expire);
    RUN(test_full_table);
    RUN(test_duplicate_token);
    RUN(test_release_may_use_the_table);
    RUN(test_threads);
    RUN(test_held_handles);
    return check_summary();
}
