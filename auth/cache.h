/* cache.h — a worker's cache of records looked up in Redis: TTL, stale window, size bound. */
#ifndef AUTH_CACHE_H
#define AUTH_CACHE_H

#include <stddef.h>
#include <stdint.h>

/* Records by key (bytes).  A record is fresh until its fresh time, then stale until its stale
 * time (usable when the store cannot be asked), then gone.  At most max records are kept: a
 * new one pushes out the least recently used.  Keys come from clients (user names), so
 * buckets are chosen by a keyed hash (SipHash) with a random key: no one can aim names at one
 * bucket.  One worker's: not thread-safe. */
struct auth_cache;

/* Frees a value the cache owns. */
typedef void auth_cache_free_fn(void *value);

/* An empty cache of at most max records (at least 1); values are freed with free_value.
 * 0 or -1 (no memory). */
int auth_cache_new(struct auth_cache **out, size_t max, auth_cache_free_fn *free_value);

/* Frees every value and the cache.  Accepts NULL. */
void auth_cache_free(struct auth_cache *c);

enum auth_cache_state { AUTH_CACHE_MISS, AUTH_CACHE_FRESH, AUTH_CACHE_STALE };

/* Looks key (klen bytes) up at time now (milliseconds, any monotonic origin).  FRESH or STALE
 * set *value (owned by the cache: valid until the next auth_cache_put or auth_cache_free)
 * and make the record the most recently used; a record past its stale time is dropped and
 * MISS returned. */
enum auth_cache_state auth_cache_get(struct auth_cache *c, const void *key, size_t klen,
                                     uint64_t now, void **value);

/* Stores value for key, replacing (and freeing) a record of the same key: fresh until
 * fresh_until, then stale until stale_until.  Takes ownership of value, which is freed on
 * failure.  0, or -1 (no memory, or a key longer than 65535 bytes). */
int auth_cache_put(struct auth_cache *c, const void *key, size_t klen, void *value,
                   uint64_t fresh_until, uint64_t stale_until);

/* Removes key's record (its value freed), if there is one. */
void auth_cache_remove(struct auth_cache *c, const void *key, size_t klen);

/* Records held now. */
size_t auth_cache_count(const struct auth_cache *c);

#endif
