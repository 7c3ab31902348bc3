/* alloc.c — one allocation: its endpoints, permissions, channel bindings and timer. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "relay/relay_int.h"

/* Attempts at binding a relay port before answering 508: a port our pool thinks free may be
 * held by another program on the host. */
#define OPEN_ATTEMPTS 16

struct relay_alloc *relay_alloc_new(struct relay *r, const struct relay_client *c,
                                    const char *user, uint32_t now)
{
    size_t ulen = strlen(user);
    struct relay_alloc *a = calloc(1, sizeof(*a) + ulen + 1);

    if (a == NULL)
        return NULL;
    a->relay = r;
    a->client = *c;
    a->created = now;
    memcpy(a->user, user, ulen + 1);
    return a;
}

/* Closes endpoint ep and returns its port. */
static void ep_close(struct relay_alloc *a, struct relay_ep *ep)
{
    const struct relay_io *io = a->relay->io;

    io->close(io->ctx, ep->handle);
    relay_ports_put(ep->pool->ports, addr_port(&ep->addr));
    ep->handle = NULL;
}

/* Closes the endpoints and gives their ports back; frees the record.  The caller has taken
 * it out of the table and the wheel. */
void relay_alloc_free(struct relay_alloc *a)
{
    relay_tcp_close_all(a->relay, a);
    for (int i = 0; i < RELAY_EP_COUNT; i++)
        if (a->ep[i].handle)
            ep_close(a, &a->ep[i]);
    relay_limits_release(a->limits);
    if (a->perms != &a->perm1)
        free(a->perms);
    if (a->chans != &a->chan1)
        free(a->chans);
    free(a);
}

/* Binds endpoint ep on a port of pool chosen at random with port_flags (with
 * RELAY_PORTS_PAIR the successor stays taken for the caller to reserve).  Returns 0, or -1
 * when no port could be had (508). */
int relay_alloc_open(struct relay_alloc *a, int ep, const struct relay_addr *pool,
                     unsigned port_flags)
{
    struct relay *r = a->relay;
    struct relay_ep *e = &a->ep[ep];

    for (int attempt = 0; attempt < OPEN_ATTEMPTS; attempt++) {
        uint16_t port = relay_ports_take(pool->ports, relay_random(r), port_flags);
        if (port == 0)
            return -1;
        e->addr = pool->ip;
        addr_set_port(&e->addr, port);
        e->handle = a->tcp ? r->io->open_tcp(r->io->ctx, &e->addr, a)
                           : r->io->open_udp(r->io->ctx, &e->addr, a->dont_fragment, a);
        if (e->handle) {
            e->pool = pool;
            return 0;
        }
        relay_ports_put(pool->ports, port);
        if (port_flags & RELAY_PORTS_PAIR)
            relay_ports_put(pool->ports, (uint16_t)(port + 1));
        if (errno != EADDRINUSE)
            return -1;
    }
    return -1;
}

/* Opens endpoint ep on an even port N of pool and holds N+1 for a RESERVATION-TOKEN: both
 * taken from the pool, N bound, N+1 held by a socket; a port the kernel refuses sends us on to
 * another pair.  Sets *next and *held.  Returns 0 or -1 (508). */
int relay_alloc_open_pair(struct relay_alloc *a, int ep, const struct relay_addr *pool,
                          union addr *next, void **held)
{
    const struct relay_io *io = a->relay->io;

    for (int attempt = 0; attempt < OPEN_ATTEMPTS; attempt++) {
        if (relay_alloc_open(a, ep, pool, RELAY_PORTS_PAIR) < 0)
            return -1;
        *next = a->ep[ep].addr;
        addr_set_port(next, (uint16_t)(addr_port(next) + 1));
        *held = io->hold(io->ctx, next);
        if (*held)
            return 0;
        io->close(io->ctx, a->ep[ep].handle);
        a->ep[ep].handle = NULL;
        relay_ports_put(pool->ports, addr_port(&a->ep[ep].addr));
        relay_ports_put(pool->ports, addr_port(next));
        if (errno != EADDRINUSE)
            return -1;
    }
    return -1;
}

/* Makes the held socket of a redeemed reservation (its port still taken in pool) endpoint ep.
 * Returns 0, or -1 with the port given back. */
int relay_alloc_adopt(struct relay_alloc *a, int ep, const struct relay_addr *pool,
                      const union addr *addr, void *held)
{
    const struct relay_io *io = a->relay->io;
    struct relay_ep *e = &a->ep[ep];

    e->handle = io->adopt(io->ctx, held, a->dont_fragment, a);
    if (e->handle == NULL) {
        relay_ports_put(pool->ports, addr_port(addr));
        return -1;
    }
    e->addr = *addr;
    e->pool = pool;
    return 0;
}

/* The endpoint that talks to peers of peer's family, or NULL (443). */
struct relay_ep *relay_alloc_ep_for(struct relay_alloc *a, const union addr *peer)
{
    struct relay_ep *e = &a->ep[peer->sa.sa_family == AF_INET6 ? RELAY_EP_V6 : RELAY_EP_V4];

    return e->handle ? e : NULL;
}

static void ip_key(const union addr *a, uint8_t *family, uint8_t ip[16])
{
    memset(ip, 0, 16);
    *family = (uint8_t)a->sa.sa_family;
    if (a->sa.sa_family == AF_INET)
        memcpy(ip, &a->sin.sin_addr, 4);
    else
        memcpy(ip, &a->sin6.sin6_addr, 16);
}

static struct relay_perm *perm_find(struct relay_alloc *a, const union addr *peer)
{
    uint8_t family, ip[16];

    ip_key(peer, &family, ip);
    for (uint16_t i = 0; i < a->nperm; i++)
        if (a->perms[i].family == family && memcmp(a->perms[i].ip, ip, 16) == 0)
            return &a->perms[i];
    return NULL;
}

bool relay_alloc_permitted(const struct relay_alloc *a, const union addr *peer, uint32_t now)
{
    const struct relay_perm *p = perm_find((struct relay_alloc *)a, peer);

    return p && p->expires > now;
}

/* Makes room for one more entry of size elem in an array of *n of *cap, up to max entries.
 * The first entry is the one inside the record (first); from the second on the array is on
 * the heap, doubling from 4.  Returns 0 or -1. */
static int grow(void **arr, void *first, uint16_t n, uint16_t *cap, size_t elem, uint16_t max)
{
    uint16_t ncap;
    void *p;

    if (n < *cap)
        return 0;
    if (n >= max)
        return -1;
    if (*cap == 0) {
        *arr = first;
        *cap = 1;
        return 0;
    }
    ncap = (uint16_t)(*cap * 2 < 4 ? 4 : *cap * 2);
    if (ncap > max)
        ncap = max;
    p = *arr == first ? malloc(ncap * elem) : realloc(*arr, ncap * elem);
    if (p == NULL)
        return -1;
    if (*arr == first)
        memcpy(p, first, n * elem);
    *arr = p;
    *cap = ncap;
    return 0;
}

/* An array that became empty: back to none (the heap one freed). */
static void shrink(void **arr, const void *first, uint16_t *cap)
{
    if (*arr != first)
        free(*arr);
    *arr = NULL;
    *cap = 0;
}

/* Installs or refreshes a permission for peer's IP (RFC 8656 §9).  0, or -1 when the
 * allocation has reached its maximum (508). */
int relay_alloc_permit(struct relay_alloc *a, const union addr *peer, uint32_t now)
{
    uint32_t expires = now + a->relay->sh->permission_lifetime;
    struct relay_perm *p = perm_find(a, peer);

    if (p == NULL) {
        if (grow((void **)&a->perms, &a->perm1, a->nperm, &a->capperm, sizeof(*p),
                 a->relay->sh->max_permissions) < 0)
            return -1;
        p = &a->perms[a->nperm++];
        ip_key(peer, &p->family, p->ip);
    }
    p->expires = expires;
    return 0;
}

struct relay_chan *relay_alloc_chan_by_num(struct relay_alloc *a, uint16_t num, uint32_t now)
{
    for (uint16_t i = 0; i < a->nchan; i++)
        if (a->chans[i].num == num && a->chans[i].expires > now)
            return &a->chans[i];
    return NULL;
}

struct relay_chan *relay_alloc_chan_by_peer(struct relay_alloc *a, const union addr *peer,
                                            uint32_t now)
{
    for (uint16_t i = 0; i < a->nchan; i++)
        if (a->chans[i].expires > now && addr_equal(&a->chans[i].peer, peer))
            return &a->chans[i];
    return NULL;
}

/* Binds channel num to peer, or refreshes that binding, and installs or refreshes the peer's
 * permission (RFC 8656 §12.2).  The caller has checked for conflicts.  0, or -1 (508). */
int relay_alloc_bind(struct relay_alloc *a, uint16_t num, const union addr *peer, uint32_t now)
{
    struct relay_chan *ch = NULL;

    /* The live binding of num, else the slot of any expired binding (not yet swept). */
    ch = relay_alloc_chan_by_num(a, num, now);
    for (uint16_t i = 0; i < a->nchan && ch == NULL; i++)
        if (a->chans[i].expires <= now)
            ch = &a->chans[i];
    if (ch == NULL) {
        if (grow((void **)&a->chans, &a->chan1, a->nchan, &a->capchan, sizeof(*ch),
                 a->relay->sh->max_channels) < 0)
            return -1;
        ch = &a->chans[a->nchan++];
    }
    ch->num = num;
    ch->peer = *peer;
    ch->expires = now + a->relay->sh->channel_lifetime;
    return relay_alloc_permit(a, peer, now);
}

/* Arms the allocation's one timer at the earliest of its own expiry and those of its
 * permissions and channels: the wheel then drives every expiry of the allocation. */
void relay_alloc_schedule(struct relay_alloc *a)
{
    uint32_t next = a->expires;

    for (uint16_t i = 0; i < a->nperm; i++)
        if (a->perms[i].expires < next)
            next = a->perms[i].expires;
    for (uint16_t i = 0; i < a->nchan; i++)
        if (a->chans[i].expires < next)
            next = a->chans[i].expires;
    for (const struct relay_tcpconn *tc = a->tcpconns; tc; tc = tc->next)
        if (tc->state == RELAY_TCP_PENDING && tc->expires < next)
            next = tc->expires;
    wheel_add(a->relay->wheel, &a->timer, next);
}

void relay_alloc_close_family(struct relay_alloc *a, int ep, uint32_t now)
{
    int family = ep == RELAY_EP_V6 ? AF_INET6 : AF_INET;

    ep_close(a, &a->ep[ep]);
    for (uint16_t i = 0; i < a->nperm; i++)
        if (a->perms[i].family == family)
            a->perms[i].expires = 0;
    for (uint16_t i = 0; i < a->nchan; i++)
        if (a->chans[i].peer.sa.sa_family == family)
            a->chans[i].expires = 0;
    relay_alloc_sweep(a, now);
    relay_alloc_schedule(a);
}

/* Removes the permissions and channels that expired by now, keeping the order of the rest;
 * frees the arrays when they become empty. */
void relay_alloc_sweep(struct relay_alloc *a, uint32_t now)
{
    uint16_t k = 0;

    for (uint16_t i = 0; i < a->nperm; i++)
        if (a->perms[i].expires > now)
            a->perms[k++] = a->perms[i];
    a->nperm = k;
    k = 0;
    for (uint16_t i = 0; i < a->nchan; i++)
        if (a->chans[i].expires > now)
            a->chans[k++] = a->chans[i];
    a->nchan = k;
    if (a->nperm == 0)
        shrink((void **)&a->perms, &a->perm1, &a->capperm);
    if (a->nchan == 0)
        shrink((void **)&a->chans, &a->chan1, &a->capchan);
}
