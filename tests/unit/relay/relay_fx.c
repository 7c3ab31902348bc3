/* relay_fx.c — a fake network and a virtual clock for relay/ scenarios (#included by tests). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/crypto.h"
#include "proto/frame.h"
#include "proto/stun_build.h"
#include "relay/relay.h"
#include "tests/lib/check.h"

/* Each test file uses a different part of the fixture. */
#define FX static __attribute__((unused))

#define FX_EPS 10240
#define FX_SENT 64

/* One endpoint the relay opened. */
struct fx_ep {
    union addr addr;
    bool open;
    bool df;
    struct relay_alloc *owner;
};

/* What went out, to a peer or to a client. */
struct fx_packet {
    int ep; /* index of the endpoint (peer packets) */
    union addr to;
    struct relay_client client;
    bool df;
    uint8_t buf[2048];
    size_t len;
};

/* A peer connection of the fake TCP network. */
struct fx_tcp {
    bool open;
    bool bound;
    union addr peer;
    struct relay_tcpconn *tc;
    struct relay_client data; /* the client data connection it is joined to */
};

#define FX_TCP 16

struct fx {
    struct relay_shared sh;
    struct relay_io io;
    struct relay *r;
    uint32_t now;
    struct fx_ep eps[FX_EPS];
    int neps;
    int refuse_opens; /* this many next opens (and holds) fail with EADDRINUSE */
    int held;         /* ports held for reservations right now */
    struct fx_packet to_peer[FX_SENT];
    int npeer;
    struct fx_packet to_client[FX_SENT];
    int nclient;
    struct fx_tcp tcp[FX_TCP];
    int ntcp;
    bool refuse_connect; /* tcp_connect fails at once */
    int created, ended;  /* on_allocation calls */
    struct relay_alloc_info last_end; /* its pointers cleared: valid only in the callback */
    char last_user[64];
    int refreshed;                    /* on_allocation calls for a Refresh */
    struct relay_limits *limits;      /* what req_send's Allocates are held to, or NULL */
    struct relay_control control;
};

FX void *fx_open(void *ctx, const union addr *a, bool df, struct relay_alloc *owner)
{
    struct fx *f = ctx;
    struct fx_ep *e;

    if (f->refuse_opens > 0) {
        f->refuse_opens--;
        errno = EADDRINUSE;
        return NULL;
    }
    if (f->neps == FX_EPS) {
        errno = EMFILE;
        return NULL;
    }
    e = &f->eps[f->neps++];
    e->addr = *a;
    e->open = true;
    e->df = df;
    e->owner = owner;
    return e;
}

/* A held port is an endpoint that is not open yet (adopt opens it). */
FX void *fx_hold(void *ctx, const union addr *a)
{
    struct fx *f = ctx;
    struct fx_ep *e = fx_open(ctx, a, false, NULL);

    if (e == NULL)
        return NULL;
    e->open = false;
    f->held++;
    return e;
}

FX void *fx_adopt(void *ctx, void *held, bool df, struct relay_alloc *owner)
{
    struct fx *f = ctx;
    struct fx_ep *e = held;

    f->held--;
    e->open = true;
    e->df = df;
    e->owner = owner;
    return e;
}

FX void fx_unhold(void *ctx, void *held)
{
    struct fx *f = ctx;

    (void)held;
    f->held--;
}

FX void *fx_open_tcp(void *ctx, const union addr *a, struct relay_alloc *owner)
{
    struct fx_ep *e = fx_open(ctx, a, false, owner);

    return e;
}

FX int fx_tcp_connect(void *ctx, void *listener, const union addr *peer,
                      struct relay_tcpconn *tc, void **handle)
{
    struct fx *f = ctx;
    struct fx_tcp *t;

    (void)listener;
    if (f->refuse_connect || f->ntcp == FX_TCP)
        return -1;
    t = &f->tcp[f->ntcp++];
    *t = (struct fx_tcp){.open = true, .peer = *peer, .tc = tc};
    *handle = t;
    return 0;
}

FX int fx_tcp_bind(void *ctx, void *handle, const struct relay_client *c)
{
    struct fx_tcp *t = handle;

    (void)ctx;
    t->bound = true;
    t->data = *c;
    return 0;
}

FX void fx_tcp_close(void *ctx, void *handle)
{
    struct fx_tcp *t = handle;

    (void)ctx;
    CHECK(t->open);
    t->open = false;
}

FX void fx_on_allocation(void *ctx, const struct relay_alloc_info *info)
{
    struct fx *f = ctx;

    if (info->end == RELAY_END_NONE) {
        *(info->refreshed ? &f->refreshed : &f->created) += 1;
        return;
    }
    f->ended++;
    f->last_end = *info;
    snprintf(f->last_user, sizeof(f->last_user), "%s", info->user);
    f->last_end.user = NULL;
    f->last_end.client = NULL;
    f->last_end.limits = NULL;
}

/* relay_reservations_free's view of fx_unhold. */
FX void fx_release_held(const union addr *addr, void *held, void *arg)
{
    (void)addr;
    fx_unhold(arg, held);
}

FX void fx_close(void *ctx, void *endpoint)
{
    struct fx_ep *e = endpoint;

    (void)ctx;
    CHECK(e->open);
    e->open = false;
}

FX int fx_send_peer(void *ctx, void *endpoint, const union addr *peer, const uint8_t *buf,
                        size_t len, bool df)
{
    struct fx *f = ctx;
    struct fx_packet *p;

    if (f->npeer == FX_SENT || len > sizeof(p->buf))
        return -1;
    p = &f->to_peer[f->npeer++];
    p->ep = (int)((struct fx_ep *)endpoint - f->eps);
    p->to = *peer;
    p->df = df;
    memcpy(p->buf, buf, len);
    p->len = len;
    return 0;
}

FX int fx_send_client(void *ctx, const struct relay_client *c, const uint8_t *buf,
                          size_t len)
{
    struct fx *f = ctx;
    struct fx_packet *p;

    if (f->nclient == FX_SENT || len > sizeof(p->buf))
        return -1;
    p = &f->to_client[f->nclient++];
    p->client = *c;
    memcpy(p->buf, buf, len);
    p->len = len;
    return 0;
}

/* A relay with IPv4 pool 192.0.2.1 and, when v6, IPv6 pool 2001:db8::1, ports lo..hi. */
FX void fx_init(struct fx *f, bool v6, uint16_t lo, uint16_t hi)
{
    memset(f, 0, sizeof(*f));
    f->now = 1000;
    addr_parse(&f->sh.addrs[0].ip, "192.0.2.1", 0);
    relay_ports_new(&f->sh.addrs[0].ports, lo, hi);
    f->sh.naddrs = 1;
    if (v6) {
        addr_parse(&f->sh.addrs[1].ip, "2001:db8::1", 0);
        relay_ports_new(&f->sh.addrs[1].ports, lo, hi);
        f->sh.naddrs = 2;
    }
    {
        struct relay_policy *p = NULL;
        relay_policy_new(&p);
        atomic_store(&f->sh.policy, p);
    }
    relay_reservations_new(&f->sh.reservations, 16);
    relay_quota_new(&f->sh.quota);
    f->sh.default_lifetime = 600;
    f->sh.max_lifetime = 3600;
    f->sh.permission_lifetime = 300;
    f->sh.channel_lifetime = 600;
    f->sh.max_permissions = 8;
    f->sh.max_channels = 8;
    f->io = (struct relay_io){.ctx = f, .open_udp = fx_open, .close = fx_close,
                              .hold = fx_hold, .adopt = fx_adopt, .unhold = fx_unhold,
                              .open_tcp = fx_open_tcp, .tcp_connect = fx_tcp_connect,
                              .tcp_bind = fx_tcp_bind, .tcp_close = fx_tcp_close,
                              .on_allocation = fx_on_allocation,
                              .send_peer = fx_send_peer, .send_client = fx_send_client};
    f->sh.max_tcp_connections = 8;
    f->sh.control = &f->control;
    relay_quota_new(&f->sh.ip_quota);
    relay_new(&f->r, &f->sh, &f->io, 0, f->now);
}

FX void fx_done(struct fx *f)
{
    relay_free(f->r);
    for (int i = 0; i < f->neps; i++)
        CHECK(!f->eps[i].open); /* every endpoint closed */
    for (int i = 0; i < f->ntcp; i++)
        CHECK(!f->tcp[i].open); /* every peer connection closed */
    for (size_t i = 0; i < f->sh.naddrs; i++)
        relay_ports_free(f->sh.addrs[i].ports);
    relay_policy_free(atomic_load(&f->sh.policy));
    relay_reservations_free(f->sh.reservations, fx_release_held, f);
    CHECK_INT(f->held, 0); /* every held port given back */
    relay_quota_free(f->sh.quota);
    relay_quota_free(f->sh.ip_quota);
}

FX void fx_tick(struct fx *f, uint32_t seconds)
{
    f->now += seconds;
    relay_tick(f->r, f->now);
}

/* A UDP client 5-tuple: 198.51.100.N:port -> 192.0.2.1:3478. */
FX struct relay_client fx_client(int n, uint16_t port)
{
    struct relay_client c = {.transport = RELAY_UDP};
    char ip[32];

    snprintf(ip, sizeof(ip), "198.51.100.%d", n);
    addr_parse(&c.remote, ip, port);
    addr_parse(&c.local, "192.0.2.1", 3478);
    return c;
}

/* A request under construction, then decoded, and the answer. */
struct fx_req {
    uint8_t buf[1024];
    struct stun_builder b;
    struct stun_msg m;
    uint8_t out[1024];
    struct stun_builder rb;
    struct stun_msg resp;
    int code;
};

FX void req_start(struct fx_req *q, uint16_t method)
{
    uint8_t tid[STUN_TID_LEN];

    crypto_random(tid, sizeof(tid));
    stun_build_start(&q->b, q->buf, sizeof(q->buf), stun_type(method, STUN_CLASS_REQUEST), tid);
}

/* An Allocate for UDP with what the caller adds next. */
FX void req_allocate(struct fx_req *q)
{
    req_start(q, STUN_METHOD_ALLOCATE);
    stun_build_u8(&q->b, STUN_ATTR_REQUESTED_TRANSPORT, STUN_TRANSPORT_UDP);
}

FX void req_peer(struct fx_req *q, const char *peer)
{
    union addr a;

    addr_parse(&a, peer, 5000);
    stun_build_addr(&q->b, STUN_ATTR_XOR_PEER_ADDRESS, &a);
}

/* Sends the request as user and decodes the answer; returns its code (0 success). */
FX int req_send(struct fx *f, struct fx_req *q, const struct relay_client *c,
                    const char *user)
{
    size_t len = 0, rlen = 0;

    if (!CHECK(stun_build_end(&q->b, &len) == 0) ||
        !CHECK(stun_msg_decode(&q->m, q->buf, len, 0) == STUN_OK))
        return -1;
    q->code = relay_request(f->r, c, &q->m, user, f->limits, NULL, f->now, &q->rb, q->out,
                            sizeof(q->out));
    CHECK(stun_build_end(&q->rb, &rlen) == 0);
    CHECK(stun_msg_decode(&q->resp, q->out, rlen, 0) == STUN_OK);
    CHECK_MEM(q->resp.tid, q->m.tid, STUN_TID_LEN);
    if (q->code == 0) {
        CHECK_INT(q->resp.cls, STUN_CLASS_SUCCESS);
    } else {
        int code = -1;
        const char *reason;
        size_t rl;
        CHECK_INT(q->resp.cls, STUN_CLASS_ERROR);
        CHECK(stun_msg_get_error(&q->resp, &code, &reason, &rl) == STUN_OK);
        CHECK_INT(code, q->code);
    }
    return q->code;
}

/* Resends the same request (a retransmission). */
FX int req_resend(struct fx *f, struct fx_req *q, const struct relay_client *c,
                      const char *user)
{
    size_t rlen = 0;

    q->code = relay_request(f->r, c, &q->m, user, f->limits, NULL, f->now, &q->rb, q->out,
                            sizeof(q->out));
    CHECK(stun_build_end(&q->rb, &rlen) == 0);
    CHECK(stun_msg_decode(&q->resp, q->out, rlen, 0) == STUN_OK);
    return q->code;
}

/* Allocates for c as user; returns the relayed address. */
FX union addr fx_allocate(struct fx *f, const struct relay_client *c, const char *user)
{
    struct fx_req q;
    union addr relayed;

    memset(&relayed, 0, sizeof(relayed));
    req_allocate(&q);
    if (CHECK_INT(req_send(f, &q, c, user), 0))
        CHECK(stun_msg_get_addr(&q.resp, STUN_ATTR_XOR_RELAYED_ADDRESS, &relayed) == STUN_OK);
    return relayed;
}

FX int fx_permit(struct fx *f, const struct relay_client *c, const char *peer)
{
    struct fx_req q;

    req_start(&q, STUN_METHOD_CREATE_PERMISSION);
    req_peer(&q, peer);
    return req_send(f, &q, c, "alice");
}

FX int fx_bind(struct fx *f, const struct relay_client *c, uint16_t num, const char *peer)
{
    struct fx_req q;

    req_start(&q, STUN_METHOD_CHANNEL_BIND);
    stun_build_u16(&q.b, STUN_ATTR_CHANNEL_NUMBER, num);
    req_peer(&q, peer);
    return req_send(f, &q, c, "alice");
}

/* A datagram from peer (IP:port) to allocation a, framed in place like the server does. */
FX void fx_peer_data(struct fx *f, struct relay_alloc *a, const char *peer,
                         const char *payload)
{
    uint8_t slot[FRAME_HEADROOM + 512 + 4];
    size_t len = strlen(payload);
    union addr p;

    addr_parse(&p, peer, 0);
    memcpy(slot + FRAME_HEADROOM, payload, len);
    relay_peer_data(f->r, a, &p, slot + FRAME_HEADROOM, len, f->now);
}

FX uint64_t fx_drops(const struct fx *f, enum relay_drop d)
{
    return relay_stats(f->r)->drop[d];
}
