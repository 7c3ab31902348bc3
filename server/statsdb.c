/* statsdb.c — allocation status published to Redis, and user quotas counted across nodes. */
#include "server/statsdb.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/schema.h"
#include "proto/crypto.h"

/* The user's allocations on every node: a sorted set of allocation ids scored by expiry
 * (Redis's clock), so that a slot whose node died goes with its lifetime.  KEYS[1] the set,
 * ARGV[1] the id, ARGV[2] the quota, ARGV[3] the lifetime.  1: the slot is (still) ours. */
static const char take_script[] =
    "if redis.replicate_commands then redis.replicate_commands() end\n"
    "local now = tonumber(redis.call('TIME')[1])\n"
    "redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)\n"
    "if not redis.call('ZSCORE', KEYS[1], ARGV[1]) and\n"
    "   redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then return 0 end\n"
    "redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[1])\n"
    "local last = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')\n"
    "redis.call('EXPIREAT', KEYS[1], tonumber(last[2]))\n"
    "return 1\n";

/* The same slot's expiry moved to now + ARGV[2], if it is there (start and refresh). */
static const char touch_script[] =
    "if redis.replicate_commands then redis.replicate_commands() end\n"
    "if not redis.call('ZSCORE', KEYS[1], ARGV[1]) then return 0 end\n"
    "local now = tonumber(redis.call('TIME')[1])\n"
    "redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])\n"
    "local last = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')\n"
    "redis.call('EXPIREAT', KEYS[1], tonumber(last[2]))\n"
    "return 1\n";

struct statsdb {
    struct rconn *conn;
    uint64_t node;
    uint32_t max_lifetime;
};

struct statsdb_ask {
    statsdb_verdict_fn *fn; /* NULL once cancelled */
    void *arg;
};

int statsdb_new(struct statsdb **out, struct event_base *base, const struct statsdb_opts *o)
{
    struct statsdb *s = calloc(1, sizeof *s);
    struct rconn_opts co = {
        .conf = o->conf,
        .name = "statsdb",
        .timeout_ms = o->timeout_ms,
        .down_note = "allocation status is not published and user quotas count this server "
                     "only",
        .log = o->log,
        .group = o->group,
    };

    if (s == NULL)
        return -1;
    s->node = o->node;
    s->max_lifetime = o->max_lifetime;
    if (rconn_new(&s->conn, base, &co) < 0) {
        free(s);
        return -1;
    }
    *out = s;
    return 0;
}

void statsdb_free(struct statsdb *s)
{
    if (s == NULL)
        return;
    rconn_free(s->conn);
    free(s);
}

/* The allocation's id: 64 bits of SHA-256 over this node's tag and the client's 5-tuple, in
 * decimal as coturn's ids are.  The same for every event of one allocation, and for a
 * retransmitted Allocate. */
static void alloc_id(const struct statsdb *s, const struct relay_client *c, char *out,
                     size_t cap)
{
    uint8_t md[32];
    uint8_t tr = (uint8_t)c->transport;
    const struct crypto_buf parts[] = {
        {&s->node, sizeof s->node},
        {&tr, 1},
        {&c->remote, addr_len(&c->remote)},
        {&c->local, addr_len(&c->local)},
    };
    uint64_t id = 0;

    if (crypto_digest(CRYPTO_SHA256, parts, 4, md) == 0)
        for (int i = 0; i < 8; i++)
            id = id << 8 | md[i];
    snprintf(out, cap, "%llu", (unsigned long long)(id >> 1));
}

/* Fire and forget: the reply, if any, tells nothing we act on. */
static void ignore(void *arg, const struct rconn_reply *reply)
{
    (void)arg;
    (void)reply;
}

static void run_script(struct statsdb *s, const char *script, const char *key, const char *a1,
                       const char *a2, const char *a3)
{
    const char *argv[] = {"EVAL", script, "1", key, a1, a2, a3, NULL};

    rconn_commandv(s->conn, ignore, NULL, argv);
}

void statsdb_allocation(struct statsdb *s, const char *realm, const struct relay_alloc_info *i)
{
    char id[24], key[AUTH_SCHEMA_KEY_MAX], set[AUTH_SCHEMA_KEY_MAX], msg[160], ttl[16];
    const char *user = i->user ? i->user : "";

    alloc_id(s, i->client, id, sizeof id);
    if (auth_schema_alloc(key, sizeof key, realm, user, id, "status") < 0 ||
        auth_schema_user(set, sizeof set, realm, user, AUTH_SCHEMA_ALLOCATIONS) < 0)
        return;
    if (i->end == RELAY_END_NONE) {
        snprintf(ttl, sizeof ttl, "%u", i->lifetime ? i->lifetime : 1);
        snprintf(msg, sizeof msg, "%s lifetime=%u", i->refreshed ? "refreshed" : "new",
                 i->lifetime);
        rconn_commandv(s->conn, ignore, NULL,
                       (const char *const[]){"SET", key, msg, "EX", ttl, NULL});
        rconn_commandv(s->conn, ignore, NULL, (const char *const[]){"PUBLISH", key, msg, NULL});
        run_script(s, touch_script, set, id, ttl, NULL);
        return;
    }
    rconn_commandv(s->conn, ignore, NULL, (const char *const[]){"DEL", key, NULL});
    rconn_commandv(s->conn, ignore, NULL,
                   (const char *const[]){"PUBLISH", key, "deleted", NULL});
    rconn_commandv(s->conn, ignore, NULL, (const char *const[]){"ZREM", set, id, NULL});
    if (auth_schema_alloc(key, sizeof key, realm, user, id, "total_traffic") < 0)
        return;
    snprintf(msg, sizeof msg, "rcvp=%llu, rcvb=%llu, sentp=%llu, sentb=%llu",
             (unsigned long long)i->to_peer_packets, (unsigned long long)i->to_peer_bytes,
             (unsigned long long)i->to_client_packets, (unsigned long long)i->to_client_bytes);
    rconn_commandv(s->conn, ignore, NULL, (const char *const[]){"PUBLISH", key, msg, NULL});
}

static void on_verdict(void *arg, const struct rconn_reply *reply)
{
    struct statsdb_ask *a = arg;
    int verdict = STATSDB_UNKNOWN;

    if (reply != NULL && rconn_reply_type(reply) == RCONN_INTEGER)
        verdict = rconn_reply_int(reply) == 1 ? STATSDB_GRANTED : STATSDB_OVER;
    if (a->fn != NULL)
        a->fn(a->arg, verdict);
    free(a);
}

struct statsdb_ask *statsdb_quota_ask(struct statsdb *s, const char *realm, const char *user,
                                      const struct relay_client *c, uint32_t quota,
                                      statsdb_verdict_fn *fn, void *arg)
{
    char id[24], set[AUTH_SCHEMA_KEY_MAX], q[16], life[16];
    const char *argv[] = {"EVAL", take_script, "1", set, id, q, life, NULL};
    struct statsdb_ask *a;

    if (!rconn_usable(s->conn) ||
        auth_schema_user(set, sizeof set, realm, user, AUTH_SCHEMA_ALLOCATIONS) < 0 ||
        (a = malloc(sizeof *a)) == NULL)
        return NULL;
    alloc_id(s, c, id, sizeof id);
    snprintf(q, sizeof q, "%u", quota);
    snprintf(life, sizeof life, "%u", s->max_lifetime ? s->max_lifetime : 3600);
    a->fn = fn;
    a->arg = arg;
    if (rconn_commandv(s->conn, on_verdict, a, argv) < 0) {
        free(a);
        return NULL;
    }
    return a;
}

void statsdb_quota_cancel(struct statsdb_ask *a)
{
    if (a != NULL)
        a->fn = NULL;
}

void statsdb_quota_release(struct statsdb *s, const char *realm, const char *user,
                           const struct relay_client *c)
{
    char id[24], set[AUTH_SCHEMA_KEY_MAX];

    if (auth_schema_user(set, sizeof set, realm, user, AUTH_SCHEMA_ALLOCATIONS) < 0)
        return;
    alloc_id(s, c, id, sizeof id);
    rconn_commandv(s->conn, ignore, NULL, (const char *const[]){"ZREM", set, id, NULL});
}
