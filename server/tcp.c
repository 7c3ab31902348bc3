/* tcp.c — TCP client listeners and connections: STUN and ChannelData framed on the stream. */
#include "server/tcp.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "proto/frame.h"
#include "proto/stun.h"
#include "server/dispatch.h"
#include "server/log.h"
#include "server/net.h"
#include "server/rstore.h"
#include "server/tls.h"
#include "server/worker.h"

/* Input is read up to this much ahead of the parser: more than the longest frame (a STUN
 * message or a ChannelData message is at most 20 + 65535 bytes), so a frame always fits. */
#define TCP_INPUT_MAX (128 * 1024)
#define TCP_BACKLOG 1024

struct tcp_listener {
    struct worker *w;
    struct evconnlistener *l;
    union addr local;
    const struct tls *tls; /* TLS listener (RELAY_TLS connections); NULL for plain TCP */
};

/* What became of a connection while its own read loop ran (RFC 6062 data connections). */
enum tcp_fate {
    TCP_LIVE,
    TCP_RELEASED,   /* its bufferevent now belongs to a splice: only the struct goes */
    TCP_HANDED_OFF, /* its socket moves to another worker: hand it over, then close */
};

struct tcp_conn {
    LIST_ENTRY(tcp_conn) link;
    struct worker *w;
    struct bufferevent *bev;
    union addr remote;
    union addr local;
    enum relay_transport transport;   /* RELAY_TCP or RELAY_TLS */
    struct tls_handshake *handshake;  /* while a TLS handshake runs */
    bool paused;  /* reading stopped until the client reads its answers */
    bool closing; /* the client closed its side: close once the output is written */
    bool in_read; /* read_frames() is running: a change of fate waits for it to finish */
    bool parked;  /* its first frame waits for Redis: not read until tcp_conn_resume() */
    enum tcp_fate fate;
    tcp_handoff_fn *handoff;
    void *handoff_arg;
};

static bool read_loop(struct tcp_conn *c);
static bool read_frames(struct tcp_conn *c);

/* Over TLS, the ciphertext the filter has handed to the socket under it. */
static struct evbuffer *wire_output(struct tcp_conn *c)
{
    return bufferevent_get_output(bufferevent_get_underlying(c->bev));
}

/* What the client has yet to be sent: the output, and over TLS that ciphertext too. */
static size_t unsent(struct tcp_conn *c)
{
    size_t n = evbuffer_get_length(bufferevent_get_output(c->bev));

    return c->transport == RELAY_TLS ? n + evbuffer_get_length(wire_output(c)) : n;
}

/* A closing TLS connection's ciphertext has all gone to the kernel: on_write, deferred, closes
 * it.  The filter runs its own write callback only when its plaintext drains, which comes
 * before this. */
static void on_wire_drained(struct evbuffer *buf, const struct evbuffer_cb_info *info,
                            void *arg)
{
    struct tcp_conn *c = arg;

    if (info->n_deleted > 0 && evbuffer_get_length(buf) == 0)
        bufferevent_trigger(c->bev, EV_WRITE,
                            BEV_TRIG_IGNORE_WATERMARKS | BEV_TRIG_DEFER_CALLBACKS);
}

static void close_with(struct tcp_conn *c, enum stats_conn why)
{
    STATS_INC(c->w->stats.conn[why]);
    tcp_conn_close(c);
}

void tcp_conn_close(struct tcp_conn *c)
{
    struct relay_client ref;

    if (c == NULL)
        return;
    /* RFC 8656 §3.1: an allocation made over a stream dies with the stream. */
    ref = (struct relay_client){
        .transport = c->transport, .remote = c->remote, .local = c->local, .handle = c};
    relay_client_gone(c->w->relay, &ref);
    rstore_forget(c->w, c);
    tls_handshake_abort(c->handshake);
    LIST_REMOVE(c, link);
    c->w->nconns--;
    if (c->closing && c->transport == RELAY_TLS)
        evbuffer_remove_cb(wire_output(c), on_wire_drained, c);
    bufferevent_free(c->bev);
    free(c);
}

int tcp_conn_send(struct tcp_conn *c, const void *buf, size_t len)
{
    int rc = c->transport == RELAY_TLS ? tls_send(c->w->tls_worker, c->bev, buf, len)
                                       : bufferevent_write(c->bev, buf, len);

    if (rc < 0) {
        STATS_INC(c->w->stats.drop[DROP_SEND_FAILED]);
        return -1;
    }
    STATS_INC(c->w->stats.tx_packets);
    STATS_ADD(c->w->stats.tx_bytes, len);
    return 0;
}

int tcp_conn_relay(struct tcp_conn *c, const void *buf, size_t len)
{
    if (evbuffer_get_length(bufferevent_get_output(c->bev)) >= c->w->cfg->tcp_max_buffer)
        return RELAY_IO_FULL;
    return tcp_conn_send(c, buf, len);
}

/* The stream's timeouts, each --tcp-idle-timeout or none: reading nothing that long closes it
 * (not while it holds an allocation, whose lifetime rules then), and so does output waiting
 * that long (a client that stopped reading).  Over TLS the write timeout is the socket's under
 * the filter: libevent re-arms a filter's write timeout after each write, even with nothing
 * left to send, which closed an allocated TLS client the server had nothing to say to. */
static void set_timeouts(struct tcp_conn *c, bool reads, bool writes)
{
    struct timeval idle = {.tv_sec = c->w->cfg->tcp_idle_timeout};
    const struct timeval *rd = reads ? &idle : NULL, *wr = writes ? &idle : NULL;
    struct bufferevent *under =
        c->transport == RELAY_TLS ? bufferevent_get_underlying(c->bev) : NULL;

    bufferevent_set_timeouts(c->bev, rd, under ? NULL : wr);
    if (under)
        bufferevent_set_timeouts(under, NULL, wr);
}

void tcp_conn_set_allocated(struct tcp_conn *c, bool allocated)
{
    set_timeouts(c, !allocated, true);
}

/* The TLS handshake is over: from now on the stream's own timeouts apply.  Called from the
 * first read when data came with the client's last handshake flight (libevent delivers it
 * before BEV_EVENT_CONNECTED), or at that event. */
static void handshake_over(struct tcp_conn *c)
{
    tls_handshake_done(c->handshake);
    c->handshake = NULL;
    tls_log_established(c->bev, &c->remote);
    set_timeouts(c, true, true); /* no allocation can have come before */
}

/* Stops reading a client that does not read its answers; on_write resumes it when half of
 * the output has drained.  The worker never waits on it. */
static void pause_reading(struct tcp_conn *c)
{
    if (c->paused)
        return;
    c->paused = true;
    STATS_INC(c->w->stats.conn[CONN_PAUSED_SLOW]);
    bufferevent_disable(c->bev, EV_READ);
    bufferevent_setwatermark(c->bev, EV_WRITE, c->w->cfg->tcp_max_buffer / 2, 0);
}

void tcp_conn_resume(struct tcp_conn *c)
{
    c->parked = false;
    if (c->paused)
        return; /* on_write resumes it once the client has read its answers */
    bufferevent_enable(c->bev, EV_READ);
    read_frames(c);
}

struct bufferevent *tcp_conn_release(struct tcp_conn *c)
{
    struct bufferevent *bev = c->bev;

    rstore_forget(c->w, c);
    LIST_REMOVE(c, link);
    c->w->nconns--;
    bufferevent_setcb(bev, NULL, NULL, NULL, NULL);
    set_timeouts(c, false, false);
    bufferevent_setwatermark(bev, EV_READ | EV_WRITE, 0, 0);
    if (c->in_read)
        c->fate = TCP_RELEASED; /* read_frames() frees the struct when it returns */
    else
        free(c);
    return bev;
}

void tcp_conn_handoff(struct tcp_conn *c, tcp_handoff_fn *fn, void *arg)
{
    c->fate = TCP_HANDED_OFF;
    c->handoff = fn;
    c->handoff_arg = arg;
}

/* Gives the other worker its own descriptor of the socket, the TLS session if any, and what
 * was read ahead (ciphertext for TLS, plaintext past the request). */
static void handoff(struct tcp_conn *c, struct evbuffer *in, size_t rest)
{
    struct tcp_handover h = {.nrest = rest};
    struct bufferevent *sock = c->bev;

    if (c->transport == RELAY_TLS) {
        sock = bufferevent_get_underlying(c->bev);
        h.ssl = tls_bev_detach(c->bev);
        h.nwire = evbuffer_get_length(bufferevent_get_input(sock));
        h.wire = h.nwire ? evbuffer_pullup(bufferevent_get_input(sock), -1) : NULL;
    }
    h.fd = dup(bufferevent_getfd(sock));
    h.rest = rest ? evbuffer_pullup(in, -1) : NULL;
    h.nunsent = evbuffer_get_length(bufferevent_get_output(sock));
    h.unsent = h.nunsent ? evbuffer_pullup(bufferevent_get_output(sock), -1) : NULL;
    if (h.fd < 0 || (c->transport == RELAY_TLS && h.ssl == NULL)) {
        if (h.fd >= 0)
            close(h.fd);
        h.fd = -1;
    }
    c->handoff(&h, c->handoff_arg);
}

/* Carries out a fate decided during the read loop, once the frame that decided it is gone
 * from the input.  Returns false: the connection is no longer ours. */
static bool follow_fate(struct tcp_conn *c)
{
    struct evbuffer *in = bufferevent_get_input(c->bev);
    size_t rest = evbuffer_get_length(in);

    if (c->fate == TCP_RELEASED) {
        free(c); /* what followed the frame is the new owner's to read (tcp_conn_release) */
        return false;
    }
    handoff(c, in, rest);
    tcp_conn_close(c);
    return false;
}

/* Takes every complete frame from the input.  Returns false when the connection was closed. */
static bool read_frames(struct tcp_conn *c)
{
    bool open;

    c->in_read = true;
    open = read_loop(c);
    if (open)
        c->in_read = false;
    return open;
}

static bool read_loop(struct tcp_conn *c)
{
    struct evbuffer *in = bufferevent_get_input(c->bev);
    struct evbuffer *out = bufferevent_get_output(c->bev);
    struct relay_client ref = {.transport = c->transport, .remote = c->remote,
                               .local = c->local, .handle = c};

    for (;;) {
        size_t avail = evbuffer_get_length(in);
        size_t head = avail < STUN_HEADER_LEN ? avail : STUN_HEADER_LEN;
        uint8_t *p;
        int flen;

        if (avail == 0)
            return true;
        if (evbuffer_get_length(out) >= c->w->cfg->tcp_max_buffer) {
            pause_reading(c);
            return true;
        }
        flen = frame_stream_len(evbuffer_pullup(in, (ev_ssize_t)head), head);
        if (flen == STUN_E_INCOMPLETE || (flen > 0 && avail < (size_t)flen))
            return true;
        if (flen < 0) {
            char a[ADDR_STRLEN];
            log_debug("tcp %s: not STUN/TURN, closing", addr_format(&c->remote, a, sizeof(a)));
            close_with(c, CONN_CLOSED_DESYNC);
            return false;
        }
        p = evbuffer_pullup(in, flen);
        if (dispatch_packet(c->w, &ref, p, (size_t)flen) == DISPATCH_PARKED) {
            /* The request waits for Redis: it stays first in the input, read again (and
             * counted then) when tcp_conn_resume() comes; nothing after it is read before. */
            c->parked = true;
            bufferevent_disable(c->bev, EV_READ);
            return true;
        }
        STATS_INC(c->w->stats.rx_packets);
        STATS_ADD(c->w->stats.rx_bytes, (unsigned)flen);
        evbuffer_drain(in, (size_t)flen);
        if (c->fate != TCP_LIVE)
            return follow_fate(c);
    }
}

static void on_read(struct bufferevent *bev, void *arg)
{
    struct tcp_conn *c = arg;

    (void)bev;
    if (c->handshake)
        handshake_over(c);
    read_frames(c);
}

static void on_write(struct bufferevent *bev, void *arg)
{
    struct tcp_conn *c = arg;

    if (c->closing) {
        if (unsent(c) == 0)
            close_with(c, CONN_CLOSED_PEER);
        return;
    }
    if (c->paused) {
        c->paused = false;
        bufferevent_setwatermark(bev, EV_WRITE, 0, 0);
        if (c->parked)
            return; /* reading resumes with tcp_conn_resume() */
        bufferevent_enable(bev, EV_READ);
        read_frames(c);
    }
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
    struct tcp_conn *c = arg;

    if (what & BEV_EVENT_CONNECTED) {
        if (c->handshake)
            handshake_over(c);
        return;
    }
    if (c->handshake)
        tls_log_failure(bev, &c->remote);
    if (what & BEV_EVENT_TIMEOUT) {
        close_with(c, CONN_CLOSED_IDLE);
        return;
    }
    if ((what & BEV_EVENT_EOF) && !(what & BEV_EVENT_ERROR) && unsent(c) > 0) {
        /* Half-closed after its last request: deliver the answers, then close. */
        c->closing = true;
        bufferevent_disable(bev, EV_READ);
        bufferevent_setwatermark(bev, EV_WRITE, 0, 0);
        if (c->transport != RELAY_TLS || evbuffer_add_cb(wire_output(c), on_wire_drained, c))
            return;
    }
    close_with(c, CONN_CLOSED_PEER);
}

/* Makes bev a client connection of w, with the stream's timeouts; frees bev when w cannot
 * take one more connection. */
static struct tcp_conn *conn_attach(struct worker *w, struct bufferevent *bev,
                                    const union addr *remote, const union addr *local,
                                    enum relay_transport transport)
{
    struct tcp_conn *c;

    if (w->nconns >= (size_t)w->cfg->tcp_max_conns || (c = calloc(1, sizeof(*c))) == NULL) {
        STATS_INC(w->stats.conn[CONN_REJECTED_LIMIT]);
        bufferevent_free(bev);
        return NULL;
    }
    c->w = w;
    c->remote = *remote;
    c->local = *local;
    c->transport = transport;
    c->bev = bev;
    LIST_INSERT_HEAD(&w->conns, c, link);
    w->nconns++;
    STATS_INC(w->stats.conn[CONN_ACCEPTED]);
    bufferevent_setcb(bev, on_read, on_write, on_event, c);
    bufferevent_setwatermark(bev, EV_READ, 0, TCP_INPUT_MAX);
    set_timeouts(c, true, true);
    bufferevent_enable(bev, EV_READ);
    return c;
}

/* A client connection on socket fd in w's loop, over TLS with context tls (NULL: plain TCP);
 * closes fd when it cannot be had. */
static struct tcp_conn *conn_new(struct worker *w, int fd, const union addr *remote,
                                 const union addr *local, const struct tls *tls)
{
    struct bufferevent *bev;
    struct tcp_conn *c;
    int one = 1;

    if (w->nconns >= (size_t)w->cfg->tcp_max_conns) {
        STATS_INC(w->stats.conn[CONN_REJECTED_LIMIT]);
        close(fd);
        return NULL;
    }
    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    bev = tls ? tls_bev_accept(tls, w->base, fd)
              : bufferevent_socket_new(w->base, fd, BEV_OPT_CLOSE_ON_FREE);
    if (bev == NULL) {
        if (!tls)
            close(fd);
        STATS_INC(w->stats.conn[CONN_REJECTED_LIMIT]);
        return NULL;
    }
    c = conn_attach(w, bev, remote, local, tls ? RELAY_TLS : RELAY_TCP);
    /* During a TLS handshake its own deadline applies, and the stream's timeouts after it. */
    if (c && tls) {
        set_timeouts(c, false, false);
        if ((c->handshake = tls_handshake_begin(w->tls_worker, c)) == NULL) {
            close_with(c, CONN_REJECTED_LIMIT);
            return NULL;
        }
    }
    return c;
}

struct tcp_conn *tcp_conn_adopt(struct worker *w, const struct tcp_handover *h,
                                const union addr *remote, const union addr *local)
{
    struct bufferevent *sock;
    struct tcp_conn *c;

    if (h->ssl == NULL) {
        c = conn_new(w, h->fd, remote, local, NULL);
    } else {
        struct bufferevent *bev = tls_bev_adopt(w->base, h->fd, h->ssl, h->wire, h->nwire);
        c = bev ? conn_attach(w, bev, remote, local, RELAY_TLS) : NULL;
    }
    if (c == NULL)
        return NULL;
    /* What the first worker read behind the request goes before anything read here (a
     * socket bufferevent's input takes bytes only at its front from outside: its end is
     * frozen for its own reads), and what it had not written yet before anything written. */
    sock = h->ssl ? bufferevent_get_underlying(c->bev) : c->bev;
    if ((h->nrest > 0 &&
         evbuffer_prepend(bufferevent_get_input(c->bev), h->rest, h->nrest) < 0) ||
        (h->nunsent > 0 &&
         evbuffer_add(bufferevent_get_output(sock), h->unsent, h->nunsent) < 0)) {
        close_with(c, CONN_REJECTED_LIMIT);
        return NULL;
    }
    /* Read from the loop, by whoever owns the connection then: the splice once the bind
     * succeeds, this connection still when it fails. */
    if (h->nrest > 0)
        bufferevent_trigger(c->bev, EV_READ, BEV_TRIG_IGNORE_WATERMARKS | BEV_TRIG_DEFER_CALLBACKS);
    return c;
}

static void on_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa,
                      int salen, void *arg)
{
    struct tcp_listener *tl = arg;
    socklen_t len = sizeof(union addr);
    union addr remote, local;

    (void)l;
    memset(&remote, 0, sizeof(remote));
    memcpy(&remote, sa, (size_t)salen < sizeof(remote) ? (size_t)salen : sizeof(remote));
    if (getsockname(fd, &local.sa, &len) < 0)
        local = tl->local;
    conn_new(tl->w, fd, &remote, &local, tl->tls);
}

static int listener_open(struct tcp_listener **out, struct worker *w, const union addr *a,
                         const struct tls *tls, char *err, size_t errlen)
{
    struct tcp_listener *tl = calloc(1, sizeof(*tl));
    int fd;

    if (tl == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    fd = net_tcp_listener(a, NET_REUSEPORT, TCP_BACKLOG, err, errlen);
    if (fd < 0) {
        free(tl);
        return -1;
    }
    tl->w = w;
    tl->local = *a;
    tl->tls = tls;
    tl->l = evconnlistener_new(w->base, on_accept, tl, LEV_OPT_CLOSE_ON_FREE, 0, fd);
    if (tl->l == NULL) {
        snprintf(err, errlen, "cannot watch a TCP listener");
        close(fd);
        free(tl);
        return -1;
    }
    *out = tl;
    return 0;
}

int tcp_listener_open(struct tcp_listener **out, struct worker *w, const union addr *a,
                      char *err, size_t errlen)
{
    return listener_open(out, w, a, NULL, err, errlen);
}

int tcp_listener_open_tls(struct tcp_listener **out, struct worker *w, const union addr *a,
                          const struct tls *tls, char *err, size_t errlen)
{
    return listener_open(out, w, a, tls, err, errlen);
}

void tcp_listener_close(struct tcp_listener *l)
{
    if (l == NULL)
        return;
    evconnlistener_free(l->l);
    free(l);
}
