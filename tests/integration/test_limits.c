/* test_limits.c — the limits of issue 6 against the real server: --max-bps measured over
 * several seconds in both directions, --bps-capacity shared by two allocations,
 * --max-allocations-per-ip, --unauthorized-ratelimit. */
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "proto/crypto.h"
#include "proto/stun_build.h"
#include "tests/lib/check.h"
#include "tests/lib/client.h"
#include "tests/lib/proc.h"
#include "tests/lib/turnc.h"

#define USER "bob"
#define PASS "limits-test-pass"
#define CAP 100000       /* --max-bps: bytes per second each way */
#define PAYLOAD 1000     /* bytes per packet: the cap is 100 packets a second */
#define SEND_EVERY_MS 5  /* 200 packets a second each way: twice the cap */
#define SEND_MS 6500
#define MAX_ARRIVALS 4096
#define BURST_GAP_MS 200 /* between the bursts each second's refill lets through */

/* When the packets of one direction arrived (ms). */
struct arrivals {
    long long t[MAX_ARRIVALS];
    int n;
    long sent;
};

static void arrived(struct arrivals *a)
{
    if (a->n < MAX_ARRIVALS)
        a->t[a->n++] = proc_now_ms();
}

/* The bucket is refilled once a second (the worker clock ticks in seconds), so at twice the
 * rate the packets arrive in bursts, one per second, each as large as the rate.  The rate is
 * what the whole bursts bring over the time from the first one's start to the next one's: the
 * first burst (a full bucket, then refills merging into it) and the last (cut short when the
 * sending stopped) are left out.  Returns bytes per second, or -1 with too few bursts. */
static double burst_rate(const struct arrivals *a)
{
    int starts[64], nb = 0;

    for (int i = 0; i < a->n && nb < 64; i++)
        if (i == 0 || a->t[i] - a->t[i - 1] > BURST_GAP_MS)
            starts[nb++] = i;
    if (nb < 4)
        return -1;
    /* Bursts 1 .. nb-2, from the start of burst 1 to the start of burst nb-1. */
    return (double)(starts[nb - 1] - starts[1]) * PAYLOAD * 1000.0 /
           (double)(a->t[starts[nb - 1]] - a->t[starts[1]]);
}

static void drain_peer(int pfd, struct arrivals *up)
{
    uint8_t buf[2048];

    while (recv(pfd, buf, sizeof(buf), MSG_DONTWAIT) > 0)
        arrived(up);
}

static void drain_client(struct turnc *t, struct arrivals *down)
{
    uint8_t buf[2048];
    struct pollfd pfd = {.fd = t->fd, .events = POLLIN};

    while (poll(&pfd, 1, 0) == 1 && turnc_recv(t, buf, sizeof(buf), NULL, NULL, 50) > 0)
        arrived(down);
}

/* Twice the cap each way for SEND_MS, both directions at once, every arrival timed. */
static void flood_both_ways(struct turnc *t, int pfd, struct arrivals *up, struct arrivals *down)
{
    static const uint8_t payload[PAYLOAD];
    long long start = proc_now_ms(), next = start;

    while (proc_now_ms() < start + SEND_MS) {
        struct pollfd fds[2] = {{.fd = pfd, .events = POLLIN}, {.fd = t->fd, .events = POLLIN}};
        long long wait = next - proc_now_ms();

        if (wait <= 0) {
            turnc_channel_send(t, 0x4000, payload, sizeof(payload));
            sendto(pfd, payload, sizeof(payload), 0, &t->relayed.sa, addr_len(&t->relayed));
            up->sent++;
            down->sent++;
            next += SEND_EVERY_MS;
            continue;
        }
        if (poll(fds, 2, (int)wait) <= 0)
            continue;
        drain_peer(pfd, up);
        drain_client(t, down);
    }
    usleep(200000);
    drain_peer(pfd, up);
    drain_client(t, down);
}

/* --max-bps: the relayed rate each way within 10 % of the cap, the excess dropped and
 * counted. */
static void bandwidth_cap(void)
{
    const char *args[] = {"--listening-ip", "127.0.0.1", "--relay-threads", "1", "--user",
                          USER ":" PASS, "--allow-loopback-peers", "--max-bps", "100000", NULL};
    static struct arrivals up, down;
    union addr peer;
    struct turnc t;
    struct proc p;
    double rate_up, rate_down;
    int pfd;

    if (!CHECK(proc_start(&p, args) == 0))
        return;
    pfd = client_udp_bound("127.0.0.1", &peer);
    if (!CHECK(pfd >= 0) ||
        !CHECK(turnc_open(&t, SOCK_DGRAM, "127.0.0.1", p.port, USER, PASS) == 0) ||
        !CHECK(turnc_allocate(&t) == 0 && turnc_bind(&t, 0x4000, &peer) == 0))
        goto out;
    flood_both_ways(&t, pfd, &up, &down);
    rate_up = burst_rate(&up);
    rate_down = burst_rate(&down);
    printf("  --max-bps %d: client to peer %.0f B/s (%d of %ld packets), peer to client %.0f "
           "B/s (%d of %ld)\n",
           CAP, rate_up, up.n, up.sent, rate_down, down.n, down.sent);
    CHECK(rate_up > CAP * 0.9 && rate_up < CAP * 1.1);
    CHECK(rate_down > CAP * 0.9 && rate_down < CAP * 1.1);
    /* Roughly half of each direction was over the cap. */
    CHECK(up.n > up.sent / 3 && up.n < up.sent * 2 / 3);
    CHECK(down.n > down.sent / 3 && down.n < down.sent * 2 / 3);
    turnc_close(&t);
out:
    CHECK_INT(proc_stop(&p, SIGTERM, 5000, NULL), 0);
    /* Every packet that did not arrive was dropped for the cap, and counted so. */
    CHECK_INT(proc_log_number(&p, "relay.drop.bandwidth="), up.sent - up.n + down.sent - down.n);
    if (pfd >= 0)
        close(pfd);
    proc_cleanup(&p);
}

/* --bps-capacity: two allocations each sending twice the server's capacity toward one peer;
 * what reaches it is the capacity (within 10 %), shared by both, the rest counted. */
static void server_capacity(void)
{
    const char *args[] = {"--listening-ip", "127.0.0.1", "--relay-threads", "1", "--user",
                          USER ":" PASS, "--allow-loopback-peers", "--bps-capacity", "100000",
                          NULL};
    static struct arrivals up;
    union addr peer;
    struct turnc t[2];
    struct proc p;
    long long start, next;
    long from[2] = {0, 0};
    double rate;
    int pfd, opened = 0;

    if (!CHECK(proc_start(&p, args) == 0))
        return;
    pfd = client_udp_bound("127.0.0.1", &peer);
    for (; opened < 2 && pfd >= 0; opened++)
        if (!CHECK(turnc_open(&t[opened], SOCK_DGRAM, "127.0.0.1", p.port, USER, PASS) == 0) ||
            !CHECK(turnc_allocate(&t[opened]) == 0 && turnc_bind(&t[opened], 0x4000, &peer) == 0))
            goto out;
    start = next = proc_now_ms();
    while (proc_now_ms() < start + SEND_MS) {
        struct pollfd fd = {.fd = pfd, .events = POLLIN};
        uint8_t buf[2048];
        long long wait = next - proc_now_ms();

        if (wait <= 0) {
            for (int k = 0; k < 2; k++) {
                memset(buf, 0, PAYLOAD);
                buf[0] = (uint8_t)k; /* whose it is, seen at the peer */
                turnc_channel_send(&t[k], 0x4000, buf, PAYLOAD);
            }
            up.sent += 2;
            next += SEND_EVERY_MS;
            continue;
        }
        if (poll(&fd, 1, (int)wait) <= 0)
            continue;
        while (recv(pfd, buf, sizeof(buf), MSG_DONTWAIT) == PAYLOAD) {
            arrived(&up);
            from[buf[0] & 1]++;
        }
    }
    usleep(200000);
    drain_peer(pfd, &up);
    rate = burst_rate(&up);
    printf("  --bps-capacity 100000, two allocations at 400000 B/s in all: %.0f B/s relayed "
           "(%d of %ld packets: %ld and %ld from each)\n",
           rate, up.n, up.sent, from[0], from[1]);
    CHECK(rate > CAP * 0.9 && rate < CAP * 1.1);
    CHECK(from[0] > up.n / 5 && from[1] > up.n / 5); /* shared, neither shut out */
out:
    for (int k = 0; k < opened; k++)
        turnc_close(&t[k]);
    CHECK_INT(proc_stop(&p, SIGTERM, 5000, NULL), 0);
    CHECK_INT(proc_log_number(&p, "relay.drop.bandwidth="), up.sent - up.n);
    if (pfd >= 0)
        close(pfd);
    proc_cleanup(&p);
}

/* A client of the test from local_ip (NULL: 127.0.0.1). */
static int open_from(struct turnc *t, int type, uint16_t port, const char *local_ip)
{
    if (turnc_open(t, type, "127.0.0.1", port, USER, PASS) < 0)
        return -1;
    if (local_ip == NULL)
        return 0;
    close(t->fd);
    t->fd = client_connect(type, "127.0.0.1", port, local_ip);
    return t->fd < 0 ? -1 : 0;
}

/* --max-allocations-per-ip 2: a third allocation from the IP gets 486 over any transport,
 * another IP is not affected, and a freed allocation makes room. */
static void allocations_per_ip(void)
{
    const char *args[] = {"--listening-ip", "127.0.0.1", "--user", USER ":" PASS,
                          "--max-allocations-per-ip", "2", NULL};
    struct turnc a, b, c, d, other;
    struct proc p;

    if (!CHECK(proc_start(&p, args) == 0))
        return;
    if (CHECK(open_from(&a, SOCK_DGRAM, p.port, NULL) == 0 &&
              open_from(&b, SOCK_STREAM, p.port, NULL) == 0 &&
              open_from(&c, SOCK_DGRAM, p.port, NULL) == 0 &&
              open_from(&d, SOCK_STREAM, p.port, NULL) == 0 &&
              open_from(&other, SOCK_DGRAM, p.port, "127.0.0.2") == 0)) {
        CHECK_INT(turnc_allocate(&a), 0);
        CHECK_INT(turnc_allocate(&b), 0);
        CHECK_INT(turnc_allocate(&c), 486);
        CHECK_INT(turnc_allocate(&d), 486);
        CHECK_INT(turnc_allocate(&other), 0);
        CHECK_INT(turnc_refresh(&a, 0), 0);
        CHECK_INT(turnc_allocate(&c), 0);
        CHECK_INT(turnc_allocate(&d), 486);
    }
    turnc_close(&a);
    turnc_close(&b);
    turnc_close(&c);
    turnc_close(&d);
    turnc_close(&other);
    CHECK_INT(proc_stop(&p, SIGTERM, 5000, NULL), 0);
    CHECK(proc_log_contains(&p, "reply.486=3", 0));
    proc_cleanup(&p);
}

/* An Allocate without credentials: every one is answered 401, unless rate limited. */
static size_t unauthenticated_allocate(uint8_t *buf, size_t cap)
{
    uint8_t tid[STUN_TID_LEN];
    struct stun_builder b;
    size_t len = 0;

    crypto_random(tid, sizeof(tid));
    stun_build_start(&b, buf, cap, stun_type(STUN_METHOD_ALLOCATE, STUN_CLASS_REQUEST), tid);
    stun_build_u8(&b, STUN_ATTR_REQUESTED_TRANSPORT, STUN_TRANSPORT_UDP);
    stun_build_end(&b, &len);
    return len;
}

/* Sends n unauthenticated Allocates at once on fd and counts the answers within 500 ms. */
static int burst_of_401s(int fd, int n)
{
    uint8_t req[128], buf[1024];
    int answered = 0;

    for (int i = 0; i < n; i++) {
        size_t len = unauthenticated_allocate(req, sizeof(req));

        send(fd, req, len, 0);
    }
    while (client_recv(fd, 0, buf, sizeof(buf), 500) > 0)
        answered++;
    return answered;
}

/* Waits until the server's clock (whole seconds of CLOCK_MONOTONIC_COARSE, the same on this
 * machine) has just begun a second, so that a burst sent now falls within one second. */
static void wait_second_start(void)
{
    struct timespec ts;

    do {
        usleep(5000);
        clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    } while (ts.tv_nsec > 200 * 1000000L);
}

/* --unauthorized-ratelimit 3: three 401s a second to one IP, the rest dropped and counted;
 * another IP has its own three; the next second brings three more. */
static void unauthorized_ratelimit(void)
{
    const char *args[] = {"--listening-ip", "127.0.0.1", "--relay-threads", "1", "--user",
                          USER ":" PASS, "--unauthorized-ratelimit", "3", NULL};
    struct proc p;
    struct turnc t;
    int a, b;

    if (!CHECK(proc_start(&p, args) == 0))
        return;
    a = client_connect(SOCK_DGRAM, "127.0.0.1", p.port, NULL);
    b = client_connect(SOCK_DGRAM, "127.0.0.1", p.port, "127.0.0.2");
    if (CHECK(a >= 0 && b >= 0)) {
        wait_second_start();
        CHECK_INT(burst_of_401s(a, 20), 3);
        CHECK_INT(burst_of_401s(b, 2), 2);
        wait_second_start();
        CHECK_INT(burst_of_401s(a, 5), 3);
        /* A client with credentials gets through: one 401, then its signed request. */
        wait_second_start();
        if (CHECK(turnc_open(&t, SOCK_DGRAM, "127.0.0.1", p.port, USER, PASS) == 0))
            CHECK_INT(turnc_allocate(&t), 0);
        turnc_close(&t);
    }
    close(a);
    close(b);
    CHECK_INT(proc_stop(&p, SIGTERM, 5000, NULL), 0);
    CHECK_INT(proc_log_number(&p, "drop.ratelimit="), 17 + 2);
    proc_cleanup(&p);
}

int main(void)
{
    RUN(bandwidth_cap);
    RUN(server_capacity);
    RUN(allocations_per_ip);
    RUN(unauthorized_ratelimit);
    return check_summary();
}
