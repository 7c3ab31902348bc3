/* test_relay_realm.c — allocations held to their realm's limits (relay_limits, the Redis
 * realm options): the user quota in place of --user-quota, the realm's total counted by realm,
 * max-bps, the realm's peer ranges, references held and given back, Refresh events. */
#include "tests/unit/relay/relay_fx.c"

#define PEER "203.0.113.9:7000"

static struct relay_limits *limits(const char *realm, struct relay_quota *count)
{
    struct relay_limits *l = NULL;

    CHECK_INT(relay_limits_new(&l, realm), 0);
    l->realm_count = count;
    return l;
}

static int allocate(struct fx *f, int n, const char *user)
{
    struct relay_client c = fx_client(n, 40000);
    struct fx_req q;

    req_allocate(&q);
    return req_send(f, &q, &c, user);
}

static int refresh(struct fx *f, int n, uint32_t lifetime)
{
    struct relay_client c = fx_client(n, 40000);
    struct fx_req q;

    req_start(&q, STUN_METHOD_REFRESH);
    stun_build_u32(&q.b, STUN_ATTR_LIFETIME, lifetime);
    return req_send(f, &q, &c, "alice");
}

/* The realm's user quota replaces --user-quota (in both directions), per allocation made. */
static void user_quota(void)
{
    struct fx f;
    struct relay_limits *one = limits("north.gov", NULL), *none = limits("crinna.org", NULL);

    fx_init(&f, false, 50000, 50099);
    f.sh.user_quota = 5;
    one->user_quota = 1;
    f.limits = one;
    CHECK_INT(allocate(&f, 1, "alice"), 0);
    CHECK_INT(allocate(&f, 2, "alice"), 486);
    CHECK_INT(allocate(&f, 3, "bob"), 0);
    /* Another realm without a user quota: unlimited, although --user-quota says 5. */
    f.limits = none;
    for (int i = 4; i < 10; i++)
        CHECK_INT(allocate(&f, i, "carol"), 0);
    /* Without limits, --user-quota again. */
    f.limits = NULL;
    for (int i = 10; i < 16; i++)
        CHECK_INT(allocate(&f, i, "dave"), i < 15 ? 0 : 486);
    fx_done(&f);
    /* Every allocation gave its reference back. */
    CHECK_INT(one->refs, 1);
    CHECK_INT(none->refs, 1);
    relay_limits_release(one);
    relay_limits_release(none);
}

/* The realm's total quota counts the realm's allocations, whoever makes them. */
static void total_quota(void)
{
    struct fx f;
    struct relay_quota *count;
    struct relay_limits *l, *other;

    relay_quota_new(&count);
    l = limits("north.gov", count);
    other = limits("crinna.org", count);
    l->total_quota = 2;
    fx_init(&f, false, 50000, 50099);
    f.limits = l;
    CHECK_INT(allocate(&f, 1, "alice"), 0);
    CHECK_INT(allocate(&f, 2, "bob"), 0);
    CHECK_INT(allocate(&f, 3, "carol"), 486);
    CHECK_STR(relay_reason(f.r), "Allocation quota of the realm reached");
    CHECK_INT(relay_quota_user(count, "north.gov"), 2);
    f.limits = other; /* another realm is not counted in this one's */
    CHECK_INT(allocate(&f, 4, "carol"), 0);
    f.limits = l;
    CHECK_INT(refresh(&f, 1, 0), 0); /* one deleted: room for another */
    CHECK_INT(allocate(&f, 3, "carol"), 0);
    fx_done(&f);
    CHECK_INT(relay_quota_user(count, "north.gov"), 0);
    CHECK_INT(relay_quota_total(count), 0);
    relay_limits_release(l);
    relay_limits_release(other);
    relay_quota_free(count);
}

/* max-bps: the realm's rate, fixed at Allocate, in place of --max-bps. */
static void max_bps(void)
{
    struct fx f;
    struct relay_limits *l = limits("north.gov", NULL);
    struct relay_client c = fx_client(1, 40000);
    uint8_t buf[1004] = {0};

    l->max_bps = 3000;
    fx_init(&f, false, 50000, 50099);
    f.sh.max_bps = 100000;
    f.limits = l;
    fx_allocate(&f, &c, "alice");
    l->max_bps = 0; /* changing the realm later does not touch the allocation */
    fx_bind(&f, &c, 0x4000, PEER);
    frame_chandata_hdr(buf, 0x4000, 1000);
    for (int i = 0; i < 10; i++)
        relay_channel_data(f.r, &c, buf, sizeof buf, f.now);
    CHECK_INT(f.npeer, 3);
    CHECK_INT(fx_drops(&f, RELAY_DROP_BANDWIDTH), 7);
    fx_done(&f);
    relay_limits_release(l);
}

/* The realm's ranges on top of the server's: an allowed range opens a default-denied peer, a
 * denied range closes a public one, for this realm's allocations only. */
static void peer_ranges(void)
{
    struct fx f;
    struct relay_limits *l = limits("north.gov", NULL);
    struct relay_client a = fx_client(1, 40000), b = fx_client(2, 40000);
    char why[128];

    CHECK_INT(relay_policy_new(&l->peers), 0);
    CHECK_INT(relay_policy_allow(l->peers, "10.1.0.0/16", why, sizeof why), 0);
    CHECK_INT(relay_policy_deny(l->peers, "203.0.113.0-203.0.113.9", why, sizeof why), 0);
    fx_init(&f, false, 50000, 50099);
    f.limits = l;
    fx_allocate(&f, &a, "alice");
    f.limits = NULL;
    fx_allocate(&f, &b, "alice");
    CHECK_INT(fx_permit(&f, &a, "10.1.2.3:9"), 0);
    CHECK_INT(fx_permit(&f, &b, "10.1.2.3:9"), 403);
    CHECK_INT(fx_permit(&f, &a, "203.0.113.5:9"), 403);
    CHECK_INT(fx_permit(&f, &b, "203.0.113.5:9"), 0);
    CHECK_INT(fx_permit(&f, &a, "10.2.0.1:9"), 403); /* still the defaults elsewhere */
    CHECK(relay_alloc_limits(f.r, &a) == l);
    CHECK(relay_alloc_limits(f.r, &b) == NULL);
    fx_done(&f);
    relay_limits_release(l);
}

/* Refreshes are events too (for the statsdb), with the realm; the start and end are counted
 * as before. */
static void refresh_events(void)
{
    struct fx f;
    struct relay_limits *l = limits("north.gov", NULL);

    fx_init(&f, false, 50000, 50099);
    f.limits = l;
    CHECK_INT(allocate(&f, 1, "alice"), 0);
    CHECK_INT(refresh(&f, 1, 1200), 0);
    CHECK_INT(refresh(&f, 1, 300), 0);
    CHECK_INT(f.created, 1);
    CHECK_INT(f.refreshed, 2);
    CHECK_INT(f.ended, 0);
    CHECK_INT(refresh(&f, 1, 0), 0);
    CHECK_INT(f.ended, 1);
    CHECK_INT(f.refreshed, 2);
    CHECK_INT(l->refs, 1);
    fx_done(&f);
    relay_limits_release(l);
}

int main(void)
{
    RUN(user_quota);
    RUN(total_quota);
    RUN(max_bps);
    RUN(peer_ranges);
    RUN(refresh_events);
    return check_summary();
}
