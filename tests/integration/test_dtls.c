/* test_dtls.c — TURN over DTLS through the real turnserver: the stateless cookie exchange with
 * hand-made ClientHellos, a flood of them, and a session's life with our client (idle expiry,
 * allocations, close_notify, a client that restarts).  coturn's client over DTLS runs in
 * test_tls.c. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "proto/crypto.h"
#include "tests/lib/certs.h"
#include "tests/lib/check.h"
#include "tests/lib/client.h"
#include "tests/lib/proc.h"
#include "tests/lib/tlsbridge.h"
#include "tests/lib/turnc.h"

#define USER "alice"
#define PASS "Sesame-9f3b"
#define REALM "example.org"
#define TIMEOUT 3000
#define CHANNEL 0x4001
#define IDLE 2 /* --tcp-idle-timeout of the servers here */

static struct certs certs;
static struct proc srv;
static uint16_t dtls_port;

/* ---- servers --------------------------------------------------------------------------- */

/* Starts a server with DTLS on port and --tcp-idle-timeout IDLE, then extra (NULL or
 * NULL-terminated).  0 or -1. */
static int start_dtls(struct proc *p, uint16_t port, const char *const *extra)
{
    static char port_arg[8];
    const char *args[40] = {"--listening-ip", "127.0.0.1", "--listening-ip", "::1",
                            "--realm", REALM, "--user", USER ":" PASS,
                            "--allow-loopback-peers", "--dtls", "--no-tls",
                            "--tls-listening-port", port_arg, "--cert", certs.cert,
                            "--pkey", certs.key, "--tcp-idle-timeout", "2"};
    int n = 19;

    snprintf(port_arg, sizeof(port_arg), "%u", port);
    for (; extra && *extra; extra++)
        args[n++] = *extra;
    args[n] = NULL;
    return proc_start(p, args);
}

/* ---- hand-made DTLS records -------------------------------------------------------------- */

#define RECORD_HDR 13    /* type, version, epoch, sequence number, length */
#define HANDSHAKE_HDR 12 /* type, length, message_seq, fragment offset and length */
#define HELLO_VERIFY 3
#define SERVER_HELLO 2

static void put24(uint8_t *p, size_t v)
{
    p[0] = (uint8_t)(v >> 16);
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)v;
}

/* A DTLS 1.2 ClientHello in one record (RFC 6347 §4.2.1, §4.3.2) with cookie (cookie_len 0:
 * none) and record sequence number seq, offering ECDHE-ECDSA with AES-GCM, P-256 and
 * SHA-256 signatures: what the server needs to answer with its ServerHello once the cookie is
 * good.  Returns its length. */
static size_t client_hello(uint8_t *out, const uint8_t *cookie, size_t cookie_len, unsigned seq)
{
    static const uint8_t suites[] = {0x00, 0x04, 0xc0, 0x2b, 0xc0, 0x2c};
    static const uint8_t tail[] = {
        0x01, 0x00,                                     /* compression: null */
        0x00, 0x1b,                                     /* extensions */
        0x00, 0x0a, 0x00, 0x04, 0x00, 0x02, 0x00, 0x17, /* supported_groups: secp256r1 */
        0x00, 0x0b, 0x00, 0x02, 0x01, 0x00,             /* ec_point_formats: uncompressed */
        0x00, 0x0d, 0x00, 0x04, 0x00, 0x02, 0x04, 0x03, /* signature_algorithms */
        0xff, 0x01, 0x00, 0x01, 0x00,                   /* renegotiation_info */
    };
    uint8_t *body = out + RECORD_HDR + HANDSHAKE_HDR;
    size_t n = 0;

    body[n++] = 0xfe; /* client_version: DTLS 1.2 */
    body[n++] = 0xfd;
    crypto_random(body + n, 32);
    n += 32;
    body[n++] = 0; /* session_id */
    body[n++] = (uint8_t)cookie_len;
    if (cookie_len > 0)
        memcpy(body + n, cookie, cookie_len);
    n += cookie_len;
    memcpy(body + n, suites, sizeof(suites));
    n += sizeof(suites);
    memcpy(body + n, tail, sizeof(tail));
    n += sizeof(tail);
    memset(out, 0, RECORD_HDR + HANDSHAKE_HDR);
    out[0] = 22; /* handshake */
    out[1] = 0xfe;
    out[2] = 0xff; /* DTLS 1.0 record version, as clients write their first flight */
    out[9] = (uint8_t)(seq >> 8); /* the sequence number's low bytes */
    out[10] = (uint8_t)seq;
    out[11] = (uint8_t)((HANDSHAKE_HDR + n) >> 8);
    out[12] = (uint8_t)(HANDSHAKE_HDR + n);
    out[RECORD_HDR] = 1; /* client_hello */
    put24(out + RECORD_HDR + 1, n);
    out[RECORD_HDR + 5] = cookie_len > 0; /* message_seq: 1 for the second ClientHello */
    put24(out + RECORD_HDR + 9, n);
    return RECORD_HDR + HANDSHAKE_HDR + n;
}

/* Sends a ClientHello on fd and returns the type of the handshake message that comes back
 * (HELLO_VERIFY, SERVER_HELLO), or -1 for none; the answer lands in buf, its length in *len.
 * Other records (application data of an earlier session) are skipped. */
static int hello(int fd, const uint8_t *cookie, size_t cookie_len, uint8_t *buf, ssize_t *len)
{
    uint8_t ch[512];
    size_t n = client_hello(ch, cookie, cookie_len, cookie_len > 0);

    *len = -1;
    if (send(fd, ch, n, 0) != (ssize_t)n)
        return -1;
    while (!client_silent(fd, TIMEOUT)) {
        *len = recv(fd, buf, 2048, 0);
        if (*len > RECORD_HDR && buf[0] == 22)
            return buf[RECORD_HDR];
    }
    return -1;
}

/* The cookie of a HelloVerifyRequest (after the record and handshake headers, the server
 * version and the cookie length).  Returns its length, 0 when there is none. */
static size_t cookie_of(const uint8_t *p, ssize_t n, uint8_t *cookie)
{
    size_t at = RECORD_HDR + HANDSHAKE_HDR + 2;

    if (n <= (ssize_t)at || p[RECORD_HDR] != HELLO_VERIFY || (ssize_t)(at + 1 + p[at]) > n)
        return 0;
    memcpy(cookie, p + at + 1, p[at]);
    return p[at];
}

/* ---- the cookie exchange ----------------------------------------------------------------- */

/* RFC 6347 §4.2.1: a ClientHello without a cookie, with a cookie made for another address, or
 * with a forged one gets a HelloVerifyRequest (no larger than the ClientHello), and the
 * server keeps nothing: no session is created.  Non-DTLS datagrams get no answer. */
static void hello_verify_keeps_nothing(void)
{
    uint8_t buf[2048], cookie[256], other[256], ch[512];
    size_t clen, olen;
    ssize_t n;
    struct proc p;
    uint16_t port = proc_free_port();
    int a = -1, b = -1;

    if (!CHECK(start_dtls(&p, port, NULL) == 0))
        return;
    a = client_connect(SOCK_DGRAM, "127.0.0.1", port, NULL);
    b = client_connect(SOCK_DGRAM, "127.0.0.1", port, NULL);
    if (!CHECK(a >= 0 && b >= 0))
        goto out;
    CHECK_INT(hello(a, NULL, 0, buf, &n), HELLO_VERIFY);
    CHECK(n > 0 && (size_t)n < client_hello(ch, NULL, 0, 0)); /* no amplification */
    clen = cookie_of(buf, n, cookie);
    CHECK_INT(clen, 20);
    /* A's cookie from B's address. */
    CHECK_INT(hello(b, cookie, clen, buf, &n), HELLO_VERIFY);
    olen = cookie_of(buf, n, other);
    CHECK(olen == clen && memcmp(other, cookie, clen) != 0);
    /* A forged cookie. */
    cookie[5] ^= 1;
    CHECK_INT(hello(a, cookie, clen, buf, &n), HELLO_VERIFY);
    send(a, "\x17\xfe\xfd garbage", 12, 0);
    send(a, "\x00\x01\x00\x00", 4, 0);
    CHECK(client_silent(a, 300));
out:
    if (a >= 0)
        close(a);
    if (b >= 0)
        close(b);
    CHECK_INT(proc_stop(&p, SIGTERM, 5000, NULL), 0);
    CHECK_INT(proc_log_number(&p, "dtls.hello_verify="), 3);
    CHECK_INT(proc_log_number(&p, "dtls.not_hello="), 2);
    CHECK_INT(proc_log_number(&p, "dtls.sessions="), -1);
    proc_cleanup(&p);
}

/* Only a ClientHello that brings its cookie back from its own address starts a session; one
 * that then goes silent is dropped when its handshake deadline passes. */
static void valid_cookie_starts_session(void)
{
    uint8_t buf[2048], cookie[256];
    size_t clen;
    ssize_t n;
    struct proc p;
    uint16_t port = proc_free_port();
    int a;

    if (!CHECK(start_dtls(&p, port, NULL) == 0))
        return;
    a = client_connect(SOCK_DGRAM, "127.0.0.1", port, NULL);
    CHECK_INT(hello(a, NULL, 0, buf, &n), HELLO_VERIFY);
    clen = cookie_of(buf, n, cookie);
    CHECK_INT(hello(a, cookie, clen, buf, &n), SERVER_HELLO);
    sleep(IDLE + 1);
    close(a);
    CHECK_INT(proc_stop(&p, SIGTERM, 5000, NULL), 0);
    CHECK_INT(proc_log_number(&p, "dtls.hello_verify="), 1);
    CHECK_INT(proc_log_number(&p, "dtls.sessions="), 1);
    CHECK_INT(proc_log_number(&p, "dtls.timeout="), 1);
    proc_cleanup(&p);
}

#define FLOOD_SOCKETS 20
#define FLOOD_BURST 100
#define FLOOD_ROUNDS 10 /* 20 x 100 x 10 = 20000 ClientHellos */

/* Sends FLOOD_BURST ClientHellos without cookies from each socket and counts the
 * HelloVerifyRequests that come back. */
static long flood_round(const int *fds)
{
    uint8_t ch[512], buf[2048];
    size_t n = client_hello(ch, NULL, 0, 0);
    long answers = 0;

    for (int s = 0; s < FLOOD_SOCKETS; s++)
        for (int i = 0; i < FLOOD_BURST; i++)
            send(fds[s], ch, n, 0);
    for (int s = 0; s < FLOOD_SOCKETS; s++)
        while (!client_silent(fds[s], 100))
            answers += recv(fds[s], buf, sizeof(buf), 0) > RECORD_HDR && buf[RECORD_HDR] == 3;
    return answers;
}

/* A flood of ClientHellos costs the server no memory: each is answered and forgotten.  The
 * server still serves a real DTLS client afterwards. */
static void hello_flood(void)
{
    const char *extra[] = {"--relay-threads", "2", NULL};
    int fds[FLOOD_SOCKETS];
    uint16_t port = proc_free_port();
    struct tlsbridge b;
    struct turnc t;
    struct proc p;
    long answers = 0, rss0, rss1;

    if (!CHECK(start_dtls(&p, port, extra) == 0))
        return;
    for (int s = 0; s < FLOOD_SOCKETS; s++)
        fds[s] = client_connect(SOCK_DGRAM, "127.0.0.1", port, NULL);
    answers += flood_round(fds); /* the first round warms the listeners' buffers up */
    rss0 = proc_rss_kib(&p);
    for (int r = 1; r < FLOOD_ROUNDS; r++)
        answers += flood_round(fds);
    rss1 = proc_rss_kib(&p);
    printf("  %d ClientHellos, %ld HelloVerifyRequests back; RSS %ld -> %ld KiB\n",
           FLOOD_SOCKETS * FLOOD_BURST * FLOOD_ROUNDS, answers, rss0, rss1);
    CHECK(answers >= FLOOD_SOCKETS * FLOOD_BURST * FLOOD_ROUNDS * 95 / 100);
    if (!proc_sanitized())
        CHECK(rss1 - rss0 < 512);
    for (int s = 0; s < FLOOD_SOCKETS; s++)
        close(fds[s]);
    if (CHECK(tlsbridge_start(&b, true, "127.0.0.1", port, NULL) == 0) &&
        CHECK(turnc_open(&t, SOCK_DGRAM, "127.0.0.1", b.port, USER, PASS) == 0)) {
        CHECK_INT(turnc_allocate(&t), 0);
        turnc_close(&t);
    }
    tlsbridge_close(&b, true);
    CHECK_INT(proc_stop(&p, SIGTERM, 5000, NULL), 0);
    CHECK(proc_log_number(&p, "dtls.hello_verify=") >= answers);
    CHECK_INT(proc_log_number(&p, "dtls.sessions="), 1);
    proc_cleanup(&p);
}

/* ---- a session's life -------------------------------------------------------------------- */

/* Our client through a DTLS bridge, with an allocation and a channel to a peer of its own. */
struct dclient {
    struct tlsbridge b;
    struct turnc t;
    union addr peer;
    int pfd;
};

static int dclient_open(struct dclient *d)
{
    memset(d, 0, sizeof(*d));
    d->t.fd = -1;
    d->b.plain = d->b.secure = d->b.stop[0] = d->b.stop[1] = -1;
    d->pfd = client_udp_bound("127.0.0.1", &d->peer);
    if (tlsbridge_start(&d->b, true, "127.0.0.1", dtls_port, certs.ca) < 0)
        return -1;
    if (turnc_open(&d->t, SOCK_DGRAM, "127.0.0.1", d->b.port, USER, PASS) < 0 ||
        turnc_allocate(&d->t) != 0 || turnc_bind(&d->t, CHANNEL, &d->peer) != 0)
        return -1;
    return 0;
}

static void dclient_close(struct dclient *d, bool notify)
{
    turnc_close(&d->t);
    tlsbridge_close(&d->b, notify);
    if (d->pfd >= 0)
        close(d->pfd);
}

/* A datagram from the peer to the client and one back, on the channel. */
static bool dclient_relays(struct dclient *d)
{
    uint8_t buf[64];
    uint16_t chan = 0;

    sendto(d->pfd, "ping", 4, 0, &d->t.relayed.sa, addr_len(&d->t.relayed));
    if (turnc_recv(&d->t, buf, sizeof(buf), NULL, &chan, TIMEOUT) != 4 || chan != CHANNEL)
        return false;
    turnc_channel_send(&d->t, CHANNEL, "pong", 4);
    return !client_silent(d->pfd, TIMEOUT) && recv(d->pfd, buf, sizeof(buf), 0) == 4;
}

/* With an allocation, the session outlives --tcp-idle-timeout; once the allocation is gone,
 * it is closed (with close_notify) after that long. */
static void session_lives_with_allocation(void)
{
    struct dclient d;
    long long t0;

    if (!CHECK(dclient_open(&d) == 0))
        goto out;
    CHECK_STR(d.b.alpn, "stun.turn");
    CHECK_STR(d.b.version, "DTLSv1.2");
    CHECK(dclient_relays(&d));
    sleep(IDLE + 1);
    CHECK(dclient_relays(&d));
    CHECK(!atomic_load(&d.b.server_closed));
    CHECK_INT(turnc_refresh(&d.t, 0), 0);
    t0 = proc_now_ms();
    while (!atomic_load(&d.b.server_closed) && proc_now_ms() - t0 < (IDLE + 2) * 1000)
        usleep(50000);
    CHECK(atomic_load(&d.b.server_closed));
    CHECK(proc_now_ms() - t0 >= (IDLE - 1) * 1000);
out:
    dclient_close(&d, false);
}

/* The client's close_notify ends the session and deletes its allocation. */
static void close_notify_deletes_allocation(void)
{
    struct dclient d;
    union addr relayed;

    if (!CHECK(dclient_open(&d) == 0)) {
        dclient_close(&d, false);
        return;
    }
    relayed = d.t.relayed;
    CHECK(dclient_relays(&d));
    CHECK(!client_udp_closed(&relayed));
    dclient_close(&d, true);
    usleep(200000);
    CHECK(client_udp_closed(&relayed));
}

/* RFC 6347 §4.2.8: a new ClientHello on an established 5-tuple (a client that restarted) is
 * answered with a HelloVerifyRequest and leaves the session alone; with its cookie back it
 * replaces the session, whose allocation goes. */
static void client_restart_replaces_session(void)
{
    uint8_t buf[2048], cookie[256];
    struct dclient d;
    union addr relayed;
    size_t clen;
    ssize_t n;

    if (!CHECK(dclient_open(&d) == 0))
        goto out;
    relayed = d.t.relayed;
    tlsbridge_pause(&d.b); /* from now on the test speaks on the bridge's own socket */
    CHECK_INT(hello(d.b.secure, NULL, 0, buf, &n), HELLO_VERIFY);
    clen = cookie_of(buf, n, cookie);
    CHECK(!client_udp_closed(&relayed));
    CHECK_INT(hello(d.b.secure, cookie, clen, buf, &n), SERVER_HELLO);
    usleep(200000);
    CHECK(client_udp_closed(&relayed));
out:
    dclient_close(&d, false);
}

int main(void)
{
    int rc;

    if (certs_make(&certs) < 0) {
        printf("0 passed, 1 failed\n");
        return 1;
    }
    dtls_port = proc_free_port();
    if (start_dtls(&srv, dtls_port, NULL) < 0) {
        certs_remove(&certs);
        printf("0 passed, 1 failed\n");
        return 1;
    }
    RUN(hello_verify_keeps_nothing);
    RUN(valid_cookie_starts_session);
    RUN(hello_flood);
    RUN(session_lives_with_allocation);
    RUN(close_notify_deletes_allocation);
    RUN(client_restart_replaces_session);
    rc = proc_stop(&srv, SIGTERM, 5000, NULL);
    CHECK(proc_log_number(&srv, "dtls.handshakes=") > 0);
    proc_cleanup(&srv);
    certs_remove(&certs);
    return check_summary() || rc != 0;
}
