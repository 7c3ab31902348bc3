/* handlers.c — the TURN requests, each a flat run of the checks RFC 8656 lists, in its order. */
#include <string.h>

#include "proto/crypto.h"
#include "proto/frame.h"
#include "relay/relay_int.h"

static uint32_t lifetime_of(const struct relay_shared *sh, const struct stun_msg *m)
{
    uint32_t want = 0;

    /* RFC 8656 §7.2: the smaller of the request and the maximum, but not below the default
     * (and never above the maximum an operator set lower than the default). */
    stun_msg_get_u32(m, STUN_ATTR_LIFETIME, &want);
    if (want > sh->max_lifetime)
        want = sh->max_lifetime;
    if (want < sh->default_lifetime)
        want = sh->default_lifetime;
    return want > sh->max_lifetime ? sh->max_lifetime : want;
}

/* The relay address to use for a family: the one the client reached when it is a relay
 * address, else the first of the family.  NULL when the server has none of that family. */
static const struct relay_addr *pick_pool(const struct relay_shared *sh, int family,
                                          const struct relay_client *c)
{
    const struct relay_addr *first = NULL;

    for (size_t i = 0; i < sh->naddrs; i++) {
        const struct relay_addr *p = &sh->addrs[i];
        if (p->ip.sa.sa_family != family)
            continue;
        if (addr_ip_equal(&p->ip, &c->local))
            return p;
        if (first == NULL)
            first = p;
    }
    return first;
}

static const struct relay_addr *pool_of_ip(const struct relay_shared *sh, const union addr *a)
{
    for (size_t i = 0; i < sh->naddrs; i++)
        if (addr_ip_equal(&sh->addrs[i].ip, a))
            return &sh->addrs[i];
    return NULL;
}

/* The success response of an Allocate, built from the allocation alone so that a
 * retransmission gets the same answer (RFC 8656 §7.2, with the remaining lifetime). */
static void allocate_success(struct relay *r, const struct relay_alloc *a, struct stun_builder *b)
{
    for (int i = 0; i < RELAY_EP_COUNT; i++) {
        const struct relay_ep *ep = &a->ep[i];
        union addr shown;
        if (ep->handle == NULL)
            continue;
        shown = ep->addr;
        if (ep->pool->external.sa.sa_family != AF_UNSPEC) {
            shown = ep->pool->external;
            addr_set_port(&shown, addr_port(&ep->addr));
        }
        stun_build_addr(b, STUN_ATTR_XOR_RELAYED_ADDRESS, &shown);
    }
    if (a->addr_error_code)
        stun_build_address_error(b, a->addr_error_type, a->addr_error_family,
                                 a->addr_error_code, NULL);
    stun_build_u32(b, STUN_ATTR_LIFETIME, a->expires > r->now ? a->expires - r->now : 0);
    if (a->has_token)
        stun_build_attr(b, STUN_ATTR_RESERVATION_TOKEN, a->token, RELAY_TOKEN_LEN);
    stun_build_addr(b, STUN_ATTR_XOR_MAPPED_ADDRESS, &a->client.remote);
}

/* What an Allocate asks for, gathered and checked (RFC 8656 §7.2 steps 3-9). */
struct alloc_req {
    bool family[RELAY_EP_COUNT];  /* families asked for */
    bool dual;                    /* ADDITIONAL-ADDRESS-FAMILY: one of the two may fail */
    bool draft;                   /* ... sent with the draft codepoint */
    bool even;                    /* EVEN-PORT */
    bool reserve;                 /* EVEN-PORT with the R bit */
    bool has_token;
    bool tcp;                     /* REQUESTED-TRANSPORT TCP (RFC 6062) */
    uint8_t token[RELAY_TOKEN_LEN];
};

/* RFC 6062 §5.1: a TCP allocation is made over TCP or TLS, without the UDP-only attributes;
 * 442 when this server relays no TCP. */
static int check_tcp_allocate(struct relay *r, const struct relay_client *c,
                              const struct stun_msg *m)
{
    if (r->sh->no_tcp_relay || r->io->open_tcp == NULL)
        return 442;
    if (c->transport != RELAY_TCP && c->transport != RELAY_TLS)
        return relay_fail(r, 400, "A TCP allocation needs a TCP or TLS connection");
    if (stun_msg_find(m, STUN_ATTR_DONT_FRAGMENT) || stun_msg_find(m, STUN_ATTR_EVEN_PORT) ||
        stun_msg_find(m, STUN_ATTR_RESERVATION_TOKEN))
        return relay_fail(r, 400, "DONT-FRAGMENT, EVEN-PORT or RESERVATION-TOKEN with TCP");
    return 0;
}

static int check_allocate(struct relay *r, const struct relay_client *c,
                          const struct stun_msg *m, struct alloc_req *q)
{
    const uint8_t *v;
    uint8_t proto, fam, extra;
    size_t len;
    bool has_fam, has_extra;

    memset(q, 0, sizeof(*q));
    if (stun_msg_get_u8(m, STUN_ATTR_REQUESTED_TRANSPORT, &proto) != STUN_OK)
        return relay_fail(r, 400, "REQUESTED-TRANSPORT missing");
    if (proto == STUN_TRANSPORT_TCP) {
        int code = check_tcp_allocate(r, c, m);
        if (code)
            return code;
        q->tcp = true;
    } else if (proto != STUN_TRANSPORT_UDP) {
        return 442;
    }
    has_fam = stun_msg_get_u8(m, STUN_ATTR_REQUESTED_ADDRESS_FAMILY, &fam) == STUN_OK;
    has_extra = stun_msg_get_u8(m, STUN_ATTR_ADDITIONAL_ADDRESS_FAMILY, &extra) == STUN_OK;
    if (!has_extra) {
        has_extra = stun_msg_get_u8(m, STUN_ATTR_ADDITIONAL_ADDRESS_FAMILY_DRAFT, &extra) ==
                    STUN_OK;
        q->draft = has_extra;
    }
    if (stun_msg_get_bytes(m, STUN_ATTR_EVEN_PORT, &v, &len) == STUN_OK) {
        q->even = true;
        q->reserve = (v[0] & 0x80) != 0;
    }
    if (stun_msg_get_bytes(m, STUN_ATTR_RESERVATION_TOKEN, &v, &len) == STUN_OK) {
        if (q->even || has_fam || has_extra)
            return relay_fail(r, 400, "RESERVATION-TOKEN with EVEN-PORT or a family");
        q->has_token = true;
        memcpy(q->token, v, RELAY_TOKEN_LEN);
    }
    if (has_fam && has_extra)
        return relay_fail(r, 400, "REQUESTED- and ADDITIONAL-ADDRESS-FAMILY together");
    if (has_fam && fam != STUN_FAMILY_IPV4 && fam != STUN_FAMILY_IPV6)
        return 440;
    if (q->reserve && has_extra)
        return relay_fail(r, 400, "EVEN-PORT reservation with a dual allocation");
    if (has_extra && extra != STUN_FAMILY_IPV6)
        return relay_fail(r, 400, "ADDITIONAL-ADDRESS-FAMILY must be IPv6");
    q->dual = has_extra;
    q->family[RELAY_EP_V4] = !has_fam || fam == STUN_FAMILY_IPV4 || has_extra;
    q->family[RELAY_EP_V6] = (has_fam && fam == STUN_FAMILY_IPV6) || has_extra;
    return 0;
}

/* Opens the endpoint of a redeemed RESERVATION-TOKEN from the socket that held its port. */
static int open_reserved(struct relay *r, struct relay_alloc *a, const uint8_t *token)
{
    const struct relay_addr *pool;
    union addr addr;
    void *held = NULL;

    if (!relay_reservations_take(r->sh->reservations, token, r->now, &addr, &held))
        return relay_fail(r, 508, "Unknown or expired RESERVATION-TOKEN");
    pool = pool_of_ip(r->sh, &addr);
    if (pool == NULL) {
        r->io->unhold(r->io->ctx, held);
        return 508;
    }
    if (relay_alloc_adopt(a, addr.sa.sa_family == AF_INET6 ? RELAY_EP_V6 : RELAY_EP_V4, pool,
                          &addr, held) < 0)
        return 508;
    return 0;
}

/* Opens an even port and reserves its successor under a fresh token (EVEN-PORT, R bit). */
static int open_reserving(struct relay *r, struct relay_alloc *a, int ep,
                          const struct relay_addr *pool)
{
    union addr next;
    void *held;

    if (relay_alloc_open_pair(a, ep, pool, &next, &held) < 0)
        return 508;
    if (crypto_random(a->token, RELAY_TOKEN_LEN) < 0 ||
        relay_reservations_add(r->sh->reservations, a->token, &next, held, r->now) < 0) {
        r->io->unhold(r->io->ctx, held);
        relay_ports_put(pool->ports, addr_port(&next));
        return 508;
    }
    a->has_token = true;
    return 0;
}

/* Opens the endpoints of every family asked for.  A dual allocation may lose one family
 * (ADDRESS-ERROR-CODE, RFC 8656 §7.2 step 9); otherwise any failure fails the request. */
static int open_endpoints(struct relay *r, struct relay_alloc *a, const struct relay_client *c,
                          const struct alloc_req *q)
{
    static const int families[RELAY_EP_COUNT] = {AF_INET, AF_INET6};
    unsigned flags = q->even ? RELAY_PORTS_EVEN : 0;
    int opened = 0, last = 0;

    if (q->has_token)
        return open_reserved(r, a, q->token);
    for (int i = 0; i < RELAY_EP_COUNT; i++) {
        const struct relay_addr *pool;
        int code = 0;
        if (!q->family[i])
            continue;
        pool = pick_pool(r->sh, families[i], c);
        if (pool == NULL)
            code = 440;
        else if (q->reserve)
            code = open_reserving(r, a, i, pool);
        else if (relay_alloc_open(a, i, pool, flags) < 0)
            code = 508;
        if (code == 508)
            RELAY_STAT_INC(r->stats.ports_exhausted);
        if (code == 0) {
            opened++;
            continue;
        }
        if (!q->dual)
            return code;
        a->addr_error_family = i == RELAY_EP_V4 ? STUN_FAMILY_IPV4 : STUN_FAMILY_IPV6;
        a->addr_error_code = (uint16_t)code;
        a->addr_error_type =
            q->draft ? STUN_ATTR_ADDRESS_ERROR_CODE_DRAFT : STUN_ATTR_ADDRESS_ERROR_CODE;
        last = code;
    }
    return opened > 0 ? 0 : last ? last : 508;
}

/* RFC 8656 §7.2 step 11 and RFC 8489 §10: with --alternate-server every Allocate is sent on to
 * the next alternate in turn (300); a draining server with none takes no new allocation. */
static int redirect(struct relay *r)
{
    const struct relay_shared *sh = r->sh;
    unsigned i;

    if (sh->control == NULL)
        return 0;
    if (sh->nalternates) {
        i = atomic_fetch_add(&sh->control->alternate_next, 1) % (unsigned)sh->nalternates;
        r->alternate = sh->alternates[i];
        return 300;
    }
    if (atomic_load(&sh->control->draining))
        return relay_fail(r, 508, "Server is draining");
    return 0;
}

/* A realm's total-quota counts its allocations by realm name. */
static bool counts_realm(const struct relay_limits *l)
{
    return l != NULL && l->total_quota != 0 && l->realm_count != NULL;
}

/* The per-user and total quotas (with limits: the realm's user quota in place of
 * --user-quota, and the realm's total besides the server's), and --max-allocations-per-ip;
 * all or none taken. */
static int take_quotas(struct relay *r, const struct relay_client *c, const char *user,
                       const struct relay_limits *limits)
{
    const struct relay_shared *sh = r->sh;
    char ip[ADDR_STRLEN];

    if (relay_quota_take(sh->quota, user, limits ? limits->user_quota : sh->user_quota,
                         sh->total_quota) < 0)
        return relay_fail(r, -1, "Allocation quota reached");
    if (counts_realm(limits) &&
        relay_quota_take(limits->realm_count, limits->realm, limits->total_quota, 0) < 0) {
        relay_quota_put(sh->quota, user);
        return relay_fail(r, -1, "Allocation quota of the realm reached");
    }
    if (sh->ip_quota &&
        relay_quota_take(sh->ip_quota, addr_format_ip(&c->remote, ip, sizeof(ip)),
                         sh->max_per_ip, 0) < 0) {
        relay_quota_put(sh->quota, user);
        if (counts_realm(limits))
            relay_quota_put(limits->realm_count, limits->realm);
        return relay_fail(r, -1, "Too many allocations from this address");
    }
    return 0;
}

void relay_put_quotas(struct relay *r, const struct relay_client *c, const char *user,
                      const struct relay_limits *limits)
{
    char ip[ADDR_STRLEN];

    relay_quota_put(r->sh->quota, user);
    if (counts_realm(limits))
        relay_quota_put(limits->realm_count, limits->realm);
    if (r->sh->ip_quota)
        relay_quota_put(r->sh->ip_quota, addr_format_ip(&c->remote, ip, sizeof(ip)));
}

int relay_handle_allocate(struct relay *r, const struct relay_client *c,
                          const struct stun_msg *m, const char *user,
                          struct relay_limits *limits, struct stun_builder *b)
{
    const struct relay_shared *sh = r->sh;
    struct relay_alloc *a = relay_find(r, c);
    struct alloc_req q;
    int code;

    if (a) {
        /* RFC 8656 §7.2 step 2, except for a retransmission of the request that made it. */
        if (memcmp(a->tid, m->tid, STUN_TID_LEN) == 0 &&
            r->now - a->created <= RELAY_RETRANSMIT_WINDOW && strcmp(a->user, user) == 0) {
            allocate_success(r, a, b);
            return 0;
        }
        return relay_fail(r, 437, "An allocation exists on this 5-tuple");
    }
    code = redirect(r);
    if (code)
        return code;
    code = check_allocate(r, c, m, &q);
    if (code)
        return code;
    if (take_quotas(r, c, user, limits) < 0)
        return 486;
    a = relay_alloc_new(r, c, user, r->now);
    if (a == NULL) {
        relay_put_quotas(r, c, user, limits);
        return 500;
    }
    a->limits = limits;
    relay_limits_hold(limits);
    a->max_bps = limits ? limits->max_bps : sh->max_bps;
    memcpy(a->tid, m->tid, STUN_TID_LEN);
    a->dont_fragment = stun_msg_find(m, STUN_ATTR_DONT_FRAGMENT) != NULL;
    a->tcp = q.tcp;
    code = open_endpoints(r, a, c, &q);
    if (code) {
        relay_put_quotas(r, c, user, limits);
        relay_alloc_free(a);
        return code;
    }
    a->expires = r->now + lifetime_of(sh, m);
    relay_insert(r, a);
    relay_alloc_schedule(a);
    allocate_success(r, a, b);
    return 0;
}

/* The endpoint of family fam (STUN_FAMILY_IPV4/IPV6), or -1 when the allocation has none. */
static int family_of_ep(const struct relay_alloc *a, uint8_t fam)
{
    int i = fam == STUN_FAMILY_IPV6 ? RELAY_EP_V6 : RELAY_EP_V4;

    if (fam != STUN_FAMILY_IPV4 && fam != STUN_FAMILY_IPV6)
        return -1;
    return a->ep[i].handle ? i : -1;
}

int relay_handle_refresh(struct relay *r, struct relay_alloc *a, const struct stun_msg *m,
                         struct stun_builder *b)
{
    uint32_t want = 1;
    uint8_t fam;
    int ep = -1;

    if (stun_msg_get_u8(m, STUN_ATTR_REQUESTED_ADDRESS_FAMILY, &fam) == STUN_OK) {
        /* RFC 8656 §8.2: a family the allocation does not have is a mismatch, unless this
         * is a retransmission of the Refresh that deleted it. */
        ep = family_of_ep(a, fam);
        if (ep < 0) {
            if (!relay_tomb_find(r, &a->client, m->tid))
                return 443;
            stun_build_u32(b, STUN_ATTR_LIFETIME, 0);
            return 0;
        }
    }
    stun_msg_get_u32(m, STUN_ATTR_LIFETIME, &want);
    if (want == 0) {
        int other = ep == RELAY_EP_V4 ? RELAY_EP_V6 : RELAY_EP_V4;
        relay_tomb_add(r, &a->client, m->tid); /* for a retransmission of this Refresh */
        if (ep >= 0 && a->ep[other].handle)
            relay_alloc_close_family(a, ep, r->now); /* the other family lives on */
        else
            relay_delete(r, a, RELAY_END_DELETED);
        stun_build_u32(b, STUN_ATTR_LIFETIME, 0);
        return 0;
    }
    a->expires = r->now + lifetime_of(r->sh, m);
    relay_alloc_schedule(a);
    stun_build_u32(b, STUN_ATTR_LIFETIME, a->expires - r->now);
    relay_announce(r, a, RELAY_END_NONE, true);
    return 0;
}

/* The common checks on a peer address: an endpoint of its family (443) and the policy (403). */
static int check_peer(struct relay *r, struct relay_alloc *a, const union addr *peer)
{
    if (relay_alloc_ep_for(a, peer) == NULL)
        return 443;
    if (!relay_peer_allowed(r, a, peer))
        return relay_fail(r, 403, "Peer address not allowed");
    return 0;
}

int relay_handle_permission(struct relay *r, struct relay_alloc *a, const struct stun_msg *m)
{
    const struct stun_attr *at = stun_msg_find(m, STUN_ATTR_XOR_PEER_ADDRESS);
    union addr peer;
    int code;

    if (at == NULL)
        return relay_fail(r, 400, "XOR-PEER-ADDRESS missing");
    /* RFC 8656 §10.2: every address is checked before any permission is installed. */
    for (const struct stun_attr *p = at; p; p = stun_msg_next(m, p)) {
        stun_addr_decode(stun_msg_value(m, p), p->len, 1, m->tid, &peer);
        code = check_peer(r, a, &peer);
        if (code)
            return code;
    }
    for (const struct stun_attr *p = at; p; p = stun_msg_next(m, p)) {
        stun_addr_decode(stun_msg_value(m, p), p->len, 1, m->tid, &peer);
        if (relay_alloc_permit(a, &peer, r->now) < 0)
            return 508;
    }
    relay_alloc_schedule(a);
    return 0;
}

int relay_handle_channel_bind(struct relay *r, struct relay_alloc *a, const struct stun_msg *m)
{
    struct relay_chan *ch;
    union addr peer;
    uint16_t num;
    int code;

    if (stun_msg_get_u16(m, STUN_ATTR_CHANNEL_NUMBER, &num) != STUN_OK ||
        stun_msg_get_addr(m, STUN_ATTR_XOR_PEER_ADDRESS, &peer) != STUN_OK)
        return relay_fail(r, 400, "CHANNEL-NUMBER or XOR-PEER-ADDRESS missing");
    if (num < FRAME_CHANNEL_MIN || num > FRAME_CHANNEL_MAX)
        return relay_fail(r, 400, "Channel number outside 0x4000-0x7FFF");
    code = check_peer(r, a, &peer);
    if (code)
        return code;
    /* RFC 8656 §12.2: a channel bound to another peer, or a peer bound to another channel,
     * is a conflict while the binding lasts. */
    ch = relay_alloc_chan_by_num(a, num, r->now);
    if (ch && !addr_equal(&ch->peer, &peer))
        return relay_fail(r, 400, "Channel bound to another peer");
    ch = relay_alloc_chan_by_peer(a, &peer, r->now);
    if (ch && ch->num != num)
        return relay_fail(r, 400, "Peer bound to another channel");
    if (relay_alloc_bind(a, num, &peer, r->now) < 0)
        return 508;
    relay_alloc_schedule(a);
    return 0;
}

void relay_answer(struct relay *r, const struct relay_client *c, uint16_t method,
                       const uint8_t *tid, int code, const char *reason, uint32_t conn_id,
                       const struct relay_sig *sig, bool fingerprint)
{
    uint8_t buf[512];
    struct stun_builder b;
    size_t len;

    stun_build_start(&b, buf, sizeof(buf),
                     stun_type(method, code ? STUN_CLASS_ERROR : STUN_CLASS_SUCCESS), tid);
    if (code)
        stun_build_error(&b, code, reason);
    else if (conn_id)
        stun_build_u32(&b, STUN_ATTR_CONNECTION_ID, conn_id);
    if (sig && sig->key_len && sig->sha256)
        stun_build_integrity_sha256(&b, sig->key, sig->key_len);
    else if (sig && sig->key_len)
        stun_build_integrity(&b, sig->key, sig->key_len);
    if (fingerprint)
        stun_build_fingerprint(&b);
    if (stun_build_end(&b, &len) == 0)
        r->io->send_client(r->io->ctx, c, buf, len);
}
