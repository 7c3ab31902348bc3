/* test_tls.c — TURN over TLS through the real turnserver: coturn's client, ALPN and versions
 * with openssl s_client, certificates that do not load, silent handshakes, an allocation that
 * dies with its connection, and the throughput of one allocation. */
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "proto/stun.h"
#include "tests/lib/certs.h"
#include "tests/lib/check.h"
#include "tests/lib/client.h"
#include "tests/lib/coturn.h"
#include "tests/lib/proc.h"
#include "tests/lib/tlsbridge.h"
#include "tests/lib/turnc.h"

#define USER "alice"
#define PASS "Sesame-9f3b"
#define REALM "example.org"
#define TIMEOUT 3000
#define CHANNEL 0x4000

static struct certs certs;
static struct proc srv;
static uint16_t tls_port, peer_port;

/* "--tls-listening-port", its value, "--cert", "--pkey" with their files: the arguments
 * every server of these tests gets, into args from index at. */
static char port_arg[8];

static int tls_args(const char **args, int at, uint16_t port)
{
    snprintf(port_arg, sizeof(port_arg), "%u", port);
    args[at++] = "--tls-listening-port";
    args[at++] = port_arg;
    args[at++] = "--cert";
    args[at++] = certs.cert;
    args[at++] = "--pkey";
    args[at++] = certs.key;
    args[at] = NULL;
    return at;
}

/* coturn's client over TLS (-S -t) and over DTLS (-S), verifying our certificate against the
 * test CA: channels (uclient's default), 4 clients and their RTCP allocations, 500 messages
 * each; then Send and Data indications from ::1 to an IPv6 relay. */
static void uclient_tls_and_dtls(void)
{
    const struct coturn_target who = {USER, PASS, peer_port};
    const char *modes[] = {"-S -t", "-S"};
    char flags[256];

    for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
        snprintf(flags, sizeof(flags), "%s -E %s", modes[i], certs.ca);
        coturn_relay_all(&who, flags, "127.0.0.1", tls_port, "127.0.0.1", 500, 4);
        strcat(flags, " -s -x");
        coturn_relay_all(&who, flags, "::1", tls_port, "::1", 200, 2);
    }
}

/* What openssl s_client says about a handshake with the server, with the options given. */
static void s_client(char *out, size_t cap, const char *opts)
{
    char cmd[512];

    snprintf(cmd, sizeof(cmd),
             "echo | openssl s_client -connect 127.0.0.1:%u -CAfile %s -verify_ip 127.0.0.1 %s",
             tls_port, certs.ca, opts);
    proc_capture(cmd, 10, out, cap);
}

/* RFC 7443: "stun.turn" and "stun.nat-discovery" are selected when offered; a client offering
 * only other protocols is served without ALPN. */
static void alpn(void)
{
    static char out[16384];

    s_client(out, sizeof(out), "-alpn stun.turn");
    CHECK(strstr(out, "ALPN protocol: stun.turn\n") != NULL);
    CHECK(strstr(out, "Verify return code: 0 (ok)") != NULL);
    s_client(out, sizeof(out), "-alpn h2,http/1.1");
    CHECK(strstr(out, "No ALPN negotiated") != NULL);
    CHECK(strstr(out, "New, TLSv1.3") != NULL);
    s_client(out, sizeof(out), "-alpn x-foo,stun.nat-discovery");
    CHECK(strstr(out, "ALPN protocol: stun.nat-discovery\n") != NULL);
    s_client(out, sizeof(out), "-alpn stun.nat-discovery,stun.turn");
    if (!CHECK(strstr(out, "ALPN protocol: stun.turn\n") != NULL))
        fprintf(stderr, "%s\n", out);
}

/* TLS 1.3 by default, TLS 1.2 when the client asks for it, nothing older; any server name. */
static void versions(void)
{
    static char out[16384];

    s_client(out, sizeof(out), "-servername turn.example.org");
    CHECK(strstr(out, "New, TLSv1.3") != NULL);
    s_client(out, sizeof(out), "-tls1_2 -cipher ECDHE-ECDSA-AES128-GCM-SHA256");
    CHECK(strstr(out, "New, TLSv1.2, Cipher is ECDHE-ECDSA-AES128-GCM-SHA256") != NULL);
    s_client(out, sizeof(out), "-tls1_1 -cipher DEFAULT@SECLEVEL=0");
    CHECK(strstr(out, "New, (NONE)") != NULL || strstr(out, "alert protocol version") != NULL);
    CHECK(strstr(out, "New, TLSv1.1") == NULL);
    s_client(out, sizeof(out), "-tls1_2 -cipher AES128-SHA"); /* no forward secrecy: refused */
    CHECK(strstr(out, "Cipher is AES128-SHA") == NULL);
}

/* Our client over TLS: data both ways on a channel and with Send, and the allocation dies with
 * the connection (RFC 8656 §3.1). */
static void allocation_lives_on_connection(void)
{
    struct tlsbridge b;
    struct turnc t;
    union addr peer, from, relayed;
    uint8_t buf[256];
    socklen_t flen = sizeof(from);
    uint16_t chan = 0;
    int pfd = client_udp_bound("127.0.0.1", &peer);

    if (!CHECK(pfd >= 0) || !CHECK(tlsbridge_start(&b, false, "127.0.0.1", tls_port, certs.ca) == 0))
        return;
    CHECK_STR(b.alpn, "stun.turn");
    CHECK_STR(b.version, "TLSv1.3");
    if (!CHECK(turnc_open(&t, SOCK_STREAM, "127.0.0.1", b.port, USER, PASS) == 0))
        goto out;
    CHECK_INT(turnc_allocate(&t), 0);
    CHECK_INT(turnc_bind(&t, CHANNEL, &peer), 0);
    turnc_channel_send(&t, CHANNEL, "odd", 3);
    turnc_send(&t, &peer, "indication", 10);
    if (CHECK(!client_silent(pfd, TIMEOUT)))
        CHECK_INT(recvfrom(pfd, buf, sizeof(buf), 0, &from.sa, &flen), 3);
    if (CHECK(!client_silent(pfd, TIMEOUT)))
        CHECK_INT(recv(pfd, buf, sizeof(buf), 0), 10);
    sendto(pfd, "12345", 5, 0, &t.relayed.sa, addr_len(&t.relayed));
    CHECK_INT(turnc_recv(&t, buf, sizeof(buf), NULL, &chan, TIMEOUT), 5);
    CHECK_INT(chan, CHANNEL);
    relayed = t.relayed;
    CHECK(!client_udp_closed(&relayed));
    turnc_close(&t);
    tlsbridge_close(&b, false);
    usleep(200000);
    CHECK(client_udp_closed(&relayed));
out:
    tlsbridge_close(&b, false);
    close(pfd);
}

/* A TLS client that reads nothing while its peer floods it: what does not fit in
 * --max-tcp-buffer is dropped (counted as queue_full), the ciphertext waiting on the socket is
 * bounded too, and the server's memory stays put. */
static void slow_reader(void)
{
    struct tlsbridge b;
    struct turnc t;
    union addr peer;
    long grew;
    int pfd = client_udp_bound("127.0.0.1", &peer);

    if (!CHECK(pfd >= 0) || !CHECK(tlsbridge_start(&b, false, "127.0.0.1", tls_port, NULL) == 0))
        return;
    if (!CHECK(turnc_open(&t, SOCK_STREAM, "127.0.0.1", b.port, USER, PASS) == 0))
        goto out;
    CHECK_INT(turnc_allocate(&t), 0);
    grew = turnc_flood_unread(&t, pfd, &peer, &srv);
    printf("  20 MB sent to a TLS client that reads nothing: RSS grew by %ld KiB\n", grew);
    CHECK(grew >= 0 && (proc_sanitized() || grew < 4096));
    turnc_close(&t);
out:
    tlsbridge_close(&b, false);
    close(pfd);
}

/* ---- throughput -------------------------------------------------------------------------- */

#define TP_COUNT 20000
#define TP_SIZE 1000
#define TP_WINDOW 64

/* Echoes what the peer socket holds back to the relayed address; returns how many. */
static int peer_echo(int pfd, const union addr *relayed)
{
    static uint8_t buf[2048];
    int n = 0;
    ssize_t len;

    while ((len = recv(pfd, buf, sizeof(buf), MSG_DONTWAIT)) > 0) {
        sendto(pfd, buf, (size_t)len, 0, &relayed->sa, addr_len(relayed));
        n++;
    }
    return n;
}

/* Channel messages client -> relay -> peer and back, TP_WINDOW in flight. */
static long pump(struct turnc *t, int pfd, long long deadline)
{
    static uint8_t payload[TP_SIZE], buf[TP_SIZE + 64];
    long sent = 0, got = 0;

    while (got < TP_COUNT && proc_now_ms() < deadline) {
        struct pollfd p[2] = {{.fd = t->fd, .events = POLLIN}, {.fd = pfd, .events = POLLIN}};

        while (sent < TP_COUNT && sent - got < TP_WINDOW) {
            turnc_channel_send(t, CHANNEL, payload, sizeof(payload));
            sent++;
        }
        if (poll(p, 2, 1000) <= 0)
            continue;
        if (p[1].revents)
            peer_echo(pfd, &t->relayed);
        if (p[0].revents && turnc_recv(t, buf, sizeof(buf), NULL, NULL, 1000) == TP_SIZE)
            got++;
    }
    return got;
}

/* Relays TP_COUNT messages each way through one allocation of t's and prints the rate. */
static void measure(struct turnc *t, const char *what)
{
    union addr peer;
    int pfd = client_udp_bound("127.0.0.1", &peer);
    long long t0;
    double secs;
    long got;

    if (!CHECK(pfd >= 0) || !CHECK_INT(turnc_allocate(t), 0) ||
        !CHECK_INT(turnc_bind(t, CHANNEL, &peer), 0))
        goto out;
    t0 = proc_now_ms();
    got = pump(t, pfd, t0 + 60000);
    secs = (double)(proc_now_ms() - t0) / 1000.0;
    CHECK_INT(got, TP_COUNT);
    printf("  %s, one allocation, our client: %d messages of %d bytes each way in %.2f s: "
           "%.1f MB/s each way, %.0f round trips/s\n", what, TP_COUNT, TP_SIZE, secs,
           (double)got * TP_SIZE / secs / 1e6, (double)got / secs);
out:
    if (pfd >= 0)
        close(pfd);
}

/* One allocation over TLS relaying as fast as it goes: our client (through the test's TLS
 * client thread, and over plain TCP for comparison), then coturn's uclient, which paces
 * itself. */
static void throughput(void)
{
    struct tlsbridge b;
    struct turnc t;
    struct coturn_run r;
    char flags[256];

    if (CHECK(turnc_open(&t, SOCK_STREAM, "127.0.0.1", srv.port, USER, PASS) == 0))
        measure(&t, "TCP");
    turnc_close(&t);
    if (!CHECK(tlsbridge_start(&b, false, "127.0.0.1", tls_port, NULL) == 0))
        return;
    if (CHECK(turnc_open(&t, SOCK_STREAM, "127.0.0.1", b.port, USER, PASS) == 0))
        measure(&t, "TLS");
    turnc_close(&t);
    tlsbridge_close(&b, true);
    snprintf(flags, sizeof(flags), "-S -t -c -u %s -w %s -e 127.0.0.1 -r %u -n 5000 -l 1000 "
             "-m 1 -z 0", USER, PASS, peer_port);
    coturn_uclient(&r, flags, tls_port, "127.0.0.1", 60);
    if (coturn_all_relayed(&r, 5000))
        printf("  TLS, one allocation, uclient -n 5000 -l 1000: %.2f s, %.1f MB/s each way\n",
               r.seconds, 5000.0 * 1000 / r.seconds / 1e6);
}

/* ---- certificates that do not load ----------------------------------------------------- */

/* Starts the server with cert and key (NULL: not given) and extra (NULL-terminated) and
 * expects it to stop at once with exit status 1 and want (with "%s" standing for the file) in
 * its log. */
static void expect_refused(const char *cert, const char *key, const char *const *extra,
                           const char *want, const char *file)
{
    const char *argv[32] = {"turnserver", "-n", "--log-file", "stdout", "-L", "127.0.0.1",
                            "--listening-port", "1", "--tls-listening-port", "2"};
    char msg[512];
    struct proc p;
    int n = 10;

    if (cert) {
        argv[n++] = "--cert";
        argv[n++] = cert;
    }
    if (key) {
        argv[n++] = "--pkey";
        argv[n++] = key;
    }
    for (; extra && *extra; extra++)
        argv[n++] = *extra;
    argv[n] = NULL;
    snprintf(msg, sizeof(msg), want, file, certs.cert);
    CHECK_INT(proc_run(&p, argv, 5000), 1);
    if (!CHECK(proc_log_contains(&p, msg, 0))) {
        fprintf(stderr, "wanted: %s\n", msg);
        proc_dump_log(&p);
    }
    proc_cleanup(&p);
}

static void bad_certificates(void)
{
    const char *wrong_pwd[] = {"--pkey-pwd", "not-it", NULL};
    const char *missing_dh[] = {"--dh-file", "/nonexistent/dh.pem", NULL};
    const char *missing_ca[] = {"--CA-file", "/nonexistent/ca.pem", NULL};
    const char *bad_group[] = {"--ec-curve-name", "no-such-curve", NULL};
    const char *bad_ciphers[] = {"--cipher-list", "NO-SUCH-CIPHER", NULL};
    const char *cert_as_dh[] = {"--dh-file", certs.cert, NULL};

    expect_refused("/nonexistent/cert.pem", certs.key, NULL,
                   "--cert '%s': No such file or directory", "/nonexistent/cert.pem");
    expect_refused(certs.cert, "/nonexistent/key.pem", NULL,
                   "--pkey '%s': No such file or directory", "/nonexistent/key.pem");
    expect_refused(certs.key, certs.key, NULL, "--cert '%s': ", certs.key);
    expect_refused(certs.cert, certs.other_key, NULL,
                   "--pkey '%s' does not match the certificate of --cert '%s'", certs.other_key);
    expect_refused(certs.cert, certs.enc_key, wrong_pwd,
                   "--pkey '%s': cannot decrypt the key with --pkey-pwd", certs.enc_key);
    expect_refused(certs.cert, certs.enc_key, NULL,
                   "--pkey '%s': the key is encrypted: give --pkey-pwd", certs.enc_key);
    expect_refused(certs.cert, NULL, NULL, "--pkey '%s': ", certs.cert); /* no key in it */
    expect_refused(certs.cert, certs.key, missing_dh, "--dh-file '%s': No such file",
                   "/nonexistent/dh.pem");
    expect_refused(certs.cert, certs.key, cert_as_dh, "--dh-file '%s': no DH parameters",
                   certs.cert);
    expect_refused(certs.cert, certs.key, missing_ca, "--CA-file '%s': No such file",
                   "/nonexistent/ca.pem");
    expect_refused(certs.cert, certs.key, bad_group, "--ec-curve-name '%s': unknown group",
                   "no-such-curve");
    expect_refused(certs.cert, certs.key, bad_ciphers, "--cipher-list '%s': no usable cipher",
                   "NO-SUCH-CIPHER");
}

/* Starts a server with extra arguments and a TLS port of its own; 0 or -1. */
static int start_with(struct proc *p, uint16_t port, const char **extra)
{
    const char *args[32] = {"--listening-ip", "127.0.0.1", "--realm", REALM,
                            "--user", USER ":" PASS, "--allow-loopback-peers"};
    int n = tls_args(args, 7, port);

    for (; *extra; extra++)
        args[n++] = *extra;
    args[n] = NULL;
    return proc_start(p, args);
}

/* True when a TLS (or DTLS) handshake with the server on port succeeds. */
static bool secure_up(uint16_t port, bool dtls)
{
    struct tlsbridge b;
    int rc = tlsbridge_start(&b, dtls, "127.0.0.1", port, NULL);

    tlsbridge_close(&b, true);
    return rc == 0;
}

static bool tls_up(uint16_t port)
{
    return secure_up(port, false);
}

/* True when a Binding request to port over UDP or TCP is answered. */
static bool binding_up(int type, uint16_t port)
{
    uint8_t req[64], buf[512];
    struct stun_msg m;
    size_t n = client_binding_request(req, sizeof(req), false);
    int fd = client_connect(type, "127.0.0.1", port, NULL);
    bool ok = fd >= 0 && client_transact(fd, type == SOCK_STREAM, req, n, buf, sizeof(buf), &m,
                                         1000) == 0;

    if (fd >= 0)
        close(fd);
    return ok;
}

/* --alt-listening-port and --alt-tls-listening-port add a port of each kind; --no-udp and
 * --no-tcp leave TLS alone. */
static void ports(void)
{
    static char alt_arg[8], alt_tls_arg[8];
    const char *alt[] = {"--alt-listening-port", alt_arg, "--alt-tls-listening-port",
                         alt_tls_arg, "--dtls", NULL};
    const char *tls_only[] = {"--no-udp", "--no-tcp", NULL};
    uint16_t port = proc_free_port(), alt_port, alt_tls;
    struct proc p;

    do {
        alt_port = proc_free_port();
        alt_tls = proc_free_port();
    } while (alt_port == port || alt_tls == port || alt_tls == alt_port);
    snprintf(alt_arg, sizeof(alt_arg), "%u", alt_port);
    snprintf(alt_tls_arg, sizeof(alt_tls_arg), "%u", alt_tls);
    if (CHECK(start_with(&p, port, alt) == 0)) {
        CHECK(proc_log_contains(&p, "(udp+tcp+tls+dtls)", 0));
        CHECK(binding_up(SOCK_DGRAM, p.port) && binding_up(SOCK_STREAM, p.port));
        CHECK(binding_up(SOCK_DGRAM, alt_port) && binding_up(SOCK_STREAM, alt_port));
        CHECK(secure_up(port, false) && secure_up(port, true));
        CHECK(secure_up(alt_tls, false) && secure_up(alt_tls, true));
    }
    CHECK_INT(proc_stop(&p, SIGTERM, 5000, NULL), 0);
    proc_cleanup(&p);
    if (CHECK(start_with(&p, port, tls_only) == 0)) {
        CHECK(proc_log_contains(&p, "(tls)", 0));
        CHECK(!binding_up(SOCK_DGRAM, p.port) && !binding_up(SOCK_STREAM, p.port));
        CHECK(tls_up(port));
        CHECK(!secure_up(port, true));
    }
    CHECK_INT(proc_stop(&p, SIGTERM, 5000, NULL), 0);
    proc_cleanup(&p);
}

/* The right password, a key inside the --cert file, --no-tls, and no certificate at all. */
static void certificates_that_load(void)
{
    const char *pwd[] = {"--pkey", certs.enc_key, "--pkey-pwd", CERTS_PASSWORD, NULL};
    const char *combined[] = {"--cert", certs.combined, "--pkey", certs.combined,
                              "--ec-curve-name", "X25519:prime256v1", "--CA-file", certs.ca,
                              NULL};
    const char *no_tls[] = {"--no-tls", NULL};
    uint16_t port = proc_free_port();
    struct proc p;

    if (CHECK(start_with(&p, port, pwd) == 0))
        CHECK(tls_up(port));
    CHECK_INT(proc_stop(&p, SIGTERM, 5000, NULL), 0);
    proc_cleanup(&p);
    /* The later --cert and --pkey win: one file holding both. */
    if (CHECK(start_with(&p, port, combined) == 0))
        CHECK(tls_up(port));
    CHECK_INT(proc_stop(&p, SIGTERM, 5000, NULL), 0);
    proc_cleanup(&p);
    if (CHECK(start_with(&p, port, no_tls) == 0)) {
        CHECK(proc_log_contains(&p, "(udp+tcp)", 0));
        CHECK(client_connect(SOCK_STREAM, "127.0.0.1", port, NULL) < 0);
    }
    CHECK_INT(proc_stop(&p, SIGTERM, 5000, NULL), 0);
    proc_cleanup(&p);
    {
        const char *args[] = {"--listening-ip", "127.0.0.1", "--tls-listening-port", port_arg,
                              "--dtls", NULL};

        snprintf(port_arg, sizeof(port_arg), "%u", port);
        if (CHECK(proc_start(&p, args) == 0)) {
            CHECK(proc_log_contains(&p, "INFO  no --cert and --pkey: no TLS or DTLS listener", 0));
            CHECK(client_connect(SOCK_STREAM, "127.0.0.1", port, NULL) < 0);
        }
        CHECK_INT(proc_stop(&p, SIGTERM, 5000, NULL), 0);
        proc_cleanup(&p);
    }
}

/* ---- silent handshakes ------------------------------------------------------------------ */

#define SILENT 300

/* Many connections to the TLS port that never send a ClientHello: past TLS_HANDSHAKES_MAX
 * (256) the oldest are closed at once, the rest within --tcp-idle-timeout; meanwhile a real
 * TLS client and a UDP client are served. */
static void silent_handshakes(void)
{
    const char *extra[] = {"--tcp-idle-timeout", "2", "--relay-threads", "1", NULL};
    uint16_t port = proc_free_port();
    int fds[SILENT], closed = 0;
    struct tlsbridge b;
    struct turnc t;
    struct proc p;
    long long t0, deadline;

    if (!CHECK(start_with(&p, port, extra) == 0))
        return;
    for (int i = 0; i < SILENT; i++)
        fds[i] = client_connect(SOCK_STREAM, "127.0.0.1", port, NULL);
    t0 = proc_now_ms();
    usleep(300000);
    if (CHECK(tlsbridge_start(&b, false, "127.0.0.1", port, NULL) == 0) &&
        CHECK(turnc_open(&t, SOCK_STREAM, "127.0.0.1", b.port, USER, PASS) == 0)) {
        CHECK_INT(turnc_allocate(&t), 0);
        turnc_close(&t);
    }
    tlsbridge_close(&b, true);
    if (CHECK(turnc_open(&t, SOCK_DGRAM, "127.0.0.1", p.port, USER, PASS) == 0))
        CHECK_INT(turnc_allocate(&t), 0);
    turnc_close(&t);
    /* Each silent connection is closed by the server (end of stream or reset). */
    deadline = t0 + 2000 + 1500;
    for (int i = 0; i < SILENT; i++) {
        char c;

        if (fds[i] >= 0 && !client_silent(fds[i], (int)(deadline - proc_now_ms())) &&
            recv(fds[i], &c, 1, 0) <= 0)
            closed++;
        if (fds[i] >= 0)
            close(fds[i]);
    }
    printf("  %d of %d silent connections closed within %.1f s\n", closed, SILENT,
           (double)(proc_now_ms() - t0) / 1000);
    CHECK_INT(closed, SILENT);
    CHECK_INT(proc_stop(&p, SIGTERM, 5000, NULL), 0);
    CHECK(proc_log_number(&p, "tls.evicted=") >= SILENT - 256);
    CHECK(proc_log_number(&p, "tls.timeout=") >= 200);
    CHECK_INT(proc_log_number(&p, "tls.handshakes="), 1);
    proc_cleanup(&p);
}

/* An allocation over TLS outlives --tcp-idle-timeout while the server has nothing to send
 * (its lifetime rules, as over TCP): the write timeout runs only while output waits, and
 * closes a client that stopped reading. */
static void allocated_tls_quiet(void)
{
    const char *extra[] = {"--tcp-idle-timeout", "2", "--relay-threads", "1", NULL};
    uint16_t port = proc_free_port();
    struct tlsbridge b = TLSBRIDGE_INIT;
    struct turnc t;
    struct proc p;

    if (!CHECK(start_with(&p, port, extra) == 0))
        return;
    if (CHECK(tlsbridge_start(&b, false, "127.0.0.1", port, NULL) == 0) &&
        CHECK(turnc_open(&t, SOCK_STREAM, "127.0.0.1", b.port, USER, PASS) == 0)) {
        CHECK_INT(turnc_allocate(&t), 0);
        usleep(3500000); /* past the 2 s idle timeout, with nothing to send either way */
        CHECK(!atomic_load(&b.server_closed));
        CHECK_INT(turnc_refresh(&t, 600), 0);
        turnc_close(&t);
    }
    tlsbridge_close(&b, true);
    /* A client that stops reading is still closed once its output has waited that long: the
     * bridge stops reading the server (its socket's buffer kept small) while a peer sends. */
    if (CHECK(tlsbridge_start(&b, false, "127.0.0.1", port, NULL) == 0) &&
        CHECK(turnc_open(&t, SOCK_STREAM, "127.0.0.1", b.port, USER, PASS) == 0)) {
        static const uint8_t payload[1000];
        union addr peer;
        int pfd = client_udp_bound("127.0.0.1", &peer), small = 4096;
        CHECK_INT(turnc_allocate(&t), 0);
        CHECK_INT(turnc_permit(&t, &peer), 0);
        tlsbridge_pause(&b);
        setsockopt(b.secure, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
        for (int i = 0; i < 4000 && pfd >= 0; i++) {
            sendto(pfd, payload, sizeof(payload), 0, &t.relayed.sa, addr_len(&t.relayed));
            if (i % 100 == 99)
                usleep(2000);
        }
        usleep(4000000);
        if (pfd >= 0)
            close(pfd);
        turnc_close(&t);
    }
    tlsbridge_close(&b, false);
    CHECK_INT(proc_stop(&p, SIGTERM, 5000, NULL), 0);
    CHECK(proc_log_number(&p, "tcp.closed_idle=") >= 1);
    proc_cleanup(&p);
}

/* Reads the stream until it ends or stays silent for 5 s, cutting it into STUN messages
 * (head 20, its length at 2) or, raw TLS, into records (head 5, length at 3); returns how
 * many were size bytes long in all. */
static long count_frames(int fd, size_t head, size_t at, size_t size)
{
    static uint8_t buf[1 << 17];
    struct timeval tv = {.tv_sec = 5};
    size_t have = 0;
    long count = 0;
    ssize_t n;

    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    while ((n = recv(fd, buf + have, sizeof(buf) - have, 0)) > 0) {
        size_t off = 0, len;
        have += (size_t)n;
        while (have - off >= head &&
               have - off >= (len = head + (buf[off + at] << 8 | buf[off + at + 1]))) {
            count += len == size;
            off += len;
        }
        memmove(buf, buf + off, have - off);
        have -= off;
    }
    return count;
}

/* A client that sends requests and then closes its side before reading gets every answer,
 * over TCP (FIN) and TLS 1.3 (close_notify, which closes only the client's side: RFC 8446
 * §6.1, then FIN).  Over TLS the server used to close with up to 32 KiB of ciphertext still
 * queued under the filter.  200,000 answers are far more than the kernel's buffers hold.
 * OpenSSL discards what arrives after its own close_notify, so the TLS answers are counted
 * as records of their size on the wire. */
static void half_close_answers(void)
{
    const char *extra[] = {"--max-tcp-buffer", "67108864", "--relay-threads", "1", NULL};
    enum { PER = 1000, N = 200 * PER };
    static uint8_t chunk[PER * 20];
    uint8_t answer[512];
    uint16_t port = proc_free_port();
    struct tlsbridge b = TLSBRIDGE_INIT;
    struct proc p;
    long tcp_got = -1, tls_got = -1;
    ssize_t size = -1;
    int fd;

    if (!CHECK(start_with(&p, port, extra) == 0))
        return;
    for (int i = 0; i < PER; i++)
        client_binding_request(chunk + i * 20, 20, false);
    fd = client_connect(SOCK_STREAM, "127.0.0.1", p.port, NULL);
    if (CHECK(fd >= 0) && CHECK(client_send_all(fd, chunk, 20) == 0) &&
        CHECK((size = client_recv(fd, 1, answer, sizeof(answer), TIMEOUT)) > 20)) {
        for (int i = 0; i < N / PER; i++)
            client_send_all(fd, chunk, sizeof(chunk));
        shutdown(fd, SHUT_WR);
        tcp_got = count_frames(fd, 20, 2, (size_t)size);
    }
    if (fd >= 0)
        close(fd);
    if (size > 20 && CHECK(tlsbridge_start(&b, false, "127.0.0.1", port, NULL) == 0)) {
        CHECK_STR(b.version, "TLSv1.3");
        tlsbridge_pause(&b);
        for (int i = 0; i < N / PER; i++)
            CHECK_INT(SSL_write(b.ssl, chunk, sizeof(chunk)), (int)sizeof(chunk));
        SSL_shutdown(b.ssl);
        shutdown(b.secure, SHUT_WR);
        /* An answer's record: its bytes, the inner content type and a 16-byte AEAD tag. */
        tls_got = count_frames(b.secure, 5, 3, 5 + (size_t)size + 1 + 16);
    }
    tlsbridge_close(&b, false);
    printf("  %d requests, then the client's side closed: %ld answers over TCP, %ld over TLS\n",
           N, tcp_got, tls_got);
    CHECK_INT(tcp_got, N);
    CHECK_INT(tls_got, N);
    CHECK_INT(proc_stop(&p, SIGTERM, 5000, NULL), 0);
    proc_cleanup(&p);
}

int main(void)
{
    const char *args[32] = {"--listening-ip", "127.0.0.1", "--listening-ip", "::1",
                            "--realm", REALM, "--user", USER ":" PASS,
                            "--allow-loopback-peers", "--relay-threads", "2", "--dtls"};
    pid_t peer4, peer6;
    int rc;

    if (certs_make(&certs) < 0) {
        printf("0 passed, 1 failed\n");
        return 1;
    }
    tls_port = proc_free_port();
    tls_args(args, 12, tls_port);
    if (proc_start(&srv, args) < 0) {
        certs_remove(&certs);
        printf("0 passed, 1 failed\n");
        return 1;
    }
    peer_port = proc_free_port();
    peer4 = coturn_peer_start("127.0.0.1", peer_port);
    peer6 = coturn_peer_start("::1", peer_port);
    usleep(300000);
    RUN(uclient_tls_and_dtls);
    RUN(alpn);
    RUN(versions);
    RUN(allocation_lives_on_connection);
    RUN(slow_reader);
    RUN(throughput);
    RUN(bad_certificates);
    RUN(certificates_that_load);
    RUN(ports);
    RUN(silent_handshakes);
    RUN(allocated_tls_quiet);
    RUN(half_close_answers);
    coturn_peer_stop(peer4);
    coturn_peer_stop(peer6);
    rc = proc_stop(&srv, SIGTERM, 5000, NULL);
    CHECK(proc_log_number(&srv, "tls.handshakes=") > 0);
    CHECK(proc_log_number(&srv, "dtls.handshakes=") > 0);
    CHECK(proc_log_number(&srv, "relay.drop.queue_full=") > 0);
    proc_cleanup(&srv);
    certs_remove(&certs);
    return check_summary() || rc != 0;
}
