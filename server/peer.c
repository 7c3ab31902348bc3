/* peer.c — relay endpoints: the UDP sockets of allocations, facing the peers. */
#include "server/peer.h"

#include <errno.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "server/dtls.h"
#include "server/log.h"
#include "server/net.h"
#include "server/rstore.h"
#include "server/steer.h"
#include "server/tcp.h"
#include "server/tcppeer.h"
#include "server/udp.h"
#include "server/worker.h"

/* Receive batches per readiness of a steering socket before the loop's other sockets get
 * their turn (it takes what the peers of every allocation of the worker send). */
#define STEER_ROUNDS 8

struct peer_sock {
    enum peer_kind kind; /* PEER_UDP, first (peer.h) */
    struct worker *w;
    struct relay_alloc *owner;
    struct event *ev;
    int fd;
    int family;
    bool df;         /* the socket sets DF on everything it sends */
    bool steered;    /* --relay-steering: registered, at ... */
    uint32_t slot;   /* ... its address's index (steer_index) */
};

/* A worker's side of --relay-steering: its steering sockets, read in batches, and which
 * allocation each relayed address belongs to, by the address's index (O(1); a page of the
 * table is touched only where ports are in use). */
struct peer_steering {
    struct event *ev[2];        /* IPv4, IPv6; NULL: no relay IP */
    struct relay_alloc **owner; /* [steer_index], steer_slots of them */
    bool warned;                /* that an address could not be steered */
};

/* What the peers sent is received into the worker's relay batch and relayed; datagrams for
 * UDP clients stay queued until the end of the loop iteration (udp_relay_recv). */
static void on_readable(evutil_socket_t fd, short what, void *arg)
{
    struct peer_sock *ps = arg;
    struct worker *w = ps->w;
    struct udp_rx *rx = w->relay_rx;
    int first, n;

    (void)what;
    n = udp_relay_recv(w, fd, false, &first);
    for (int i = first; i < first + n; i++) {
        if (udp_rx_truncated(rx, i)) {
            STATS_INC(w->stats.drop[DROP_OVERSIZE]);
            continue;
        }
        relay_peer_data(w->relay, ps->owner, udp_rx_from(rx, i), udp_rx_data(rx, i),
                        udp_rx_len(rx, i), worker_now(w));
    }
}

/* What the peers of every allocation of this worker sent to its steering socket for one
 * family: each datagram goes to the allocation of the address it was sent to.  A first pass
 * over the batch finds them and fetches them into the cache together; the second relays,
 * reading the table again (relaying one datagram may end another's allocation). */
static void on_steered(evutil_socket_t fd, short what, void *arg)
{
    struct worker *w = arg;
    struct relay_alloc **owner = w->steering->owner;
    struct udp_rx *rx = w->relay_rx;
    uint32_t slot[UDP_BATCH];
    bool ours[UDP_BATCH];
    uint32_t now = worker_now(w);

    (void)what;
    for (int round = 0; round < STEER_ROUNDS; round++) {
        int first, n = udp_relay_recv(w, fd, true, &first);

        for (int i = first; i < first + n; i++) {
            union addr dst;

            ours[i] = !udp_rx_truncated(rx, i) && steer_dst(udp_rx_msg(rx, i), &dst) &&
                      steer_index(w->shared->steer, &dst, &slot[i]);
            if (ours[i] && owner[slot[i]] != NULL)
                relay_prefetch(owner[slot[i]]);
        }
        for (int i = first; i < first + n; i++) {
            if (udp_rx_truncated(rx, i)) {
                STATS_INC(w->stats.drop[DROP_OVERSIZE]);
            } else if (!ours[i] || owner[slot[i]] == NULL) {
                STATS_INC(w->stats.steered[STEERED_NO_ENDPOINT]);
            } else {
                STATS_INC(w->stats.steered[STEERED_RELAYED]);
                relay_peer_data(w->relay, owner[slot[i]], udp_rx_from(rx, i),
                                udp_rx_data(rx, i), udp_rx_len(rx, i), now);
            }
        }
        if (first + n < UDP_BATCH)
            break;
    }
}

int peer_steering_start(struct worker *w)
{
    static const int families[2] = {AF_INET, AF_INET6};
    struct peer_steering *st = calloc(1, sizeof(*st));

    if (st == NULL)
        return -1;
    w->steering = st;
    st->owner = calloc(steer_slots(w->shared->steer), sizeof(*st->owner));
    if (st->owner == NULL)
        return -1;
    for (int f = 0; f < 2; f++) {
        int fd = steer_socket(w->shared->steer, (unsigned)w->id, families[f]);

        if (fd < 0)
            continue;
        st->ev[f] = event_new(w->base, fd, EV_READ | EV_PERSIST, on_steered, w);
        if (st->ev[f] == NULL || event_add(st->ev[f], NULL) < 0)
            return -1;
    }
    return 0;
}

void peer_steering_stop(struct worker *w)
{
    struct peer_steering *st = w->steering;

    if (st == NULL)
        return;
    for (int f = 0; f < 2; f++)
        if (st->ev[f])
            event_free(st->ev[f]);
    free(st->owner);
    free(st);
    w->steering = NULL;
}

/* With --relay-steering, what the peers send to ps's address (local) goes to the worker's
 * steering socket from now on.  False when that failed: ps's own socket must then be read. */
static bool steer(struct peer_sock *ps, const union addr *local)
{
    struct worker *w = ps->w;
    bool relayed = steer_index(w->shared->steer, local, &ps->slot);
    char a[ADDR_STRLEN];

    if (!relayed || steer_add(w->shared->steer, (unsigned)w->id, ps->slot) < 0) {
        /* Once per worker: after the first, every allocation would say the same. */
        if (!w->steering->warned)
            log_warn("--relay-steering: %s is not steered (%s): its own socket is read, and "
                     "so are those of the next allocations that cannot be steered",
                     addr_format(local, a, sizeof(a)),
                     relayed ? strerror(errno) : "not a relay IP and port");
        w->steering->warned = true;
        return false;
    }
    w->steering->owner[ps->slot] = ps->owner;
    ps->steered = true;
    return true;
}

/* Stops steering ps's address, before its socket closes. */
static void unsteer(struct peer_sock *ps)
{
    steer_del(ps->w->shared->steer, ps->slot);
    ps->w->steering->owner[ps->slot] = NULL;
}

/* Path MTU discovery "do": the kernel sets DF and refuses to fragment (RFC 8656 §14). */
static int set_df(int fd, int family, bool on)
{
    int v;

    if (family == AF_INET) {
        v = on ? IP_PMTUDISC_DO : IP_PMTUDISC_DONT;
        return setsockopt(fd, IPPROTO_IP, IP_MTU_DISCOVER, &v, sizeof(v));
    }
    v = on ? 1 : 0;
    return setsockopt(fd, IPPROTO_IPV6, IPV6_DONTFRAG, &v, sizeof(v));
}

/* A socket that keeps a reserved port ours, read by nobody until an Allocate adopts it. */
struct held_sock {
    int fd;
    union addr local;
};

/* Makes fd, bound to local, an endpoint of owner read in w's loop; closes fd on failure. */
static void *attach(struct worker *w, int fd, const union addr *local, bool dont_fragment,
                    struct relay_alloc *owner)
{
    int family = local->sa.sa_family;
    struct peer_sock *ps = calloc(1, sizeof(*ps));
    int e;

    if (ps == NULL)
        goto fail;
    ps->kind = PEER_UDP;
    ps->w = w;
    ps->owner = owner;
    ps->fd = fd;
    ps->family = family;
    ps->df = dont_fragment;
    if (dont_fragment && set_df(fd, family, true) < 0)
        goto fail;
    /* A steered socket is not watched at all: nothing arrives on it that a peer with a
     * permission sent (the client learns the address after it was registered), and a socket
     * nobody polls costs no wake-up walk on each datagram it sends. */
    if (w->steering && steer(ps, local))
        return ps;
    ps->ev = event_new(w->base, fd, EV_READ | EV_PERSIST, on_readable, ps);
    if (ps->ev == NULL || event_add(ps->ev, NULL) < 0)
        goto fail;
    return ps;
fail:
    e = errno ? errno : ENOMEM;
    if (ps && ps->ev)
        event_free(ps->ev);
    free(ps);
    close(fd);
    errno = e;
    return NULL;
}

/* A relay socket bound to a; errno kept (EADDRINUSE tells relay/ to try another port). */
static int bind_relay(const union addr *a)
{
    char err[128];
    int fd = net_udp_socket(a, NET_RELAY, err, sizeof(err));

    if (fd < 0 && errno != EADDRINUSE) {
        int e = errno;
        log_warn("relay endpoint: %s", err);
        errno = e;
    }
    return fd;
}

static void *peer_open(void *ctx, const union addr *a, bool dont_fragment,
                       struct relay_alloc *owner)
{
    int fd = bind_relay(a);

    return fd < 0 ? NULL : attach(ctx, fd, a, dont_fragment, owner);
}

static void *peer_hold(void *ctx, const union addr *a)
{
    struct held_sock *h = malloc(sizeof(*h));

    (void)ctx;
    if (h == NULL)
        return NULL;
    h->fd = bind_relay(a);
    h->local = *a;
    if (h->fd < 0) {
        int e = errno;
        free(h);
        errno = e;
        return NULL;
    }
    return h;
}

static void *peer_adopt(void *ctx, void *held, bool dont_fragment, struct relay_alloc *owner)
{
    struct held_sock *h = held;
    union addr local = h->local;
    int fd = h->fd;

    free(h);
    return attach(ctx, fd, &local, dont_fragment, owner);
}

void peer_unhold(void *ctx, void *held)
{
    struct held_sock *h = held;

    (void)ctx;
    if (h == NULL)
        return;
    close(h->fd);
    free(h);
}

static void peer_close(void *ctx, void *endpoint)
{
    struct peer_sock *ps = endpoint;

    (void)ctx;
    if (tcppeer_close_endpoint(endpoint))
        return;
    if (ps->steered)
        unsteer(ps);
    else
        event_free(ps->ev);
    close(ps->fd);
    free(ps);
}

static int peer_send(void *ctx, void *endpoint, const union addr *peer, const uint8_t *buf,
                     size_t len, bool dont_fragment)
{
    struct peer_sock *ps = endpoint;
    bool toggle = dont_fragment && !ps->df;
    ssize_t r;

    (void)ctx;
    /* A Send indication may ask for DF on one datagram (RFC 8656 §11.2): rare enough that
     * switching the socket option around it costs nothing that matters. */
    if (toggle)
        set_df(ps->fd, ps->family, true);
    r = sendto(ps->fd, buf, len, 0, &peer->sa, addr_len(peer));
    if (toggle)
        set_df(ps->fd, ps->family, false);
    return r < 0 ? -1 : 0;
}

/* Relayed data for a client: framed in place in the receive batch, so a UDP client's datagram
 * is queued by reference (sent by sendmmsg at the end of the batch, never copied); a stream
 * takes its own copy, and DTLS encrypts it into a datagram at once. */
static int client_send(void *ctx, const struct relay_client *c, const uint8_t *buf, size_t len)
{
    (void)ctx;
    if (c->transport == RELAY_UDP)
        return udp_sock_send_ref(c->handle, &c->remote, &c->local, buf, len);
    if (c->transport == RELAY_DTLS)
        return dtls_session_send(c->handle, buf, len);
    return tcp_conn_relay(c->handle, buf, len);
}

static void client_state(void *ctx, const struct relay_client *c, bool has_allocation)
{
    (void)ctx;
    if (c->transport == RELAY_DTLS)
        dtls_session_set_allocated(c->handle, has_allocation);
    else if (c->transport != RELAY_UDP)
        tcp_conn_set_allocated(c->handle, has_allocation);
}

static const char *const transport_names[] = {
    [RELAY_UDP] = "udp", [RELAY_TCP] = "tcp", [RELAY_TLS] = "tls", [RELAY_DTLS] = "dtls"};

static const char *const end_names[] = {
    [RELAY_END_NONE] = "none",          [RELAY_END_EXPIRED] = "expired",
    [RELAY_END_DELETED] = "deleted",    [RELAY_END_CLIENT_GONE] = "client_gone",
    [RELAY_END_SHUTDOWN] = "shutdown",
};

/* One line when an allocation starts and one when it ends (DESIGN §5): who, from where, which
 * relayed addresses, and at the end how long and how much, in key=value form for log tools.
 * Every event, refreshes too, also goes to the Redis statsdb when there is one. */
static void log_allocation(void *ctx, const struct relay_alloc_info *i)
{
    struct worker *w = ctx;
    const char *realm = i->limits ? i->limits->realm : w->cfg->realm;
    char client[ADDR_STRLEN], relayed[2 * ADDR_STRLEN + 2] = "";

    rstore_allocation(w, i);
    if (!log_enabled(LOG_LVL_INFO) || i->refreshed)
        return;
    for (size_t k = 0; k < i->nrelayed; k++) {
        char a[ADDR_STRLEN];
        strcat(relayed, k ? "," : "");
        strcat(relayed, addr_format(&i->relayed[k], a, sizeof(a)));
    }
    addr_format(&i->client->remote, client, sizeof(client));
    if (i->end == RELAY_END_NONE) {
        log_info("allocation start user=%s realm=%s client=%s/%s relay=%s%s lifetime=%u",
                 i->user, realm, transport_names[i->client->transport], client, relayed,
                 i->tcp ? "/tcp" : "", i->lifetime);
        return;
    }
    log_info("allocation end user=%s realm=%s client=%s/%s relay=%s%s reason=%s duration=%u "
             "to_peer_packets=%llu to_peer_bytes=%llu to_client_packets=%llu "
             "to_client_bytes=%llu",
             i->user, realm, transport_names[i->client->transport], client, relayed,
             i->tcp ? "/tcp" : "", end_names[i->end], i->duration,
             (unsigned long long)i->to_peer_packets, (unsigned long long)i->to_peer_bytes,
             (unsigned long long)i->to_client_packets, (unsigned long long)i->to_client_bytes);
}

void peer_io_init(struct relay_io *io, struct worker *w)
{
    io->ctx = w;
    io->open_udp = peer_open;
    io->hold = peer_hold;
    io->adopt = peer_adopt;
    io->unhold = peer_unhold;
    io->close = peer_close;
    io->send_peer = peer_send;
    io->send_client = client_send;
    io->client_state = client_state;
    io->on_allocation = log_allocation;
    tcppeer_io_init(io, w);
}
