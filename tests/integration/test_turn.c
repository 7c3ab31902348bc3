/* test_turn.c — TURN over UDP through the real turnserver with our test client: the whole
 * flow, bad input, drops, and a flood of unauthenticated Allocates. */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "proto/crypto.h"
#include "proto/frame.h"
#include "proto/stun_build.h"
#include "tests/lib/check.h"
#include "tests/lib/client.h"
#include "tests/lib/proc.h"
#include "tests/lib/turnc.h"

#define TIMEOUT 3000

static struct proc srv;

/* Receives one datagram on the peer socket within ms; returns its length or -1. */
static ssize_t peer_recv(int fd, uint8_t *buf, size_t cap, union addr *from, int ms)
{
    socklen_t len = sizeof(*from);

    if (client_silent(fd, ms))
        return -1;
    return recvfrom(fd, buf, cap, 0, &from->sa, &len);
}

static int open_client(struct turnc *t, const char *pass)
{
    return turnc_open(t, SOCK_DGRAM, "127.0.0.1", srv.port, "alice", pass);
}

/* Allocate, permission, Send one way and Data back, channel both ways, refresh, delete. */
static void whole_flow(void)
{
    struct turnc t;
    union addr peer, from, got_peer, local;
    uint8_t buf[256];
    uint16_t chan = 0;
    ssize_t n;
    int pfd = client_udp_bound("127.0.0.1", &peer);

    if (!CHECK(pfd >= 0) || !CHECK(open_client(&t, "secret") == 0))
        return;
    if (!CHECK_INT(turnc_allocate(&t), 0))
        goto out;
    CHECK_INT(t.lifetime, 600);
    local = client_local(t.fd);
    CHECK(addr_equal(&t.mapped, &local));
    /* Without a permission nothing reaches the peer. */
    turnc_send(&t, &peer, "early", 5);
    CHECK((n = peer_recv(pfd, buf, sizeof(buf), &from, 300)) < 0);
    CHECK_INT(turnc_permit(&t, &peer), 0);
    turnc_send(&t, &peer, "hello", 5);
    n = peer_recv(pfd, buf, sizeof(buf), &from, TIMEOUT);
    if (CHECK_INT(n, 5)) {
        CHECK_MEM(buf, "hello", 5);
        CHECK(addr_equal(&from, &t.relayed));
    }
    sendto(pfd, "back", 4, 0, &t.relayed.sa, addr_len(&t.relayed));
    n = turnc_recv(&t, buf, sizeof(buf), &got_peer, &chan, TIMEOUT);
    if (CHECK_INT(n, 4)) {
        CHECK_MEM(buf, "back", 4);
        CHECK(addr_equal(&got_peer, &peer));
    }
    CHECK_INT(turnc_bind(&t, 0x4123, &peer), 0);
    turnc_channel_send(&t, 0x4123, "via channel", 11);
    n = peer_recv(pfd, buf, sizeof(buf), &from, TIMEOUT);
    CHECK(n == 11 && memcmp(buf, "via channel", 11) == 0);
    sendto(pfd, "chan back", 9, 0, &t.relayed.sa, addr_len(&t.relayed));
    chan = 0;
    n = turnc_recv(&t, buf, sizeof(buf), NULL, &chan, TIMEOUT);
    CHECK(n == 9 && memcmp(buf, "chan back", 9) == 0);
    CHECK_INT(chan, 0x4123);
    CHECK_INT(turnc_refresh(&t, 1800), 0);
    CHECK_INT(t.lifetime, 1800);
    CHECK_INT(turnc_refresh(&t, 0), 0);
    CHECK_INT(turnc_permit(&t, &peer), 437); /* gone */
    sendto(pfd, "late", 4, 0, &t.relayed.sa, addr_len(&t.relayed));
    CHECK(turnc_recv(&t, buf, sizeof(buf), NULL, NULL, 300) < 0);
out:
    turnc_close(&t);
    close(pfd);
}

/* The error answers a client meets: 401 for a wrong password, 437 for a second Allocate,
 * 403 for a denied peer, 400 for a malformed request, 420 for an unknown attribute. */
static void error_answers(void)
{
    struct turnc t, bad;
    union addr denied;
    uint8_t buf[512];
    struct stun_msg resp;

    if (!CHECK(open_client(&t, "secret") == 0) || !CHECK(open_client(&bad, "wrong") == 0))
        return;
    CHECK_INT(turnc_allocate(&bad), 401);
    CHECK_INT(turnc_allocate(&t), 0);
    CHECK_INT(turnc_allocate(&t), 437);
    addr_parse(&denied, "10.0.0.1", 9);
    CHECK_INT(turnc_permit(&t, &denied), 403);
    addr_parse(&denied, "::ffff:127.0.0.1", 9);
    CHECK_INT(turnc_permit(&t, &denied), 443); /* an IPv6 peer on an IPv4 allocation */
    CHECK_INT(turnc_request(&t, STUN_METHOD_CHANNEL_BIND, NULL, NULL, buf, sizeof(buf), &resp),
              400);
    turnc_close(&t);
    turnc_close(&bad);
}

/* Datagrams the relay must drop, each counted: ChannelData on an unbound channel, data from a
 * peer without permission, an oversized datagram. */
static void drops_are_counted(void)
{
    struct turnc t;
    union addr peer, stranger_addr;
    uint8_t big[6000];
    int pfd = client_udp_bound("127.0.0.1", &peer);
    int stranger = client_udp_bound("127.0.0.1", &stranger_addr);

    if (!CHECK(pfd >= 0 && stranger >= 0) || !CHECK(open_client(&t, "secret") == 0))
        return;
    CHECK_INT(turnc_allocate(&t), 0);
    CHECK_INT(turnc_permit(&t, &peer), 0);
    turnc_channel_send(&t, 0x4999, "unbound", 7);
    memset(big, 0, sizeof(big));
    frame_chandata_hdr(big, 0x4000, sizeof(big) - 4);
    client_send_all(t.fd, big, sizeof(big));
    /* A peer whose IP has a permission is let through, whatever its port; a stranger is not:
     * both live on 127.0.0.1 here, so the stranger is a separate IP, 127.0.0.2. */
    close(stranger);
    stranger = socket(AF_INET, SOCK_DGRAM, 0);
    addr_parse(&stranger_addr, "127.0.0.2", 0);
    bind(stranger, &stranger_addr.sa, addr_len(&stranger_addr));
    sendto(stranger, "no permission", 13, 0, &t.relayed.sa, addr_len(&t.relayed));
    CHECK(turnc_recv(&t, big, sizeof(big), NULL, NULL, 300) < 0);
    /* A Send indication with an unknown comprehension-required attribute is discarded (RFC
     * 8489 §6.3.3); the same without it goes through. */
    for (int unknown = 1; unknown >= 0; unknown--) {
        uint8_t ind[128], tid[STUN_TID_LEN] = {7};
        union addr from;
        struct stun_builder b;
        size_t len = 0;
        stun_build_start(&b, ind, sizeof(ind),
                         stun_type(STUN_METHOD_SEND, STUN_CLASS_INDICATION), tid);
        stun_build_addr(&b, STUN_ATTR_XOR_PEER_ADDRESS, &peer);
        stun_build_attr(&b, STUN_ATTR_DATA, "payload", 7);
        if (unknown)
            stun_build_u32(&b, 0x0031, 1);
        stun_build_end(&b, &len);
        client_send_all(t.fd, ind, len);
        if (unknown)
            CHECK(peer_recv(pfd, big, sizeof(big), &from, 300) < 0);
        else
            CHECK_INT(peer_recv(pfd, big, sizeof(big), &from, TIMEOUT), 7);
    }
    turnc_close(&t);
    close(pfd);
    close(stranger);
}

/* A flood of unauthenticated Allocates from many source ports: each gets a 401 and the server
 * keeps nothing for them. */
static void unauthenticated_flood(void)
{
    enum { SOCKETS = 50, PER_SOCKET = 400 };
    uint8_t req[128], buf[512];
    long before = proc_rss_kib(&srv), after;
    int answered = 0;

    for (int s = 0; s < SOCKETS; s++) {
        int fd = client_connect(SOCK_DGRAM, "127.0.0.1", srv.port, NULL);
        if (fd < 0)
            continue;
        for (int i = 0; i < PER_SOCKET; i++) {
            uint8_t tid[STUN_TID_LEN];
            struct stun_builder b;
            size_t len = 0;
            crypto_random(tid, sizeof(tid));
            stun_build_start(&b, req, sizeof(req),
                             stun_type(STUN_METHOD_ALLOCATE, STUN_CLASS_REQUEST), tid);
            stun_build_u8(&b, STUN_ATTR_REQUESTED_TRANSPORT, STUN_TRANSPORT_UDP);
            stun_build_end(&b, &len);
            send(fd, req, len, 0);
            if (i % 16 == 15) /* keep within the socket buffers: read the answers */
                while (client_recv(fd, 0, buf, sizeof(buf), 50) > 0)
                    answered++;
        }
        while (client_recv(fd, 0, buf, sizeof(buf), 100) > 0)
            answered++;
        close(fd);
    }
    after = proc_rss_kib(&srv);
    printf("  %d unauthenticated Allocates, %d answered; RSS %ld -> %ld KiB\n",
           SOCKETS * PER_SOCKET, answered, before, after);
    CHECK(answered > SOCKETS * PER_SOCKET * 9 / 10);
    if (!proc_sanitized())
        CHECK(after - before < 2048);
}

/* Malformed TURN requests get 400 and change nothing. */
static void malformed_requests(void)
{
    uint8_t req[64], buf[512];
    struct stun_msg resp;
    const char *reason;
    size_t len = 0, rlen;
    int code = 0, fd = client_connect(SOCK_DGRAM, "127.0.0.1", srv.port, NULL);
    uint8_t tid[STUN_TID_LEN] = {7};
    struct stun_builder b;

    stun_build_start(&b, req, sizeof(req), stun_type(STUN_METHOD_ALLOCATE, STUN_CLASS_REQUEST),
                     tid);
    stun_build_u32(&b, STUN_ATTR_LIFETIME, 600);
    stun_build_u32(&b, STUN_ATTR_REQUESTED_TRANSPORT, 0x11000000);
    stun_build_end(&b, &len);
    req[STUN_HEADER_LEN + 3] = 3; /* LIFETIME of 3 bytes: malformed, still framed */
    if (!CHECK(fd >= 0))
        return;
    if (CHECK(client_transact(fd, 0, req, len, buf, sizeof(buf), &resp, TIMEOUT) == 0) &&
        CHECK(stun_msg_get_error(&resp, &code, &reason, &rlen) == STUN_OK))
        CHECK_INT(code, 400);
    close(fd);
}

/* --userdb is read again on SIGHUP: a user added to the file can allocate, one removed
 * cannot; a file that no longer parses keeps the old users. */
static void userdb_reload(void)
{
    const char *args[] = {"--listening-ip", "127.0.0.1", "--realm", "example.org", "--userdb",
                          "users.txt", "--relay-threads", "1", NULL};
    struct proc p;
    char path[160];
    FILE *f;
    const char *missing[] = {"turnserver", "-n", "--userdb", "users.txt", NULL};

    /* A userdb that cannot be read stops the start, naming the file. */
    CHECK_INT(proc_run(&p, missing, 5000), 1);
    CHECK(proc_log_contains(&p, "cannot read 'users.txt'", 0));
    proc_cleanup(&p);
    snprintf(path, sizeof(path), "/tmp/turnpike-userdb-%d.txt", (int)getpid());
    f = fopen(path, "w");
    fprintf(f, "# users\nbob:first-pass\n");
    fclose(f);
    args[5] = path;
    if (!CHECK(proc_start(&p, args) == 0))
        goto out;
    CHECK_INT(turnc_try_allocate(SOCK_DGRAM, "127.0.0.1", p.port, "carol", "carol-pass"),
              401);
    f = fopen(path, "w");
    fprintf(f, "carol:carol-pass\n");
    fclose(f);
    kill(p.pid, SIGHUP);
    CHECK(proc_log_contains(&p, "reloaded: users; userdb;", 3000));
    CHECK_INT(turnc_try_allocate(SOCK_DGRAM, "127.0.0.1", p.port, "carol", "carol-pass"),
              0);
    CHECK_INT(turnc_try_allocate(SOCK_DGRAM, "127.0.0.1", p.port, "bob", "first-pass"),
              401);
    f = fopen(path, "w");
    fprintf(f, "no colon here\n");
    fclose(f);
    kill(p.pid, SIGHUP);
    CHECK(proc_log_contains(&p, "not reloaded, the old state stays: userdb: ", 3000));
    CHECK_INT(turnc_try_allocate(SOCK_DGRAM, "127.0.0.1", p.port, "carol", "carol-pass"),
              0);
    CHECK_INT(proc_stop(&p, SIGTERM, 5000, NULL), 0);
    proc_cleanup(&p);
out:
    unlink(path);
}

/* --no-auth: allocations without credentials, and a loud warning in the log. */
static void open_relay(void)
{
    const char *args[] = {"--listening-ip", "127.0.0.1", "--no-auth", NULL};
    uint8_t req[64], buf[512];
    uint8_t tid[STUN_TID_LEN];
    struct stun_builder b;
    struct stun_msg resp;
    struct proc p;
    size_t len = 0;
    int fd;

    if (!CHECK(proc_start(&p, args) == 0))
        return;
    CHECK(proc_log_contains(&p, "OPEN RELAY", 0));
    fd = client_connect(SOCK_DGRAM, "127.0.0.1", p.port, NULL);
    crypto_random(tid, sizeof(tid));
    stun_build_start(&b, req, sizeof(req), stun_type(STUN_METHOD_ALLOCATE, STUN_CLASS_REQUEST),
                     tid);
    stun_build_u8(&b, STUN_ATTR_REQUESTED_TRANSPORT, STUN_TRANSPORT_UDP);
    stun_build_end(&b, &len);
    if (CHECK(client_transact(fd, 0, req, len, buf, sizeof(buf), &resp, TIMEOUT) == 0)) {
        CHECK_INT(resp.cls, STUN_CLASS_SUCCESS);
        CHECK(stun_msg_find(&resp, STUN_ATTR_XOR_RELAYED_ADDRESS) != NULL);
        CHECK(stun_msg_find(&resp, STUN_ATTR_MESSAGE_INTEGRITY) == NULL);
    }
    close(fd);
    CHECK_INT(proc_stop(&p, SIGTERM, 5000, NULL), 0);
    proc_cleanup(&p);
}

/* REST credentials: a name with a future expiry and the HMAC password allocates; an expired
 * one gets 401.  The password is computed here the way an application server would. */
static void rest_credentials(void)
{
    const char *args[] = {"--listening-ip", "127.0.0.1", "--realm", "example.org",
                          "--use-auth-secret", "--static-auth-secret", "s3cr3t", NULL};
    struct proc p;

    if (!CHECK(proc_start(&p, args) == 0))
        return;
    for (int expired = 0; expired < 2; expired++) {
        char name[64], pass[64];
        struct turnc t;

        snprintf(name, sizeof(name), "%ld:app-user", (long)time(NULL) + (expired ? -10 : 3600));
        turnc_rest_password("s3cr3t", name, pass, sizeof(pass));
        turnc_open(&t, SOCK_DGRAM, "127.0.0.1", p.port, name, pass);
        CHECK_INT(turnc_allocate(&t), expired ? 401 : 0);
        turnc_close(&t);
    }
    CHECK_INT(proc_stop(&p, SIGTERM, 5000, NULL), 0);
    proc_cleanup(&p);
}

/* --user-quota 1: the user's second allocation (another 5-tuple) gets 486 until the first
 * is deleted. */
static void user_quota(void)
{
    const char *args[] = {"--listening-ip", "127.0.0.1", "--realm", "example.org",
                          "--user", "alice:secret", "--user-quota", "1", NULL};
    struct proc p;
    struct turnc a, b;

    if (!CHECK(proc_start(&p, args) == 0))
        return;
    turnc_open(&a, SOCK_DGRAM, "127.0.0.1", p.port, "alice", "secret");
    turnc_open(&b, SOCK_DGRAM, "127.0.0.1", p.port, "alice", "secret");
    CHECK_INT(turnc_allocate(&a), 0);
    CHECK_INT(turnc_allocate(&b), 486);
    CHECK_INT(turnc_refresh(&a, 0), 0);
    CHECK_INT(turnc_allocate(&b), 0);
    turnc_close(&a);
    turnc_close(&b);
    CHECK_INT(proc_stop(&p, SIGTERM, 5000, NULL), 0);
    CHECK(proc_log_contains(&p, "reply.486=1", 0));
    proc_cleanup(&p);
}

/* --software-attribute: SOFTWARE in the 401 and, before MESSAGE-INTEGRITY (which must cover
 * it: RFC 8489 §14.5, what follows the integrity is ignored), in the signed success. */
static void software_attribute(void)
{
    const char *args[] = {"--listening-ip", "127.0.0.1", "--user", "alice:secret",
                          "--software-attribute", NULL};
    uint8_t buf[1024];
    struct stun_msg resp;
    const struct stun_attr *sw, *mi;
    struct turnc t;
    struct proc p;

    if (!CHECK(proc_start(&p, args) == 0))
        return;
    if (CHECK(turnc_open(&t, SOCK_DGRAM, "127.0.0.1", p.port, "alice", "secret") == 0) &&
        CHECK_INT(turnc_request(&t, STUN_METHOD_REFRESH, NULL, NULL, buf, sizeof(buf), &resp),
                  437)) {
        CHECK(stun_msg_find(&resp, STUN_ATTR_SOFTWARE) != NULL);
        CHECK(stun_msg_find(&resp, STUN_ATTR_MESSAGE_INTEGRITY) != NULL);
        CHECK_INT(turnc_allocate(&t), 0);
        CHECK_INT(turnc_request(&t, STUN_METHOD_REFRESH, NULL, NULL, buf, sizeof(buf), &resp),
                  0);
        sw = stun_msg_find(&resp, STUN_ATTR_SOFTWARE);
        mi = stun_msg_find(&resp, STUN_ATTR_MESSAGE_INTEGRITY);
        /* The decoder ignores what follows MESSAGE-INTEGRITY: found means before it. */
        if (CHECK(sw != NULL && mi != NULL))
            CHECK(sw->off < mi->off);
    }
    turnc_close(&t);
    CHECK_INT(proc_stop(&p, SIGTERM, 5000, NULL), 0);
    proc_cleanup(&p);
}

int main(void)
{
    const char *args[] = {"--listening-ip", "127.0.0.1", "--realm", "example.org",
                          "--user", "alice:secret", "--allow-loopback-peers",
                          "--relay-threads", "2", NULL};
    int rc;

    if (proc_start(&srv, args) < 0) {
        printf("0 passed, 1 failed\n");
        return 1;
    }
    RUN(whole_flow);
    RUN(error_answers);
    RUN(drops_are_counted);
    RUN(malformed_requests);
    RUN(unauthenticated_flood);
    RUN(userdb_reload);
    RUN(open_relay);
    RUN(rest_credentials);
    RUN(user_quota);
    RUN(software_attribute);
    rc = proc_stop(&srv, SIGTERM, 5000, NULL);
    CHECK_INT(rc, 0);
    /* The drops of drops_are_counted, in the exit counters. */
    if (!CHECK(proc_log_contains(&srv, "relay.drop.no_channel=1", 0)) ||
        !CHECK(proc_log_contains(&srv, "relay.drop.no_permission=", 0)) ||
        !CHECK(proc_log_contains(&srv, "drop.oversize=1", 0)))
        proc_dump_log(&srv);
    proc_cleanup(&srv);
    return check_summary();
}
