/* tcprelay.c — RFC 6062 TCP allocations: Connect, ConnectionAttempt, ConnectionBind. */
#include <stdlib.h>
#include <string.h>

#include "proto/stun_build.h"
#include "relay/relay_int.h"

static struct relay_tcpconn **bucket(struct relay *r, uint32_t id)
{
    return &r->tcp_buckets[(id ^ (id >> 8) ^ (id >> 16)) & 255];
}

static struct relay_tcpconn *find(struct relay *r, uint32_t id)
{
    struct relay_tcpconn *tc = *bucket(r, id);

    while (tc && tc->id != id)
        tc = tc->hnext;
    return tc;
}

/* A connection ID unique among this worker's connections: the worker in the top byte (so that
 * any worker can route a ConnectionBind, DESIGN §2), a counter below, never 0. */
static uint32_t new_id(struct relay *r)
{
    uint32_t id;

    do {
        r->next_id = (r->next_id + 1) & 0xFFFFFF;
        id = (uint32_t)r->worker << 24 | r->next_id;
    } while (id == 0 || find(r, id) != NULL);
    return id;
}

static struct relay_tcpconn *tc_new(struct relay *r, struct relay_alloc *a,
                                    const union addr *peer, enum relay_tcp_state state)
{
    struct relay_tcpconn *tc;

    if (a->ntcpconns >= r->sh->max_tcp_connections || (tc = calloc(1, sizeof(*tc))) == NULL)
        return NULL;
    tc->alloc = a;
    tc->peer = *peer;
    tc->state = state;
    tc->id = new_id(r);
    tc->next = a->tcpconns;
    a->tcpconns = tc;
    a->ntcpconns++;
    tc->hnext = *bucket(r, tc->id);
    *bucket(r, tc->id) = tc;
    return tc;
}

/* Unlinks and frees tc; its handle is the caller's business. */
static void tc_free(struct relay *r, struct relay_tcpconn *tc)
{
    struct relay_tcpconn **pp = bucket(r, tc->id);

    while (*pp != tc)
        pp = &(*pp)->hnext;
    *pp = tc->hnext;
    for (pp = &tc->alloc->tcpconns; *pp != tc; pp = &(*pp)->next)
        ;
    *pp = tc->next;
    tc->alloc->ntcpconns--;
    free(tc);
}

/* RFC 6062 §5.2: at most one connection per peer address and allocation, in whatever state. */
static bool peer_busy(const struct relay_alloc *a, const union addr *peer)
{
    for (const struct relay_tcpconn *tc = a->tcpconns; tc; tc = tc->next)
        if (addr_equal(&tc->peer, peer))
            return true;
    return false;
}

int relay_handle_connect(struct relay *r, struct relay_alloc *a, const struct stun_msg *m,
                         const struct relay_sig *sig)
{
    struct relay_tcpconn *tc;
    struct relay_ep *ep;
    union addr peer;

    if (!a->tcp)
        return relay_fail(r, 400, "Connect needs a TCP allocation");
    if (stun_msg_get_addr(m, STUN_ATTR_XOR_PEER_ADDRESS, &peer) != STUN_OK)
        return relay_fail(r, 400, "XOR-PEER-ADDRESS missing");
    ep = relay_alloc_ep_for(a, &peer);
    if (ep == NULL)
        return 443;
    if (!relay_peer_allowed(r, a, &peer))
        return relay_fail(r, 403, "Peer address not allowed");
    if (peer_busy(a, &peer))
        return 446;
    /* Connecting is the client's explicit wish to reach peer: like ChannelBind, it installs
     * the permission that lets the peer's bytes (and later connections) through. */
    if (relay_alloc_permit(a, &peer, r->now) < 0)
        return 508;
    tc = tc_new(r, a, &peer, RELAY_TCP_CONNECTING);
    if (tc == NULL)
        return 508;
    memcpy(tc->tid, m->tid, STUN_TID_LEN);
    if (sig)
        tc->sig = *sig;
    tc->fingerprint = m->fingerprint >= 0;
    if (r->io->tcp_connect(r->io->ctx, ep->handle, &peer, tc, &tc->handle) < 0) {
        tc_free(r, tc);
        return 447;
    }
    relay_alloc_schedule(a);
    return RELAY_ANSWERED;
}

void relay_tcp_connected(struct relay *r, struct relay_tcpconn *tc, bool ok, uint32_t now)
{
    struct relay_alloc *a = tc->alloc;

    r->now = now;
    relay_answer(r, &a->client, STUN_METHOD_CONNECT, tc->tid, ok ? 0 : 447, NULL,
                      ok ? tc->id : 0, &tc->sig, tc->fingerprint);
    if (!ok) {
        tc_free(r, tc);
        return;
    }
    tc->state = RELAY_TCP_PENDING;
    tc->expires = now + RELAY_TCP_BIND_TIMEOUT;
    relay_alloc_schedule(a);
}

struct relay_tcpconn *relay_tcp_accepted(struct relay *r, struct relay_alloc *a,
                                         const union addr *peer, void *handle, uint32_t now)
{
    uint8_t buf[256], tid[STUN_TID_LEN];
    struct relay_tcpconn *tc;
    struct stun_builder b;
    size_t len;

    r->now = now;
    /* RFC 6062 §5.3: a peer without a permission is closed at once. */
    if (!relay_alloc_permitted(a, peer, now) || !relay_peer_allowed(r, a, peer))
        return NULL;
    tc = tc_new(r, a, peer, RELAY_TCP_PENDING);
    if (tc == NULL)
        return NULL;
    tc->handle = handle;
    tc->expires = now + RELAY_TCP_BIND_TIMEOUT;
    for (size_t i = 0; i < STUN_TID_LEN; i += 8) {
        uint64_t x = relay_random(r);
        memcpy(tid + i, &x, STUN_TID_LEN - i < 8 ? STUN_TID_LEN - i : 8);
    }
    stun_build_start(&b, buf, sizeof(buf),
                     stun_type(STUN_METHOD_CONNECTION_ATTEMPT, STUN_CLASS_INDICATION), tid);
    stun_build_addr(&b, STUN_ATTR_XOR_PEER_ADDRESS, peer);
    stun_build_u32(&b, STUN_ATTR_CONNECTION_ID, tc->id);
    stun_build_fingerprint(&b);
    if (stun_build_end(&b, &len) == 0)
        r->io->send_client(r->io->ctx, &a->client, buf, len);
    relay_alloc_schedule(a);
    return tc;
}

void relay_connection_bind(struct relay *r, const struct relay_client *c, uint32_t id,
                           const char *user, const struct relay_sig *sig,
                           const uint8_t tid[STUN_TID_LEN], bool fingerprint, uint32_t now)
{
    struct relay_tcpconn *tc;
    const char *why = NULL;
    int code = 0;

    r->now = now;
    tc = find(r, id);
    if (tc == NULL || tc->state != RELAY_TCP_PENDING || tc->expires <= now) {
        code = 400;
        why = "Unknown or expired CONNECTION-ID";
    } else if (strcmp(tc->alloc->user, user) != 0) {
        code = 441;
        why = "The connection belongs to another user";
    }
    /* The answer goes first, so that no relayed byte can overtake it on c. */
    relay_answer(r, c, STUN_METHOD_CONNECTION_BIND, tid, code, why, 0, sig, fingerprint);
    if (code != 0)
        return;
    if (r->io->tcp_bind(r->io->ctx, tc->handle, c) < 0) {
        r->io->tcp_close(r->io->ctx, tc->handle);
        tc_free(r, tc);
        return;
    }
    tc->state = RELAY_TCP_BOUND;
    tc->expires = 0;
}

void relay_tcp_closed(struct relay *r, struct relay_tcpconn *tc)
{
    tc_free(r, tc);
}

void relay_tcp_close_all(struct relay *r, struct relay_alloc *a)
{
    while (a->tcpconns) {
        struct relay_tcpconn *tc = a->tcpconns;
        /* A Connect still waiting for the peer: tell the client it failed. */
        if (tc->state == RELAY_TCP_CONNECTING)
            relay_answer(r, &a->client, STUN_METHOD_CONNECT, tc->tid, 447, NULL, 0,
                              &tc->sig, tc->fingerprint);
        if (tc->handle)
            r->io->tcp_close(r->io->ctx, tc->handle);
        tc_free(r, tc);
    }
}

/* Closes peer connections whose ConnectionBind did not come in time (RFC 6062 §5.2, §5.3). */
void relay_tcp_sweep(struct relay *r, struct relay_alloc *a, uint32_t now)
{
    struct relay_tcpconn *tc = a->tcpconns;

    while (tc) {
        struct relay_tcpconn *after = tc->next;
        if (tc->state == RELAY_TCP_PENDING && tc->expires <= now) {
            r->io->tcp_close(r->io->ctx, tc->handle);
            tc_free(r, tc);
        }
        tc = after;
    }
}

int relay_connection_owner(const struct stun_msg *m)
{
    uint32_t id;

    if (stun_msg_get_u32(m, STUN_ATTR_CONNECTION_ID, &id) != STUN_OK)
        return -1;
    return (int)(id >> 24);
}
