/* tcppeer.c — RFC 6062 on the server: TCP relayed addresses, peer connections, splicing. */
#include "server/tcppeer.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "server/log.h"
#include "server/mailbox.h"
#include "server/net.h"
#include "server/peer.h"
#include "server/tcp.h"
#include "server/tls.h"
#include "server/worker.h"

#define PEER_BACKLOG 16

/* A TCP relayed transport address: a socket listening for peers. */
struct tcp_relay_ep {
    enum peer_kind kind; /* PEER_TCP; first, as in every endpoint (peer.h) */
    struct worker *w;
    struct relay_alloc *owner;
    struct evconnlistener *l;
};

/* A peer data connection, and once bound the client data connection spliced to it. */
struct tcp_peer {
    struct worker *w;
    struct relay_tcpconn *tc;
    struct bufferevent *peer;
    struct bufferevent *client;
    bool closing; /* one end closed: flush the other, then close both */
};

static size_t buffer_max(const struct tcp_peer *tp)
{
    return tp->w->cfg->tcp_max_buffer;
}

static void tp_free(struct tcp_peer *tp)
{
    if (tp->peer)
        bufferevent_free(tp->peer);
    if (tp->client)
        bufferevent_free(tp->client);
    free(tp);
}

/* An end of the pair went away on its own: relay/ forgets the connection, both ends close. */
static void tp_gone(struct tcp_peer *tp)
{
    relay_tcp_closed(tp->w->relay, tp->tc);
    tp_free(tp);
}

static struct bufferevent *other(const struct tcp_peer *tp, struct bufferevent *bev)
{
    return bev == tp->peer ? tp->client : tp->peer;
}

/* Moves what one end sent to the other end's output, whole evbuffer chains at a time (no
 * copy).  A destination holding --max-tcp-buffer stops the source from reading until it
 * drains to half: TCP's own flow control then slows the sender down. */
static void splice_read(struct bufferevent *from, void *arg)
{
    struct tcp_peer *tp = arg;
    struct bufferevent *to = other(tp, from);

    if (to == NULL)
        return; /* not bound yet: the read watermark keeps the peer's bytes bounded */
    evbuffer_add_buffer(bufferevent_get_output(to), bufferevent_get_input(from));
    if (evbuffer_get_length(bufferevent_get_output(to)) >= buffer_max(tp)) {
        bufferevent_disable(from, EV_READ);
        bufferevent_setwatermark(to, EV_WRITE, buffer_max(tp) / 2, 0);
    }
}

static void splice_write(struct bufferevent *to, void *arg)
{
    struct tcp_peer *tp = arg;
    struct bufferevent *from = other(tp, to);

    if (tp->closing) {
        if (evbuffer_get_length(bufferevent_get_output(to)) == 0)
            tp_gone(tp);
        return;
    }
    bufferevent_setwatermark(to, EV_WRITE, 0, 0);
    if (from)
        bufferevent_enable(from, EV_READ);
}

/* RFC 6062 §5.5: when either data connection closes, so does the other — after the bytes
 * already on their way to it are written. */
static void splice_event(struct bufferevent *bev, short what, void *arg)
{
    struct tcp_peer *tp = arg;
    struct bufferevent *to = other(tp, bev);

    /* A TLS client's handshake can end after its first data was read, which bound it. */
    if (what & BEV_EVENT_CONNECTED)
        return;
    if ((what & BEV_EVENT_EOF) && !(what & BEV_EVENT_ERROR) && to && !tp->closing) {
        evbuffer_add_buffer(bufferevent_get_output(to), bufferevent_get_input(bev));
        if (evbuffer_get_length(bufferevent_get_output(to)) > 0) {
            tp->closing = true;
            bufferevent_disable(bev, EV_READ);
            bufferevent_disable(to, EV_READ);
            bufferevent_setwatermark(to, EV_WRITE, 0, 0);
            return;
        }
    }
    tp_gone(tp);
}

/* Reads a peer connection into its input up to --max-tcp-buffer while it waits for its
 * ConnectionBind: RFC 6062 §5.3 asks the server to buffer and let TCP's window close. */
static void start_peer(struct tcp_peer *tp)
{
    bufferevent_setcb(tp->peer, splice_read, splice_write, splice_event, tp);
    bufferevent_setwatermark(tp->peer, EV_READ, 0, buffer_max(tp));
    bufferevent_enable(tp->peer, EV_READ);
}

static void on_connect_event(struct bufferevent *bev, short what, void *arg)
{
    struct tcp_peer *tp = arg;
    struct relay_tcpconn *tc = tp->tc;
    struct worker *w = tp->w;

    (void)bev;
    if (what & BEV_EVENT_CONNECTED) {
        bufferevent_set_timeouts(tp->peer, NULL, NULL);
        start_peer(tp);
        relay_tcp_connected(w->relay, tc, true, worker_now(w));
        return;
    }
    /* Refused, unreachable or 30 s without an answer (RFC 6062 §5.2: 447). */
    tp_free(tp);
    relay_tcp_connected(w->relay, tc, false, worker_now(w));
}

/* Connect (RFC 6062 §5.2): a connection to peer that leaves from the relayed address, sharing
 * its port with the relay's listener. */
static int io_tcp_connect(void *ctx, void *listener, const union addr *peer,
                          struct relay_tcpconn *tc, void **handle)
{
    struct tcp_relay_ep *ep = listener;
    const struct timeval timeout = {.tv_sec = 30};
    struct tcp_peer *tp = calloc(1, sizeof(*tp));
    union addr local;
    socklen_t len = sizeof(local);
    int fd = -1;

    (void)ctx;
    if (tp == NULL || getsockname(evconnlistener_get_fd(ep->l), &local.sa, &len) < 0 ||
        (fd = net_tcp_socket(&local, NET_REUSEPORT, NULL, 0)) < 0)
        goto fail;
    tp->w = ep->w;
    tp->tc = tc;
    tp->peer = bufferevent_socket_new(ep->w->base, fd, BEV_OPT_CLOSE_ON_FREE);
    if (tp->peer == NULL)
        goto fail;
    fd = -1;
    bufferevent_setcb(tp->peer, NULL, NULL, on_connect_event, tp);
    bufferevent_set_timeouts(tp->peer, NULL, &timeout);
    if (bufferevent_socket_connect(tp->peer, (struct sockaddr *)&peer->sa, (int)addr_len(peer)) < 0)
        goto fail;
    *handle = tp;
    return 0;
fail:
    if (fd >= 0)
        close(fd);
    if (tp)
        tp_free(tp);
    return -1;
}

static void on_peer_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa,
                           int salen, void *arg)
{
    struct tcp_relay_ep *ep = arg;
    struct tcp_peer *tp = calloc(1, sizeof(*tp));
    union addr peer;

    (void)l;
    memset(&peer, 0, sizeof(peer));
    memcpy(&peer, sa, (size_t)salen < sizeof(peer) ? (size_t)salen : sizeof(peer));
    if (tp == NULL ||
        (tp->peer = bufferevent_socket_new(ep->w->base, fd, BEV_OPT_CLOSE_ON_FREE)) == NULL) {
        free(tp);
        close(fd);
        return;
    }
    tp->w = ep->w;
    tp->tc = relay_tcp_accepted(ep->w->relay, ep->owner, &peer, tp, worker_now(ep->w));
    if (tp->tc == NULL) {
        tp_free(tp); /* no permission: closed at once (RFC 6062 §5.3) */
        return;
    }
    start_peer(tp);
}

static void *io_open_tcp(void *ctx, const union addr *a, struct relay_alloc *owner)
{
    struct worker *w = ctx;
    struct tcp_relay_ep *ep = calloc(1, sizeof(*ep));
    int fd, e;

    if (ep == NULL)
        return NULL;
    fd = net_tcp_listener(a, NET_REUSEPORT, PEER_BACKLOG, NULL, 0);
    if (fd < 0)
        goto fail;
    ep->kind = PEER_TCP;
    ep->w = w;
    ep->owner = owner;
    ep->l = evconnlistener_new(w->base, on_peer_accept, ep, LEV_OPT_CLOSE_ON_FREE, 0, fd);
    if (ep->l == NULL)
        goto fail;
    return ep;
fail:
    e = errno ? errno : ENOMEM;
    if (fd >= 0)
        close(fd);
    free(ep);
    errno = e;
    return NULL;
}

bool tcppeer_close_endpoint(void *endpoint)
{
    struct tcp_relay_ep *ep = endpoint;

    if (ep->kind != PEER_TCP)
        return false;
    evconnlistener_free(ep->l);
    free(ep);
    return true;
}

/* Joins the client data connection (taken out of tcp.c) to the peer connection and passes on
 * what the peer sent meanwhile.  relay/ has already queued the ConnectionBind answer on it. */
static int io_tcp_bind(void *ctx, void *handle, const struct relay_client *c)
{
    struct tcp_peer *tp = handle;

    (void)ctx;
    if (c->transport != RELAY_TCP && c->transport != RELAY_TLS)
        return -1;
    tp->client = tcp_conn_release(c->handle);
    bufferevent_setcb(tp->client, splice_read, splice_write, splice_event, tp);
    bufferevent_setwatermark(tp->peer, EV_READ, 0, 0);
    bufferevent_enable(tp->client, EV_READ | EV_WRITE);
    /* What the client sent right behind its ConnectionBind was read with it (and came along
     * when the connection changed worker): no new bytes may come to announce it. */
    bufferevent_trigger(tp->client, EV_READ, BEV_TRIG_IGNORE_WATERMARKS | BEV_TRIG_DEFER_CALLBACKS);
    /* Enabled first: passing on what the peer sent may stop its reading again (full). */
    bufferevent_enable(tp->peer, EV_READ);
    splice_read(tp->peer, tp);
    return 0;
}

static void io_tcp_close(void *ctx, void *handle)
{
    (void)ctx;
    tp_free(handle);
}

void tcppeer_io_init(struct relay_io *io, struct worker *w)
{
    (void)w;
    io->open_tcp = io_open_tcp;
    io->tcp_connect = io_tcp_connect;
    io->tcp_bind = io_tcp_bind;
    io->tcp_close = io_tcp_close;
}

/* A ConnectionBind travelling to the worker that owns its connection (DESIGN §2: the
 * connection moves, the allocation never leaves its worker). */
struct bind_mail {
    struct mail mail;
    struct tcp_handover h;        /* its buffers are owned copies (wire, rest) */
    union addr remote;
    union addr local;
    uint32_t id;
    struct relay_sig sig;
    uint8_t tid[STUN_TID_LEN];
    bool fingerprint;
    struct mailbox *to;
    char user[STUN_MAX_USERNAME + 1];
};

static void bind_mail_free(struct bind_mail *bm)
{
    free((void *)bm->h.wire);
    free((void *)bm->h.rest);
    free((void *)bm->h.unsent);
    free(bm);
}

static void bind_mail_drop(struct mail *m)
{
    struct bind_mail *bm = (struct bind_mail *)m;

    if (bm->h.fd >= 0)
        close(bm->h.fd);
    if (bm->h.ssl)
        tls_session_free(bm->h.ssl);
    bind_mail_free(bm);
}

/* On the owning worker: the connection becomes one of ours, then relay/ binds it. */
static void bind_mail_run(struct mail *m, void *owner)
{
    struct bind_mail *bm = (struct bind_mail *)m;
    struct worker *w = owner;
    struct tcp_conn *c = tcp_conn_adopt(w, &bm->h, &bm->remote, &bm->local);

    if (c) {
        struct relay_client ref = {.transport = bm->h.ssl ? RELAY_TLS : RELAY_TCP,
                                   .remote = bm->remote,
                                   .local = bm->local, .handle = c};
        relay_connection_bind(w->relay, &ref, bm->id, bm->user, &bm->sig, bm->tid,
                              bm->fingerprint, worker_now(w));
    }
    bind_mail_free(bm);
}

/* A copy of n bytes, or NULL when n is 0 (or memory is short: *n becomes 0). */
static const uint8_t *copy_of(const uint8_t *p, size_t *n)
{
    uint8_t *q = *n ? malloc(*n) : NULL;

    if (q)
        memcpy(q, p, *n);
    else
        *n = 0;
    return q;
}

/* Called by tcp.c once the ConnectionBind frame is consumed: the socket, the TLS session and
 * what was read ahead, to send on to the owning worker. */
static void handoff_ready(const struct tcp_handover *h, void *arg)
{
    struct bind_mail *bm = arg;

    bm->h = *h;
    bm->h.wire = copy_of(h->wire, &bm->h.nwire);
    bm->h.rest = copy_of(h->rest, &bm->h.nrest);
    bm->h.unsent = copy_of(h->unsent, &bm->h.nunsent);
    /* Without all of its bytes the stream would go on corrupted: better closed. */
    if (h->fd < 0 || bm->h.nwire != h->nwire || bm->h.nrest != h->nrest ||
        bm->h.nunsent != h->nunsent) {
        bind_mail_drop(&bm->mail);
        return;
    }
    mailbox_post(bm->to, &bm->mail);
}

void tcppeer_handoff(struct worker *w, const struct relay_client *c, const struct stun_msg *m,
                     const char *user, const struct relay_sig *sig)
{
    int owner = relay_connection_owner(m);
    struct bind_mail *bm;

    /* The connection (a TLS one with its session) moves; the allocation never does. */
    if (owner < 0 || (unsigned)owner >= w->shared->nworkers) {
        relay_answer(w->relay, c, STUN_METHOD_CONNECTION_BIND, m->tid, 400,
                     "Unknown CONNECTION-ID", 0, sig, m->fingerprint >= 0);
        return;
    }
    if ((bm = calloc(1, sizeof(*bm))) == NULL) {
        relay_answer(w->relay, c, STUN_METHOD_CONNECTION_BIND, m->tid, 500, NULL, 0, sig,
                     m->fingerprint >= 0);
        return;
    }
    bm->mail.run = bind_mail_run;
    bm->mail.drop = bind_mail_drop;
    bm->h.fd = -1;
    bm->remote = c->remote;
    bm->local = c->local;
    stun_msg_get_u32(m, STUN_ATTR_CONNECTION_ID, &bm->id);
    if (sig)
        bm->sig = *sig;
    memcpy(bm->tid, m->tid, STUN_TID_LEN);
    bm->fingerprint = m->fingerprint >= 0;
    bm->to = w->shared->mailboxes[owner];
    snprintf(bm->user, sizeof(bm->user), "%s", user);
    STATS_INC(w->stats.conn[CONN_HANDED_OFF]);
    tcp_conn_handoff(c->handle, handoff_ready, bm);
}
