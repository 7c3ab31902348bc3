/* pending.c — requests waiting for Redis, run again through dispatch once it has answered. */
#include "server/pending.h"

#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include "auth/redis.h"
#include "server/dispatch.h"
#include "server/statsdb.h"
#include "server/tcp.h"
#include "server/udp.h"
#include "server/worker.h"

/* How often one request may wait: a lookup waits for its record, then perhaps its realm's,
 * then the quota; a fourth wait means something keeps failing. */
#define MAX_WAITS 4

struct item {
    TAILQ_ENTRY(item) link;
    struct pending *p;
    struct relay_client c;
    struct auth_redis_waiter waiter; /* waiting for a fetch ... */
    struct statsdb_ask *ask;         /* ... or for a quota verdict */
    int verdict;
    uint8_t tid[STUN_TID_LEN];
    unsigned waits;
    bool stream;  /* the request stays in the connection's input */
    size_t len;
    uint8_t buf[]; /* a datagram's copy */
};

TAILQ_HEAD(item_list, item);

struct pending {
    struct worker *w;
    struct item_list items;
    size_t count;
    struct item *current; /* the request being run again, while it runs */
};

int pending_new(struct pending **out, struct worker *w)
{
    struct pending *p = calloc(1, sizeof *p);

    if (p == NULL)
        return -1;
    p->w = w;
    TAILQ_INIT(&p->items);
    *out = p;
    return 0;
}

static void item_drop(struct item *it)
{
    TAILQ_REMOVE(&it->p->items, it, link);
    it->p->count--;
    auth_redis_unwait(&it->waiter);
    statsdb_quota_cancel(it->ask);
    free(it);
}

void pending_free(struct pending *p)
{
    struct item *it;

    if (p == NULL)
        return;
    while ((it = TAILQ_FIRST(&p->items)) != NULL)
        item_drop(it);
    free(p);
}

static bool same_request(const struct item *it, const struct relay_client *c,
                         const struct stun_msg *m)
{
    return it->c.handle == c->handle && it->c.transport == c->transport &&
           addr_equal(&it->c.remote, &c->remote) && memcmp(it->tid, m->tid, STUN_TID_LEN) == 0;
}

static struct item *item_new(struct pending *p, const struct relay_client *c,
                             const struct stun_msg *m)
{
    bool stream = c->transport == RELAY_TCP || c->transport == RELAY_TLS;
    unsigned waits = 1;
    struct item *it;

    if (p->current != NULL && same_request(p->current, c, m))
        waits = p->current->waits + 1;
    if (p->count >= PENDING_MAX || waits > MAX_WAITS)
        return NULL;
    it = calloc(1, sizeof *it + (stream ? 0 : m->len));
    if (it == NULL)
        return NULL;
    it->p = p;
    it->c = *c;
    it->stream = stream;
    it->waits = waits;
    it->verdict = PENDING_NO_VERDICT;
    memcpy(it->tid, m->tid, STUN_TID_LEN);
    if (!stream) {
        memcpy(it->buf, m->buf, m->len);
        it->len = m->len;
    }
    TAILQ_INSERT_TAIL(&p->items, it, link);
    p->count++;
    return it;
}

/* The wait is over: the request goes through dispatch again (a stream connection resumes
 * reading, its first frame being the request). */
static void run_again(struct item *it)
{
    struct pending *p = it->p;
    struct item *outer = p->current;

    TAILQ_REMOVE(&p->items, it, link);
    p->count--;
    p->current = it;
    if (it->stream) {
        tcp_conn_resume(it->c.handle);
    } else {
        dispatch_packet(p->w, &it->c, it->buf, it->len);
        udp_flush_all(p->w);
    }
    p->current = outer;
    free(it);
}

static void on_fetched(void *arg)
{
    run_again(arg);
}

int pending_wait_fetch(struct pending *p, const struct relay_client *c, const struct stun_msg *m,
                       struct auth_redis_fetch *fetch)
{
    struct item *it = item_new(p, c, m);

    if (it == NULL)
        return -1;
    auth_redis_wait(fetch, &it->waiter, on_fetched, it);
    return 0;
}

static void on_verdict(void *arg, int verdict)
{
    struct item *it = arg;

    it->ask = NULL;
    it->verdict = verdict;
    run_again(it);
}

int pending_wait_quota(struct pending *p, const struct relay_client *c, const struct stun_msg *m,
                       struct statsdb *s, const char *realm, const char *user, uint32_t quota)
{
    struct item *it = item_new(p, c, m);

    if (it == NULL)
        return -1;
    it->ask = statsdb_quota_ask(s, realm, user, c, quota, on_verdict, it);
    if (it->ask == NULL) {
        item_drop(it);
        return -1;
    }
    return 0;
}

int pending_verdict(struct pending *p, const struct relay_client *c, const struct stun_msg *m)
{
    int v;

    if (p->current == NULL || !same_request(p->current, c, m))
        return PENDING_NO_VERDICT;
    v = p->current->verdict;
    p->current->verdict = PENDING_NO_VERDICT;
    return v;
}

void pending_forget(struct pending *p, const void *handle)
{
    struct item *it, *next;

    for (it = TAILQ_FIRST(&p->items); it != NULL; it = next) {
        next = TAILQ_NEXT(it, link);
        if (it->c.handle == handle)
            item_drop(it);
    }
}
