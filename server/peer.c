/* peer.c — relay endpoints: the UDP sockets of allocations, facing the peers. */
#include "server/peer.h"

#include <errno.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "server/dispatch.h"
#include "server/log.h"
#include "server/net.h"
#include "server/udp.h"
#include "server/worker.h"

struct peer_sock {
    struct worker *w;
    struct relay_alloc *owner;
    struct event *ev;
    int fd;
    int family;
    bool df; /* the socket sets DF on everything it sends */
};

static void on_readable(evutil_socket_t fd, short what, void *arg)
{
    struct peer_sock *ps = arg;
    struct worker *w = ps->w;
    int n;

    (void)what;
    n = udp_rx_recv(w->rx, fd, false);
    for (int i = 0; i < n; i++) {
        if (udp_rx_truncated(w->rx, i)) {
            STATS_INC(w->stats.drop[DROP_OVERSIZE]);
            continue;
        }
        relay_peer_data(w->relay, ps->owner, udp_rx_from(w->rx, i), udp_rx_data(w->rx, i),
                        udp_rx_len(w->rx, i), worker_now(w));
    }
    udp_flush_all(w);
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

static void *peer_open(void *ctx, const union addr *a, bool dont_fragment,
                       struct relay_alloc *owner)
{
    struct worker *w = ctx;
    struct peer_sock *ps = calloc(1, sizeof(*ps));
    char err[128];
    int e;

    if (ps == NULL)
        return NULL;
    ps->fd = net_udp_socket(a, NET_RELAY, err, sizeof(err));
    if (ps->fd < 0) {
        e = errno;
        if (e != EADDRINUSE)
            log_warn("relay endpoint: %s", err);
        free(ps);
        errno = e;
        return NULL;
    }
    ps->w = w;
    ps->owner = owner;
    ps->family = a->sa.sa_family;
    ps->df = dont_fragment;
    if ((dont_fragment && set_df(ps->fd, ps->family, true) < 0) ||
        (ps->ev = event_new(w->base, ps->fd, EV_READ | EV_PERSIST, on_readable, ps)) == NULL ||
        event_add(ps->ev, NULL) < 0) {
        e = errno;
        if (ps->ev)
            event_free(ps->ev);
        close(ps->fd);
        free(ps);
        errno = e ? e : ENOMEM;
        return NULL;
    }
    return ps;
}

static void peer_close(void *ctx, void *endpoint)
{
    struct peer_sock *ps = endpoint;

    (void)ctx;
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

static int client_send(void *ctx, const struct relay_client *c, const uint8_t *buf, size_t len)
{
    return dispatch_send(ctx, c, buf, len);
}

void peer_io_init(struct relay_io *io, struct worker *w)
{
    io->ctx = w;
    io->open_udp = peer_open;
    io->close = peer_close;
    io->send_peer = peer_send;
    io->send_client = client_send;
}
