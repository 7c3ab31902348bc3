/* lgnet.c — the load generator's sockets: batched UDP from many source addresses, and TCP or
 * TLS streams cut into STUN/ChannelData frames. */
#include "tests/bench/lgnet.h"

#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "proto/frame.h"
#include "proto/stun.h"

#define LGNET_SOCKBUF (4 << 20)
#define STREAM_BUF    (16 * 1024)
/* Reads per readiness on a stream before the others get their turn. */
#define STREAM_ROUNDS 8

static void set_int(int fd, int level, int name, int v)
{
    setsockopt(fd, level, name, &v, sizeof(v));
}

int lgnet_udp_open(const union addr *a, bool shared, char *err, size_t errlen)
{
    int fd = socket(a->sa.sa_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

    if (fd < 0) {
        snprintf(err, errlen, "socket: %s", strerror(errno));
        return -1;
    }
    set_int(fd, SOL_SOCKET, SO_RCVBUF, LGNET_SOCKBUF);
    set_int(fd, SOL_SOCKET, SO_SNDBUF, LGNET_SOCKBUF);
    if (shared) {
        /* Best effort: without the privilege the socket still only talks to loopback
         * addresses, it merely could be reached from outside. */
        setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, "lo", 3);
        set_int(fd, IPPROTO_IP, IP_PKTINFO, 1);
    }
    if (bind(fd, &a->sa, addr_len(a)) < 0) {
        char s[ADDR_STRLEN];
        snprintf(err, errlen, "cannot bind %s: %s", addr_format(a, s, sizeof(s)), strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

void lgnet_txq_init(struct lgnet_txq *q)
{
    memset(q, 0, sizeof(*q));
    for (int i = 0; i < LGNET_BATCH; i++) {
        q->iov[i].iov_base = q->data[i];
        q->msgs[i].msg_hdr.msg_iov = &q->iov[i];
        q->msgs[i].msg_hdr.msg_iovlen = 1;
        q->msgs[i].msg_hdr.msg_name = &q->dst[i];
    }
}

uint8_t *lgnet_txq_slot(struct lgnet_txq *q, int fd, const union addr *dst, const union addr *src)
{
    struct msghdr *h;
    unsigned i;

    if (q->n == LGNET_BATCH)
        lgnet_txq_flush(q);
    i = q->n;
    h = &q->msgs[i].msg_hdr;
    q->fd[i] = fd;
    q->dst[i] = *dst;
    h->msg_namelen = addr_len(dst);
    h->msg_control = NULL;
    h->msg_controllen = 0;
    if (src && src->sa.sa_family == AF_INET) {
        struct cmsghdr *c = (struct cmsghdr *)q->ctl[i];
        struct in_pktinfo pi = {.ipi_spec_dst = src->sin.sin_addr};

        c->cmsg_level = IPPROTO_IP;
        c->cmsg_type = IP_PKTINFO;
        c->cmsg_len = CMSG_LEN(sizeof(pi));
        memcpy(CMSG_DATA(c), &pi, sizeof(pi));
        h->msg_control = c;
        h->msg_controllen = CMSG_SPACE(sizeof(pi));
    }
    return q->data[i];
}

void lgnet_txq_commit(struct lgnet_txq *q, size_t len)
{
    q->iov[q->n++].iov_len = len;
}

void lgnet_txq_flush(struct lgnet_txq *q)
{
    unsigned i = 0;

    while (i < q->n) {
        unsigned end = i + 1;
        int r;

        while (end < q->n && q->fd[end] == q->fd[i])
            end++;
        r = sendmmsg(q->fd[i], q->msgs + i, end - i, 0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            q->failed++;
            i++;
            continue;
        }
        q->sent += (unsigned)r;
        i += (unsigned)r;
    }
    q->n = 0;
}

void lgnet_rxq_init(struct lgnet_rxq *q)
{
    memset(q, 0, sizeof(*q));
    for (int i = 0; i < LGNET_BATCH; i++) {
        q->iov[i].iov_base = q->data[i];
        q->msgs[i].msg_hdr.msg_iov = &q->iov[i];
        q->msgs[i].msg_hdr.msg_iovlen = 1;
        q->msgs[i].msg_hdr.msg_name = &q->from[i];
    }
}

int lgnet_rxq_recv(struct lgnet_rxq *q, int fd)
{
    int n;

    for (int i = 0; i < LGNET_BATCH; i++) {
        struct msghdr *h = &q->msgs[i].msg_hdr;
        q->iov[i].iov_len = LGNET_FRAME;
        h->msg_namelen = sizeof(q->from[i]);
        h->msg_control = q->ctl[i];
        h->msg_controllen = sizeof(q->ctl[i]);
        h->msg_flags = 0;
    }
    n = recvmmsg(fd, q->msgs, LGNET_BATCH, MSG_DONTWAIT, NULL);
    return n < 0 ? 0 : n;
}

bool lgnet_rxq_dst(const struct lgnet_rxq *q, int i, union addr *out)
{
    struct msghdr *h = (struct msghdr *)&q->msgs[i].msg_hdr;

    for (struct cmsghdr *c = CMSG_FIRSTHDR(h); c; c = CMSG_NXTHDR(h, c)) {
        if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
            struct in_pktinfo pi;
            memcpy(&pi, CMSG_DATA(c), sizeof(pi));
            memset(out, 0, sizeof(*out));
            out->sin.sin_family = AF_INET;
            out->sin.sin_addr = pi.ipi_addr;
            return true;
        }
    }
    return false;
}

/* ---- streams ------------------------------------------------------------------------------ */

struct lgnet_tls {
    SSL_CTX *ctx;
};

enum stream_state { ST_CONNECTING, ST_HANDSHAKE, ST_READY };

struct lgnet_stream {
    int fd;
    enum stream_state state;
    SSL *ssl;
    bool ssl_wants_write; /* the last TLS call stopped for want of writability */
    size_t in_len, out_off, out_len;
    uint8_t in[STREAM_BUF];
    uint8_t out[STREAM_BUF];
};

int lgnet_tls_new(struct lgnet_tls **out)
{
    struct lgnet_tls *t = calloc(1, sizeof(*t));

    if (t == NULL || (t->ctx = SSL_CTX_new(TLS_client_method())) == NULL) {
        free(t);
        return -1;
    }
    SSL_CTX_set_min_proto_version(t->ctx, TLS1_2_VERSION);
    SSL_CTX_set_verify(t->ctx, SSL_VERIFY_NONE, NULL);
    SSL_CTX_set_mode(t->ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    *out = t;
    return 0;
}

int lgnet_stream_open(struct lgnet_stream **out, const union addr *server, const union addr *local,
                      struct lgnet_tls *tls)
{
    struct lgnet_stream *s = calloc(1, sizeof(*s));

    if (s == NULL)
        return -1;
    s->fd = socket(server->sa.sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (s->fd < 0)
        goto fail;
    set_int(s->fd, IPPROTO_TCP, TCP_NODELAY, 1);
    if (local && bind(s->fd, &local->sa, addr_len(local)) < 0)
        goto fail;
    if (connect(s->fd, &server->sa, addr_len(server)) < 0 && errno != EINPROGRESS)
        goto fail;
    if (tls) {
        s->ssl = SSL_new(tls->ctx);
        if (s->ssl == NULL || SSL_set_fd(s->ssl, s->fd) != 1)
            goto fail;
        SSL_set_connect_state(s->ssl);
    }
    *out = s;
    return 0;
fail:
    lgnet_stream_close(s);
    return -1;
}

void lgnet_stream_close(struct lgnet_stream *s)
{
    if (s == NULL)
        return;
    SSL_free(s->ssl);
    if (s->fd >= 0)
        close(s->fd);
    free(s);
}

int lgnet_stream_fd(const struct lgnet_stream *s)
{
    return s->fd;
}

bool lgnet_stream_ready(const struct lgnet_stream *s)
{
    return s->state == ST_READY;
}

bool lgnet_stream_wants_write(const struct lgnet_stream *s)
{
    return s->state == ST_CONNECTING || s->ssl_wants_write || s->out_off < s->out_len;
}

/* Maps a TLS call's failure: 0 to wait for readiness, -1 for a dead connection. */
static int tls_wait(struct lgnet_stream *s, int r)
{
    switch (SSL_get_error(s->ssl, r)) {
    case SSL_ERROR_WANT_READ:
        return 0;
    case SSL_ERROR_WANT_WRITE:
        s->ssl_wants_write = true;
        return 0;
    default:
        ERR_clear_error();
        return -1;
    }
}

static int progress_connect(struct lgnet_stream *s)
{
    int err = 0;
    socklen_t len = sizeof(err);

    if (s->state == ST_CONNECTING) {
        union addr peer;
        socklen_t plen = sizeof(peer);
        if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0 || err != 0)
            return -1;
        if (getpeername(s->fd, &peer.sa, &plen) < 0)
            return 0; /* not yet */
        s->state = s->ssl ? ST_HANDSHAKE : ST_READY;
    }
    if (s->state == ST_HANDSHAKE) {
        int r = SSL_do_handshake(s->ssl);
        s->ssl_wants_write = false;
        if (r != 1)
            return tls_wait(s, r);
        s->state = ST_READY;
    }
    return 0;
}

/* Hands every whole frame at the front of the input buffer to on_frame, keeps the rest. */
static int cut_frames(struct lgnet_stream *s,
                      void (*on_frame)(void *arg, const uint8_t *frame, size_t len), void *arg)
{
    size_t off = 0;

    for (;;) {
        int fl = frame_stream_len(s->in + off, s->in_len - off);
        if (fl == STUN_E_INCOMPLETE || (fl > 0 && (size_t)fl > s->in_len - off))
            break;
        if (fl < 0 || (size_t)fl > STREAM_BUF)
            return -1;
        on_frame(arg, s->in + off, (size_t)fl);
        off += (size_t)fl;
    }
    memmove(s->in, s->in + off, s->in_len - off);
    s->in_len -= off;
    return 0;
}

int lgnet_stream_input(struct lgnet_stream *s,
                       void (*on_frame)(void *arg, const uint8_t *frame, size_t len), void *arg)
{
    if (s->state != ST_READY) {
        if (progress_connect(s) < 0)
            return -1;
        if (s->state != ST_READY)
            return 0;
    }
    for (int round = 0; round < STREAM_ROUNDS; round++) {
        size_t room = STREAM_BUF - s->in_len;
        ssize_t n;

        if (s->ssl) {
            int r = SSL_read(s->ssl, s->in + s->in_len, (int)room);
            s->ssl_wants_write = false;
            if (r <= 0)
                return tls_wait(s, r);
            n = r;
        } else {
            n = read(s->fd, s->in + s->in_len, room);
            if (n == 0)
                return -1;
            if (n < 0)
                return errno == EAGAIN || errno == EINTR ? 0 : -1;
        }
        s->in_len += (size_t)n;
        if (cut_frames(s, on_frame, arg) < 0)
            return -1;
        if ((size_t)n < room && !(s->ssl && SSL_pending(s->ssl) > 0))
            break;
    }
    return 0;
}

uint8_t *lgnet_stream_reserve(struct lgnet_stream *s, size_t len)
{
    uint8_t *p;

    if (s->out_len + len > STREAM_BUF && s->out_off > 0) {
        memmove(s->out, s->out + s->out_off, s->out_len - s->out_off);
        s->out_len -= s->out_off;
        s->out_off = 0;
    }
    if (s->state != ST_READY || s->out_len + len > STREAM_BUF)
        return NULL;
    p = s->out + s->out_len;
    s->out_len += len;
    return p;
}

int lgnet_stream_flush(struct lgnet_stream *s)
{
    if (s->state != ST_READY)
        return 0;
    while (s->out_off < s->out_len) {
        size_t left = s->out_len - s->out_off;
        ssize_t n;

        if (s->ssl) {
            int r = SSL_write(s->ssl, s->out + s->out_off, (int)left);
            s->ssl_wants_write = false;
            if (r <= 0)
                return tls_wait(s, r);
            n = r;
        } else {
            n = send(s->fd, s->out + s->out_off, left, MSG_NOSIGNAL);
            if (n < 0)
                return errno == EAGAIN || errno == EINTR ? 0 : -1;
        }
        s->out_off += (size_t)n;
    }
    s->out_off = s->out_len = 0;
    return 0;
}
