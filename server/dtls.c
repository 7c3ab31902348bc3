/* dtls.c — TURN over DTLS 1.2 on the TLS ports: sockets, the cookie exchange, sessions. */
#include "server/dtls.h"

#include <event2/event.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <unistd.h>

#include "proto/crypto.h"
#include "server/dispatch.h"
#include "server/log.h"
#include "server/net.h"
#include "server/rstore.h"
#include "server/tls.h"
#include "server/udp.h"
#include "server/worker.h"

/* The largest plaintext of a DTLS record (RFC 6347 §4.1: 2^14 bytes). */
#define DTLS_PLAIN_MAX 16384
/* A record header is type, version, epoch, sequence number and length (RFC 6347 §4.1); a
 * handshake message starts with its type. */
#define DTLS_RECORD_HDR 13
#define DTLS_CONTENT_HANDSHAKE 22
#define DTLS_CLIENT_HELLO 1
/* Receive batches per readiness event before the loop serves the other sockets. */
#define DTLS_ROUNDS 8
#define DTLS_BUCKETS_MIN 64

struct dtls_sock;

/* What the BIO of an SSL object reads and where it writes: one client of one socket. */
struct dtls_io {
    struct dtls_sock *sock;
    union addr remote;
    union addr local;
    const uint8_t *in; /* the datagram handed to OpenSSL, NULL once read */
    size_t inlen;
    unsigned sent;     /* datagrams written, for the listener to tell a HelloVerifyRequest */
};

struct dtls_session {
    struct dtls_session *hnext;
    TAILQ_ENTRY(dtls_session) hs_link; /* in d->handshakes while handshaking */
    struct dtls *d;
    struct dtls_io io;
    SSL *ssl;
    struct event *timer; /* retransmission and deadline in the handshake, idle timeout after */
    uint32_t started;    /* worker clock when the cookie came back */
    uint32_t last_rx;
    bool handshaking;
    bool allocated;
    bool closing;
};

TAILQ_HEAD(dtls_session_list, dtls_session);

struct dtls_sock {
    struct dtls *d;
    int fd;
    bool wildcard;
    union addr local;
    struct event *ev;
    SSL *listener;  /* answers ClientHellos of unknown 5-tuples, cleared for each one */
    BIO_ADDR *peer; /* DTLSv1_listen's output, not needed: the BIO knows the client */
    struct dtls_io lio;
};

struct dtls {
    struct worker *w;
    const struct tls *tls;
    BIO_METHOD *bio;
    struct dtls_sock *socks[WORKER_MAX_LISTEN];
    size_t nsocks;
    struct dtls_session **buckets;
    size_t nbuckets; /* a power of two */
    size_t count;
    uint32_t seed;
    struct dtls_session_list handshakes; /* oldest first */
    size_t nhandshakes;
    uint8_t plain[DTLS_PLAIN_MAX];
};

static void session_close(struct dtls_session *s, bool notify);

/* ---- datagrams ----------------------------------------------------------------------------- */

static void sock_send(struct dtls_sock *s, const union addr *dst, const union addr *src,
                      const void *buf, size_t len)
{
    struct stats *st = &s->d->w->stats;
    struct iovec iov = {.iov_base = (void *)buf, .iov_len = len};
    struct msghdr h = {.msg_name = (void *)dst, .msg_namelen = addr_len(dst), .msg_iov = &iov,
                       .msg_iovlen = 1};
    union {
        struct cmsghdr align;
        uint8_t buf[NET_PKTINFO_SPACE];
    } ctl;

    /* From a wildcard socket the answer leaves from the address the client reached. */
    if (s->wildcard && (h.msg_controllen = net_pktinfo_put(ctl.buf, sizeof(ctl.buf), src)) > 0)
        h.msg_control = ctl.buf;
    if (sendmsg(s->fd, &h, 0) < 0) {
        STATS_INC(st->drop[DROP_SEND_FAILED]);
        return;
    }
    STATS_INC(st->tx_packets);
    STATS_ADD(st->tx_bytes, len);
}

/* RFC 6347 §4.2.1: the first flight of a client is a ClientHello in epoch 0. */
static bool is_client_hello(const uint8_t *p, size_t len)
{
    return len > DTLS_RECORD_HDR && p[0] == DTLS_CONTENT_HANDSHAKE && p[1] == 0xfe &&
           p[3] == 0 && p[4] == 0 && p[DTLS_RECORD_HDR] == DTLS_CLIENT_HELLO;
}

/* ---- the BIO: datagrams in and out of OpenSSL without copies through memory BIOs ---------- */

static int bio_write(BIO *b, const char *buf, int len)
{
    struct dtls_io *io = BIO_get_data(b);

    BIO_clear_retry_flags(b);
    /* A datagram that cannot leave is lost, as UDP loses them: DTLS retransmits handshake
     * flights itself, and relayed data may be lost. */
    sock_send(io->sock, &io->remote, &io->local, buf, (size_t)len);
    io->sent++;
    return len;
}

static int bio_read(BIO *b, char *buf, int len)
{
    struct dtls_io *io = BIO_get_data(b);
    size_t n;

    BIO_clear_retry_flags(b);
    if (io->in == NULL) {
        BIO_set_retry_read(b);
        return -1;
    }
    n = io->inlen < (size_t)len ? io->inlen : (size_t)len;
    memcpy(buf, io->in, n);
    io->in = NULL;
    return (int)n;
}

static long put_peer(BIO_ADDR *out, const union addr *a)
{
    if (out == NULL)
        return 0;
    if (a->sa.sa_family == AF_INET)
        return BIO_ADDR_rawmake(out, AF_INET, &a->sin.sin_addr, 4, a->sin.sin_port);
    if (a->sa.sa_family == AF_INET6)
        return BIO_ADDR_rawmake(out, AF_INET6, &a->sin6.sin6_addr, 16, a->sin6.sin6_port);
    return 0;
}

static long bio_ctrl(BIO *b, int cmd, long num, void *ptr)
{
    struct dtls_io *io = BIO_get_data(b);

    (void)num;
    switch (cmd) {
    case BIO_CTRL_FLUSH:
        return 1;
    case BIO_CTRL_DGRAM_GET_PEER: /* the cookie is made over the client's address */
        return put_peer(ptr, &io->remote);
    case BIO_CTRL_DGRAM_GET_MTU_OVERHEAD: /* IP and UDP headers */
        return io->remote.sa.sa_family == AF_INET6 ? 48 : 28;
    default:
        return 0;
    }
}

static int make_bio_method(struct dtls *d)
{
    d->bio = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "turnpike dtls");
    if (d->bio == NULL || !BIO_meth_set_write(d->bio, bio_write) ||
        !BIO_meth_set_read(d->bio, bio_read) || !BIO_meth_set_ctrl(d->bio, bio_ctrl))
        return -1;
    return 0;
}

/* A server SSL object reading and writing through io. */
static SSL *new_ssl(struct dtls *d, struct dtls_io *io)
{
    SSL *ssl = tls_ssl_new(d->tls);
    BIO *b = ssl ? BIO_new(d->bio) : NULL;

    if (b == NULL) {
        SSL_free(ssl);
        return NULL;
    }
    BIO_set_data(b, io);
    BIO_set_init(b, 1);
    SSL_set_bio(ssl, b, b);
    DTLS_set_link_mtu(ssl, TLS_DTLS_MTU);
    SSL_set_accept_state(ssl);
    return ssl;
}

/* ---- sessions by 5-tuple ------------------------------------------------------------------- */

static size_t bucket_of(const struct dtls *d, const union addr *remote, const union addr *local)
{
    uint32_t h = addr_hash(remote, d->seed) ^ addr_hash(local, d->seed * 0x9e3779b9u + 1);

    return h & (d->nbuckets - 1);
}

static struct dtls_session *find(const struct dtls *d, const union addr *remote,
                                 const union addr *local)
{
    struct dtls_session *s = d->buckets[bucket_of(d, remote, local)];

    while (s && !(addr_equal(&s->io.remote, remote) && addr_equal(&s->io.local, local)))
        s = s->hnext;
    return s;
}

/* Doubles the table when it holds as many sessions as buckets; without memory the chains
 * grow longer, still correct. */
static void insert(struct dtls *d, struct dtls_session *s)
{
    size_t k;

    if (d->count >= d->nbuckets) {
        struct dtls_session **b = calloc(2 * d->nbuckets, sizeof(*b)), **old = d->buckets;
        size_t oldn = d->nbuckets;

        if (b) {
            d->buckets = b;
            d->nbuckets = 2 * oldn;
            for (size_t i = 0; i < oldn; i++) {
                for (struct dtls_session *x = old[i], *next; x; x = next) {
                    next = x->hnext;
                    k = bucket_of(d, &x->io.remote, &x->io.local);
                    x->hnext = b[k];
                    b[k] = x;
                }
            }
            free(old);
        }
    }
    k = bucket_of(d, &s->io.remote, &s->io.local);
    s->hnext = d->buckets[k];
    d->buckets[k] = s;
    d->count++;
}

static void unlink_session(struct dtls *d, struct dtls_session *s)
{
    struct dtls_session **pp = &d->buckets[bucket_of(d, &s->io.remote, &s->io.local)];

    while (*pp && *pp != s)
        pp = &(*pp)->hnext;
    if (*pp)
        *pp = s->hnext;
    d->count--;
    if (s->handshaking) {
        TAILQ_REMOVE(&d->handshakes, s, hs_link);
        d->nhandshakes--;
    }
}

/* ---- a session's life ---------------------------------------------------------------------- */

/* Sets the timer: the next retransmission of a handshake flight (RFC 6347 §4.2.4) but no later
 * than the handshake's deadline; for a session without an allocation, the end of its idle
 * time; none while an allocation holds the session. */
static void arm(struct dtls_session *s)
{
    struct worker *w = s->d->w;
    uint32_t now = worker_now(w), limit = (uint32_t)w->cfg->tcp_idle_timeout;
    struct timeval tv = {0};

    if (s->handshaking) {
        uint32_t left = now - s->started < limit ? limit - (now - s->started) : 0;

        if (!DTLSv1_get_timeout(s->ssl, &tv) || tv.tv_sec >= (time_t)left)
            tv = (struct timeval){.tv_sec = left};
    } else if (s->allocated) {
        event_del(s->timer);
        return;
    } else {
        uint32_t idle = now - s->last_rx;

        tv.tv_sec = idle < limit ? limit - idle : 0;
    }
    evtimer_add(s->timer, &tv);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
    struct dtls_session *s = arg;
    struct worker *w = s->d->w;
    uint32_t now = worker_now(w), limit = (uint32_t)w->cfg->tcp_idle_timeout;

    (void)fd;
    (void)what;
    if (s->handshaking && now - s->started >= limit) {
        STATS_INC(w->stats.dtls[DTLS_TIMEOUT]);
        session_close(s, false);
    } else if (s->handshaking && DTLSv1_handle_timeout(s->ssl) < 0) {
        STATS_INC(w->stats.dtls[DTLS_FAILED]);
        session_close(s, false);
    } else if (!s->handshaking && !s->allocated && now - s->last_rx >= limit) {
        STATS_INC(w->stats.dtls[DTLS_CLOSED_IDLE]);
        session_close(s, true);
    } else {
        arm(s);
    }
}

static void log_session(const struct dtls_session *s, const char *what)
{
    const unsigned char *alpn = NULL;
    unsigned int alpn_len = 0;
    unsigned long e = ERR_peek_error();
    char a[ADDR_STRLEN];

    if (!log_enabled(LOG_LVL_DEBUG))
        return;
    SSL_get0_alpn_selected(s->ssl, &alpn, &alpn_len);
    log_debug("dtls %s: %s (%s %s, ALPN %.*s%s%s)", addr_format(&s->io.remote, a, sizeof(a)),
              what, SSL_get_version(s->ssl), SSL_get_cipher_name(s->ssl),
              alpn_len ? (int)alpn_len : 4, alpn_len ? (const char *)alpn : "none",
              e ? ": " : "", e ? ERR_reason_error_string(e) : "");
}

/* Closes a session; its allocation, if any, is deleted (RFC 8656 §3.1: it lives on this
 * association).  notify sends a close_notify alert, so that the client knows at once. */
static void session_close(struct dtls_session *s, bool notify)
{
    struct dtls *d = s->d;
    struct relay_client ref = {.transport = RELAY_DTLS, .remote = s->io.remote,
                               .local = s->io.local, .handle = s};

    s->closing = true;
    relay_client_gone(d->w->relay, &ref);
    rstore_forget(d->w, s);
    if (notify && !s->handshaking)
        SSL_shutdown(s->ssl);
    unlink_session(d, s);
    event_free(s->timer);
    SSL_free(s->ssl);
    free(s);
    ERR_clear_error();
}

/* Runs the handshake on what the BIO holds.  False when the session had to be closed. */
static bool session_handshake(struct dtls_session *s)
{
    struct dtls *d = s->d;
    int r = SSL_do_handshake(s->ssl);

    if (r == 1) {
        TAILQ_REMOVE(&d->handshakes, s, hs_link);
        d->nhandshakes--;
        s->handshaking = false;
        STATS_INC(d->w->stats.dtls[DTLS_HANDSHAKES]);
        log_session(s, "established");
    } else if (SSL_get_error(s->ssl, r) != SSL_ERROR_WANT_READ) {
        STATS_INC(d->w->stats.dtls[DTLS_FAILED]);
        log_session(s, "handshake failed");
        session_close(s, false);
        return false;
    }
    arm(s);
    return true;
}

/* Takes every record the BIO's datagram holds: each plaintext is one STUN or ChannelData
 * message.  False when the session was closed (close_notify or a fatal alert). */
static bool session_read(struct dtls_session *s)
{
    struct dtls *d = s->d;
    struct relay_client ref = {.transport = RELAY_DTLS, .remote = s->io.remote,
                               .local = s->io.local, .handle = s};

    for (;;) {
        int n = SSL_read(s->ssl, d->plain, sizeof(d->plain));

        if (n > 0) {
            dispatch_packet(d->w, &ref, d->plain, (size_t)n);
            continue;
        }
        if (SSL_get_error(s->ssl, n) == SSL_ERROR_WANT_READ)
            return true;
        STATS_INC(d->w->stats.dtls[DTLS_CLOSED_PEER]);
        log_session(s, "closed by the client");
        session_close(s, false);
        return false;
    }
}

static void session_input(struct dtls_session *s, const uint8_t *p, size_t len)
{
    s->io.in = p;
    s->io.inlen = len;
    s->last_rx = worker_now(s->d->w);
    if (s->handshaking && !session_handshake(s))
        return;
    if (!s->handshaking && !session_read(s))
        return;
    s->io.in = NULL;
}

/* A ClientHello came back from sock->lio's client with a valid cookie: the listener's SSL
 * object, which holds that ClientHello, becomes the client's session (replacing an older
 * association of the same 5-tuple), and the handshake goes on. */
static void session_start(struct dtls_sock *sock)
{
    struct dtls *d = sock->d;
    struct worker *w = d->w;
    struct dtls_session *old = find(d, &sock->lio.remote, &sock->lio.local), *s = NULL;
    SSL *ssl = sock->listener;

    sock->listener = NULL; /* a fresh one is made for the next unknown client */
    if (old) {
        STATS_INC(w->stats.dtls[DTLS_CLOSED_PEER]);
        session_close(old, false);
    }
    if (d->count < (size_t)w->cfg->tcp_max_conns)
        s = calloc(1, sizeof(*s));
    if (s == NULL || (s->timer = evtimer_new(w->base, on_timer, s)) == NULL) {
        STATS_INC(w->stats.dtls[DTLS_REJECTED_LIMIT]);
        free(s);
        SSL_free(ssl);
        return;
    }
    if (d->nhandshakes >= DTLS_HANDSHAKES_MAX) {
        STATS_INC(w->stats.dtls[DTLS_EVICTED]);
        session_close(TAILQ_FIRST(&d->handshakes), false);
    }
    s->d = d;
    s->ssl = ssl;
    s->io = sock->lio;
    s->io.in = NULL;
    BIO_set_data(SSL_get_rbio(ssl), &s->io);
    s->started = s->last_rx = worker_now(w);
    s->handshaking = true;
    insert(d, s);
    TAILQ_INSERT_TAIL(&d->handshakes, s, hs_link);
    d->nhandshakes++;
    STATS_INC(w->stats.dtls[DTLS_SESSIONS]);
    session_handshake(s);
}

/* A ClientHello from a 5-tuple without a session: DTLSv1_listen answers it with a
 * HelloVerifyRequest unless it carries a valid cookie.  Nothing about the client is kept: the
 * listener is cleared for each ClientHello, its buffers reused. */
static void answer_hello(struct dtls_sock *sock, const union addr *from, const union addr *local,
                         const uint8_t *p, size_t len)
{
    struct stats *st = &sock->d->w->stats;
    int r;

    if (sock->listener == NULL && (sock->listener = new_ssl(sock->d, &sock->lio)) == NULL)
        return;
    sock->lio = (struct dtls_io){
        .sock = sock, .remote = *from, .local = *local, .in = p, .inlen = len};
    r = DTLSv1_listen(sock->listener, sock->peer);
    if (r > 0) {
        session_start(sock);
        return;
    }
    if (sock->lio.sent > 0)
        STATS_INC(st->dtls[DTLS_HELLO_VERIFY]);
    if (r < 0) { /* the listener is in an unknown state: a new one next time */
        SSL_free(sock->listener);
        sock->listener = NULL;
    }
    ERR_clear_error();
}

/* ---- sockets ------------------------------------------------------------------------------- */

static void receive_one(struct dtls_sock *sock, struct udp_rx *rx, int i)
{
    struct stats *st = &sock->d->w->stats;
    const uint8_t *p = udp_rx_data(rx, i);
    size_t len = udp_rx_len(rx, i);
    struct dtls_session *s;
    union addr local;

    STATS_INC(st->rx_packets);
    STATS_ADD(st->rx_bytes, len);
    if (udp_rx_truncated(rx, i)) {
        STATS_INC(st->drop[DROP_OVERSIZE]);
        return;
    }
    if (!sock->wildcard || !udp_rx_local(rx, i, addr_port(&sock->local), &local))
        local = sock->local;
    s = find(sock->d, udp_rx_from(rx, i), &local);
    /* RFC 6347 §4.2.8: a ClientHello on an established association comes from a client that
     * restarted; it is answered as a stranger's, and replaces the old association only when
     * its cookie proves the address. */
    if (s && (s->handshaking || !is_client_hello(p, len))) {
        session_input(s, p, len);
        return;
    }
    if (!is_client_hello(p, len)) {
        STATS_INC(st->dtls[DTLS_NOT_HELLO]);
        return;
    }
    answer_hello(sock, udp_rx_from(rx, i), &local, p, len);
}

static void on_readable(evutil_socket_t fd, short what, void *arg)
{
    struct dtls_sock *sock = arg;
    struct worker *w = sock->d->w;

    (void)what;
    for (int round = 0; round < DTLS_ROUNDS; round++) {
        int n = udp_rx_recv(w->rx, fd, sock->wildcard);

        for (int i = 0; i < n; i++)
            receive_one(sock, w->rx, i);
        if (n < UDP_BATCH)
            break;
    }
}

static void sock_close(struct dtls_sock *sock)
{
    if (sock->ev)
        event_free(sock->ev);
    SSL_free(sock->listener);
    BIO_ADDR_free(sock->peer);
    close(sock->fd);
    free(sock);
}

int dtls_listen(struct dtls *d, const union addr *a, char *err, size_t errlen)
{
    struct dtls_sock *sock;
    unsigned flags = NET_REUSEPORT;

    if (d->nsocks == WORKER_MAX_LISTEN || (sock = calloc(1, sizeof(*sock))) == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    sock->d = d;
    sock->local = *a;
    sock->wildcard = addr_is_any(a);
    if (sock->wildcard)
        flags |= NET_PKTINFO;
    sock->fd = net_udp_socket(a, flags, err, errlen);
    if (sock->fd < 0) {
        free(sock);
        return -1;
    }
    sock->peer = BIO_ADDR_new();
    sock->listener = new_ssl(d, &sock->lio);
    sock->ev = event_new(d->w->base, sock->fd, EV_READ | EV_PERSIST, on_readable, sock);
    if (sock->peer == NULL || sock->listener == NULL || sock->ev == NULL ||
        event_add(sock->ev, NULL) < 0) {
        snprintf(err, errlen, "cannot set up a DTLS socket");
        sock_close(sock);
        return -1;
    }
    d->socks[d->nsocks++] = sock;
    return 0;
}

int dtls_new(struct dtls **out, struct worker *w, const struct tls *ctx)
{
    struct dtls *d = calloc(1, sizeof(*d));

    if (d == NULL)
        return -1;
    d->w = w;
    d->tls = ctx;
    TAILQ_INIT(&d->handshakes);
    d->nbuckets = DTLS_BUCKETS_MIN;
    d->buckets = calloc(d->nbuckets, sizeof(*d->buckets));
    if (d->buckets == NULL || make_bio_method(d) < 0 ||
        crypto_random(&d->seed, sizeof(d->seed)) < 0) {
        dtls_free(d);
        return -1;
    }
    *out = d;
    return 0;
}

void dtls_free(struct dtls *d)
{
    if (d == NULL)
        return;
    for (size_t i = 0; d->buckets && i < d->nbuckets; i++)
        while (d->buckets[i])
            session_close(d->buckets[i], true);
    for (size_t i = 0; i < d->nsocks; i++)
        sock_close(d->socks[i]);
    free(d->buckets);
    BIO_meth_free(d->bio);
    free(d);
}

int dtls_session_send(struct dtls_session *s, const void *buf, size_t len)
{
    if (s->closing || s->handshaking || SSL_write(s->ssl, buf, (int)len) <= 0) {
        STATS_INC(s->d->w->stats.drop[DROP_SEND_FAILED]);
        ERR_clear_error();
        return -1;
    }
    return 0;
}

void dtls_session_set_allocated(struct dtls_session *s, bool allocated)
{
    if (s->closing)
        return;
    s->allocated = allocated;
    if (!allocated)
        s->last_rx = worker_now(s->d->w);
    arm(s);
}
