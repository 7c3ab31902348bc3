/* udp.c — UDP client listeners: batched receive (recvmmsg), batched replies (sendmmsg). */
#include "server/udp.h"

#include <errno.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "server/dispatch.h"
#include "server/log.h"
#include "server/net.h"
#include "server/worker.h"

/* Receive slots keep room before the datagram so a relay can frame a payload in place. */
#define UDP_HEADROOM UDP_RX_HEADROOM
#define UDP_SLOT (UDP_HEADROOM + UDP_MAX_DATAGRAM + 4)
/* Receive batches per readiness event before yielding to the other sockets of the loop. */
#define UDP_ROUNDS 8
/* Replies are copied into the queue; a longer one is sent on its own at once. */
#define UDP_OUT_DATA 2048

typedef union {
    struct cmsghdr align;
    uint8_t buf[NET_PKTINFO_SPACE];
} ctl_buf;

struct udp_rx {
    int used; /* slots holding datagrams still referenced (udp_relay_recv's batch) */
    struct mmsghdr msgs[UDP_BATCH];
    struct iovec iov[UDP_BATCH];
    union addr from[UDP_BATCH];
    ctl_buf ctl[UDP_BATCH];
    uint8_t data[UDP_BATCH][UDP_SLOT];
};

struct udp_out {
    unsigned n;
    struct mmsghdr msgs[UDP_BATCH];
    struct iovec iov[UDP_BATCH];
    union addr dst[UDP_BATCH];
    ctl_buf ctl[UDP_BATCH];
    uint8_t data[UDP_BATCH][UDP_OUT_DATA];
};

struct udp_sock {
    struct worker *w;
    int fd;
    bool wildcard;
    union addr local;
    struct event *ev;
    struct udp_out out;
};

int udp_rx_new(struct udp_rx **out)
{
    struct udp_rx *rx = calloc(1, sizeof(*rx));

    if (rx == NULL)
        return -1;
    for (int i = 0; i < UDP_BATCH; i++) {
        rx->iov[i].iov_base = rx->data[i] + UDP_HEADROOM;
        rx->msgs[i].msg_hdr.msg_iov = &rx->iov[i];
        rx->msgs[i].msg_hdr.msg_iovlen = 1;
        rx->msgs[i].msg_hdr.msg_name = &rx->from[i];
    }
    *out = rx;
    return 0;
}

void udp_rx_free(struct udp_rx *rx)
{
    free(rx);
}

static void flush(struct udp_sock *s)
{
    struct udp_out *q = &s->out;
    struct stats *st = &s->w->stats;
    unsigned i = 0;

    while (i < q->n) {
        int r = sendmmsg(s->fd, q->msgs + i, q->n - i, 0);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            /* The first datagram left failed (full buffer, unreachable destination): count it
             * and go on with the rest rather than lose the whole batch. */
            log_debug("udp send: %s", strerror(errno));
            STATS_INC(st->drop[DROP_SEND_FAILED]);
            i++;
            continue;
        }
        for (int k = 0; k < r; k++)
            STATS_ADD(st->tx_bytes, q->iov[i + (unsigned)k].iov_len);
        STATS_ADD(st->tx_packets, (unsigned)r);
        i += (unsigned)r;
    }
    q->n = 0;
}

static void fill_msg(struct udp_sock *s, struct msghdr *h, struct iovec *iov, ctl_buf *ctl,
                     union addr *dst_copy, const union addr *dst, const union addr *src)
{
    *dst_copy = *dst;
    memset(h, 0, sizeof(*h));
    h->msg_name = dst_copy;
    h->msg_namelen = addr_len(dst);
    h->msg_iov = iov;
    h->msg_iovlen = 1;
    if (s->wildcard) {
        h->msg_control = ctl->buf;
        h->msg_controllen = net_pktinfo_put(ctl->buf, sizeof(ctl->buf), src);
        if (h->msg_controllen == 0)
            h->msg_control = NULL;
    }
}

static int send_now(struct udp_sock *s, const union addr *dst, const union addr *src,
                    const void *buf, size_t len)
{
    struct iovec iov = {.iov_base = (void *)buf, .iov_len = len};
    union addr d;
    ctl_buf ctl;
    struct msghdr h;

    fill_msg(s, &h, &iov, &ctl, &d, dst, src);
    if (sendmsg(s->fd, &h, 0) < 0) {
        STATS_INC(s->w->stats.drop[DROP_SEND_FAILED]);
        return -1;
    }
    STATS_INC(s->w->stats.tx_packets);
    STATS_ADD(s->w->stats.tx_bytes, len);
    return 0;
}

/* Queues buf: copied into the queue's own slot, or referenced where it lies. */
static int enqueue(struct udp_sock *s, const union addr *dst, const union addr *src,
                   const void *buf, size_t len, bool copy)
{
    struct udp_out *q = &s->out;
    unsigned i;

    if (copy && len > UDP_OUT_DATA)
        return send_now(s, dst, src, buf, len);
    if (q->n == UDP_BATCH)
        flush(s);
    i = q->n++;
    if (copy) {
        memcpy(q->data[i], buf, len);
        buf = q->data[i];
    }
    q->iov[i].iov_base = (void *)buf;
    q->iov[i].iov_len = len;
    fill_msg(s, &q->msgs[i].msg_hdr, &q->iov[i], &q->ctl[i], &q->dst[i], dst, src);
    return 0;
}

struct udp_sock *udp_sock_find(struct worker *w, const union addr *local)
{
    for (size_t i = 0; i < w->nudp; i++)
        if (!w->udp[i]->wildcard && addr_equal(&w->udp[i]->local, local))
            return w->udp[i];
    return NULL;
}

int udp_sock_send(struct udp_sock *s, const union addr *dst, const union addr *src,
                  const void *buf, size_t len)
{
    return enqueue(s, dst, src, buf, len, true);
}

int udp_sock_send_ref(struct udp_sock *s, const union addr *dst, const union addr *src,
                      const void *buf, size_t len)
{
    return enqueue(s, dst, src, buf, len, false);
}

/* Receives into slots [first, UDP_BATCH) of rx.  Returns how many datagrams came. */
static int recv_at(struct udp_rx *rx, int first, int fd, bool pktinfo)
{
    int n;

    for (int i = first; i < UDP_BATCH; i++) {
        struct msghdr *h = &rx->msgs[i].msg_hdr;
        h->msg_namelen = sizeof(rx->from[i]);
        h->msg_control = pktinfo ? rx->ctl[i].buf : NULL;
        h->msg_controllen = pktinfo ? sizeof(rx->ctl[i].buf) : 0;
        h->msg_flags = 0;
        rx->iov[i].iov_len = UDP_MAX_DATAGRAM;
    }
    n = recvmmsg(fd, rx->msgs + first, (unsigned)(UDP_BATCH - first), MSG_DONTWAIT, NULL);
    if (n < 0) {
        if (errno != EAGAIN && errno != EINTR)
            log_debug("udp receive: %s", strerror(errno));
        return 0;
    }
    return n;
}

int udp_rx_recv(struct udp_rx *rx, int fd, bool pktinfo)
{
    return recv_at(rx, 0, fd, pktinfo);
}

int udp_relay_recv(struct worker *w, int fd, bool ctl, int *first)
{
    struct udp_rx *rx = w->relay_rx;
    int n;

    if (rx->used == UDP_BATCH)
        udp_flush_all(w);
    *first = rx->used;
    n = recv_at(rx, rx->used, fd, ctl);
    rx->used += n;
    return n;
}

uint8_t *udp_rx_data(struct udp_rx *rx, int i)
{
    return rx->data[i] + UDP_HEADROOM;
}

size_t udp_rx_len(const struct udp_rx *rx, int i)
{
    return rx->msgs[i].msg_len;
}

const union addr *udp_rx_from(const struct udp_rx *rx, int i)
{
    return &rx->from[i];
}

bool udp_rx_truncated(const struct udp_rx *rx, int i)
{
    return (rx->msgs[i].msg_hdr.msg_flags & MSG_TRUNC) != 0;
}

const struct msghdr *udp_rx_msg(const struct udp_rx *rx, int i)
{
    return &rx->msgs[i].msg_hdr;
}

bool udp_rx_local(const struct udp_rx *rx, int i, uint16_t port, union addr *out)
{
    return net_pktinfo_get(&rx->msgs[i].msg_hdr, port, out);
}

void udp_flush_all(struct worker *w)
{
    for (size_t k = 0; k < w->nudp; k++)
        if (w->udp[k]->out.n > 0)
            flush(w->udp[k]);
    w->relay_rx->used = 0; /* nothing queued refers to it any more */
}

/* The client 5-tuple of datagram i: where it came from, and the address it was sent to. */
static void client_of(const struct udp_sock *s, const struct udp_rx *rx, int i,
                      struct relay_client *c)
{
    *c = (struct relay_client){.transport = RELAY_UDP, .handle = (void *)s,
                               .remote = rx->from[i]};
    if (!s->wildcard ||
        !net_pktinfo_get(&rx->msgs[i].msg_hdr, addr_port(&s->local), &c->local))
        c->local = s->local;
}

/* Ahead of a batch: each datagram's client 5-tuple, and the allocations its ChannelData
 * messages are for fetched into the cache together (with thousands of allocations, each is a
 * cache miss or more). */
static void batch_clients(const struct udp_sock *s, struct udp_rx *rx, int n,
                          struct relay_client *c)
{
    for (int i = 0; i < n; i++) {
        client_of(s, rx, i, &c[i]);
        if (udp_rx_len(rx, i) >= 4 && (udp_rx_data(rx, i)[0] & 0xC0) == 0x40)
            relay_prefetch_client(s->w->relay, &c[i]);
    }
}

static void receive_one(struct udp_sock *s, struct udp_rx *rx, int i,
                        const struct relay_client *c)
{
    size_t len = udp_rx_len(rx, i);
    struct stats *st = &s->w->stats;

    STATS_INC(st->rx_packets);
    STATS_ADD(st->rx_bytes, len);
    if (udp_rx_truncated(rx, i)) {
        STATS_INC(st->drop[DROP_OVERSIZE]);
        return;
    }
    if (len == 0) {
        STATS_INC(st->drop[DROP_NOT_STUN]);
        return;
    }
    dispatch_packet(s->w, c, udp_rx_data(rx, i), len);
}

static void on_readable(evutil_socket_t fd, short what, void *arg)
{
    struct udp_sock *s = arg;
    struct udp_rx *rx = s->w->rx;
    struct relay_client clients[UDP_BATCH];

    (void)what;
    for (int round = 0; round < UDP_ROUNDS; round++) {
        int n = udp_rx_recv(rx, fd, s->wildcard);

        batch_clients(s, rx, n, clients);
        for (int i = 0; i < n; i++)
            receive_one(s, rx, i, &clients[i]);
        udp_flush_all(s->w);
        if (n < UDP_BATCH)
            break;
    }
}

int udp_sock_open(struct udp_sock **out, struct worker *w, const union addr *a, char *err,
                  size_t errlen)
{
    struct udp_sock *s = calloc(1, sizeof(*s));
    unsigned flags = NET_REUSEPORT;

    if (s == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    s->w = w;
    s->local = *a;
    s->wildcard = addr_is_any(a);
    if (s->wildcard)
        flags |= NET_PKTINFO;
    s->fd = net_udp_socket(a, flags, err, errlen);
    if (s->fd < 0) {
        free(s);
        return -1;
    }
    s->ev = event_new(w->base, s->fd, EV_READ | EV_PERSIST, on_readable, s);
    if (s->ev == NULL || event_add(s->ev, NULL) < 0) {
        snprintf(err, errlen, "cannot watch a UDP socket");
        udp_sock_close(s);
        return -1;
    }
    *out = s;
    return 0;
}

void udp_sock_close(struct udp_sock *s)
{
    if (s == NULL)
        return;
    if (s->ev)
        event_free(s->ev);
    close(s->fd);
    free(s);
}
