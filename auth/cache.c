/* cache.c — the cache of Redis records: a SipHash-keyed hash table and an LRU list. */
#include "auth/cache.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include "proto/crypto.h"

#define MIN_BUCKETS 64u

struct entry {
    TAILQ_ENTRY(entry) lru;  /* most recently used first */
    struct entry *next;      /* bucket chain */
    uint64_t hash;
    uint64_t fresh_until;
    uint64_t stale_until;
    void *value;
    uint16_t klen;
    uint8_t key[];
};

TAILQ_HEAD(entry_list, entry);

struct auth_cache {
    struct entry **buckets;
    size_t nbuckets; /* a power of two */
    size_t count;
    size_t max;
    struct entry_list lru;
    auth_cache_free_fn *free_value;
    uint64_t k0, k1; /* the SipHash key */
};

/* ---- SipHash-2-4 (Aumasson and Bernstein, 2012): 64-bit keyed hash of a byte string -------- */

static uint64_t rotl(uint64_t x, int b)
{
    return (x << b) | (x >> (64 - b));
}

static void sip_round(uint64_t v[4])
{
    v[0] += v[1];
    v[1] = rotl(v[1], 13) ^ v[0];
    v[0] = rotl(v[0], 32);
    v[2] += v[3];
    v[3] = rotl(v[3], 16) ^ v[2];
    v[0] += v[3];
    v[3] = rotl(v[3], 21) ^ v[0];
    v[2] += v[1];
    v[1] = rotl(v[1], 17) ^ v[2];
    v[2] = rotl(v[2], 32);
}

static uint64_t load_le64(const uint8_t *p, size_t n)
{
    uint64_t x = 0;

    for (size_t i = 0; i < n; i++)
        x |= (uint64_t)p[i] << (8 * i);
    return x;
}

static uint64_t siphash(uint64_t k0, uint64_t k1, const uint8_t *p, size_t len)
{
    uint64_t v[4] = {k0 ^ 0x736f6d6570736575ull, k1 ^ 0x646f72616e646f6dull,
                     k0 ^ 0x6c7967656e657261ull, k1 ^ 0x7465646279746573ull};
    size_t whole = len & ~(size_t)7;
    uint64_t m;

    for (size_t i = 0; i < whole; i += 8) {
        m = load_le64(p + i, 8);
        v[3] ^= m;
        sip_round(v);
        sip_round(v);
        v[0] ^= m;
    }
    m = load_le64(p + whole, len - whole) | (uint64_t)(len & 0xff) << 56;
    v[3] ^= m;
    sip_round(v);
    sip_round(v);
    v[0] ^= m;
    v[2] ^= 0xff;
    for (int i = 0; i < 4; i++)
        sip_round(v);
    return v[0] ^ v[1] ^ v[2] ^ v[3];
}

/* ---- the table ------------------------------------------------------------------------------ */

int auth_cache_new(struct auth_cache **out, size_t max, auth_cache_free_fn *free_value)
{
    struct auth_cache *c = calloc(1, sizeof *c);
    uint64_t key[2];

    if (c == NULL || crypto_random(key, sizeof key) < 0) {
        free(c);
        return -1;
    }
    c->k0 = key[0];
    c->k1 = key[1];
    c->max = max ? max : 1;
    c->nbuckets = MIN_BUCKETS;
    c->buckets = calloc(c->nbuckets, sizeof *c->buckets);
    c->free_value = free_value;
    TAILQ_INIT(&c->lru);
    if (c->buckets == NULL) {
        free(c);
        return -1;
    }
    *out = c;
    return 0;
}

static void entry_free(struct auth_cache *c, struct entry *e)
{
    if (c->free_value)
        c->free_value(e->value);
    free(e);
}

void auth_cache_free(struct auth_cache *c)
{
    struct entry *e;

    if (c == NULL)
        return;
    while ((e = TAILQ_FIRST(&c->lru)) != NULL) {
        TAILQ_REMOVE(&c->lru, e, lru);
        entry_free(c, e);
    }
    free(c->buckets);
    free(c);
}

static struct entry **slot_of(struct auth_cache *c, uint64_t h, const void *key, size_t klen)
{
    struct entry **pp = &c->buckets[h & (c->nbuckets - 1)];

    while (*pp != NULL && ((*pp)->hash != h || (*pp)->klen != klen ||
                           memcmp((*pp)->key, key, klen) != 0))
        pp = &(*pp)->next;
    return pp;
}

/* Unlinks the entry *pp points at (its bucket slot) and frees it. */
static void drop(struct auth_cache *c, struct entry **pp)
{
    struct entry *e = *pp;

    *pp = e->next;
    TAILQ_REMOVE(&c->lru, e, lru);
    c->count--;
    entry_free(c, e);
}

/* Doubles the buckets while there are more records than buckets (and room for them).  A
 * failed allocation keeps the table as it is: chains just grow longer. */
static void grow(struct auth_cache *c)
{
    size_t n = c->nbuckets * 2;
    struct entry **b;

    if (c->count < c->nbuckets || (b = calloc(n, sizeof *b)) == NULL)
        return;
    for (size_t i = 0; i < c->nbuckets; i++) {
        struct entry *e = c->buckets[i];
        while (e != NULL) {
            struct entry *next = e->next;
            e->next = b[e->hash & (n - 1)];
            b[e->hash & (n - 1)] = e;
            e = next;
        }
    }
    free(c->buckets);
    c->buckets = b;
    c->nbuckets = n;
}

enum auth_cache_state auth_cache_get(struct auth_cache *c, const void *key, size_t klen,
                                     uint64_t now, void **value)
{
    uint64_t h = siphash(c->k0, c->k1, key, klen);
    struct entry **pp = slot_of(c, h, key, klen);
    struct entry *e = *pp;

    if (e == NULL)
        return AUTH_CACHE_MISS;
    if (now >= e->stale_until) {
        drop(c, pp);
        return AUTH_CACHE_MISS;
    }
    TAILQ_REMOVE(&c->lru, e, lru);
    TAILQ_INSERT_HEAD(&c->lru, e, lru);
    *value = e->value;
    return now < e->fresh_until ? AUTH_CACHE_FRESH : AUTH_CACHE_STALE;
}

/* Removes the least recently used record. */
static void evict_one(struct auth_cache *c)
{
    struct entry *last = TAILQ_LAST(&c->lru, entry_list);

    drop(c, slot_of(c, last->hash, last->key, last->klen));
}

int auth_cache_put(struct auth_cache *c, const void *key, size_t klen, void *value,
                   uint64_t fresh_until, uint64_t stale_until)
{
    uint64_t h = siphash(c->k0, c->k1, key, klen);
    struct entry **pp = slot_of(c, h, key, klen);
    struct entry *e;

    if (*pp != NULL)
        drop(c, pp);
    e = klen <= UINT16_MAX ? malloc(sizeof *e + klen) : NULL;
    if (e == NULL) {
        if (c->free_value)
            c->free_value(value);
        return -1;
    }
    while (c->count >= c->max)
        evict_one(c);
    grow(c);
    e->hash = h;
    e->klen = (uint16_t)klen;
    memcpy(e->key, key, klen);
    e->value = value;
    e->fresh_until = fresh_until;
    e->stale_until = stale_until > fresh_until ? stale_until : fresh_until;
    e->next = c->buckets[h & (c->nbuckets - 1)];
    c->buckets[h & (c->nbuckets - 1)] = e;
    TAILQ_INSERT_HEAD(&c->lru, e, lru);
    c->count++;
    return 0;
}

void auth_cache_remove(struct auth_cache *c, const void *key, size_t klen)
{
    struct entry **pp = slot_of(c, siphash(c->k0, c->k1, key, klen), key, klen);

    if (*pp != NULL)
        drop(c, pp);
}

size_t auth_cache_count(const struct auth_cache *c)
{
    return c->count;
}
