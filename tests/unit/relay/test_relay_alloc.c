/* test_relay_alloc.c — Allocate and Refresh scenarios on a fake network and a virtual clock. */
#include "tests/unit/relay/relay_fx.c"

static void allocate_basic(void)
{
    struct fx f;
    struct relay_client c = fx_client(1, 40000);
    struct fx_req q;
    union addr relayed, mapped, want;
    uint32_t lifetime = 0;

    fx_init(&f, false, 50000, 50099);
    req_allocate(&q);
    CHECK_INT(req_send(&f, &q, &c, "alice"), 0);
    CHECK(stun_msg_get_addr(&q.resp, STUN_ATTR_XOR_RELAYED_ADDRESS, &relayed) == STUN_OK);
    CHECK(stun_msg_get_addr(&q.resp, STUN_ATTR_XOR_MAPPED_ADDRESS, &mapped) == STUN_OK);
    CHECK(stun_msg_get_u32(&q.resp, STUN_ATTR_LIFETIME, &lifetime) == STUN_OK);
    addr_parse(&want, "192.0.2.1", 0);
    CHECK(addr_ip_equal(&relayed, &want));
    CHECK(addr_port(&relayed) >= 50000 && addr_port(&relayed) <= 50099);
    CHECK(addr_equal(&mapped, &c.remote));
    CHECK_INT(lifetime, 600);
    CHECK_INT(f.neps, 1);
    CHECK(addr_equal(&f.eps[0].addr, &relayed));
    CHECK(!f.eps[0].df);
    CHECK(relay_find(f.r, &c) == f.eps[0].owner);
    CHECK_INT(relay_stats(f.r)->allocations_active, 1);
    CHECK(stun_msg_find(&q.resp, STUN_ATTR_RESERVATION_TOKEN) == NULL);
    fx_done(&f);
}

/* RFC 8656 §7.2: max(default, min(requested, maximum)). */
static void allocate_lifetimes(void)
{
    static const struct {
        uint32_t ask, max, want;
    } cases[] = {{100, 3600, 600}, {1000, 3600, 1000}, {99999, 3600, 3600}, {0, 3600, 600},
                 {5000, 300, 300}};

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct fx f;
        struct relay_client c = fx_client(1, 40000);
        struct fx_req q;
        uint32_t got = 0;

        fx_init(&f, false, 50000, 50099);
        f.sh.max_lifetime = cases[i].max;
        req_allocate(&q);
        stun_build_u32(&q.b, STUN_ATTR_LIFETIME, cases[i].ask);
        CHECK_INT(req_send(&f, &q, &c, "alice"), 0);
        stun_msg_get_u32(&q.resp, STUN_ATTR_LIFETIME, &got);
        CHECK_INT(got, cases[i].want);
        fx_done(&f);
    }
}

/* The same transaction again gets the same answer; another one on the 5-tuple gets 437. */
static void allocate_retransmit_and_mismatch(void)
{
    struct fx f;
    struct relay_client c = fx_client(1, 40000);
    struct fx_req q, q2;
    union addr first, again;

    fx_init(&f, false, 50000, 50099);
    req_allocate(&q);
    CHECK_INT(req_send(&f, &q, &c, "alice"), 0);
    stun_msg_get_addr(&q.resp, STUN_ATTR_XOR_RELAYED_ADDRESS, &first);
    f.now += 5;
    CHECK_INT(req_resend(&f, &q, &c, "alice"), 0);
    CHECK(stun_msg_get_addr(&q.resp, STUN_ATTR_XOR_RELAYED_ADDRESS, &again) == STUN_OK);
    CHECK(addr_equal(&first, &again));
    CHECK_INT(f.neps, 1);
    req_allocate(&q2);
    CHECK_INT(req_send(&f, &q2, &c, "alice"), 437);
    f.now += 60; /* past the retransmission window: no longer the same transaction */
    CHECK_INT(req_resend(&f, &q, &c, "alice"), 437);
    fx_done(&f);
}

/* Each check of RFC 8656 §7.2 with its code. */
static void allocate_errors(void)
{
    static const uint8_t token[RELAY_TOKEN_LEN] = {1, 2, 3, 4, 5, 6, 7, 8};
    struct fx f;
    struct relay_client c = fx_client(1, 40000);
    struct fx_req q;

    fx_init(&f, false, 50000, 50099);
    req_start(&q, STUN_METHOD_ALLOCATE); /* no REQUESTED-TRANSPORT */
    CHECK_INT(req_send(&f, &q, &c, "alice"), 400);
    req_start(&q, STUN_METHOD_ALLOCATE);
    stun_build_u8(&q.b, STUN_ATTR_REQUESTED_TRANSPORT, STUN_TRANSPORT_TCP);
    CHECK_INT(req_send(&f, &q, &c, "alice"), 400); /* RFC 6062 §5.1: TCP only over TCP/TLS */
    req_start(&q, STUN_METHOD_ALLOCATE);
    stun_build_u8(&q.b, STUN_ATTR_REQUESTED_TRANSPORT, 99);
    CHECK_INT(req_send(&f, &q, &c, "alice"), 442);
    req_allocate(&q);
    stun_build_attr(&q.b, STUN_ATTR_RESERVATION_TOKEN, token, sizeof(token));
    stun_build_attr(&q.b, STUN_ATTR_EVEN_PORT, "\x00", 1);
    CHECK_INT(req_send(&f, &q, &c, "alice"), 400);
    req_allocate(&q);
    stun_build_attr(&q.b, STUN_ATTR_RESERVATION_TOKEN, token, sizeof(token));
    stun_build_u8(&q.b, STUN_ATTR_REQUESTED_ADDRESS_FAMILY, STUN_FAMILY_IPV4);
    CHECK_INT(req_send(&f, &q, &c, "alice"), 400);
    req_allocate(&q);
    stun_build_attr(&q.b, STUN_ATTR_RESERVATION_TOKEN, token, sizeof(token));
    CHECK_INT(req_send(&f, &q, &c, "alice"), 508); /* unknown token */
    req_allocate(&q);
    stun_build_u8(&q.b, STUN_ATTR_REQUESTED_ADDRESS_FAMILY, STUN_FAMILY_IPV4);
    stun_build_u8(&q.b, STUN_ATTR_ADDITIONAL_ADDRESS_FAMILY, STUN_FAMILY_IPV6);
    CHECK_INT(req_send(&f, &q, &c, "alice"), 400);
    req_allocate(&q);
    stun_build_u8(&q.b, STUN_ATTR_REQUESTED_ADDRESS_FAMILY, 3);
    CHECK_INT(req_send(&f, &q, &c, "alice"), 440);
    req_allocate(&q);
    stun_build_u8(&q.b, STUN_ATTR_REQUESTED_ADDRESS_FAMILY, STUN_FAMILY_IPV6);
    CHECK_INT(req_send(&f, &q, &c, "alice"), 440); /* no IPv6 relay address */
    req_allocate(&q);
    stun_build_u8(&q.b, STUN_ATTR_ADDITIONAL_ADDRESS_FAMILY, STUN_FAMILY_IPV4);
    CHECK_INT(req_send(&f, &q, &c, "alice"), 400);
    req_allocate(&q);
    stun_build_attr(&q.b, STUN_ATTR_EVEN_PORT, "\x80", 1);
    stun_build_u8(&q.b, STUN_ATTR_ADDITIONAL_ADDRESS_FAMILY, STUN_FAMILY_IPV6);
    CHECK_INT(req_send(&f, &q, &c, "alice"), 400);
    CHECK_INT(f.neps, 0);                 /* no failed request opened anything */
    CHECK(relay_find(f.r, &c) == NULL);
    CHECK_INT(relay_quota_total(f.sh.quota), 0);
    fx_done(&f);
}

/* EVEN-PORT: an even port; with R, port+1 is reserved under a token that a later Allocate
 * (another 5-tuple) redeems once; an unredeemed reservation expires and frees the port. */
static void even_port_and_reservation(void)
{
    struct fx f;
    struct relay_client a = fx_client(1, 40000), b = fx_client(2, 40002), d = fx_client(3, 1);
    struct fx_req q, q2;
    union addr ra, rb;
    const uint8_t *token;
    size_t tlen;

    fx_init(&f, false, 50000, 50099);
    req_allocate(&q);
    stun_build_attr(&q.b, STUN_ATTR_EVEN_PORT, "\x00", 1);
    CHECK_INT(req_send(&f, &q, &a, "alice"), 0);
    stun_msg_get_addr(&q.resp, STUN_ATTR_XOR_RELAYED_ADDRESS, &ra);
    CHECK_INT(addr_port(&ra) % 2, 0);
    relay_client_gone(f.r, &a);

    req_allocate(&q);
    stun_build_attr(&q.b, STUN_ATTR_EVEN_PORT, "\x80", 1);
    CHECK_INT(req_send(&f, &q, &a, "alice"), 0);
    stun_msg_get_addr(&q.resp, STUN_ATTR_XOR_RELAYED_ADDRESS, &ra);
    CHECK_INT(addr_port(&ra) % 2, 0);
    if (!CHECK(stun_msg_get_bytes(&q.resp, STUN_ATTR_RESERVATION_TOKEN, &token, &tlen) ==
               STUN_OK && tlen == RELAY_TOKEN_LEN))
        goto out;
    CHECK_INT(relay_ports_available(f.sh.addrs[0].ports), 98);
    CHECK_INT(f.held, 1); /* port+1 held by a socket until redeemed */
    req_allocate(&q2);
    stun_build_attr(&q2.b, STUN_ATTR_RESERVATION_TOKEN, token, tlen);
    CHECK_INT(req_send(&f, &q2, &b, "bob"), 0);
    stun_msg_get_addr(&q2.resp, STUN_ATTR_XOR_RELAYED_ADDRESS, &rb);
    CHECK_INT(addr_port(&rb), addr_port(&ra) + 1);
    CHECK_INT(f.held, 0);
    CHECK(relay_find(f.r, &b) != NULL && f.eps[f.neps - 1].open);
    req_allocate(&q2);
    stun_build_attr(&q2.b, STUN_ATTR_RESERVATION_TOKEN, token, tlen);
    CHECK_INT(req_send(&f, &q2, &d, "dave"), 508); /* used once only */

    /* A reservation nobody redeems gives its port back after 30 s. */
    relay_client_gone(f.r, &a);
    relay_client_gone(f.r, &b);
    CHECK_INT(relay_ports_available(f.sh.addrs[0].ports), 100);
    req_allocate(&q);
    stun_build_attr(&q.b, STUN_ATTR_EVEN_PORT, "\x80", 1);
    CHECK_INT(req_send(&f, &q, &a, "alice"), 0);
    relay_client_gone(f.r, &a);
    CHECK_INT(relay_ports_available(f.sh.addrs[0].ports), 99);
    CHECK_INT(f.held, 1);
    fx_tick(&f, RELAY_RESERVATION_LIFETIME + 1);
    CHECK_INT(relay_ports_available(f.sh.addrs[0].ports), 100);
    CHECK_INT(f.held, 0);
out:
    fx_done(&f);
}

/* ADDITIONAL-ADDRESS-FAMILY: two relayed addresses; with no IPv6 pool, IPv4 only and
 * ADDRESS-ERROR-CODE 440 (RFC 8656 §7.2 step 9). */
static void dual_allocation(void)
{
    struct fx f;
    struct relay_client c = fx_client(1, 40000);
    struct fx_req q;
    const struct stun_attr *at;
    union addr a1, a2;
    const uint8_t *v;
    size_t vlen;

    fx_init(&f, true, 50000, 50099);
    req_allocate(&q);
    stun_build_u8(&q.b, STUN_ATTR_ADDITIONAL_ADDRESS_FAMILY, STUN_FAMILY_IPV6);
    CHECK_INT(req_send(&f, &q, &c, "alice"), 0);
    at = stun_msg_find(&q.resp, STUN_ATTR_XOR_RELAYED_ADDRESS);
    if (CHECK(at && stun_msg_next(&q.resp, at))) {
        stun_addr_decode(stun_msg_value(&q.resp, at), at->len, 1, q.resp.tid, &a1);
        at = stun_msg_next(&q.resp, at);
        stun_addr_decode(stun_msg_value(&q.resp, at), at->len, 1, q.resp.tid, &a2);
        CHECK_INT(a1.sa.sa_family, AF_INET);
        CHECK_INT(a2.sa.sa_family, AF_INET6);
    }
    CHECK(stun_msg_find(&q.resp, STUN_ATTR_ADDRESS_ERROR_CODE) == NULL);
    /* Refresh(0) of the IPv6 family alone keeps the IPv4 relay. */
    req_start(&q, STUN_METHOD_REFRESH);
    stun_build_u8(&q.b, STUN_ATTR_REQUESTED_ADDRESS_FAMILY, STUN_FAMILY_IPV6);
    stun_build_u32(&q.b, STUN_ATTR_LIFETIME, 0);
    CHECK_INT(req_send(&f, &q, &c, "alice"), 0);
    CHECK(relay_find(f.r, &c) != NULL);
    CHECK(!f.eps[1].open && f.eps[0].open);
    req_start(&q, STUN_METHOD_REFRESH);
    stun_build_u8(&q.b, STUN_ATTR_REQUESTED_ADDRESS_FAMILY, STUN_FAMILY_IPV6);
    CHECK_INT(req_send(&f, &q, &c, "alice"), 443);
    fx_done(&f);

    fx_init(&f, false, 50000, 50099);
    req_allocate(&q);
    stun_build_u8(&q.b, STUN_ATTR_ADDITIONAL_ADDRESS_FAMILY, STUN_FAMILY_IPV6);
    CHECK_INT(req_send(&f, &q, &c, "alice"), 0);
    if (CHECK(stun_msg_get_bytes(&q.resp, STUN_ATTR_ADDRESS_ERROR_CODE, &v, &vlen) ==
              STUN_OK)) {
        CHECK_INT(v[0], STUN_FAMILY_IPV6);
        CHECK_INT(v[2] * 100 + v[3], 440);
    }
    /* A coturn 4.x client asks with the draft codepoint and reads the answer in the draft's. */
    relay_client_gone(f.r, &c);
    req_allocate(&q);
    stun_build_u8(&q.b, STUN_ATTR_ADDITIONAL_ADDRESS_FAMILY_DRAFT, STUN_FAMILY_IPV6);
    CHECK_INT(req_send(&f, &q, &c, "alice"), 0);
    CHECK(stun_msg_find(&q.resp, STUN_ATTR_ADDRESS_ERROR_CODE) == NULL);
    if (CHECK(stun_msg_get_bytes(&q.resp, STUN_ATTR_ADDRESS_ERROR_CODE_DRAFT, &v, &vlen) ==
              STUN_OK))
        CHECK_INT(v[2] * 100 + v[3], 440);
    fx_done(&f);

    fx_init(&f, true, 50000, 50099);
    req_allocate(&q);
    stun_build_u8(&q.b, STUN_ATTR_ADDITIONAL_ADDRESS_FAMILY_DRAFT, STUN_FAMILY_IPV6);
    CHECK_INT(req_send(&f, &q, &c, "alice"), 0);
    at = stun_msg_find(&q.resp, STUN_ATTR_XOR_RELAYED_ADDRESS);
    CHECK(at && stun_msg_next(&q.resp, at));
    fx_done(&f);
}

/* --user-quota and --total-quota: 486, and counts go back down on delete. */
static void quotas(void)
{
    struct fx f;
    struct relay_client a = fx_client(1, 1), b = fx_client(2, 2), c = fx_client(3, 3);
    struct fx_req q;

    fx_init(&f, false, 50000, 50099);
    f.sh.user_quota = 1;
    f.sh.total_quota = 2;
    fx_allocate(&f, &a, "alice");
    req_allocate(&q);
    CHECK_INT(req_send(&f, &q, &b, "alice"), 486);
    fx_allocate(&f, &b, "bob");
    req_allocate(&q);
    CHECK_INT(req_send(&f, &q, &c, "carol"), 486);
    relay_client_gone(f.r, &a);
    fx_allocate(&f, &c, "carol");
    CHECK_INT(relay_quota_total(f.sh.quota), 2);
    CHECK_INT(relay_quota_user(f.sh.quota, "alice"), 0);
    fx_done(&f);
}

/* One port: the second Allocate gets 508 (counted); a port taken outside the pool is skipped. */
static void ports_exhausted_and_busy(void)
{
    struct fx f;
    struct relay_client a = fx_client(1, 1), b = fx_client(2, 2);
    struct fx_req q;

    fx_init(&f, false, 50000, 50000);
    fx_allocate(&f, &a, "alice");
    req_allocate(&q);
    CHECK_INT(req_send(&f, &q, &b, "bob"), 508);
    CHECK_INT(relay_stats(f.r)->ports_exhausted, 1);
    CHECK_INT(relay_quota_total(f.sh.quota), 1);
    relay_client_gone(f.r, &a);
    fx_allocate(&f, &b, "bob");
    fx_done(&f);

    fx_init(&f, false, 50000, 50009);
    f.refuse_opens = 3; /* three ports held by some other program */
    fx_allocate(&f, &a, "alice");
    CHECK_INT(relay_ports_available(f.sh.addrs[0].ports), 9);
    fx_done(&f);
}

/* Refresh: new lifetime, 0 deletes (a retransmission of that gets success again), 437 without
 * an allocation, 441 for another user. */
static void refresh(void)
{
    struct fx f;
    struct relay_client c = fx_client(1, 40000);
    struct fx_req q;
    uint32_t got = 0;

    fx_init(&f, false, 50000, 50099);
    req_start(&q, STUN_METHOD_REFRESH);
    CHECK_INT(req_send(&f, &q, &c, "alice"), 437);
    fx_allocate(&f, &c, "alice");
    req_start(&q, STUN_METHOD_REFRESH);
    stun_build_u32(&q.b, STUN_ATTR_LIFETIME, 1200);
    CHECK_INT(req_send(&f, &q, &c, "mallory"), 441);
    req_start(&q, STUN_METHOD_REFRESH);
    stun_build_u32(&q.b, STUN_ATTR_LIFETIME, 1200);
    CHECK_INT(req_send(&f, &q, &c, "alice"), 0);
    stun_msg_get_u32(&q.resp, STUN_ATTR_LIFETIME, &got);
    CHECK_INT(got, 1200);
    fx_tick(&f, 900); /* would have expired at 600 */
    CHECK(relay_find(f.r, &c) != NULL);
    /* A family that is neither IPv4 nor IPv6 matches none of the allocation's (RFC 8656 §8). */
    req_start(&q, STUN_METHOD_REFRESH);
    stun_build_u8(&q.b, STUN_ATTR_REQUESTED_ADDRESS_FAMILY, 0x03);
    stun_build_u32(&q.b, STUN_ATTR_LIFETIME, 0);
    CHECK_INT(req_send(&f, &q, &c, "alice"), 443);
    CHECK(relay_find(f.r, &c) != NULL);
    req_start(&q, STUN_METHOD_REFRESH);
    stun_build_u32(&q.b, STUN_ATTR_LIFETIME, 0);
    CHECK_INT(req_send(&f, &q, &c, "alice"), 0);
    stun_msg_get_u32(&q.resp, STUN_ATTR_LIFETIME, &got);
    CHECK_INT(got, 0);
    CHECK(relay_find(f.r, &c) == NULL);
    CHECK(!f.eps[0].open);
    CHECK_INT(relay_ports_available(f.sh.addrs[0].ports), 100);
    CHECK_INT(relay_stats(f.r)->allocations_deleted, 1);
    CHECK_INT(req_resend(&f, &q, &c, "alice"), 0);
    fx_done(&f);
}

/* An allocation nobody refreshes expires: endpoint closed, port and quota returned. */
static void expiry(void)
{
    struct fx f;
    struct relay_client c = fx_client(1, 40000);

    fx_init(&f, false, 50000, 50099);
    fx_allocate(&f, &c, "alice");
    fx_tick(&f, 599);
    CHECK(relay_find(f.r, &c) != NULL);
    fx_tick(&f, 2);
    CHECK(relay_find(f.r, &c) == NULL);
    CHECK(!f.eps[0].open);
    CHECK_INT(relay_ports_available(f.sh.addrs[0].ports), 100);
    CHECK_INT(relay_quota_total(f.sh.quota), 0);
    CHECK_INT(relay_stats(f.r)->allocations_expired, 1);
    CHECK_INT(relay_stats(f.r)->allocations_active, 0);
    fx_done(&f);
}

/* DONT-FRAGMENT in the Allocate opens the endpoint with DF. */
static void dont_fragment(void)
{
    struct fx f;
    struct relay_client c = fx_client(1, 40000);
    struct fx_req q;

    fx_init(&f, false, 50000, 50099);
    req_allocate(&q);
    stun_build_attr(&q.b, STUN_ATTR_DONT_FRAGMENT, NULL, 0);
    CHECK_INT(req_send(&f, &q, &c, "alice"), 0);
    CHECK(f.eps[0].df);
    fx_done(&f);
}

/* Ten thousand allocations in one relay: all found by their 5-tuple, all freed. */
static void many_allocations(void)
{
    struct fx f;

    fx_init(&f, false, 1024, 65535);
    for (int i = 0; i < 10000; i++) {
        struct relay_client c = fx_client(1 + i % 200, (uint16_t)(1000 + i));
        fx_allocate(&f, &c, "alice");
    }
    CHECK_INT(relay_stats(f.r)->allocations_active, 10000);
    for (int i = 0; i < 10000; i++) {
        struct relay_client c = fx_client(1 + i % 200, (uint16_t)(1000 + i));
        struct relay_alloc *a = relay_find(f.r, &c);
        CHECK(a != NULL && a == f.eps[i].owner);
    }
    fx_done(&f);
}

int main(void)
{
    RUN(allocate_basic);
    RUN(allocate_lifetimes);
    RUN(allocate_retransmit_and_mismatch);
    RUN(allocate_errors);
    RUN(even_port_and_reservation);
    RUN(dual_allocation);
    RUN(quotas);
    RUN(ports_exhausted_and_busy);
    RUN(refresh);
    RUN(expiry);
    RUN(dont_fragment);
    RUN(many_allocations);
    return check_summary();
}
