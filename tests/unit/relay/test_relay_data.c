/* test_relay_data.c — permissions, channels and data both ways on a fake network. */
#include "tests/unit/relay/relay_fx.c"

#include "relay/relay_int.h"

#define PEER "203.0.113.9:7000"
#define PEER2 "203.0.113.10:7000"

/* A dual allocation (IPv4 and IPv6 relays) for alice. */
static struct relay_alloc *setup(struct fx *f, struct relay_client *c)
{
    struct fx_req q;

    fx_init(f, true, 50000, 50099);
    *c = fx_client(1, 40000);
    req_allocate(&q);
    stun_build_u8(&q.b, STUN_ATTR_ADDITIONAL_ADDRESS_FAMILY, STUN_FAMILY_IPV6);
    CHECK_INT(req_send(f, &q, c, "alice"), 0);
    return relay_find(f->r, c);
}

/* Sends a Send indication to peer with payload (and DONT-FRAGMENT when df). */
static void send_indication(struct fx *f, const struct relay_client *c, const char *peer,
                            const char *payload, bool df)
{
    uint8_t buf[512], tid[STUN_TID_LEN] = {9};
    struct stun_builder b;
    struct stun_msg m;
    union addr p;
    size_t len = 0;

    addr_parse(&p, peer, 0);
    stun_build_start(&b, buf, sizeof(buf), stun_type(STUN_METHOD_SEND, STUN_CLASS_INDICATION),
                     tid);
    stun_build_addr(&b, STUN_ATTR_XOR_PEER_ADDRESS, &p);
    stun_build_attr(&b, STUN_ATTR_DATA, payload, strlen(payload));
    if (df)
        stun_build_attr(&b, STUN_ATTR_DONT_FRAGMENT, NULL, 0);
    stun_build_end(&b, &len);
    if (CHECK(stun_msg_decode(&m, buf, len, 0) == STUN_OK))
        relay_send_indication(f->r, c, &m, f->now);
}

static void channel_data(struct fx *f, const struct relay_client *c, uint16_t num,
                         const char *payload)
{
    uint8_t buf[512];
    size_t len = strlen(payload);

    frame_chandata_hdr(buf, num, (uint16_t)len);
    memcpy(buf + 4, payload, len);
    relay_channel_data(f->r, c, buf, 4 + len, f->now);
}

/* CreatePermission: one or several peers, all or nothing; 400, 403, 443 as RFC 8656 §10.2. */
static void create_permission(void)
{
    struct fx f;
    struct relay_client c;
    struct fx_req q;

    setup(&f, &c);
    CHECK_INT(fx_permit(&f, &c, "203.0.113.9"), 0);
    req_start(&q, STUN_METHOD_CREATE_PERMISSION);
    CHECK_INT(req_send(&f, &q, &c, "alice"), 400);
    CHECK_INT(fx_permit(&f, &c, "127.0.0.1"), 403);
    CHECK_INT(fx_permit(&f, &c, "10.1.2.3"), 403);
    CHECK_INT(fx_permit(&f, &c, "::ffff:127.0.0.1"), 403);
    CHECK_INT(fx_permit(&f, &c, "2001:db8:5::1"), 0);
    req_start(&q, STUN_METHOD_CREATE_PERMISSION);
    req_peer(&q, "203.0.113.20");
    req_peer(&q, "192.168.1.1"); /* denied: nothing of the request is installed */
    CHECK_INT(req_send(&f, &q, &c, "alice"), 403);
    fx_peer_data(&f, relay_find(f.r, &c), "203.0.113.20:1", "x");
    CHECK_INT(f.nclient, 0);
    req_start(&q, STUN_METHOD_CREATE_PERMISSION);
    req_peer(&q, "203.0.113.20");
    req_peer(&q, "203.0.113.21");
    CHECK_INT(req_send(&f, &q, &c, "alice"), 0);
    fx_peer_data(&f, relay_find(f.r, &c), "203.0.113.21:1", "x");
    CHECK_INT(f.nclient, 1);
    CHECK_INT(fx_permit(&f, &c, "203.0.113.9"), 0); /* a refresh */
    fx_done(&f);

    /* An IPv4-only allocation and an IPv6 peer: 443. */
    fx_init(&f, false, 50000, 50099);
    fx_allocate(&f, &c, "alice");
    CHECK_INT(fx_permit(&f, &c, "2001:db8:5::1"), 443);
    fx_done(&f);
}

/* Send indications: relayed with a permission, dropped and counted without. */
static void send_indications(void)
{
    struct fx f;
    struct relay_client c, other = fx_client(7, 7);

    setup(&f, &c);
    send_indication(&f, &c, PEER, "no permission", false);
    CHECK_INT(f.npeer, 0);
    CHECK_INT(fx_drops(&f, RELAY_DROP_NO_PERMISSION), 1);
    fx_permit(&f, &c, "203.0.113.9");
    send_indication(&f, &c, PEER, "hello peer", false);
    if (CHECK_INT(f.npeer, 1)) {
        union addr want;
        addr_parse(&want, PEER, 0);
        CHECK(addr_equal(&f.to_peer[0].to, &want));
        CHECK_INT(f.to_peer[0].len, 10);
        CHECK_MEM(f.to_peer[0].buf, "hello peer", 10);
        CHECK(!f.to_peer[0].df);
        CHECK(f.eps[f.to_peer[0].ep].addr.sa.sa_family == AF_INET);
    }
    send_indication(&f, &c, PEER, "df", true);
    CHECK(f.npeer == 2 && f.to_peer[1].df);
    send_indication(&f, &c, "10.0.0.1:5", "denied", false);
    CHECK_INT(fx_drops(&f, RELAY_DROP_DENIED_PEER), 1);
    send_indication(&f, &other, PEER, "no allocation", false);
    CHECK_INT(fx_drops(&f, RELAY_DROP_NO_ALLOCATION), 1);
    CHECK_INT(f.npeer, 2);
    CHECK_INT(relay_stats(f.r)->to_peer_packets, 2);
    fx_done(&f);
}

/* ChannelBind: range, conflicts (400), refresh, and the permission it installs. */
static void channel_bind(void)
{
    struct fx f;
    struct relay_client c;
    struct fx_req q;

    setup(&f, &c);
    CHECK_INT(fx_bind(&f, &c, 0x3FFF, PEER), 400);
    CHECK_INT(fx_bind(&f, &c, 0x8000, PEER), 400);
    CHECK_INT(fx_bind(&f, &c, 0x7FFF, "203.0.113.77:1"), 0); /* RFC 5766 clients */
    CHECK_INT(fx_bind(&f, &c, 0x4000, "127.0.0.1:9"), 403);
    CHECK_INT(fx_bind(&f, &c, 0x4000, PEER), 0);
    CHECK_INT(fx_bind(&f, &c, 0x4000, PEER), 0);  /* refresh */
    CHECK_INT(fx_bind(&f, &c, 0x4000, PEER2), 400); /* channel taken by another peer */
    CHECK_INT(fx_bind(&f, &c, 0x4001, PEER), 400);  /* peer bound to another channel */
    CHECK_INT(fx_bind(&f, &c, 0x4FFF, PEER2), 0);
    req_start(&q, STUN_METHOD_CHANNEL_BIND);
    req_peer(&q, PEER);
    CHECK_INT(req_send(&f, &q, &c, "alice"), 400); /* no CHANNEL-NUMBER */
    /* The binding installed a permission: a Send indication goes through. */
    send_indication(&f, &c, PEER, "via permission", false);
    CHECK_INT(f.npeer, 1);
    fx_done(&f);
}

/* ChannelData both ways: client to peer on a bound channel, peer to client framed as
 * ChannelData (padded on streams only), Data indications for peers without a channel. */
static void data_both_ways(void)
{
    struct fx f;
    struct relay_client c;
    struct relay_alloc *a = setup(&f, &c);
    struct stun_msg m;
    union addr peer, want;
    const uint8_t *data;
    size_t dlen;

    channel_data(&f, &c, 0x4000, "unbound");
    CHECK_INT(fx_drops(&f, RELAY_DROP_NO_CHANNEL), 1);
    fx_bind(&f, &c, 0x4000, PEER);
    channel_data(&f, &c, 0x4000, "over the channel");
    if (CHECK_INT(f.npeer, 1))
        CHECK_MEM(f.to_peer[0].buf, "over the channel", 16);

    fx_peer_data(&f, a, PEER, "abcde");
    if (CHECK_INT(f.nclient, 1)) {
        CHECK_INT(f.to_client[0].len, 4 + 5); /* UDP: no padding */
        CHECK_MEM(f.to_client[0].buf, "\x40\x00\x00\x05" "abcde", 9);
        CHECK(relay_client_equal(&f.to_client[0].client, &c));
    }
    fx_permit(&f, &c, "203.0.113.10");
    fx_peer_data(&f, a, PEER2, "data indication");
    if (CHECK_INT(f.nclient, 2) &&
        CHECK(stun_msg_decode(&m, f.to_client[1].buf, f.to_client[1].len, 0) == STUN_OK)) {
        CHECK_INT(m.type, stun_type(STUN_METHOD_DATA, STUN_CLASS_INDICATION));
        CHECK(stun_msg_get_addr(&m, STUN_ATTR_XOR_PEER_ADDRESS, &peer) == STUN_OK);
        addr_parse(&want, PEER2, 0);
        CHECK(addr_equal(&peer, &want));
        CHECK(stun_msg_get_bytes(&m, STUN_ATTR_DATA, &data, &dlen) == STUN_OK);
        CHECK(dlen == 15 && memcmp(data, "data indication", 15) == 0);
    }
    fx_peer_data(&f, a, "203.0.113.99:1", "stranger");
    CHECK_INT(f.nclient, 2);
    CHECK_INT(fx_drops(&f, RELAY_DROP_NO_PERMISSION), 1);
    CHECK_INT(relay_stats(f.r)->to_client_packets, 2);
    fx_done(&f);

    /* The same over a stream: ChannelData padded to a multiple of 4 (RFC 8656 §12.5). */
    fx_init(&f, false, 50000, 50099);
    c = fx_client(1, 40000);
    c.transport = RELAY_TCP;
    fx_allocate(&f, &c, "alice");
    fx_bind(&f, &c, 0x4001, PEER);
    fx_peer_data(&f, relay_find(f.r, &c), PEER, "abcde");
    if (CHECK_INT(f.nclient, 1)) {
        CHECK_INT(f.to_client[0].len, 12);
        CHECK_MEM(f.to_client[0].buf, "\x40\x01\x00\x05" "abcde\0\0\0", 12);
    }
    fx_done(&f);
}

/* Permissions expire after 300 s, channels after 600 s, each through the timer wheel. */
static void permission_and_channel_expiry(void)
{
    struct fx f;
    struct relay_client c;
    struct relay_alloc *a = setup(&f, &c);
    struct fx_req q;

    req_start(&q, STUN_METHOD_REFRESH);
    stun_build_u32(&q.b, STUN_ATTR_LIFETIME, 3600);
    req_send(&f, &q, &c, "alice");
    fx_permit(&f, &c, "203.0.113.10");
    fx_bind(&f, &c, 0x4000, PEER);
    fx_tick(&f, 299);
    fx_peer_data(&f, a, PEER2, "1");
    CHECK_INT(f.nclient, 1);
    fx_tick(&f, 2);
    fx_peer_data(&f, a, PEER2, "2"); /* permission expired */
    CHECK_INT(f.nclient, 1);
    channel_data(&f, &c, 0x4000, "still bound");
    CHECK_INT(f.npeer, 1);
    fx_bind(&f, &c, 0x4000, PEER); /* refreshes the channel and its permission */
    fx_tick(&f, 599);
    channel_data(&f, &c, 0x4000, "still bound");
    CHECK_INT(f.npeer, 2);
    fx_tick(&f, 2);
    channel_data(&f, &c, 0x4000, "expired");
    CHECK_INT(f.npeer, 2);
    /* An expired channel number may be bound to another peer. */
    CHECK_INT(fx_bind(&f, &c, 0x4000, PEER2), 0);
    fx_done(&f);
}

/* The first permission and channel live in the allocation record, the next ones in arrays
 * that grow up to the maximum (8 here): each peer keeps its own channel both ways as they move,
 * and once everything expired the record's own slots serve again. */
static void many_peers(void)
{
    struct fx f;
    struct relay_client c;
    struct relay_alloc *a = setup(&f, &c);
    struct fx_req q;
    char peer[64], payload[16], want[32];

    req_start(&q, STUN_METHOD_REFRESH);
    stun_build_u32(&q.b, STUN_ATTR_LIFETIME, 3600);
    req_send(&f, &q, &c, "alice");
    for (int i = 0; i < 8; i++) {
        snprintf(peer, sizeof(peer), "203.0.113.%d:%d", 20 + i, 7000 + i);
        CHECK_INT(fx_bind(&f, &c, (uint16_t)(0x4000 + i), peer), 0);
    }
    CHECK_INT(fx_permit(&f, &c, "203.0.113.99"), 508);
    CHECK_INT(a->nperm, 8);
    CHECK_INT(a->nchan, 8);
    for (int i = 0; i < 8; i++) {
        union addr to;

        snprintf(payload, sizeof(payload), "to %d", i);
        channel_data(&f, &c, (uint16_t)(0x4000 + i), payload);
        snprintf(peer, sizeof(peer), "203.0.113.%d:%d", 20 + i, 7000 + i);
        addr_parse(&to, peer, 0);
        if (CHECK_INT(f.npeer, i + 1)) {
            CHECK(addr_equal(&f.to_peer[i].to, &to));
            CHECK_MEM(f.to_peer[i].buf, payload, strlen(payload));
        }
        fx_peer_data(&f, a, peer, "back");
        snprintf(want, sizeof(want), "%c%c%c%cback", 0x40, i, 0, 4);
        if (CHECK_INT(f.nclient, i + 1))
            CHECK_MEM(f.to_client[i].buf, want, 8);
    }
    fx_tick(&f, 601);
    CHECK_INT(a->nperm, 0);
    CHECK_INT(a->nchan, 0);
    CHECK_INT(fx_bind(&f, &c, 0x4005, PEER), 0);
    channel_data(&f, &c, 0x4005, "again");
    if (CHECK_INT(f.npeer, 9))
        CHECK_MEM(f.to_peer[8].buf, "again", 5);
    fx_done(&f);
}

/* Requests on someone else's allocation: 441; requests with no allocation: 437. */
static void wrong_user_and_no_allocation(void)
{
    struct fx f;
    struct relay_client c, other = fx_client(9, 9);
    struct fx_req q;

    setup(&f, &c);
    req_start(&q, STUN_METHOD_CREATE_PERMISSION);
    req_peer(&q, "203.0.113.9");
    CHECK_INT(req_send(&f, &q, &c, "mallory"), 441);
    CHECK_INT(fx_permit(&f, &other, "203.0.113.9"), 437);
    CHECK_INT(fx_bind(&f, &other, 0x4000, PEER), 437);
    fx_done(&f);
}

/* With --allow-loopback-peers, loopback peers are allowed. */
static void loopback_switch(void)
{
    struct fx f;
    struct relay_client c;

    setup(&f, &c);
    relay_policy_allow_loopback(atomic_load(&f.sh.policy), true);
    CHECK_INT(fx_permit(&f, &c, "127.0.0.1"), 0);
    CHECK_INT(fx_permit(&f, &c, "::1"), 0);
    fx_done(&f);
}

/* Refresh(0) of one family of a dual allocation takes that family's channels and permissions
 * with its relayed address: ChannelData on them is dropped (it once reached a NULL endpoint),
 * the other family's go on, and a retransmission of that Refresh gets its success again. */
static void family_deleted(void)
{
    struct fx f;
    struct relay_client c;
    struct relay_alloc *a = setup(&f, &c);
    struct fx_req q;

    if (!CHECK(a != NULL))
        goto out;
    CHECK_INT(fx_bind(&f, &c, 0x4001, "[2001:db8::1]:7000"), 0);
    CHECK_INT(fx_bind(&f, &c, 0x4002, PEER), 0);
    CHECK_INT(fx_permit(&f, &c, "2001:db8::2"), 0);
    req_start(&q, STUN_METHOD_REFRESH);
    stun_build_u8(&q.b, STUN_ATTR_REQUESTED_ADDRESS_FAMILY, STUN_FAMILY_IPV6);
    stun_build_u32(&q.b, STUN_ATTR_LIFETIME, 0);
    CHECK_INT(req_send(&f, &q, &c, "alice"), 0);
    CHECK_INT(req_resend(&f, &q, &c, "alice"), 0);
    channel_data(&f, &c, 0x4001, "to a gone family");
    CHECK_INT(f.npeer, 0);
    CHECK_INT(fx_drops(&f, RELAY_DROP_NO_CHANNEL), 1);
    send_indication(&f, &c, "[2001:db8::2]:7000", "no relay for it", false);
    CHECK_INT(f.npeer, 0);
    channel_data(&f, &c, 0x4002, "still here");
    if (CHECK_INT(f.npeer, 1))
        CHECK_MEM(f.to_peer[0].buf, "still here", 10);
    CHECK_INT(a->nchan, 1);
    CHECK_INT(a->nperm, 1);
    /* The channel number is free again, for a peer of the family that remains. */
    CHECK_INT(fx_bind(&f, &c, 0x4001, PEER2), 0);
out:
    fx_done(&f);
}

int main(void)
{
    RUN(create_permission);
    RUN(send_indications);
    RUN(channel_bind);
    RUN(data_both_ways);
    RUN(permission_and_channel_expiry);
    RUN(many_peers);
    RUN(wrong_user_and_no_allocation);
    RUN(loopback_switch);
    RUN(family_deleted);
    return check_summary();
}
