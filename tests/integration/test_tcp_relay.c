/* test_tcp_relay.c — RFC 6062 TCP allocations through the real turnserver: coturn's uclient -T,
 * and our own client with a TCP echo peer of the test's own. */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/ssl.h>

#include "proto/stun_build.h"
#include "tests/lib/certs.h"
#include "tests/lib/check.h"
#include "tests/lib/coturn.h"
#include "tests/lib/client.h"
#include "tests/lib/proc.h"
#include "tests/lib/tlsbridge.h"
#include "tests/lib/turnc.h"

#define TIMEOUT 3000
#define BIND_DATA_MAX (300 * 1024)

static struct proc srv;
static struct certs certs;
static uint16_t tls_port;

/* A TCP echo peer on 127.0.0.1: one thread accepting and echoing, bounded in time. */
struct echo {
    int lfd;
    union addr addr;
    pthread_t thread;
    volatile int stop;
    size_t burst; /* not 0: after one byte from the client, send this many and close */
};

/* The burst's byte at offset i. */
static uint8_t burst_byte(size_t i)
{
    return (uint8_t)(i * 31 + i / 1021);
}

static void burst(int fd, size_t n)
{
    static uint8_t buf[BIND_DATA_MAX];
    uint8_t one;

    for (size_t i = 0; i < n && i < sizeof(buf); i++)
        buf[i] = burst_byte(i);
    if (recv(fd, &one, 1, 0) == 1)
        client_send_all(fd, buf, n < sizeof(buf) ? n : sizeof(buf));
}

static void *echo_main(void *arg)
{
    struct echo *e = arg;
    long long end = proc_now_ms() + 60000;

    while (!e->stop && proc_now_ms() < end) {
        uint8_t buf[65536];
        int fd;
        if (client_silent(e->lfd, 100))
            continue;
        fd = accept(e->lfd, NULL, NULL);
        if (fd < 0)
            continue;
        if (e->burst) {
            burst(fd, e->burst);
            close(fd);
            continue;
        }
        for (;;) {
            ssize_t n = recv(fd, buf, sizeof(buf), 0);
            if (n <= 0 || client_send_all(fd, buf, (size_t)n) < 0)
                break;
        }
        close(fd);
    }
    return NULL;
}

static int echo_start(struct echo *e)
{
    socklen_t len = sizeof(e->addr);

    memset(e, 0, sizeof(*e));
    addr_parse(&e->addr, "127.0.0.1", 0);
    e->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (e->lfd < 0 || bind(e->lfd, &e->addr.sa, addr_len(&e->addr)) < 0 ||
        listen(e->lfd, 8) < 0 || getsockname(e->lfd, &e->addr.sa, &len) < 0)
        return -1;
    return pthread_create(&e->thread, NULL, echo_main, e);
}

static void echo_stop(struct echo *e)
{
    e->stop = 1;
    pthread_join(e->thread, NULL);
    close(e->lfd);
}

static void add_tcp_transport(struct stun_builder *b, const void *arg)
{
    (void)arg;
    stun_build_u8(b, STUN_ATTR_REQUESTED_TRANSPORT, STUN_TRANSPORT_TCP);
}

static void add_peer(struct stun_builder *b, const void *arg)
{
    stun_build_addr(b, STUN_ATTR_XOR_PEER_ADDRESS, arg);
}

static void add_conn_id(struct stun_builder *b, const void *arg)
{
    stun_build_u32(b, STUN_ATTR_CONNECTION_ID, *(const uint32_t *)arg);
}

/* A TCP control connection with a TCP allocation; returns the Allocate's code. */
static int tcp_allocation(struct turnc *t, uint16_t port)
{
    uint8_t buf[1024];
    struct stun_msg resp;
    int code;

    if (turnc_open(t, SOCK_STREAM, "127.0.0.1", port, "alice", "secret") < 0)
        return -1;
    code = turnc_request(t, STUN_METHOD_ALLOCATE, add_tcp_transport, NULL, buf, sizeof(buf),
                         &resp);
    if (code == 0)
        stun_msg_get_addr(&resp, STUN_ATTR_XOR_RELAYED_ADDRESS, &t->relayed);
    return code;
}

/* Connect to peer; returns the code and sets *id on success. */
static int connect_peer(struct turnc *t, const union addr *peer, uint32_t *id)
{
    uint8_t buf[1024];
    struct stun_msg resp;
    int code = turnc_request(t, STUN_METHOD_CONNECT, add_peer, peer, buf, sizeof(buf), &resp);

    if (code == 0)
        stun_msg_get_u32(&resp, STUN_ATTR_CONNECTION_ID, id);
    return code;
}

/* A new data connection bound to id with ctl's credentials; returns its socket or -1. */
static int data_connection(const struct turnc *ctl, uint32_t id, int *code)
{
    struct turnc d = *ctl;
    uint8_t buf[1024];
    struct stun_msg resp;

    d.fd = client_connect(SOCK_STREAM, "127.0.0.1", srv.port, NULL);
    if (d.fd < 0)
        return -1;
    *code = turnc_request(&d, STUN_METHOD_CONNECTION_BIND, add_conn_id, &id, buf, sizeof(buf),
                          &resp);
    if (*code != 0) {
        close(d.fd);
        return -1;
    }
    return d.fd;
}

/* Sends len bytes on fd and reads the echo back, comparing; returns bytes checked. */
static size_t echo_roundtrip(int fd, size_t len)
{
    static uint8_t out[1 << 20], in[1 << 20];
    size_t sent = 0, got = 0;
    long long end = proc_now_ms() + 20000;

    for (size_t i = 0; i < len; i++)
        out[i] = (uint8_t)(i * 7 + i / 251);
    while (got < len && proc_now_ms() < end) {
        struct pollfd pfd = {.fd = fd, .events = POLLIN | (sent < len ? POLLOUT : 0)};
        if (poll(&pfd, 1, 1000) <= 0)
            continue;
        if ((pfd.revents & POLLOUT) && sent < len) {
            ssize_t n = send(fd, out + sent, len - sent > 16384 ? 16384 : len - sent,
                             MSG_DONTWAIT | MSG_NOSIGNAL);
            if (n > 0)
                sent += (size_t)n;
        }
        if (pfd.revents & POLLIN) {
            ssize_t n = recv(fd, in + got, len - got, MSG_DONTWAIT);
            if (n <= 0)
                break;
            got += (size_t)n;
        }
    }
    return got == len && memcmp(in, out, len) == 0 ? got : 0;
}

/* Connect, ConnectionBind on a second connection, then a megabyte both ways, byte exact. */
static void connect_bind_and_relay(void)
{
    struct turnc ctl;
    struct echo e;
    uint32_t id = 0;
    int code = -1, data;
    long long t0;
    size_t n;

    if (!CHECK(echo_start(&e) == 0))
        return;
    if (CHECK_INT(tcp_allocation(&ctl, srv.port), 0) &&
        CHECK_INT(connect_peer(&ctl, &e.addr, &id), 0) && CHECK(id != 0)) {
        CHECK_INT(connect_peer(&ctl, &e.addr, &id), 446);
        data = data_connection(&ctl, id, &code);
        CHECK_INT(code, 0);
        if (CHECK(data >= 0)) {
            t0 = proc_now_ms();
            n = echo_roundtrip(data, 1 << 20);
            CHECK_INT(n, 1 << 20);
            printf("  1 MiB through a TCP relay and back in %lld ms\n", proc_now_ms() - t0);
            close(data);
        }
    }
    turnc_close(&ctl);
    echo_stop(&e);
}

/* Sends out[0..n) on fd while reading what comes back into in[0..want), both within ms.
 * True when all was sent and want bytes came. */
static bool exchange(int fd, const uint8_t *out, size_t n, uint8_t *in, size_t want, int ms)
{
    long long end = proc_now_ms() + ms;
    size_t sent = 0, got = 0;

    while (got < want && proc_now_ms() < end) {
        struct pollfd pfd = {.fd = fd, .events = POLLIN | (sent < n ? POLLOUT : 0)};
        ssize_t r;
        if (poll(&pfd, 1, 100) <= 0)
            continue;
        if ((pfd.revents & POLLOUT) && sent < n) {
            r = send(fd, out + sent, n - sent, MSG_DONTWAIT | MSG_NOSIGNAL);
            if (r > 0)
                sent += (size_t)r;
        }
        if (pfd.revents & (POLLIN | POLLHUP | POLLERR)) {
            r = recv(fd, in + got, want - got, MSG_DONTWAIT);
            if (r <= 0 && !(r < 0 && errno == EAGAIN))
                return false;
            if (r > 0)
                got += (size_t)r;
        }
    }
    return sent == n && got == want;
}

/* Moves what the TLS client ssl wrote into its memory BIO out to fd, in one send. */
static bool flush_wbio(SSL *ssl, int fd)
{
    static uint8_t wire[65536];
    int n = BIO_read(SSL_get_wbio(ssl), wire, sizeof(wire));

    return n <= 0 || client_send_all(fd, wire, (size_t)n) == 0;
}

enum bind_how { OVER_TCP, OVER_TLS, TLS_FIRST_FLIGHT };

/* A TLS 1.3 client over memory BIOs that sends its last handshake flight (Finished) and msg
 * in one segment, as a fast client does; then reads want bytes of plaintext into in.  True
 * when they came within TIMEOUT. */
static bool tls_first_flight(const uint8_t *msg, size_t n, uint8_t *in, size_t want)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    SSL *ssl = ctx ? SSL_new(ctx) : NULL;
    int fd = client_connect(SOCK_STREAM, "127.0.0.1", tls_port, NULL);
    long long end = proc_now_ms() + TIMEOUT;
    size_t got = 0;
    bool ok = false;

    if (ssl == NULL || fd < 0 || SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) != 1)
        goto out;
    SSL_set_bio(ssl, BIO_new(BIO_s_mem()), BIO_new(BIO_s_mem()));
    SSL_set_connect_state(ssl);
    /* The handshake, holding back what the client writes once it has the server's flight. */
    while (SSL_do_handshake(ssl) != 1 && proc_now_ms() < end) {
        uint8_t buf[16384];
        ssize_t r;
        if (!flush_wbio(ssl, fd) || client_silent(fd, 100))
            continue;
        if ((r = recv(fd, buf, sizeof(buf), 0)) <= 0)
            goto out;
        BIO_write(SSL_get_rbio(ssl), buf, (int)r);
    }
    if (SSL_write(ssl, msg, (int)n) != (int)n || !flush_wbio(ssl, fd))
        goto out;
    while (got < want && proc_now_ms() < end) {
        uint8_t buf[16384];
        ssize_t r;
        int k;
        while ((k = SSL_read(ssl, in + got, (int)(want - got))) > 0)
            got += (size_t)k;
        if (got == want || client_silent(fd, 100))
            continue;
        if ((r = recv(fd, buf, sizeof(buf), 0)) <= 0)
            break;
        BIO_write(SSL_get_rbio(ssl), buf, (int)r);
    }
    ok = got == want;
out:
    if (fd >= 0)
        close(fd);
    SSL_free(ssl);
    SSL_CTX_free(ctx);
    return ok;
}

/* A ConnectionBind for id signed with ctl's credentials into out (cap bytes, the nonce ctl
 * learnt reused); returns its length, 0 if it does not fit. */
static size_t signed_bind(const struct turnc *ctl, uint32_t id, uint8_t *out, size_t cap)
{
    uint8_t tid[STUN_TID_LEN];
    struct stun_builder b;
    size_t len = 0;

    memset(tid, (int)(id & 0xFF), sizeof(tid));
    stun_build_start(&b, out, cap, stun_type(STUN_METHOD_CONNECTION_BIND, STUN_CLASS_REQUEST),
                     tid);
    stun_build_u32(&b, STUN_ATTR_CONNECTION_ID, id);
    stun_build_str(&b, STUN_ATTR_USERNAME, ctl->user);
    stun_build_str(&b, STUN_ATTR_REALM, ctl->realm);
    stun_build_str(&b, STUN_ATTR_NONCE, ctl->nonce);
    stun_build_integrity(&b, ctl->key, sizeof(ctl->key));
    stun_build_fingerprint(&b);
    return stun_build_end(&b, &len) < 0 ? 0 : len;
}

/* The next STUN message on stream fd into buf (cap bytes), decoded into *m, within TIMEOUT.
 * Its type, or -1. */
static int next_message(int fd, uint8_t *buf, size_t cap, struct stun_msg *m)
{
    size_t len;

    if (cap < STUN_HEADER_LEN || !exchange(fd, NULL, 0, buf, STUN_HEADER_LEN, TIMEOUT))
        return -1;
    len = STUN_HEADER_LEN + ((size_t)buf[2] << 8 | buf[3]);
    if (len > cap || !exchange(fd, NULL, 0, buf + STUN_HEADER_LEN, len - STUN_HEADER_LEN,
                               TIMEOUT) ||
        stun_msg_decode(m, buf, len, 0) != STUN_OK)
        return -1;
    return m->type;
}

/* A ConnectionBind for id, signed with ctl's credentials, with n payload bytes right behind it
 * in the same stream write, on a new connection (over TCP, TLS through a bridge, or TLS with
 * the handshake's last flight in the same segment).  True when the answer is a success and
 * the peer's echo of the payload follows it, byte for byte. */
static bool bind_with_data(const struct turnc *ctl, uint32_t id, enum bind_how how,
                           const uint8_t *data, size_t n)
{
    bool tls = how == OVER_TLS;
    static uint8_t out[1024 + BIND_DATA_MAX], in[1024 + BIND_DATA_MAX];
    struct tlsbridge br = TLSBRIDGE_INIT;
    struct stun_msg m;
    size_t len = 0;
    bool ok = false;
    int fd = -1;

    len = signed_bind(ctl, id, out, 1024);
    if (len == 0 || n > BIND_DATA_MAX)
        return false;
    memcpy(out + len, data, n);
    /* A success answer carries MESSAGE-INTEGRITY (24 bytes) and FINGERPRINT (8) only. */
    if (how == TLS_FIRST_FLIGHT) {
        size_t want = STUN_HEADER_LEN + 32;
        ok = tls_first_flight(out, len + n, in, want + n) &&
             stun_msg_decode(&m, in, want, 0) == STUN_OK &&
             m.type == stun_type(STUN_METHOD_CONNECTION_BIND, STUN_CLASS_SUCCESS) &&
             memcmp(in + want, data, n) == 0;
        return ok;
    }
    if (tls && tlsbridge_start(&br, false, "127.0.0.1", tls_port, certs.ca) < 0)
        goto out;
    fd = client_connect(SOCK_STREAM, "127.0.0.1", tls ? br.port : srv.port, NULL);
    /* The answer has the request's size less what a success leaves out (CONNECTION-ID,
     * USERNAME, REALM, NONCE); read its header first, then the rest with the echo. */
    if (fd < 0 || !exchange(fd, out, len + n, in, STUN_HEADER_LEN, TIMEOUT))
        goto out;
    len = STUN_HEADER_LEN + ((size_t)in[2] << 8 | in[3]);
    if (len > 1024 || !exchange(fd, NULL, 0, in + STUN_HEADER_LEN, len - STUN_HEADER_LEN + n,
                                TIMEOUT))
        goto out;
    ok = stun_msg_decode(&m, in, len, 0) == STUN_OK &&
         m.type == stun_type(STUN_METHOD_CONNECTION_BIND, STUN_CLASS_SUCCESS) &&
         memcmp(in + len, data, n) == 0;
out:
    if (fd >= 0)
        close(fd);
    if (tls)
        tlsbridge_close(&br, false);
    return ok;
}

/* RFC 6062 §5.4: bytes the client sends right behind its ConnectionBind, in the same write,
 * reach the peer at once, whichever worker the data connection lands on: of 18 connections
 * over two workers, some are handed over to their allocation's worker with what was read
 * ahead (plaintext, and for TLS ciphertext not yet decrypted), over TCP and over TLS, with 1 kB
 * and with 300 kB (more than a connection reads ahead) behind the request, and over TLS 1.3
 * with the client's Finished in the same segment.  Each goes to a
 * peer of its own: connections from the relayed address to one peer share a 4-tuple, which
 * TIME_WAIT holds for a while after a close. */
static void bind_then_data_at_once(void)
{
    static uint8_t data[300 * 1024];
    struct turnc ctl;
    int ok = 0, tried = 0;

    for (size_t i = 0; i < sizeof(data); i++)
        data[i] = (uint8_t)(i * 13 + i / 977);
    if (!CHECK_INT(tcp_allocation(&ctl, srv.port), 0))
        goto out;
    for (int k = 0; k < 18; k++) {
        enum bind_how how = (enum bind_how)(k % 3);
        size_t n = how != TLS_FIRST_FLIGHT && k % 6 >= 3 ? sizeof(data) : 1000;
        struct echo e;
        uint32_t id = 0;
        if (!CHECK(echo_start(&e) == 0))
            break;
        if (CHECK_INT(connect_peer(&ctl, &e.addr, &id), 0)) {
            bool r = bind_with_data(&ctl, id, how, data, n);
            if (!r)
                printf("  connection %d (%s, %zu bytes) relayed nothing right\n", k,
                       how == OVER_TCP ? "TCP" : how == OVER_TLS ? "TLS" : "TLS first flight", n);
            tried++;
            ok += r;
        }
        echo_stop(&e);
    }
    printf("  %d of %d data connections relayed what was sent with their ConnectionBind\n", ok,
           tried);
    CHECK_INT(ok, 18);
out:
    turnc_close(&ctl);
}

/* A ConnectionBind that fails (an unknown CONNECTION-ID, for either worker) with a Binding
 * request behind it in the same write: the 400, then the Binding's answer, wherever the
 * connection went to be answered. */
static void failed_bind_then_request(void)
{
    struct turnc ctl;
    int answered = 0;

    if (!CHECK_INT(tcp_allocation(&ctl, srv.port), 0))
        goto out;
    for (int k = 0; k < 8; k++) {
        uint8_t out[1024], in[1024], tid[STUN_TID_LEN] = {0};
        struct stun_builder b;
        struct stun_msg m;
        size_t len = signed_bind(&ctl, (uint32_t)(k % 2) << 24 | 0xABCDEu, out, sizeof(out));
        size_t blen = 0;
        int fd;

        stun_build_start(&b, out + len, sizeof(out) - len,
                         stun_type(STUN_METHOD_BINDING, STUN_CLASS_REQUEST), tid);
        stun_build_end(&b, &blen);
        fd = client_connect(SOCK_STREAM, "127.0.0.1", srv.port, NULL);
        if (fd >= 0 && client_send_all(fd, out, len + blen) == 0 &&
            next_message(fd, in, sizeof(in), &m) ==
                stun_type(STUN_METHOD_CONNECTION_BIND, STUN_CLASS_ERROR) &&
            next_message(fd, in, sizeof(in), &m) ==
                stun_type(STUN_METHOD_BINDING, STUN_CLASS_SUCCESS))
            answered++;
        if (fd >= 0)
            close(fd);
    }
    CHECK_INT(answered, 8);
out:
    turnc_close(&ctl);
}

/* A new data connection bound to id (through a TLS bridge when tls, which *br then holds);
 * returns the socket to read and write the peer's stream on, or -1. */
static int bound_data_connection(const struct turnc *ctl, uint32_t id, bool tls,
                                 struct tlsbridge *br)
{
    struct turnc d = *ctl;
    uint8_t buf[1024];
    struct stun_msg resp;

    if (tls && tlsbridge_start(br, false, "127.0.0.1", tls_port, certs.ca) < 0)
        return -1;
    d.fd = client_connect(SOCK_STREAM, "127.0.0.1", tls ? br->port : srv.port, NULL);
    if (d.fd >= 0 && turnc_request(&d, STUN_METHOD_CONNECTION_BIND, add_conn_id, &id, buf,
                                   sizeof(buf), &resp) == 0)
        return d.fd;
    if (d.fd >= 0)
        close(d.fd);
    return -1;
}

/* RFC 6062 §5.5: a peer that sends its last bytes and closes: the client gets every one of
 * them before its data connection closes, over TCP and over TLS (where they wait encrypted
 * under the TLS layer when the peer's end of stream comes). */
static void peer_closes_after_burst(void)
{
    static uint8_t in[BIND_DATA_MAX];
    const size_t n = 250 * 1024;
    struct turnc ctl;

    if (!CHECK_INT(tcp_allocation(&ctl, srv.port), 0))
        goto out;
    for (int tls = 0; tls < 2; tls++) {
        struct tlsbridge br = TLSBRIDGE_INIT;
        struct echo e;
        uint32_t id = 0;
        size_t got = 0, bad = 0;
        int fd = -1;
        if (!CHECK(echo_start(&e) == 0))
            break;
        e.burst = n;
        if (CHECK_INT(connect_peer(&ctl, &e.addr, &id), 0) &&
            CHECK((fd = bound_data_connection(&ctl, id, tls, &br)) >= 0)) {
            long long end = proc_now_ms() + 15000;
            int small = 4096;
            /* A slow reader: what the server has for it waits in its buffers (and under TLS,
             * encrypted, below the TLS layer) when the peer's end of stream comes. */
            setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
            client_send_all(fd, "go", 1);
            usleep(300000);
            while (got < sizeof(in) && proc_now_ms() < end) {
                ssize_t r;
                if (client_silent(fd, 100))
                    continue;
                if ((r = recv(fd, in + got, sizeof(in) - got < 4096 ? sizeof(in) - got : 4096,
                              0)) <= 0)
                    break;
                got += (size_t)r;
                usleep(1000);
            }
            for (size_t i = 0; i < got && i < n; i++)
                bad += in[i] != burst_byte(i);
            printf("  %s: %zu of %zu bytes before the end of stream, %zu wrong\n",
                   tls ? "TLS" : "TCP", got, n, bad);
            CHECK(got == n && bad == 0);
            close(fd);
        }
        tlsbridge_close(&br, false);
        echo_stop(&e);
    }
out:
    turnc_close(&ctl);
}

/* Connect to a port where nobody listens: 447. */
static void connect_refused(void)
{
    struct turnc ctl;
    union addr dead;
    uint32_t id = 0;

    addr_parse(&dead, "127.0.0.1", proc_free_port());
    if (CHECK_INT(tcp_allocation(&ctl, srv.port), 0))
        CHECK_INT(connect_peer(&ctl, &dead, &id), 447);
    turnc_close(&ctl);
}

/* A peer connecting to the relayed address: closed at once without a permission; with one,
 * the client hears a ConnectionAttempt and binds it. */
static void incoming_peer(void)
{
    struct turnc ctl;
    union addr from;
    uint8_t buf[256];
    struct stun_msg m;
    uint32_t id = 0;
    int code = -1, p, data;
    ssize_t n;

    if (!CHECK_INT(tcp_allocation(&ctl, srv.port), 0))
        goto out;
    p = client_connect(SOCK_STREAM, "127.0.0.1", addr_port(&ctl.relayed), NULL);
    CHECK(p >= 0);
    CHECK_INT(client_recv(p, 1, buf, sizeof(buf), TIMEOUT), 0); /* closed: no permission */
    close(p);
    addr_parse(&from, "127.0.0.1", 0);
    CHECK_INT(turnc_permit(&ctl, &from), 0);
    p = client_connect(SOCK_STREAM, "127.0.0.1", addr_port(&ctl.relayed), NULL);
    CHECK(client_send_all(p, "early bytes", 11) == 0); /* buffered until the bind */
    n = client_recv(ctl.fd, 1, buf, sizeof(buf), TIMEOUT);
    if (CHECK(n > 0) && CHECK(stun_msg_decode(&m, buf, (size_t)n, 0) == STUN_OK)) {
        CHECK_INT(m.type, stun_type(STUN_METHOD_CONNECTION_ATTEMPT, STUN_CLASS_INDICATION));
        CHECK(stun_msg_get_u32(&m, STUN_ATTR_CONNECTION_ID, &id) == STUN_OK);
    }
    data = data_connection(&ctl, id, &code);
    if (CHECK_INT(code, 0) && CHECK(data >= 0)) {
        memset(buf, 0, sizeof(buf));
        CHECK(!client_silent(data, TIMEOUT) && recv(data, buf, 11, MSG_WAITALL) == 11);
        CHECK_MEM(buf, "early bytes", 11);
        CHECK(client_send_all(data, "reply", 5) == 0);
        CHECK(!client_silent(p, TIMEOUT) && recv(p, buf, 5, MSG_WAITALL) == 5);
        CHECK_MEM(buf, "reply", 5);
        /* The control connection closes: the allocation and its data connections go. */
        turnc_close(&ctl);
        CHECK(!client_silent(data, TIMEOUT) && recv(data, buf, 1, 0) <= 0);
        close(data);
    }
    close(p);
out:
    turnc_close(&ctl);
}

/* coturn's uclient -T: pairs of clients with TCP allocations reaching each other's relayed
 * addresses (Connect, ConnectionAttempt, ConnectionBind), data connections that often land on
 * another worker than their allocation. */
static void uclient_tcp_relay(void)
{
    struct coturn_run r;

    coturn_uclient(&r, "-T -u alice -w secret -n 300 -m 10 -z 5", srv.port, "127.0.0.1", 90);
    CHECK(coturn_all_relayed(&r, 3000));
}

/* The same over TLS: a data connection that reaches the other worker moves there with its TLS
 * session. */
static void uclient_tcp_relay_tls(void)
{
    struct coturn_run r;
    char flags[256];

    snprintf(flags, sizeof(flags), "-T -S -E %s -u alice -w secret -n 200 -m 8 -z 5", certs.ca);
    coturn_uclient(&r, flags, tls_port, "127.0.0.1", 90);
    CHECK(coturn_all_relayed(&r, 1600));
}

/* --no-tcp-relay: a TCP allocation gets 442. */
static void no_tcp_relay(void)
{
    const char *args[] = {"--listening-ip", "127.0.0.1", "--realm", "example.org",
                          "--user", "alice:secret", "--no-tcp-relay", NULL};
    struct proc p;
    struct turnc ctl;

    if (!CHECK(proc_start(&p, args) == 0))
        return;
    CHECK_INT(tcp_allocation(&ctl, p.port), 442);
    turnc_close(&ctl);
    CHECK_INT(proc_stop(&p, SIGTERM, 5000, NULL), 0);
    proc_cleanup(&p);
}

int main(void)
{
    char tls_port_arg[8];
    const char *args[] = {"--listening-ip", "127.0.0.1", "--realm", "example.org",
                          "--user", "alice:secret", "--allow-loopback-peers",
                          "--relay-threads", "2", "--tls-listening-port", tls_port_arg,
                          "--cert", certs.cert, "--pkey", certs.key, NULL};
    int rc;

    signal(SIGPIPE, SIG_IGN);
    tls_port = proc_free_port();
    snprintf(tls_port_arg, sizeof(tls_port_arg), "%u", tls_port);
    if (certs_make(&certs) < 0 || proc_start(&srv, args) < 0) {
        printf("0 passed, 1 failed\n");
        return 1;
    }
    RUN(connect_bind_and_relay);
    RUN(connect_refused);
    RUN(bind_then_data_at_once);
    RUN(failed_bind_then_request);
    RUN(peer_closes_after_burst);
    RUN(incoming_peer);
    RUN(uclient_tcp_relay);
    RUN(uclient_tcp_relay_tls);
    RUN(no_tcp_relay);
    rc = proc_stop(&srv, SIGTERM, 5000, NULL);
    CHECK_INT(rc, 0);
    /* With two workers, some data connections reached the other one and were handed over. */
    if (!CHECK(proc_log_contains(&srv, "tcp.handed_off=", 0)))
        proc_dump_log(&srv);
    proc_cleanup(&srv);
    certs_remove(&certs);
    return check_summary();
}
