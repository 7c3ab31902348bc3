/* test_cache.c — the Redis record cache: fresh, stale and gone by a virtual clock, the LRU
 * bound, replacement, growth, and SipHash against the reference vectors. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/cache.c"
#include "tests/lib/check.h"

static int freed;

static void count_free(void *v)
{
    freed++;
    free(v);
}

static int *num(int n)
{
    int *p = malloc(sizeof *p);

    *p = n;
    return p;
}

static int get(struct auth_cache *c, const char *key, uint64_t now, int *out)
{
    void *v = NULL;
    enum auth_cache_state s = auth_cache_get(c, key, strlen(key), now, &v);

    *out = v ? *(int *)v : -1;
    return s;
}

/* The reference vectors of the SipHash paper (appendix A): key 00..0f, message 00..0e; and
 * the empty message. */
static void test_siphash_vectors(void)
{
    uint8_t msg[15];

    for (int i = 0; i < 15; i++)
        msg[i] = (uint8_t)i;
    uint64_t k0 = 0x0706050403020100ull, k1 = 0x0f0e0d0c0b0a0908ull;
    CHECK(siphash(k0, k1, msg, 15) == 0xa129ca6149be45e5ull);
    CHECK(siphash(k0, k1, msg, 0) == 0x726fdb47dd0e0e31ull);
}

static void test_fresh_stale_gone(void)
{
    struct auth_cache *c;
    int v;

    freed = 0;
    CHECK_INT(auth_cache_new(&c, 10, count_free), 0);
    CHECK_INT(get(c, "alice", 0, &v), AUTH_CACHE_MISS);
    CHECK_INT(auth_cache_put(c, "alice", 5, num(1), 1000, 5000), 0);
    CHECK_INT(get(c, "alice", 999, &v), AUTH_CACHE_FRESH);
    CHECK_INT(v, 1);
    CHECK_INT(get(c, "alice", 1000, &v), AUTH_CACHE_STALE);
    CHECK_INT(get(c, "alice", 4999, &v), AUTH_CACHE_STALE);
    CHECK_INT(get(c, "alice", 5000, &v), AUTH_CACHE_MISS);
    CHECK_INT(freed, 1);
    CHECK_INT(auth_cache_count(c), 0);
    /* A stale time before the fresh time means no stale window. */
    CHECK_INT(auth_cache_put(c, "bob", 3, num(2), 100, 0), 0);
    CHECK_INT(get(c, "bob", 99, &v), AUTH_CACHE_FRESH);
    CHECK_INT(get(c, "bob", 100, &v), AUTH_CACHE_MISS);
    /* Replacing frees the old value. */
    CHECK_INT(auth_cache_put(c, "carol", 5, num(3), 100, 100), 0);
    CHECK_INT(auth_cache_put(c, "carol", 5, num(4), 200, 200), 0);
    CHECK_INT(get(c, "carol", 150, &v), AUTH_CACHE_FRESH);
    CHECK_INT(v, 4);
    CHECK_INT(freed, 3);
    /* Keys are bytes: a prefix is another key. */
    CHECK_INT(get(c, "caro", 150, &v), AUTH_CACHE_MISS);
    auth_cache_free(c);
    CHECK_INT(freed, 4);
}

/* At the bound, the least recently used record goes; a lookup counts as a use. */
static void test_lru_bound(void)
{
    struct auth_cache *c;
    int v;

    freed = 0;
    CHECK_INT(auth_cache_new(&c, 3, count_free), 0);
    auth_cache_put(c, "a", 1, num(1), 100, 100);
    auth_cache_put(c, "b", 1, num(2), 100, 100);
    auth_cache_put(c, "c", 1, num(3), 100, 100);
    CHECK_INT(get(c, "a", 1, &v), AUTH_CACHE_FRESH);
    auth_cache_put(c, "d", 1, num(4), 100, 100); /* b goes */
    CHECK_INT(auth_cache_count(c), 3);
    CHECK_INT(get(c, "b", 1, &v), AUTH_CACHE_MISS);
    CHECK_INT(get(c, "a", 1, &v), AUTH_CACHE_FRESH);
    CHECK_INT(get(c, "c", 1, &v), AUTH_CACHE_FRESH);
    CHECK_INT(get(c, "d", 1, &v), AUTH_CACHE_FRESH);
    CHECK_INT(freed, 1);
    auth_cache_free(c);
    CHECK_INT(freed, 4);
}

/* Many records: the table grows and every one is still found. */
static void test_growth(void)
{
    struct auth_cache *c;
    char key[32];
    int v, found = 0;

    freed = 0;
    CHECK_INT(auth_cache_new(&c, 20000, count_free), 0);
    for (int i = 0; i < 20000; i++) {
        snprintf(key, sizeof key, "user%d", i);
        auth_cache_put(c, key, strlen(key), num(i), 100, 100);
    }
    CHECK(c->nbuckets >= 16384);
    for (int i = 0; i < 20000; i++) {
        snprintf(key, sizeof key, "user%d", i);
        found += get(c, key, 1, &v) == AUTH_CACHE_FRESH && v == i;
    }
    CHECK_INT(found, 20000);
    auth_cache_free(c);
    CHECK_INT(freed, 20000);
}

int main(void)
{
    RUN(test_siphash_vectors);
    RUN(test_fresh_stale_gone);
    RUN(test_lru_bound);
    RUN(test_growth);
    return check_summary();
}
