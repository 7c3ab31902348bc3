/* test_process.c — the turnserver process: start-up errors, signals, TCP limits, wildcards. */
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "proto/stun.h"
#include "tests/lib/check.h"
#include "tests/lib/client.h"
#include "tests/lib/proc.h"

#define TIMEOUT 3000

/* True when a Binding over this transport is answered. */
static bool binding_ok(int type, const char *ip, uint16_t port, const char *local_ip)
{
    uint8_t req[64], buf[512];
    struct stun_msg resp;
    size_t len = client_binding_request(req, sizeof(req), false);
    int fd = client_connect(type, ip, port, local_ip);
    bool ok;

    if (fd < 0)
        return false;
    ok = client_transact(fd, type == SOCK_STREAM, req, len, buf, sizeof(buf), &resp, 1500) == 0;
    close(fd);
    return ok;
}

/* SIGTERM and SIGINT: exit status 0 within a second, listeners closed. */
static void stop_signals(void)
{
    const int sigs[] = {SIGTERM, SIGINT};

    for (int i = 0; i < 2; i++) {
        const char *args[] = {"--listening-ip", "127.0.0.1", NULL};
        struct proc p;
        int elapsed = 0;
        uint16_t port;

        if (!CHECK(proc_start(&p, args) == 0))
            return;
        port = p.port;
        CHECK(binding_ok(SOCK_DGRAM, "127.0.0.1", port, NULL));
        CHECK_INT(proc_stop(&p, sigs[i], 5000, &elapsed), 0);
        CHECK(elapsed < 1000);
        CHECK(proc_log_contains(&p, "stopped", 0));
        proc_cleanup(&p);
        CHECK(!binding_ok(SOCK_STREAM, "127.0.0.1", port, NULL));
    }
}

/* An unknown option and a bad value stop the process with a message naming them. */
static void config_errors(void)
{
    const char *unknown[] = {"turnserver", "-n", "--listen-port", "3478", NULL};
    const char *badval[] = {"turnserver", "-n", "--listening-port", "70000", NULL};
    struct proc p;

    CHECK(proc_run(&p, unknown, 5000) > 0);
    CHECK(proc_log_contains(&p, "listen-port", 0));
    proc_cleanup(&p);
    CHECK(proc_run(&p, badval, 5000) > 0);
    CHECK(proc_log_contains(&p, "70000", 0));
    proc_cleanup(&p);
}

static void help_and_version(void)
{
    const char *help[] = {"turnserver", "--help", NULL};
    const char *version[] = {"turnserver", "--version", NULL};
    struct proc p;

    CHECK_INT(proc_run(&p, help, 5000), 0);
    CHECK(proc_log_contains(&p, "--listening-port", 0));
    proc_cleanup(&p);
    CHECK_INT(proc_run(&p, version, 5000), 0);
    CHECK(proc_log_contains(&p, "turnpike", 0));
    proc_cleanup(&p);
}

/* A port held by another socket: the server says which address it could not bind, exits 1. */
static void bind_conflict(void)
{
    char portarg[8];
    const char *argv[] = {"turnserver", "-n", "--listening-ip", "127.0.0.1",
                          "--listening-port", portarg, NULL};
    union addr a;
    struct proc p;
    uint16_t port = proc_free_port();
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    char needle[32];

    snprintf(portarg, sizeof(portarg), "%u", port);
    addr_parse(&a, "127.0.0.1", port);
    if (!CHECK(fd >= 0 && bind(fd, &a.sa, addr_len(&a)) == 0))
        return;
    CHECK_INT(proc_run(&p, argv, 5000), 1);
    snprintf(needle, sizeof(needle), "127.0.0.1:%u", port);
    CHECK(proc_log_contains(&p, needle, 0));
    proc_cleanup(&p);
    close(fd);
}

/* --no-udp and --no-tcp turn one transport off. */
static void transports_off(void)
{
    const char *no_udp[] = {"--listening-ip", "127.0.0.1", "--no-udp", NULL};
    const char *no_tcp[] = {"--listening-ip", "127.0.0.1", "--no-tcp", NULL};
    struct proc p;

    if (CHECK(proc_start(&p, no_udp) == 0)) {
        CHECK(!binding_ok(SOCK_DGRAM, "127.0.0.1", p.port, NULL));
        CHECK(binding_ok(SOCK_STREAM, "127.0.0.1", p.port, NULL));
        CHECK_INT(proc_stop(&p, SIGTERM, 5000, NULL), 0);
        proc_cleanup(&p);
    }
    if (CHECK(proc_start(&p, no_tcp) == 0)) {
        CHECK(binding_ok(SOCK_DGRAM, "127.0.0.1", p.port, NULL));
        CHECK(!binding_ok(SOCK_STREAM, "127.0.0.1", p.port, NULL));
        CHECK_INT(proc_stop(&p, SIGTERM, 5000, NULL), 0);
        proc_cleanup(&p);
    }
}

/* With no --listening-ip the server listens on every address, and answers from the address
 * each request was sent to (a connected UDP socket only accepts that source). */
static void wildcard_answers_from_destination(void)
{
    struct proc p;

    if (!CHECK(proc_start(&p, NULL) == 0))
        return;
    CHECK(binding_ok(SOCK_DGRAM, "127.0.0.1", p.port, NULL));
    CHECK(binding_ok(SOCK_DGRAM, "127.0.0.2", p.port, NULL));
    CHECK(binding_ok(SOCK_DGRAM, "127.0.0.3", p.port, "127.0.0.5"));
    CHECK(binding_ok(SOCK_DGRAM, "::1", p.port, NULL));
    CHECK(binding_ok(SOCK_STREAM, "127.0.0.2", p.port, NULL));
    CHECK(binding_ok(SOCK_STREAM, "::1", p.port, NULL));
    CHECK_INT(proc_stop(&p, SIGTERM, 5000, NULL), 0);
    proc_cleanup(&p);
}

/* Idle TCP connections are closed after --tcp-idle-timeout; connections beyond
 * --max-tcp-connections are refused. */
static void tcp_limits(void)
{
    const char *args[] = {"--listening-ip", "127.0.0.1", "--relay-threads", "1",
                          "--tcp-idle-timeout", "1", "--max-tcp-connections", "2", NULL};
    uint8_t buf[64];
    struct proc p;
    long long t0;
    int a, b, c;

    if (!CHECK(proc_start(&p, args) == 0))
        return;
    a = client_connect(SOCK_STREAM, "127.0.0.1", p.port, NULL);
    b = client_connect(SOCK_STREAM, "127.0.0.1", p.port, NULL);
    usleep(100000);
    c = client_connect(SOCK_STREAM, "127.0.0.1", p.port, NULL);
    CHECK(a >= 0 && b >= 0 && c >= 0);
    CHECK_INT(client_recv(c, 1, buf, sizeof(buf), TIMEOUT), 0); /* refused: closed at once */
    t0 = proc_now_ms();
    CHECK_INT(client_recv(a, 1, buf, sizeof(buf), 4000), 0);    /* idle: closed */
    CHECK(proc_now_ms() - t0 >= 700);
    close(a);
    close(b);
    close(c);
    CHECK(binding_ok(SOCK_STREAM, "127.0.0.1", p.port, NULL)); /* room again */
    CHECK_INT(proc_stop(&p, SIGTERM, 5000, NULL), 0);
    CHECK(proc_log_contains(&p, "tcp.rejected_limit=1", 0));
    CHECK(proc_log_contains(&p, "tcp.closed_idle=", 0));
    proc_cleanup(&p);
}

/* A client that sends requests without reading the answers: the server stops reading it
 * (bounded memory), stays responsive to others, and delivers every answer once it reads.
 * Kernel socket buffers on loopback hold megabytes, so the client sends in large writes until
 * its own send would block: that is the server's back-pressure reaching it. */
static void tcp_slow_reader(void)
{
    const char *args[] = {"--listening-ip", "127.0.0.1", "--relay-threads", "1",
                          "--max-tcp-buffer", "4096", NULL};
    enum { PER_WRITE = 512, MAX_REQS = 4000000 };
    static uint8_t chunk[PER_WRITE * 20];
    uint8_t buf[512];
    struct proc p;
    long rss0, rss1;
    long sent = 0, got = 0;
    const uint8_t *tail = NULL;
    size_t tail_len = 0;
    int fd, small = 4096;
    long long deadline;

    if (!CHECK(proc_start(&p, args) == 0))
        return;
    fd = socket(AF_INET, SOCK_STREAM, 0);
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
    {
        union addr a;
        addr_parse(&a, "127.0.0.1", p.port);
        if (!CHECK(connect(fd, &a.sa, addr_len(&a)) == 0))
            goto out;
    }
    for (int i = 0; i < PER_WRITE; i++)
        client_binding_request(chunk + i * 20, 20, false);
    fcntl(fd, F_SETFL, O_NONBLOCK);
    rss0 = proc_rss_kib(&p);
    deadline = proc_now_ms() + 10000;
    while (sent < MAX_REQS && proc_now_ms() < deadline) {
        ssize_t n = send(fd, chunk, sizeof(chunk), MSG_NOSIGNAL);
        if (n < 0) {
            struct pollfd pfd = {.fd = fd, .events = POLLOUT};
            if (poll(&pfd, 1, 500) == 0)
                break; /* the server has stopped reading us */
            continue;
        }
        sent += n / 20;
        if (n % 20) {
            /* A request cut in two: its tail goes out while we read (below).  Sending it
             * with a blocking call now would wait for a server that waits for us. */
            tail = chunk + n;
            tail_len = (size_t)(20 - n % 20);
            sent++;
            break;
        }
    }
    CHECK(sent > 0 && sent < MAX_REQS);
    CHECK(binding_ok(SOCK_DGRAM, "127.0.0.1", p.port, NULL));
    CHECK(binding_ok(SOCK_STREAM, "127.0.0.1", p.port, NULL));
    rss1 = proc_rss_kib(&p);
    if (!proc_sanitized())
        CHECK(rss1 - rss0 < 8 * 1024);
    deadline = proc_now_ms() + 30000;
    while (got < sent && proc_now_ms() < deadline) {
        struct pollfd pfd = {.fd = fd, .events = POLLIN | (tail_len ? POLLOUT : 0)};
        ssize_t n;
        if (poll(&pfd, 1, 2000) <= 0)
            break;
        if ((pfd.revents & POLLOUT) && tail_len) {
            n = send(fd, tail, tail_len, MSG_NOSIGNAL);
            if (n > 0) {
                tail += n;
                tail_len -= (size_t)n;
            }
        }
        if (!(pfd.revents & POLLIN))
            continue;
        n = client_recv(fd, 1, buf, sizeof(buf), 2000);
        if (n <= 0)
            break;
        got++;
    }
    CHECK_INT(got, sent);
    printf("  slow reader: %ld requests sent before back-pressure, %ld answered; "
           "RSS %ld -> %ld KiB\n", sent, got, rss0, rss1);
out:
    close(fd);
    CHECK_INT(proc_stop(&p, SIGTERM, 5000, NULL), 0);
    CHECK(proc_log_contains(&p, "tcp.paused_slow=", 0));
    proc_cleanup(&p);
}

int main(void)
{
    RUN(stop_signals);
    RUN(config_errors);
    RUN(help_and_version);
    RUN(bind_conflict);
    RUN(transports_off);
    RUN(wildcard_answers_from_destination);
    RUN(tcp_limits);
    RUN(tcp_slow_reader);
    return check_summary();
}
