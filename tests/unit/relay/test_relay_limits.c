/* test_relay_limits.c — bandwidth caps, allocations per IP, alternate servers, draining, and
 * the start/end events behind the per-allocation log lines. */
#include <stdatomic.h>

#include "tests/unit/relay/relay_fx.c"

#define PEER "203.0.113.9:7000"

static struct relay_alloc *setup(struct fx *f, struct relay_client *c)
{
    *c = fx_client(1, 40000);
    fx_allocate(f, c, "alice");
    return relay_find(f->r, c);
}

static void channel_data(struct fx *f, const struct relay_client *c, uint16_t num, size_t len)
{
    uint8_t buf[1200] = {0};

    frame_chandata_hdr(buf, num, (uint16_t)len);
    relay_channel_data(f->r, c, buf, 4 + len, f->now);
}

/* --max-bps: one second's worth each way, then drops (counted), then refilled by the clock;
 * the two directions are separate buckets. */
static void max_bps(void)
{
    struct fx f;
    struct relay_client c;
    struct relay_alloc *a;
    int peer_sent;

    fx_init(&f, false, 50000, 50099);
    f.sh.max_bps = 10000;
    a = setup(&f, &c);
    fx_bind(&f, &c, 0x4000, PEER);
    for (int i = 0; i < 20; i++)
        channel_data(&f, &c, 0x4000, 1000);
    CHECK_INT(f.npeer, 10);
    CHECK_INT(fx_drops(&f, RELAY_DROP_BANDWIDTH), 10);
    for (int i = 0; i < 5; i++)
        fx_peer_data(&f, a, PEER, "the other way");
    CHECK_INT(f.nclient, 5); /* its own bucket */
    f.now += 1;
    peer_sent = f.npeer;
    channel_data(&f, &c, 0x4000, 1000);
    CHECK_INT(f.npeer, peer_sent + 1);
    fx_done(&f);
}

/* --bps-capacity: the worker's share, across allocations. */
static void bps_capacity(void)
{
    struct fx f;
    struct relay_client a, b;

    fx_init(&f, false, 50000, 50099);
    f.sh.bps_capacity = 8000;
    f.sh.nworkers = 2;           /* this worker's share: 4000 bytes/s */
    relay_free(f.r);
    relay_new(&f.r, &f.sh, &f.io, 0, f.now);
    a = fx_client(1, 1);
    b = fx_client(2, 2);
    fx_allocate(&f, &a, "alice");
    fx_allocate(&f, &b, "alice"); /* fx_bind speaks as alice */
    CHECK_INT(fx_bind(&f, &a, 0x4000, PEER), 0);
    CHECK_INT(fx_bind(&f, &b, 0x4000, PEER), 0);
    for (int i = 0; i < 3; i++) {
        channel_data(&f, &a, 0x4000, 1000);
        channel_data(&f, &b, 0x4000, 1000);
    }
    CHECK_INT(f.npeer, 4);
    fx_done(&f);
}

/* --max-allocations-per-ip: 486 from the same IP, any port; other IPs unaffected; freed on
 * delete. */
static void per_ip(void)
{
    struct fx f;
    struct relay_client a = fx_client(1, 1), b = fx_client(1, 2), c = fx_client(2, 3);
    struct fx_req q;

    fx_init(&f, false, 50000, 50099);
    f.sh.max_per_ip = 1;
    fx_allocate(&f, &a, "alice");
    req_allocate(&q);
    CHECK_INT(req_send(&f, &q, &b, "bob"), 486);
    fx_allocate(&f, &c, "carol");
    relay_client_gone(f.r, &a);
    fx_allocate(&f, &b, "bob");
    fx_done(&f);
}

/* --alternate-server: 300 with ALTERNATE-SERVER, in turn; draining without one: 508. */
static void alternates_and_drain(void)
{
    struct fx f;
    struct relay_client c = fx_client(1, 1);
    struct fx_req q;
    union addr alt;

    fx_init(&f, false, 50000, 50099);
    addr_parse(&f.sh.alternates[0], "192.0.2.50:3478", 0);
    addr_parse(&f.sh.alternates[1], "192.0.2.51:3478", 0);
    f.sh.nalternates = 2;
    for (int i = 0; i < 3; i++) {
        req_allocate(&q);
        CHECK_INT(req_send(&f, &q, &c, "alice"), 300);
        CHECK(stun_msg_get_addr(&q.resp, STUN_ATTR_ALTERNATE_SERVER, &alt) == STUN_OK);
        CHECK(addr_equal(&alt, &f.sh.alternates[i % 2]));
    }
    f.sh.nalternates = 0;
    atomic_store(&f.control.draining, true);
    req_allocate(&q);
    CHECK_INT(req_send(&f, &q, &c, "alice"), 508);
    atomic_store(&f.control.draining, false);
    fx_allocate(&f, &c, "alice");
    fx_done(&f);
}

/* The events behind the log lines: one at the start, one at the end with the reason and the
 * counts. */
static void allocation_events(void)
{
    struct fx f;
    struct relay_client c, d = fx_client(5, 5);
    struct relay_alloc *a;
    struct fx_req q;

    fx_init(&f, false, 50000, 50099);
    a = setup(&f, &c);
    CHECK_INT(f.created, 1);
    fx_bind(&f, &c, 0x4000, PEER);
    channel_data(&f, &c, 0x4000, 100);
    channel_data(&f, &c, 0x4000, 50);
    fx_peer_data(&f, a, PEER, "abc");
    f.now += 42;
    req_start(&q, STUN_METHOD_REFRESH);
    stun_build_u32(&q.b, STUN_ATTR_LIFETIME, 0);
    req_send(&f, &q, &c, "alice");
    CHECK_INT(f.ended, 1);
    CHECK_INT(f.last_end.end, RELAY_END_DELETED);
    CHECK_STR(f.last_user, "alice");
    CHECK_INT(f.last_end.duration, 42);
    CHECK_INT(f.last_end.to_peer_packets, 2);
    CHECK_INT(f.last_end.to_peer_bytes, 150);
    CHECK_INT(f.last_end.to_client_packets, 1);
    CHECK_INT(f.last_end.to_client_bytes, 3);
    CHECK_INT(f.last_end.nrelayed, 1);
    fx_allocate(&f, &d, "dave");
    fx_tick(&f, 601);
    CHECK_INT(f.last_end.end, RELAY_END_EXPIRED);
    fx_allocate(&f, &c, "alice");
    relay_client_gone(f.r, &c);
    CHECK_INT(f.last_end.end, RELAY_END_CLIENT_GONE);
    fx_allocate(&f, &c, "alice");
    fx_done(&f);
    CHECK_INT(f.last_end.end, RELAY_END_SHUTDOWN);
    CHECK_INT(f.created, f.ended);
}

/* The gauges of active allocations by client transport and family, for the metrics: up on
 * Allocate, down on every way an allocation ends; IPv4-mapped clients count as IPv4. */
static void active_gauges(void)
{
    struct fx f;
    struct relay_client u = fx_client(1, 1), t = fx_client(2, 2), v6 = fx_client(3, 3);
    struct relay_client mapped = fx_client(4, 4);
    const struct relay_stats *st;

    fx_init(&f, false, 50000, 50099);
    st = relay_stats(f.r);
    t.transport = RELAY_TLS;
    addr_parse(&v6.remote, "[2001:db8::7]:4000", 0);
    addr_parse(&v6.local, "[2001:db8::1]:3478", 0);
    v6.transport = RELAY_DTLS;
    addr_parse(&mapped.remote, "[::ffff:198.51.100.4]:4000", 0);
    fx_allocate(&f, &u, "alice");
    fx_allocate(&f, &t, "bob");
    fx_allocate(&f, &v6, "carol");
    fx_allocate(&f, &mapped, "dave");
    CHECK_INT(st->active_by[RELAY_UDP][0], 2);
    CHECK_INT(st->active_by[RELAY_TLS][0], 1);
    CHECK_INT(st->active_by[RELAY_DTLS][1], 1);
    CHECK_INT(st->active_by[RELAY_UDP][1] + st->active_by[RELAY_TCP][0], 0);
    relay_client_gone(f.r, &t);
    CHECK_INT(st->active_by[RELAY_TLS][0], 0);
    fx_tick(&f, 601);
    for (int i = 0; i < RELAY_TRANSPORT_COUNT; i++)
        CHECK_INT(st->active_by[i][0] + st->active_by[i][1], 0);
    CHECK_INT(st->allocations_active, 0);
    fx_done(&f);
}

int main(void)
{
    RUN(max_bps);
    RUN(bps_capacity);
    RUN(per_ip);
    RUN(alternates_and_drain);
    RUN(allocation_events);
    RUN(active_gauges);
    return check_summary();
}
