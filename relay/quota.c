/* quota.c — concurrent allocations per user and in all, counted across every worker. */
#include "relay/quota.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

/* A user with at least one allocation.  Users with none are removed, so the table holds no
 * more entries than there are allocations. */
struct quota_user {
    struct quota_user *next;
    uint32_t count;
    char name[];
};

#define QUOTA_BUCKETS 1024

struct relay_quota {
    pthread_mutex_t lock;
    atomic_uint total;
    struct quota_user *buckets[QUOTA_BUCKETS];
};

int relay_quota_new(struct relay_quota **out)
{
    struct relay_quota *q = calloc(1, sizeof(*q));

    if (q == NULL)
        return -1;
    pthread_mutex_init(&q->lock, NULL);
    *out = q;
    return 0;
}

void relay_quota_free(struct relay_quota *q)
{
    if (q == NULL)
        return;
    for (size_t i = 0; i < QUOTA_BUCKETS; i++) {
        struct quota_user *u = q->buckets[i];
        while (u) {
            struct quota_user *next = u->next;
            free(u);
            u = next;
        }
    }
    pthread_mutex_destroy(&q->lock);
    free(q);
}

/* FNV-1a: user names are short, and this runs once per Allocate. */
static size_t bucket_of(const char *s)
{
    uint32_t h = 2166136261u;

    for (; *s; s++)
        h = (h ^ (uint8_t)*s) * 16777619u;
    return h % QUOTA_BUCKETS;
}

static struct quota_user **find(struct relay_quota *q, const char *user)
{
    struct quota_user **pp = &q->buckets[bucket_of(user)];

    while (*pp && strcmp((*pp)->name, user) != 0)
        pp = &(*pp)->next;
    return pp;
}

static int take_total(struct relay_quota *q, uint32_t total_quota)
{
    unsigned cur = atomic_load(&q->total);

    do {
        if (total_quota && cur >= total_quota)
            return -1;
    } while (!atomic_compare_exchange_weak(&q->total, &cur, cur + 1));
    return 0;
}

int relay_quota_take(struct relay_quota *q, const char *user, uint32_t user_quota,
                     uint32_t total_quota)
{
    struct quota_user **pp, *u;
    int rc = 0;

    if (take_total(q, total_quota) < 0)
        return -1;
    pthread_mutex_lock(&q->lock);
    pp = find(q, user);
    u = *pp;
    if (u && user_quota && u->count >= user_quota) {
        rc = -1;
    } else if (u) {
        u->count++;
    } else if ((u = malloc(sizeof(*u) + strlen(user) + 1)) != NULL) {
        u->next = NULL;
        u->count = 1;
        strcpy(u->name, user);
        *pp = u;
    } else {
        rc = -1;
    }
    pthread_mutex_unlock(&q->lock);
    if (rc < 0)
        atomic_fetch_sub(&q->total, 1);
    return rc;
}

void relay_quota_put(struct relay_quota *q, const char *user)
{
    struct quota_user **pp, *u;

    pthread_mutex_lock(&q->lock);
    pp = find(q, user);
    u = *pp;
    if (u && --u->count == 0) {
        *pp = u->next;
        free(u);
    }
    pthread_mutex_unlock(&q->lock);
    if (u)
        atomic_fetch_sub(&q->total, 1);
}

uint32_t relay_quota_user(struct relay_quota *q, const char *user)
{
    struct quota_user *u;
    uint32_t n;

    pthread_mutex_lock(&q->lock);
    u = *find(q, user);
    n = u ? u->count : 0;
    pthread_mutex_unlock(&q->lock);
    return n;
}

uint32_t relay_quota_total(const struct relay_quota *q)
{
    return atomic_load(&q->total);
}
