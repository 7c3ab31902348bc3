/* test_relay_tcp.c — RFC 6062 TCP allocations on a fake network: Connect, ConnectionAttempt,
 * ConnectionBind, their errors and timeouts. */
#include "tests/unit/relay/relay_fx.c"

#include "relay/relay_int.h"

#define PEER "203.0.113.9:7000"

/* A TCP control connection from 198.51.100.1 and its TCP allocation. */
static struct relay_alloc *tcp_setup(struct fx *f, struct relay_client *c)
{
    struct fx_req q;

    fx_init(f, false, 50000, 50099);
    *c = fx_client(1, 40000);
    c->transport = RELAY_TCP;
    req_start(&q, STUN_METHOD_ALLOCATE);
    stun_build_u8(&q.b, STUN_ATTR_REQUESTED_TRANSPORT, STUN_TRANSPORT_TCP);
    CHECK_INT(req_send(f, &q, c, "alice"), 0);
    return relay_find(f->r, c);
}

/* Sends a request through relay_request and returns its code (RELAY_ANSWERED included). */
static int raw_request(struct fx *f, struct fx_req *q, const struct relay_client *c,
                       const char *user)
{
    size_t len = 0;

    stun_build_end(&q->b, &len);
    if (!CHECK(stun_msg_decode(&q->m, q->buf, len, 0) == STUN_OK))
        return -100;
    return relay_request(f->r, c, &q->m, user, NULL, NULL, f->now, &q->rb, q->out,
                         sizeof(q->out));
}

static int connect_to(struct fx *f, const struct relay_client *c, const char *peer,
                      struct fx_req *q)
{
    union addr p;

    addr_parse(&p, peer, 0);
    req_start(q, STUN_METHOD_CONNECT);
    stun_build_addr(&q->b, STUN_ATTR_XOR_PEER_ADDRESS, &p);
    return raw_request(f, q, c, "alice");
}

/* The last message sent to a client, decoded into *m. */
static bool last_to_client(struct fx *f, struct stun_msg *m)
{
    struct fx_packet *p = &f->to_client[f->nclient - 1];

    return f->nclient > 0 && stun_msg_decode(m, p->buf, p->len, 0) == STUN_OK;
}

static int bind_conn(struct fx *f, const struct relay_client *data, uint32_t id, const char *user)
{
    struct fx_req q;

    req_start(&q, STUN_METHOD_CONNECTION_BIND);
    stun_build_u32(&q.b, STUN_ATTR_CONNECTION_ID, id);
    return raw_request(f, &q, data, user);
}

/* Allocate TCP: over TCP only, without the UDP-only attributes; a TCP endpoint opens. */
static void tcp_allocate(void)
{
    struct fx f;
    struct relay_client c;
    struct fx_req q;

    CHECK(tcp_setup(&f, &c) != NULL);
    fx_done(&f);
    fx_init(&f, false, 50000, 50099);
    c = fx_client(2, 2);
    c.transport = RELAY_TLS;
    req_start(&q, STUN_METHOD_ALLOCATE);
    stun_build_u8(&q.b, STUN_ATTR_REQUESTED_TRANSPORT, STUN_TRANSPORT_TCP);
    stun_build_attr(&q.b, STUN_ATTR_EVEN_PORT, "\x00", 1);
    CHECK_INT(req_send(&f, &q, &c, "alice"), 400);
    f.sh.no_tcp_relay = true;
    req_start(&q, STUN_METHOD_ALLOCATE);
    stun_build_u8(&q.b, STUN_ATTR_REQUESTED_TRANSPORT, STUN_TRANSPORT_TCP);
    CHECK_INT(req_send(&f, &q, &c, "alice"), 442);
    fx_done(&f);
}

/* Connect: answered when the peer answers, with a CONNECTION-ID; then ConnectionBind on a new
 * connection joins the two; data connections go away with the allocation. */
static void connect_and_bind(void)
{
    struct fx f;
    struct relay_client c, data = fx_client(1, 40001);
    struct relay_alloc *a = tcp_setup(&f, &c);
    struct fx_req q;
    struct stun_msg m;
    uint32_t id = 0;

    data.transport = RELAY_TCP;
    CHECK(a != NULL);
    CHECK_INT(connect_to(&f, &c, PEER, &q), RELAY_ANSWERED);
    CHECK_INT(f.ntcp, 1);
    CHECK_INT(f.nclient, 0); /* no answer until the peer answers */
    CHECK_INT(connect_to(&f, &c, PEER, &q), 446); /* one connection per peer */
    relay_tcp_connected(f.r, f.tcp[0].tc, true, f.now);
    if (CHECK(last_to_client(&f, &m))) {
        CHECK_INT(m.type, stun_type(STUN_METHOD_CONNECT, STUN_CLASS_SUCCESS));
        CHECK(stun_msg_get_u32(&m, STUN_ATTR_CONNECTION_ID, &id) == STUN_OK);
    }
    /* Not on the control connection: it keeps its allocation (RFC 6062 §4.3). */
    CHECK_INT(bind_conn(&f, &c, id, "alice"), 400);
    CHECK(!f.tcp[0].bound && relay_find(f.r, &c) == a);
    CHECK_INT(bind_conn(&f, &data, id, "mallory"), RELAY_ANSWERED);
    CHECK(last_to_client(&f, &m) && m.cls == STUN_CLASS_ERROR); /* 441 */
    CHECK(!f.tcp[0].bound);
    CHECK_INT(bind_conn(&f, &data, id + 1, "alice"), RELAY_ANSWERED);
    CHECK(last_to_client(&f, &m) && m.cls == STUN_CLASS_ERROR); /* 400 unknown id */
    CHECK_INT(bind_conn(&f, &data, id, "alice"), RELAY_ANSWERED);
    CHECK(last_to_client(&f, &m) &&
          m.type == stun_type(STUN_METHOD_CONNECTION_BIND, STUN_CLASS_SUCCESS));
    CHECK(f.tcp[0].bound && relay_client_equal(&f.tcp[0].data, &data));
    CHECK_INT(bind_conn(&f, &data, id, "alice"), RELAY_ANSWERED); /* bound already */
    CHECK(last_to_client(&f, &m) && m.cls == STUN_CLASS_ERROR);
    fx_tick(&f, 700); /* the allocation expires: its data connections close */
    CHECK(!f.tcp[0].open);
    fx_done(&f);
}

/* A refused Connect gets 447; the policy and families are checked first. */
static void connect_failures(void)
{
    struct fx f;
    struct relay_client c;
    struct fx_req q;
    struct stun_msg m;

    tcp_setup(&f, &c);
    CHECK_INT(connect_to(&f, &c, "127.0.0.1:22", &q), 403);
    CHECK_INT(connect_to(&f, &c, "[2001:db8::9]:80", &q), 443);
    f.refuse_connect = true;
    CHECK_INT(connect_to(&f, &c, PEER, &q), 447);
    f.refuse_connect = false;
    CHECK_INT(connect_to(&f, &c, PEER, &q), RELAY_ANSWERED);
    f.tcp[0].open = false; /* the I/O layer closes a failed connection before it reports */
    relay_tcp_connected(f.r, f.tcp[0].tc, false, f.now);
    if (CHECK(last_to_client(&f, &m))) {
        const char *reason;
        size_t rl;
        int code = 0;
        stun_msg_get_error(&m, &code, &reason, &rl);
        CHECK_INT(code, 447);
    }
    CHECK_INT(connect_to(&f, &c, PEER, &q), RELAY_ANSWERED); /* may try again */
    fx_done(&f); /* the Connect still pending is answered 447 and closed */
    CHECK(!f.tcp[1].open);
}

/* A peer connecting to the relayed address: refused without a permission, else announced
 * with a ConnectionAttempt; closed when no ConnectionBind comes within 30 s. */
static void connection_attempt(void)
{
    struct fx f;
    struct relay_client c;
    struct relay_alloc *a = tcp_setup(&f, &c);
    struct fx_tcp t1 = {.open = true}, t2 = {.open = true};
    struct relay_tcpconn *tc;
    union addr peer, got;
    struct stun_msg m;
    uint32_t id = 0;

    addr_parse(&peer, PEER, 0);
    CHECK(relay_tcp_accepted(f.r, a, &peer, &t1, f.now) == NULL);
    CHECK_INT(fx_permit(&f, &c, "203.0.113.9"), 0);
    tc = relay_tcp_accepted(f.r, a, &peer, &t1, f.now);
    if (CHECK(tc != NULL) && CHECK(last_to_client(&f, &m))) {
        CHECK_INT(m.type, stun_type(STUN_METHOD_CONNECTION_ATTEMPT, STUN_CLASS_INDICATION));
        CHECK(stun_msg_get_addr(&m, STUN_ATTR_XOR_PEER_ADDRESS, &got) == STUN_OK);
        CHECK(addr_equal(&got, &peer));
        CHECK(stun_msg_get_u32(&m, STUN_ATTR_CONNECTION_ID, &id) == STUN_OK && id != 0);
    }
    fx_tick(&f, 31);
    CHECK(!t1.open); /* not bound in time */
    addr_parse(&peer, "203.0.113.9:7001", 0);
    CHECK(relay_tcp_accepted(f.r, a, &peer, &t2, f.now) != NULL);
    fx_done(&f); /* the allocation goes: its pending peer connection closes */
    CHECK(!t2.open);
}

/* ChannelBind, Send and ChannelData make no sense on a TCP allocation. */
static void udp_methods_refused(void)
{
    struct fx f;
    struct relay_client c;

    tcp_setup(&f, &c);
    CHECK_INT(fx_bind(&f, &c, 0x4000, PEER), 400);
    fx_done(&f);
}

int main(void)
{
    RUN(tcp_allocate);
    RUN(connect_and_bind);
    RUN(connect_failures);
    RUN(connection_attempt);
    RUN(udp_methods_refused);
    return check_summary();
}
