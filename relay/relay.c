/* relay.c — TURN on one worker: the 5-tuple table, requests, data both ways, expiry. */
#include "relay/relay.h"

#include <stdlib.h>
#include <string.h>

#include "proto/crypto.h"
#include "proto/frame.h"
#include "relay/relay_int.h"

static const char *const drop_names[RELAY_DROP_COUNT] = {
    [RELAY_DROP_NO_ALLOCATION] = "no_allocation",
    [RELAY_DROP_NO_CHANNEL] = "no_channel",
    [RELAY_DROP_NO_PERMISSION] = "no_permission",
    [RELAY_DROP_DENIED_PEER] = "denied_peer",
    [RELAY_DROP_MALFORMED] = "malformed",
    [RELAY_DROP_QUEUE_FULL] = "queue_full",
    [RELAY_DROP_TCP_ALLOCATION] = "tcp_allocation",
    [RELAY_DROP_BANDWIDTH] = "bandwidth",
    [RELAY_DROP_SEND_FAILED] = "send_failed",
};

const char *relay_drop_name(enum relay_drop d)
{
    return d < RELAY_DROP_COUNT ? drop_names[d] : "?";
}

uint64_t relay_random(struct relay *r)
{
    /* xorshift64*: good enough to spread ports and number indications; tokens that must be
     * unguessable come from crypto_random instead. */
    r->rng ^= r->rng >> 12;
    r->rng ^= r->rng << 25;
    r->rng ^= r->rng >> 27;
    return r->rng * 0x2545F4914F6CDD1Dull;
}

int relay_new(struct relay **out, const struct relay_shared *sh, const struct relay_io *io,
              unsigned worker, uint32_t now)
{
    struct relay *r = calloc(1, sizeof(*r));

    if (r == NULL)
        return -1;
    r->sh = sh;
    r->io = io;
    r->now = now;
    r->worker = worker & 0xFF;
    r->nbuckets = 64;
    r->buckets = calloc(r->nbuckets, sizeof(*r->buckets));
    if (r->buckets == NULL || wheel_new(&r->wheel, now) < 0 ||
        crypto_random(&r->rng, sizeof(r->rng)) < 0 || crypto_random(&r->seed, sizeof(r->seed)) < 0) {
        relay_free(r);
        return -1;
    }
    r->rng |= 1;
    if (sh->bps_capacity)
        r->capacity = sh->bps_capacity / (sh->nworkers ? sh->nworkers : 1);
    *out = r;
    return 0;
}

void relay_free(struct relay *r)
{
    if (r == NULL)
        return;
    for (size_t i = 0; r->buckets && i < r->nbuckets; i++) {
        while (r->buckets[i])
            relay_delete(r, r->buckets[i], RELAY_END_SHUTDOWN);
    }
    free(r->buckets);
    wheel_free(r->wheel);
    free(r);
}

bool relay_client_equal(const struct relay_client *a, const struct relay_client *b)
{
    return a->transport == b->transport && addr_equal(&a->remote, &b->remote) &&
           addr_equal(&a->local, &b->local);
}

static size_t bucket_of(const struct relay *r, const struct relay_client *c)
{
    uint32_t h = addr_hash(&c->remote, r->seed) ^ (addr_hash(&c->local, r->seed ^ 0x9e3779b9u) +
                                                    (uint32_t)c->transport);

    return h & (r->nbuckets - 1);
}

struct relay_alloc *relay_find(struct relay *r, const struct relay_client *c)
{
    struct relay_alloc *a = r->buckets[bucket_of(r, c)];

    while (a && !relay_client_equal(&a->client, c))
        a = a->hnext;
    return a;
}

void relay_prefetch(const struct relay_alloc *a)
{
    for (size_t off = 0; off < RELAY_ALLOC_HOT; off += 64)
        __builtin_prefetch((const char *)a + off);
}

void relay_prefetch_client(const struct relay *r, const struct relay_client *c)
{
    const struct relay_alloc *a = r->buckets[bucket_of(r, c)];

    if (a != NULL)
        relay_prefetch(a);
}

/* Doubles the table when it holds more allocations than buckets, so chains stay short: the
 * lookup of every ChannelData from a client is O(1) whatever the number of allocations. */
static void grow_table(struct relay *r)
{
    size_t n = r->nbuckets * 2;
    struct relay_alloc **b = calloc(n, sizeof(*b));
    struct relay_alloc **old = r->buckets;
    size_t oldn = r->nbuckets;

    if (b == NULL)
        return; /* longer chains, still correct */
    r->buckets = b;
    r->nbuckets = n;
    for (size_t i = 0; i < oldn; i++) {
        struct relay_alloc *a = old[i];
        while (a) {
            struct relay_alloc *next = a->hnext;
            size_t k = bucket_of(r, &a->client);
            a->hnext = b[k];
            b[k] = a;
            a = next;
        }
    }
    free(old);
}

/* The gauge of allocations like a, by its client's transport and family (an IPv4-mapped
 * address counts as IPv4). */
static _Atomic uint64_t *active_gauge(struct relay *r, const struct relay_alloc *a)
{
    const union addr *c = &a->client.remote;
    bool v6 = c->sa.sa_family == AF_INET6 && !addr_is_v4mapped(c);

    return &r->stats.active_by[a->client.transport][v6];
}

void relay_insert(struct relay *r, struct relay_alloc *a)
{
    size_t k;

    if (r->count >= r->nbuckets)
        grow_table(r);
    k = bucket_of(r, &a->client);
    a->hnext = r->buckets[k];
    r->buckets[k] = a;
    r->count++;
    RELAY_STAT_INC(r->stats.allocations_created);
    RELAY_STAT_INC(r->stats.allocations_active);
    RELAY_STAT_INC(*active_gauge(r, a));
    relay_announce(r, a, RELAY_END_NONE, false);
    if (r->io->client_state)
        r->io->client_state(r->io->ctx, &a->client, true);
}

void relay_announce(struct relay *r, const struct relay_alloc *a, enum relay_end why,
                    bool refreshed)
{
    struct relay_alloc_info info = {
        .user = a->user, .client = &a->client, .tcp = a->tcp, .end = why,
        .refreshed = refreshed, .limits = a->limits,
        .lifetime = a->expires > r->now ? a->expires - r->now : 0,
        .duration = r->now - a->created,
        .to_peer_packets = a->to_peer_packets, .to_peer_bytes = a->to_peer_bytes,
        .to_client_packets = a->to_client_packets, .to_client_bytes = a->to_client_bytes};

    if (r->io->on_allocation == NULL)
        return;
    for (int i = 0; i < RELAY_EP_COUNT; i++) {
        const struct relay_ep *ep = &a->ep[i];
        if (ep->handle == NULL)
            continue;
        info.relayed[info.nrelayed] = ep->addr;
        if (ep->pool->external.sa.sa_family != AF_UNSPEC) {
            info.relayed[info.nrelayed] = ep->pool->external;
            addr_set_port(&info.relayed[info.nrelayed], addr_port(&ep->addr));
        }
        info.nrelayed++;
    }
    r->io->on_allocation(r->io->ctx, &info);
}

void relay_delete(struct relay *r, struct relay_alloc *a, enum relay_end why)
{
    struct relay_alloc **pp = &r->buckets[bucket_of(r, &a->client)];

    while (*pp && *pp != a)
        pp = &(*pp)->hnext;
    if (*pp)
        *pp = a->hnext;
    r->count--;
    wheel_del(r->wheel, &a->timer);
    relay_announce(r, a, why, false);
    relay_put_quotas(r, &a->client, a->user, a->limits);
    RELAY_STAT_INC(*(why == RELAY_END_EXPIRED ? &r->stats.allocations_expired
                                              : &r->stats.allocations_deleted));
    RELAY_STAT_ADD(r->stats.allocations_active, (uint64_t)-1);
    RELAY_STAT_ADD(*active_gauge(r, a), (uint64_t)-1);
    if (r->io->client_state)
        r->io->client_state(r->io->ctx, &a->client, false);
    relay_alloc_free(a);
}

void relay_tomb_add(struct relay *r, const struct relay_client *c, const uint8_t *tid)
{
    struct relay_tomb *t = &r->tombs[r->tomb_next++ % RELAY_TOMBS];

    t->client = *c;
    memcpy(t->tid, tid, STUN_TID_LEN);
    t->when = r->now;
    t->used = true;
}

bool relay_tomb_find(struct relay *r, const struct relay_client *c, const uint8_t *tid)
{
    for (unsigned i = 0; i < RELAY_TOMBS; i++) {
        const struct relay_tomb *t = &r->tombs[i];
        if (t->used && r->now - t->when <= RELAY_RETRANSMIT_WINDOW &&
            memcmp(t->tid, tid, STUN_TID_LEN) == 0 && relay_client_equal(&t->client, c))
            return true;
    }
    return false;
}

/* ConnectionBind comes on a new client connection, not on the allocation's 5-tuple. */
static int connection_bind(struct relay *r, const struct relay_client *c,
                           const struct stun_msg *m, const char *user,
                           const struct relay_sig *sig)
{
    uint32_t id;

    if (c->transport == RELAY_UDP || c->transport == RELAY_DTLS)
        return relay_fail(r, 400, "ConnectionBind needs a TCP or TLS connection");
    if (stun_msg_get_u32(m, STUN_ATTR_CONNECTION_ID, &id) != STUN_OK)
        return relay_fail(r, 400, "CONNECTION-ID missing");
    /* RFC 6062 §4.3: a data connection is a new one; a control connection stays one (binding
     * it would splice away the connection its allocation lives on). */
    if (relay_find(r, c) != NULL)
        return relay_fail(r, 400, "ConnectionBind needs a new connection, not the control one");
    if (id >> 24 != r->worker)
        return RELAY_HANDOFF;
    relay_connection_bind(r, c, id, user, sig, m->tid, m->fingerprint >= 0, r->now);
    return RELAY_ANSWERED;
}

int relay_request(struct relay *r, const struct relay_client *c, const struct stun_msg *m,
                  const char *user, struct relay_limits *limits, const struct relay_sig *sig,
                  uint32_t now, struct stun_builder *b, uint8_t *buf, size_t cap)
{
    struct relay_alloc *a;
    int code;

    r->now = now;
    r->reason = NULL;
    stun_build_response(b, buf, cap, m, STUN_CLASS_SUCCESS);
    if (m->method == STUN_METHOD_ALLOCATE) {
        code = relay_handle_allocate(r, c, m, user, limits, b);
        goto out;
    }
    if (m->method == STUN_METHOD_CONNECTION_BIND) {
        code = connection_bind(r, c, m, user, sig);
        if (code < 0)
            return code;
        goto out;
    }
    a = relay_find(r, c);
    if (a == NULL) {
        /* A retransmitted Refresh that deleted the allocation gets its success again. */
        if (m->method == STUN_METHOD_REFRESH && relay_tomb_find(r, c, m->tid)) {
            stun_build_u32(b, STUN_ATTR_LIFETIME, 0);
            return 0;
        }
        code = relay_fail(r, 437, "No allocation on this 5-tuple");
        goto out;
    }
    /* RFC 8656 §5: every request on an allocation uses the credentials that created it. */
    if (strcmp(a->user, user) != 0) {
        code = relay_fail(r, 441, "The allocation belongs to another user");
        goto out;
    }
    switch (m->method) {
    case STUN_METHOD_REFRESH:
        code = relay_handle_refresh(r, a, m, b);
        break;
    case STUN_METHOD_CREATE_PERMISSION:
        code = relay_handle_permission(r, a, m);
        break;
    case STUN_METHOD_CHANNEL_BIND:
        code = a->tcp ? relay_fail(r, 400, "No channels on a TCP allocation")
                      : relay_handle_channel_bind(r, a, m);
        break;
    case STUN_METHOD_CONNECT:
        code = relay_handle_connect(r, a, m, sig);
        if (code < 0)
            return code;
        break;
    default:
        code = 400;
        break;
    }
out:
    if (code != 0) {
        stun_build_response(b, buf, cap, m, STUN_CLASS_ERROR);
        stun_build_error(b, code, r->reason);
        if (code == 300)
            stun_build_addr(b, STUN_ATTR_ALTERNATE_SERVER, &r->alternate);
    }
    return code;
}

static void drop(struct relay *r, enum relay_drop why)
{
    RELAY_STAT_INC(r->stats.drop[why]);
}

/* Takes len bytes from a bucket refilled at rate bytes per second; false when they are not
 * there.  Refilled lazily: no timer, O(1) per packet. */
static bool bucket_take(struct relay_bucket *b, uint64_t rate, uint32_t now, size_t len)
{
    if (now != b->last) {
        uint64_t add = (uint64_t)(now - b->last) * rate;
        b->tokens = b->tokens + add > rate ? rate : b->tokens + add;
        b->last = now;
    }
    if (b->tokens < len)
        return false;
    b->tokens -= len;
    return true;
}

/* --max-bps for the allocation and --bps-capacity for the worker, each way separately. */
static bool within_bandwidth(struct relay *r, struct relay_alloc *a, bool to_peer, size_t len)
{
    uint32_t rate = a->max_bps;

    if (rate && !bucket_take(to_peer ? &a->bw_to_peer : &a->bw_to_client, rate, r->now, len))
        return false;
    if (r->capacity &&
        !bucket_take(to_peer ? &r->cap_to_peer : &r->cap_to_client, r->capacity, r->now, len))
        return false;
    return true;
}

static void to_peer(struct relay *r, struct relay_alloc *a, struct relay_ep *ep,
                    const union addr *peer, const uint8_t *p, size_t len, bool df)
{
    if (!within_bandwidth(r, a, true, len)) {
        drop(r, RELAY_DROP_BANDWIDTH);
        return;
    }
    if (r->io->send_peer(r->io->ctx, ep->handle, peer, p, len, df || a->dont_fragment) < 0) {
        drop(r, RELAY_DROP_SEND_FAILED);
        return;
    }
    a->to_peer_packets++;
    a->to_peer_bytes += len;
    RELAY_STAT_INC(r->stats.to_peer_packets);
    RELAY_STAT_ADD(r->stats.to_peer_bytes, len);
}

void relay_send_indication(struct relay *r, const struct relay_client *c,
                           const struct stun_msg *m, uint32_t now)
{
    struct relay_alloc *a = relay_find(r, c);
    const uint8_t *data;
    struct relay_ep *ep;
    union addr peer;
    size_t len;

    r->now = now;
    if (a == NULL) {
        drop(r, RELAY_DROP_NO_ALLOCATION);
        return;
    }
    if (a->tcp) {
        drop(r, RELAY_DROP_TCP_ALLOCATION);
        return;
    }
    if (stun_msg_get_addr(m, STUN_ATTR_XOR_PEER_ADDRESS, &peer) != STUN_OK ||
        stun_msg_get_bytes(m, STUN_ATTR_DATA, &data, &len) != STUN_OK ||
        (ep = relay_alloc_ep_for(a, &peer)) == NULL) {
        drop(r, RELAY_DROP_MALFORMED);
        return;
    }
    if (!relay_peer_allowed(r, a, &peer)) {
        drop(r, RELAY_DROP_DENIED_PEER);
        return;
    }
    if (!relay_alloc_permitted(a, &peer, now)) {
        drop(r, RELAY_DROP_NO_PERMISSION);
        return;
    }
    to_peer(r, a, ep, &peer, data, len, stun_msg_find(m, STUN_ATTR_DONT_FRAGMENT) != NULL);
}

void relay_channel_data(struct relay *r, const struct relay_client *c, const uint8_t *buf,
                        size_t len, uint32_t now)
{
    struct relay_alloc *a;
    struct relay_chan *ch;
    uint16_t num;
    size_t dlen;

    r->now = now;
    if (frame_chandata_parse(buf, len, &num, &dlen) != 0) {
        drop(r, RELAY_DROP_MALFORMED);
        return;
    }
    a = relay_find(r, c);
    if (a == NULL) {
        drop(r, RELAY_DROP_NO_ALLOCATION);
        return;
    }
    /* The endpoint the payload leaves from is the I/O layer's, another cache miss with many
     * allocations: asked for now (either family's; a NULL one is no access), it arrives while
     * the channel is looked up. */
    __builtin_prefetch(a->ep[RELAY_EP_V4].handle);
    __builtin_prefetch(a->ep[RELAY_EP_V6].handle);
    ch = relay_alloc_chan_by_num(a, num, now);
    if (ch == NULL) {
        drop(r, RELAY_DROP_NO_CHANNEL);
        return;
    }
    /* The binding checked the policy and the endpoint's family when it was made, and goes
     * with the endpoint (relay_alloc_close_family). */
    to_peer(r, a, relay_alloc_ep_for(a, &ch->peer), &ch->peer, buf + FRAME_CHANDATA_HDR, dlen,
            false);
}

void relay_peer_data(struct relay *r, struct relay_alloc *a, const union addr *peer,
                     uint8_t *p, size_t len, uint32_t now)
{
    struct relay_chan *ch;
    uint8_t tid[STUN_TID_LEN];
    uint8_t *start;
    size_t n;

    /* RFC 8656 §9: only addresses with a permission may reach the client. */
    if (!relay_alloc_permitted(a, peer, now)) {
        drop(r, RELAY_DROP_NO_PERMISSION);
        return;
    }
    r->now = now;
    if (!within_bandwidth(r, a, false, len)) {
        drop(r, RELAY_DROP_BANDWIDTH);
        return;
    }
    ch = relay_alloc_chan_by_peer(a, peer, now);
    if (ch) {
        /* RFC 8656 §12.5: padded to 4 bytes on streams (TCP, TLS), not on datagrams (UDP,
         * DTLS), where the datagram's length frames the message. */
        bool stream = a->client.transport == RELAY_TCP || a->client.transport == RELAY_TLS;
        n = frame_wrap_chandata(p, len, ch->num, stream, &start);
    } else {
        uint64_t x = relay_random(r), y = relay_random(r);
        memcpy(tid, &x, 8);
        memcpy(tid + 8, &y, 4);
        n = frame_wrap_data_indication(p, len, peer, tid, &start);
    }
    if (n == 0) {
        /* Too long to frame (a datagram near 64 KiB): nothing a client could receive. */
        drop(r, RELAY_DROP_MALFORMED);
        return;
    }
    switch (r->io->send_client(r->io->ctx, &a->client, start, n)) {
    case 0:
        break;
    case RELAY_IO_FULL:
        drop(r, RELAY_DROP_QUEUE_FULL);
        return;
    default:
        drop(r, RELAY_DROP_SEND_FAILED);
        return;
    }
    a->to_client_packets++;
    a->to_client_bytes += len;
    RELAY_STAT_INC(r->stats.to_client_packets);
    RELAY_STAT_ADD(r->stats.to_client_bytes, len);
}

static void on_timer(struct wheel_timer *t, void *arg)
{
    struct relay_alloc *a = (struct relay_alloc *)((char *)t - offsetof(struct relay_alloc, timer));
    struct relay *r = arg;

    if (a->expires <= r->now) {
        relay_delete(r, a, RELAY_END_EXPIRED);
        return;
    }
    relay_alloc_sweep(a, r->now);
    relay_tcp_sweep(r, a, r->now);
    relay_alloc_schedule(a);
}

static void release_reserved(const union addr *addr, void *held, void *arg)
{
    struct relay *r = arg;
    const struct relay_shared *sh = r->sh;

    r->io->unhold(r->io->ctx, held);
    for (size_t i = 0; i < sh->naddrs; i++) {
        if (addr_ip_equal(&sh->addrs[i].ip, addr)) {
            relay_ports_put(sh->addrs[i].ports, addr_port(addr));
            return;
        }
    }
}

void relay_tick(struct relay *r, uint32_t now)
{
    r->now = now;
    wheel_advance(r->wheel, now, on_timer, r);
    relay_reservations_expire(r->sh->reservations, now, release_reserved, r);
}

void relay_client_gone(struct relay *r, const struct relay_client *c)
{
    struct relay_alloc *a = relay_find(r, c);

    if (a)
        relay_delete(r, a, RELAY_END_CLIENT_GONE);
}

const struct relay_stats *relay_stats(const struct relay *r)
{
    return &r->stats;
}

static void add_n(_Atomic uint64_t *dst, const _Atomic uint64_t *src, size_t n)
{
    for (size_t i = 0; i < n; i++)
        atomic_store_explicit(&dst[i],
                              atomic_load_explicit(&dst[i], memory_order_relaxed) +
                                  atomic_load_explicit(&src[i], memory_order_relaxed),
                              memory_order_relaxed);
}

void relay_stats_add(struct relay_stats *d, const struct relay_stats *s)
{
    add_n(&d->allocations_active, &s->allocations_active, 1);
    add_n(&d->active_by[0][0], &s->active_by[0][0], RELAY_TRANSPORT_COUNT * 2);
    add_n(&d->allocations_created, &s->allocations_created, 1);
    add_n(&d->allocations_expired, &s->allocations_expired, 1);
    add_n(&d->allocations_deleted, &s->allocations_deleted, 1);
    add_n(&d->ports_exhausted, &s->ports_exhausted, 1);
    add_n(&d->to_peer_packets, &s->to_peer_packets, 1);
    add_n(&d->to_peer_bytes, &s->to_peer_bytes, 1);
    add_n(&d->to_client_packets, &s->to_client_packets, 1);
    add_n(&d->to_client_bytes, &s->to_client_bytes, 1);
    add_n(d->drop, s->drop, RELAY_DROP_COUNT);
}

const char *relay_reason(const struct relay *r)
{
    return r->reason ? r->reason : "";
}
