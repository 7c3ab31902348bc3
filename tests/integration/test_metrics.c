/* test_metrics.c — --prometheus: /metrics scraped during a relay test and held to the traffic
 * sent, its text format, /healthz and /readyz (503 while draining), and the per-allocation log
 * lines with their byte counts. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "proto/frame.h"
#include "tests/lib/check.h"
#include "tests/lib/client.h"
#include "tests/lib/http.h"
#include "tests/lib/proc.h"
#include "tests/lib/turnc.h"

#define USER "alice"
#define PASS "metrics-test-pass"
#define PAGE_MAX (128 * 1024)
#define NCLIENTS 4 /* three over UDP, one over TCP */
#define TO_PEER 10 /* packets each client sends */
#define TO_CLIENT 5 /* packets the peer sends each client */

static char page[PAGE_MAX];

/* Starts a server with --prometheus on a port of its own (written to *mport), and args. */
static int start(struct proc *p, uint16_t *mport, const char *extra1, const char *extra2)
{
    char portarg[8];
    const char *args[] = {"--listening-ip", "127.0.0.1", "--relay-threads", "2", "--user",
                          USER ":" PASS, "--allow-loopback-peers", "--prometheus",
                          "--prometheus-port", portarg, extra1, extra2, NULL};

    *mport = proc_free_port();
    snprintf(portarg, sizeof(portarg), "%u", *mport);
    return proc_start(p, args);
}

/* GETs /metrics into page; 0 or -1. */
static int scrape(uint16_t mport)
{
    return http_get("127.0.0.1", mport, "/metrics", page, sizeof(page), 3000) == 200 ? 0 : -1;
}

/* The value of a series in a fresh scrape, or -1. */
static double metric(uint16_t mport, const char *series)
{
    return scrape(mport) == 0 ? http_metric(page, series) : -1;
}

/* Polls a series until it has the value want (a drop has no answer to wait for). */
static double metric_wait(uint16_t mport, const char *series, double want)
{
    long long end = proc_now_ms() + 3000;
    double v;

    while ((v = metric(mport, series)) != want && proc_now_ms() < end)
        usleep(20000);
    return v;
}

/* The line of the server's log holding needle, into out; false when none does. */
static bool log_line(const struct proc *p, const char *needle, char *out, size_t cap)
{
    FILE *f = fopen(p->log, "r");
    bool found = false;

    while (f && !found && fgets(out, (int)cap, f))
        found = strstr(out, needle) != NULL;
    if (f)
        fclose(f);
    return found;
}

/* Every line of a /metrics page is a HELP, then a TYPE, then the family's samples: a name
 * (counters end in _total), optional labels, a number. */
static void check_format(const char *text)
{
    char family[128] = "", type[16] = "", name[128];
    const char *line = text;
    int samples = 0;

    while (*line) {
        const char *end = strchr(line, '\n');
        char *after;

        if (!CHECK(end != NULL))
            return;
        if (strncmp(line, "# HELP ", 7) == 0) {
            CHECK(sscanf(line, "# HELP %127s ", family) == 1);
            CHECK(strncmp(family, "turnpike_", 9) == 0);
            type[0] = '\0';
        } else if (strncmp(line, "# TYPE ", 7) == 0) {
            CHECK(sscanf(line, "# TYPE %127s %15s", name, type) == 2);
            CHECK_STR(name, family);
            CHECK(strcmp(type, "counter") == 0 || strcmp(type, "gauge") == 0);
            if (strcmp(type, "counter") == 0)
                CHECK(strlen(family) > 6 && strcmp(family + strlen(family) - 6, "_total") == 0);
        } else {
            size_t n = strcspn(line, "{ ");
            const char *value = line[n] == '{' ? strchr(line, '}') + 2 : line + n + 1;

            CHECK(type[0] != '\0' && n == strlen(family) && strncmp(line, family, n) == 0);
            strtod(value, &after);
            if (!CHECK(after != value && after == end))
                printf("  bad sample line: %.*s\n", (int)(end - line), line);
            samples++;
        }
        line = end + 1;
    }
    CHECK(samples > 50);
}

/* What one client sent and received. */
struct traffic {
    struct turnc t;
    long to_peer_bytes, to_client_bytes;
};

static int setup_clients(struct traffic *c, uint16_t port, const union addr *peer)
{
    for (int i = 0; i < NCLIENTS; i++) {
        struct turnc *t = &c[i].t;

        if (turnc_open(t, i == 3 ? SOCK_STREAM : SOCK_DGRAM, "127.0.0.1", port, USER, PASS) < 0 ||
            turnc_allocate(t) != 0 || turnc_permit(t, peer) != 0)
            return -1;
        /* Clients 0 and 3 use a channel, 1 and 2 Send indications. */
        if ((i == 0 || i == 3) && turnc_bind(t, 0x4000, peer) != 0)
            return -1;
    }
    return 0;
}

/* Each client sends TO_PEER packets of different sizes; the peer reads them all and answers
 * each client with TO_CLIENT packets, which the clients read.  Totals into *up and *down. */
static void relay_traffic(struct traffic *c, int pfd, const union addr *peer, long *up,
                          long *down)
{
    uint8_t buf[2048] = {0};

    for (int i = 0; i < NCLIENTS; i++) {
        for (int k = 0; k < TO_PEER; k++) {
            size_t len = 100 + 37 * (size_t)i + (size_t)k;

            if (i == 0 || i == 3)
                turnc_channel_send(&c[i].t, 0x4000, buf, len);
            else
                turnc_send(&c[i].t, peer, buf, len);
            c[i].to_peer_bytes += (long)len;
            *up += (long)len;
        }
    }
    for (int n = 0; n < NCLIENTS * TO_PEER; n++)
        CHECK(client_recv(pfd, 0, buf, sizeof(buf), 3000) > 0);
    for (int i = 0; i < NCLIENTS; i++) {
        for (int k = 0; k < TO_CLIENT; k++) {
            size_t len = 200 + 11 * (size_t)i + (size_t)k;

            sendto(pfd, buf, len, 0, &c[i].t.relayed.sa, addr_len(&c[i].t.relayed));
            CHECK_INT(turnc_recv(&c[i].t, buf, sizeof(buf), NULL, NULL, 3000), len);
            c[i].to_client_bytes += (long)len;
            *down += (long)len;
        }
    }
}

static void check_relay_metrics(uint16_t mport, long up, long down)
{
    static const struct {
        const char *series;
        double want;
    } want[] = {
        {"turnpike_allocations_active{transport=\"udp\",family=\"ipv4\"}", 3},
        {"turnpike_allocations_active{transport=\"tcp\",family=\"ipv4\"}", 1},
        {"turnpike_allocations_active{transport=\"udp\",family=\"ipv6\"}", 0},
        {"turnpike_allocations_created_total", NCLIENTS},
        {"turnpike_allocations_expired_total", 0},
        {"turnpike_allocations_deleted_total", 0},
        {"turnpike_relayed_packets_total{direction=\"client_to_peer\"}", NCLIENTS * TO_PEER},
        {"turnpike_relayed_packets_total{direction=\"peer_to_client\"}", NCLIENTS * TO_CLIENT},
        {"turnpike_stun_responses_total{method=\"allocate\",code=\"success\"}", NCLIENTS},
        {"turnpike_stun_responses_total{method=\"create_permission\",code=\"success\"}",
         NCLIENTS},
        {"turnpike_stun_responses_total{method=\"channel_bind\",code=\"success\"}", 2},
        {"turnpike_stun_responses_total{method=\"allocate\",code=\"401\"}", NCLIENTS},
        {"turnpike_auth_failures_total{reason=\"challenged\"}", NCLIENTS},
        {"turnpike_auth_failures_total{reason=\"bad_credentials\"}", 0},
        {"turnpike_relay_dropped_packets_total{reason=\"bandwidth\"}", 0},
        {"turnpike_draining", 0},
        {"turnpike_workers", 2},
        {"turnpike_stream_connections_total{event=\"accepted\"}", 1},
    };

    if (!CHECK(scrape(mport) == 0))
        return;
    check_format(page);
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
        if (!CHECK(http_metric(page, want[i].series) == want[i].want))
            printf("  %s is %g, not %g\n", want[i].series, http_metric(page, want[i].series),
                   want[i].want);
    CHECK(http_metric(page, "turnpike_relayed_bytes_total{direction=\"client_to_peer\"}") == up);
    CHECK(http_metric(page, "turnpike_relayed_bytes_total{direction=\"peer_to_client\"}") ==
          down);
    CHECK(http_metric(page, "turnpike_worker_loop_lag_seconds{worker=\"1\"}") >= 0);
    CHECK(http_metric(page, "turnpike_worker_heartbeat_age_seconds{worker=\"0\"}") <= 3);
    CHECK(strstr(page, "turnpike_build_info{version=\"") != NULL);
}

/* Drops with a reason, a wrong password, and a Refresh 0, each seen in the counters. */
static void check_failures(struct traffic *c, uint16_t port, uint16_t mport)
{
    union addr stranger;
    struct turnc bad;
    uint8_t payload[64] = {0};

    addr_parse(&stranger, "127.0.0.3:9", 0);
    turnc_send(&c[1].t, &stranger, payload, sizeof(payload));
    CHECK(metric_wait(mport, "turnpike_relay_dropped_packets_total{reason=\"no_permission\"}",
                      1) == 1);
    turnc_channel_send(&c[0].t, 0x4001, payload, sizeof(payload));
    CHECK(metric_wait(mport, "turnpike_relay_dropped_packets_total{reason=\"no_channel\"}", 1) ==
          1);
    if (CHECK(turnc_open(&bad, SOCK_DGRAM, "127.0.0.1", port, USER, "wrong") == 0)) {
        CHECK_INT(turnc_allocate(&bad), 401);
        turnc_close(&bad);
    }
    CHECK(metric(mport, "turnpike_auth_failures_total{reason=\"bad_credentials\"}") == 1);
    CHECK_INT(turnc_refresh(&c[1].t, 0), 0);
    CHECK(scrape(mport) == 0);
    CHECK(http_metric(page, "turnpike_allocations_deleted_total") == 1);
    CHECK(http_metric(page, "turnpike_allocations_active{transport=\"udp\",family=\"ipv4\"}") ==
          2);
    CHECK(http_metric(page, "turnpike_stun_responses_total{method=\"refresh\",code=\"success\"}") ==
          1);
}

/* The start and end lines of client i's allocation, the end one with its counts. */
static void check_log_lines(const struct proc *p, const struct traffic *c, int i,
                            const char *reason)
{
    char client[ADDR_STRLEN], relay[ADDR_STRLEN], needle[256], line[2048], counts[256];
    union addr local = client_local(c[i].t.fd);

    addr_format(&local, client, sizeof(client));
    addr_format(&c[i].t.relayed, relay, sizeof(relay));
    snprintf(needle, sizeof(needle),
             "allocation start user=" USER " realm=turnpike client=%s/%s relay=%s lifetime=600",
             i == 3 ? "tcp" : "udp", client, relay);
    CHECK(proc_log_contains(p, needle, 2000));
    snprintf(needle, sizeof(needle),
             "allocation end user=" USER " realm=turnpike client=%s/%s relay=%s reason=%s ",
             i == 3 ? "tcp" : "udp", client, relay, reason);
    snprintf(counts, sizeof(counts),
             " to_peer_packets=%d to_peer_bytes=%ld to_client_packets=%d to_client_bytes=%ld\n",
             TO_PEER, c[i].to_peer_bytes, TO_CLIENT, c[i].to_client_bytes);
    proc_log_contains(p, needle, 2000);
    if (!CHECK(log_line(p, needle, line, sizeof(line))))
        printf("  no line with: %s\n", needle);
    else if (!CHECK(strstr(line, counts) != NULL))
        printf("  %s  lacks:%s", line, counts);
}

/* The test: metrics scraped during a relay test and held to the traffic sent; the
 * allocation log lines with the same counts. */
static void metrics_during_relay(void)
{
    struct traffic c[NCLIENTS];
    union addr peer;
    struct proc p;
    uint16_t mport;
    long up = 0, down = 0;
    int pfd;

    memset(c, 0, sizeof(c));
    if (!CHECK(start(&p, &mport, NULL, NULL) == 0))
        return;
    pfd = client_udp_bound("127.0.0.1", &peer);
    if (CHECK(pfd >= 0) && CHECK(setup_clients(c, p.port, &peer) == 0)) {
        relay_traffic(c, pfd, &peer, &up, &down);
        check_relay_metrics(mport, up, down);
        check_failures(c, p.port, mport);
        check_log_lines(&p, c, 1, "deleted");
    }
    CHECK_INT(proc_stop(&p, SIGTERM, 5000, NULL), 0);
    check_log_lines(&p, c, 0, "shutdown");
    /* Its connection closes as the server stops, before the relay does. */
    check_log_lines(&p, c, 3, "client_gone");
    for (int i = 0; i < NCLIENTS; i++)
        turnc_close(&c[i].t);
    if (pfd >= 0)
        close(pfd);
    proc_cleanup(&p);
}

/* /healthz and /readyz: 200 when serving; /readyz 503 (and /healthz still 200) while
 * draining; unknown paths 404. */
static void health_endpoints(void)
{
    char body[1024];
    struct turnc t;
    struct proc p;
    uint16_t mport;

    if (!CHECK(start(&p, &mport, NULL, NULL) == 0))
        return;
    CHECK_INT(http_get("127.0.0.1", mport, "/healthz", body, sizeof(body), 3000), 200);
    CHECK_STR(body, "ok: 2 workers responsive\n");
    CHECK_INT(http_get("127.0.0.1", mport, "/readyz", body, sizeof(body), 3000), 200);
    CHECK_STR(body, "ready\n");
    CHECK_INT(http_get("127.0.0.1", mport, "/nothing", body, sizeof(body), 3000), 404);
    CHECK_INT(http_get("127.0.0.1", mport, "/metrics?x=1", body, sizeof(body), 3000), 200);
    /* One allocation keeps the draining server up. */
    if (CHECK(turnc_open(&t, SOCK_DGRAM, "127.0.0.1", p.port, USER, PASS) == 0)) {
        CHECK_INT(turnc_allocate(&t), 0);
        kill(p.pid, SIGUSR1);
        CHECK(proc_log_contains(&p, "SIGUSR1: draining", 3000));
        CHECK_INT(http_get("127.0.0.1", mport, "/readyz", body, sizeof(body), 3000), 503);
        CHECK_STR(body, "draining: no new allocations (SIGUSR1)\n");
        CHECK_INT(http_get("127.0.0.1", mport, "/healthz", body, sizeof(body), 3000), 200);
        CHECK(metric(mport, "turnpike_draining") == 1);
        CHECK_INT(turnc_refresh(&t, 0), 0);
        turnc_close(&t);
    }
    /* The last allocation gone, the drained server exits by itself (no signal sent). */
    CHECK_INT(proc_stop(&p, 0, 5000, NULL), 0);
    CHECK(proc_log_contains(&p, "drained: no allocation left", 0));
    proc_cleanup(&p);
}

/* --prometheus-address on IPv6 loopback. */
static void ipv6_address(void)
{
    char body[256];
    struct proc p;
    uint16_t mport;

    if (!CHECK(start(&p, &mport, "--prometheus-address", "::1") == 0))
        return;
    CHECK_INT(http_get("::1", mport, "/healthz", body, sizeof(body), 3000), 200);
    CHECK_INT(http_get("127.0.0.1", mport, "/healthz", body, sizeof(body), 1000), -1);
    CHECK_INT(proc_stop(&p, SIGTERM, 5000, NULL), 0);
    proc_cleanup(&p);
}

/* A metrics port already taken stops the start-up with the reason. */
static void port_in_use(void)
{
    char mport[8], lport[8];
    const char *argv[] = {"turnserver", "-n", "--listening-ip", "127.0.0.1", "--listening-port",
                          lport, "--prometheus", "--prometheus-port", mport, NULL};
    uint16_t port = proc_free_port();
    union addr a;
    struct proc p;
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    snprintf(mport, sizeof(mport), "%u", port);
    snprintf(lport, sizeof(lport), "%u", proc_free_port());
    addr_parse(&a, "127.0.0.1", port);
    if (!CHECK(fd >= 0 && bind(fd, &a.sa, addr_len(&a)) == 0 && listen(fd, 1) == 0))
        return;
    CHECK_INT(proc_run(&p, argv, 5000), 1);
    CHECK(proc_log_contains(&p, "--prometheus: cannot listen on 127.0.0.1:", 0));
    CHECK(proc_log_contains(&p, "Address already in use", 0));
    proc_cleanup(&p);
    close(fd);
}

int main(void)
{
    RUN(metrics_during_relay);
    RUN(health_endpoints);
    RUN(ipv6_address);
    RUN(port_in_use);
    return check_summary();
}
