/* test_steer.c — --relay-steering: what peers send reaches every allocation through the
 * workers' steering sockets (IPv4 and IPv6, UDP and TCP clients, a reserved port adopted
 * later, coturn's uclient), counted datagram for datagram; a port given back is steered no
 * more; --proc-user keeps it working; without the capabilities the server says so and stops. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "proto/stun_build.h"
#include "tests/lib/check.h"
#include "tests/lib/client.h"
#include "tests/lib/coturn.h"
#include "tests/lib/http.h"
#include "tests/lib/proc.h"
#include "tests/lib/turnc.h"

#define USER "alice"
#define PASS "steer-test-pass"
#define TIMEOUT 3000
#define PER_CLIENT 25 /* datagrams the peer sends each client */

static char page[128 * 1024];

/* Starts a steering server with two workers on 127.0.0.1 and ::1 and --prometheus on a port
 * of its own (*mport), with up to two more arguments. */
static int start(struct proc *p, uint16_t *mport, const char *extra1, const char *extra2)
{
    char portarg[8];
    const char *args[] = {"--listening-ip", "127.0.0.1", "--listening-ip", "::1",
                          "--relay-threads", "2", "--user", USER ":" PASS,
                          "--allow-loopback-peers", "--relay-steering", "--prometheus",
                          "--prometheus-port", portarg, extra1, extra2, NULL};

    *mport = proc_free_port();
    snprintf(portarg, sizeof(portarg), "%u", *mport);
    return proc_start(p, args);
}

/* A series of a fresh /metrics page, or -1. */
static double metric(uint16_t mport, const char *series)
{
    if (http_get("127.0.0.1", mport, "/metrics", page, sizeof(page), 3000) != 200)
        return -1;
    return http_metric(page, series);
}

#define STEERED "turnpike_steered_packets_total{outcome=\"relayed\"}"
#define NO_ENDPOINT "turnpike_steered_packets_total{outcome=\"no_endpoint\"}"
#define TO_CLIENT "turnpike_relayed_packets_total{direction=\"peer_to_client\"}"

/* The peer (pfd, at peer) sends t's relayed address n numbered datagrams; t, which has a
 * channel to the peer, must get each of them, in any order.  Returns how many it got. */
static int peer_to_client(struct turnc *t, int pfd, int n)
{
    bool seen[PER_CLIENT] = {false};
    uint8_t buf[64];
    int got = 0;

    for (int i = 0; i < n; i++) {
        char msg[32];
        int len = snprintf(msg, sizeof(msg), "steered %02d", i);
        sendto(pfd, msg, (size_t)len, 0, &t->relayed.sa, addr_len(&t->relayed));
    }
    for (int i = 0; i < n; i++) {
        ssize_t len = turnc_recv(t, buf, sizeof(buf) - 1, NULL, NULL, TIMEOUT);
        unsigned k;

        if (len < 0)
            break;
        buf[len] = '\0';
        if (sscanf((char *)buf, "steered %u", &k) == 1 && k < PER_CLIENT && !seen[k]) {
            seen[k] = true;
            got++;
        }
    }
    return got;
}

/* Allocation, permission and channel to peer for a fresh client of type on ip; then the peer
 * sends it PER_CLIENT datagrams and it sends one back.  Returns the datagrams it got. */
static int relay_one(uint16_t port, int type, const char *ip, int pfd, const union addr *peer)
{
    struct turnc t;
    union addr from;
    socklen_t flen = sizeof(from);
    uint8_t buf[64];
    int got = -1;

    if (!CHECK(turnc_open(&t, type, ip, port, USER, PASS) == 0))
        return -1;
    if (CHECK_INT(turnc_allocate(&t), 0) && CHECK_INT(turnc_permit(&t, peer), 0) &&
        CHECK_INT(turnc_bind(&t, 0x4001, peer), 0)) {
        got = peer_to_client(&t, pfd, PER_CLIENT);
        turnc_channel_send(&t, 0x4001, "up", 2);
        if (CHECK(!client_silent(pfd, TIMEOUT)))
            CHECK_INT(recvfrom(pfd, buf, sizeof(buf), 0, &from.sa, &flen), 2);
        CHECK(addr_equal(&from, &t.relayed));
    }
    turnc_close(&t);
    return got;
}

/* UDP and TCP clients on both workers: every datagram from the peer arrives, and every one
 * came through a steering socket. */
static void every_datagram_steered(void)
{
    const int nudp = 8, ntcp = 2;
    union addr peer;
    uint16_t mport;
    struct proc p;
    int pfd = client_udp_bound("127.0.0.1", &peer);

    if (!CHECK(pfd >= 0) || !CHECK(start(&p, &mport, NULL, NULL) == 0)) {
        close(pfd);
        return;
    }
    CHECK(proc_log_contains(&p, "steered to one socket per worker", 0));
    for (int i = 0; i < nudp + ntcp; i++)
        CHECK_INT(relay_one(p.port, i < nudp ? SOCK_DGRAM : SOCK_STREAM, "127.0.0.1", pfd,
                            &peer),
                  PER_CLIENT);
    CHECK_INT(metric(mport, STEERED), (nudp + ntcp) * PER_CLIENT);
    CHECK_INT(metric(mport, TO_CLIENT), (nudp + ntcp) * PER_CLIENT);
    CHECK_INT(metric(mport, NO_ENDPOINT), 0);
    CHECK(!proc_log_contains(&p, "is not steered", 0));
    CHECK_INT(proc_stop(&p, SIGTERM, 5000, NULL), 0);
    CHECK_INT(proc_log_number(&p, "steered.relayed="), (nudp + ntcp) * PER_CLIENT);
    proc_cleanup(&p);
    close(pfd);
}

static void add_ipv6(struct stun_builder *b, const void *arg)
{
    (void)arg;
    stun_build_u8(b, STUN_ATTR_REQUESTED_TRANSPORT, STUN_TRANSPORT_UDP);
    stun_build_u8(b, STUN_ATTR_REQUESTED_ADDRESS_FAMILY, STUN_FAMILY_IPV6);
}

/* An IPv6 relayed address goes to the worker's IPv6 steering socket. */
static void ipv6_steered(void)
{
    union addr peer;
    uint16_t mport;
    struct stun_msg resp;
    uint8_t buf[1024];
    struct turnc t;
    struct proc p;
    int pfd = client_udp_bound("::1", &peer);

    if (!CHECK(pfd >= 0) || !CHECK(start(&p, &mport, NULL, NULL) == 0)) {
        close(pfd);
        return;
    }
    if (CHECK(turnc_open(&t, SOCK_DGRAM, "::1", p.port, USER, PASS) == 0)) {
        if (CHECK_INT(turnc_request(&t, STUN_METHOD_ALLOCATE, add_ipv6, NULL, buf, sizeof(buf),
                                    &resp),
                      0) &&
            CHECK_INT(stun_msg_get_addr(&resp, STUN_ATTR_XOR_RELAYED_ADDRESS, &t.relayed),
                      STUN_OK) &&
            CHECK_INT(t.relayed.sa.sa_family, AF_INET6) && CHECK_INT(turnc_permit(&t, &peer), 0))
            CHECK_INT(turnc_bind(&t, 0x4002, &peer), 0);
        CHECK_INT(peer_to_client(&t, pfd, PER_CLIENT), PER_CLIENT);
        turnc_close(&t);
    }
    CHECK_INT(metric(mport, STEERED), PER_CLIENT);
    CHECK_INT(proc_stop(&p, SIGTERM, 5000, NULL), 0);
    proc_cleanup(&p);
    close(pfd);
}

static void add_even_port(struct stun_builder *b, const void *arg)
{
    const uint8_t reserve = 0x80; /* R: keep the next port for a later Allocate */

    (void)arg;
    stun_build_u8(b, STUN_ATTR_REQUESTED_TRANSPORT, STUN_TRANSPORT_UDP);
    stun_build_attr(b, STUN_ATTR_EVEN_PORT, &reserve, 1);
}

static void add_token(struct stun_builder *b, const void *arg)
{
    stun_build_u8(b, STUN_ATTR_REQUESTED_TRANSPORT, STUN_TRANSPORT_UDP);
    stun_build_attr(b, STUN_ATTR_RESERVATION_TOKEN, arg, 8);
}

/* A port held for a RESERVATION-TOKEN is steered from the Allocate that redeems it on, and a
 * port given back (Refresh 0) is not steered any more: a program that binds it gets what is
 * sent there. */
static void reserved_and_released(void)
{
    union addr peer, released, from;
    socklen_t flen = sizeof(from);
    uint8_t buf[1024], token[8];
    const uint8_t *v;
    struct stun_msg resp;
    struct turnc a, b;
    uint16_t mport;
    struct proc p;
    size_t n;
    int pfd = client_udp_bound("127.0.0.1", &peer), fd;

    if (!CHECK(pfd >= 0) || !CHECK(start(&p, &mport, NULL, NULL) == 0)) {
        close(pfd);
        return;
    }
    if (!CHECK(turnc_open(&a, SOCK_DGRAM, "127.0.0.1", p.port, USER, PASS) == 0) ||
        !CHECK(turnc_open(&b, SOCK_DGRAM, "127.0.0.1", p.port, USER, PASS) == 0))
        goto out;
    if (!CHECK_INT(turnc_request(&a, STUN_METHOD_ALLOCATE, add_even_port, NULL, buf,
                                 sizeof(buf), &resp),
                   0) ||
        !CHECK_INT(stun_msg_get_bytes(&resp, STUN_ATTR_RESERVATION_TOKEN, &v, &n), STUN_OK) ||
        !CHECK_INT(n, 8))
        goto out;
    memcpy(token, v, 8);
    if (!CHECK_INT(turnc_request(&b, STUN_METHOD_ALLOCATE, add_token, token, buf, sizeof(buf),
                                 &resp),
                   0))
        goto out;
    stun_msg_get_addr(&resp, STUN_ATTR_XOR_RELAYED_ADDRESS, &b.relayed);
    CHECK_INT(addr_port(&b.relayed) % 2, 1);
    if (CHECK_INT(turnc_permit(&b, &peer), 0) && CHECK_INT(turnc_bind(&b, 0x4003, &peer), 0))
        CHECK_INT(peer_to_client(&b, pfd, PER_CLIENT), PER_CLIENT);
    CHECK_INT(metric(mport, STEERED), PER_CLIENT);

    released = b.relayed;
    CHECK_INT(turnc_refresh(&b, 0), 0);
    fd = socket(AF_INET, SOCK_DGRAM, 0);
    if (CHECK(fd >= 0) && CHECK_INT(bind(fd, &released.sa, addr_len(&released)), 0)) {
        sendto(pfd, "mine", 4, 0, &released.sa, addr_len(&released));
        if (CHECK(!client_silent(fd, TIMEOUT)))
            CHECK_INT(recvfrom(fd, buf, sizeof(buf), 0, &from.sa, &flen), 4);
    }
    if (fd >= 0)
        close(fd);
    CHECK_INT(metric(mport, STEERED), PER_CLIENT);
    CHECK_INT(metric(mport, NO_ENDPOINT), 0);
out:
    turnc_close(&a);
    turnc_close(&b);
    CHECK_INT(proc_stop(&p, SIGTERM, 5000, NULL), 0);
    proc_cleanup(&p);
    close(pfd);
}

/* coturn's uclient through a steering server: channels, IPv6, a dual allocation, TCP to the
 * server, and client to client (the peers are relayed addresses of the same server).  Every
 * datagram relayed to a client came through a steering socket. */
static void uclient_steered(void)
{
    struct coturn_target who = {USER, PASS, proc_free_port()};
    pid_t peer4 = coturn_peer_start("127.0.0.1", who.peer_port);
    pid_t peer6 = coturn_peer_start("::1", who.peer_port);
    struct coturn_run r;
    uint16_t mport;
    struct proc p;
    char flags[256];
    double steered, to_client;

    if (!CHECK(peer4 > 0 && peer6 > 0) || !CHECK(start(&p, &mport, NULL, NULL) == 0))
        goto out;
    coturn_relay_all(&who, "", "127.0.0.1", p.port, "127.0.0.1", 200, 4);
    coturn_relay_all(&who, "-x", "::1", p.port, "::1", 200, 2);
    coturn_relay_all(&who, "-Z", "127.0.0.1", p.port, "127.0.0.1", 200, 2);
    coturn_relay_all(&who, "-t", "127.0.0.1", p.port, "127.0.0.1", 200, 2);
    snprintf(flags, sizeof(flags), "-y -u %s -w %s -n 200 -m 4 -z 2", USER, PASS);
    coturn_uclient(&r, flags, p.port, "127.0.0.1", 60);
    coturn_all_relayed(&r, 800);
    steered = metric(mport, STEERED);
    to_client = metric(mport, TO_CLIENT);
    if (!CHECK(to_client >= 200 * 10 + 800))
        printf("  relayed to clients: %.0f, steered: %.0f\n", to_client, steered);
    CHECK_INT(steered, to_client);
    CHECK(!proc_log_contains(&p, "is not steered", 0));
    CHECK_INT(proc_stop(&p, SIGTERM, 5000, NULL), 0);
    proc_cleanup(&p);
out:
    coturn_peer_stop(peer4);
    coturn_peer_stop(peer6);
}

/* --proc-user: the program is loaded as root, and the workers, running as nobody, still
 * register their relayed addresses through the descriptors they hold. */
static void proc_user(void)
{
    union addr peer;
    uint16_t mport;
    struct proc p;
    int pfd = client_udp_bound("127.0.0.1", &peer);

    if (!CHECK(pfd >= 0) || !CHECK(start(&p, &mport, "--proc-user", "nobody") == 0)) {
        close(pfd);
        return;
    }
    CHECK(proc_log_contains(&p, "running as uid", 0));
    CHECK_INT(relay_one(p.port, SOCK_DGRAM, "127.0.0.1", pfd, &peer), PER_CLIENT);
    CHECK_INT(metric(mport, STEERED), PER_CLIENT);
    CHECK(!proc_log_contains(&p, "is not steered", 0));
    CHECK_INT(proc_stop(&p, SIGTERM, 5000, NULL), 0);
    proc_cleanup(&p);
    close(pfd);
}

/* Without CAP_BPF (root with an empty capability bounding set, or anyone else), the server
 * stops at once and names what it lacks. */
static void without_capabilities(void)
{
    char cmd[1024], out[4096];
    uint16_t port = proc_free_port();
    int rc;

    snprintf(cmd, sizeof(cmd),
             "%s '%s' -n --listening-ip 127.0.0.1 --listening-port %u --relay-steering "
             "--log-file stdout 2>&1",
             geteuid() == 0 ? "setpriv --inh-caps=-all --bounding-set=-all" : "",
             proc_server_path(), port);
    rc = proc_capture(cmd, 10, out, sizeof(out));
    CHECK_INT(rc, 1);
    if (!CHECK(strstr(out, "--relay-steering: cannot set up the BPF maps and steering sockets "
                           "(CAP_BPF needed): Operation not permitted") != NULL))
        printf("  the server said:\n%s\n", out);
}

/* Whether this process holds CAP_BPF (39) and CAP_NET_ADMIN (12), from /proc/self/status:
 * root in a container may not. */
static bool steering_allowed(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    unsigned long long caps = 0;
    char line[256];

    while (f && fgets(line, sizeof(line), f))
        if (sscanf(line, "CapEff: %llx", &caps) == 1)
            break;
    if (f)
        fclose(f);
    return (caps >> 39 & 1) && (caps >> 12 & 1);
}

int main(void)
{
    RUN(without_capabilities);
    if (!steering_allowed()) {
        printf("  steering itself needs CAP_BPF and CAP_NET_ADMIN, which uid %u lacks here: "
               "not run\n", (unsigned)geteuid());
        return check_summary();
    }
    RUN(every_datagram_steered);
    RUN(ipv6_steered);
    RUN(reserved_and_released);
    RUN(uclient_steered);
    RUN(proc_user);
    return check_summary();
}
