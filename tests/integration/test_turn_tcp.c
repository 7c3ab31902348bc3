/* test_turn_tcp.c — TURN over TCP: the allocation lives and dies with its connection, a
 * client that reads too slowly loses relayed datagrams (counted) instead of growing memory. */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tests/lib/check.h"
#include "tests/lib/client.h"
#include "tests/lib/proc.h"
#include "tests/lib/turnc.h"

#define TIMEOUT 3000

static struct proc srv;

/* Data both ways over a TCP client connection, on a channel (padded frames) and with Send. */
static void relay_over_tcp(void)
{
    struct turnc t;
    union addr peer, from;
    uint8_t buf[256];
    socklen_t flen = sizeof(from);
    uint16_t chan = 0;
    int pfd = client_udp_bound("127.0.0.1", &peer);

    if (!CHECK(pfd >= 0) ||
        !CHECK(turnc_open(&t, SOCK_STREAM, "127.0.0.1", srv.port, "alice", "secret") == 0))
        return;
    CHECK_INT(turnc_allocate(&t), 0);
    CHECK_INT(turnc_bind(&t, 0x4001, &peer), 0);
    turnc_channel_send(&t, 0x4001, "odd", 3); /* padded to 8 bytes on the stream */
    turnc_send(&t, &peer, "indication", 10);
    if (CHECK(!client_silent(pfd, TIMEOUT)))
        CHECK_INT(recvfrom(pfd, buf, sizeof(buf), 0, &from.sa, &flen), 3);
    if (CHECK(!client_silent(pfd, TIMEOUT)))
        CHECK_INT(recv(pfd, buf, sizeof(buf), 0), 10);
    sendto(pfd, "12345", 5, 0, &t.relayed.sa, addr_len(&t.relayed));
    CHECK_INT(turnc_recv(&t, buf, sizeof(buf), NULL, &chan, TIMEOUT), 5);
    CHECK_INT(chan, 0x4001);
    sendto(pfd, "again", 5, 0, &t.relayed.sa, addr_len(&t.relayed)); /* framing held */
    CHECK_INT(turnc_recv(&t, buf, sizeof(buf), NULL, &chan, TIMEOUT), 5);
    turnc_close(&t);
    close(pfd);
}

/* Closing the connection deletes its allocation: its relay socket closes with it. */
static void allocation_dies_with_connection(void)
{
    struct turnc t;
    union addr relayed;

    if (!CHECK(turnc_open(&t, SOCK_STREAM, "127.0.0.1", srv.port, "alice", "secret") == 0))
        return;
    CHECK_INT(turnc_allocate(&t), 0);
    relayed = t.relayed;
    CHECK(!client_udp_closed(&relayed)); /* open: our datagram is dropped (no permission) */
    turnc_close(&t);
    usleep(100000);
    CHECK(client_udp_closed(&relayed));
}

/* An allocation keeps its connection past --tcp-idle-timeout while the client only listens. */
static void allocation_outlives_idle_timeout(void)
{
    struct turnc t;
    union addr peer;
    uint8_t buf[64];
    int pfd = client_udp_bound("127.0.0.1", &peer);

    if (!CHECK(pfd >= 0) ||
        !CHECK(turnc_open(&t, SOCK_STREAM, "127.0.0.1", srv.port, "alice", "secret") == 0))
        return;
    CHECK_INT(turnc_allocate(&t), 0);
    CHECK_INT(turnc_permit(&t, &peer), 0);
    sleep(3); /* the server runs with --tcp-idle-timeout 1 */
    sendto(pfd, "still here", 10, 0, &t.relayed.sa, addr_len(&t.relayed));
    CHECK_INT(turnc_recv(&t, buf, sizeof(buf), NULL, NULL, TIMEOUT), 10);
    turnc_close(&t);
    close(pfd);
}

/* A peer floods a client that does not read: the server drops what does not fit in
 * --max-tcp-buffer (counted), its memory stays put, and it keeps answering others. */
static void slow_client_drops(void)
{
    struct turnc t, other;
    union addr peer;
    long grew;
    int pfd = client_udp_bound("127.0.0.1", &peer);

    if (!CHECK(pfd >= 0) ||
        !CHECK(turnc_open(&t, SOCK_STREAM, "127.0.0.1", srv.port, "alice", "secret") == 0))
        return;
    CHECK_INT(turnc_allocate(&t), 0);
    grew = turnc_flood_unread(&t, pfd, &peer, &srv);
    printf("  20 MB sent to a client that reads nothing: RSS grew by %ld KiB\n", grew);
    /* Memory is held to a bound on the plain build; under ASan it is only printed. */
    CHECK(grew >= 0 && (proc_sanitized() || grew < 4096));
    CHECK(turnc_open(&other, SOCK_DGRAM, "127.0.0.1", srv.port, "alice", "secret") == 0);
    CHECK_INT(turnc_allocate(&other), 0);
    turnc_close(&other);
    turnc_close(&t);
    close(pfd);
}

int main(void)
{
    const char *args[] = {"--listening-ip", "127.0.0.1", "--realm", "example.org",
                          "--user", "alice:secret", "--allow-loopback-peers",
                          "--tcp-idle-timeout", "1", "--max-tcp-buffer", "65536",
                          "--relay-threads", "2", NULL};
    int rc;

    if (proc_start(&srv, args) < 0) {
        printf("0 passed, 1 failed\n");
        return 1;
    }
    RUN(relay_over_tcp);
    RUN(allocation_dies_with_connection);
    RUN(allocation_outlives_idle_timeout);
    RUN(slow_client_drops);
    rc = proc_stop(&srv, SIGTERM, 5000, NULL);
    CHECK_INT(rc, 0);
    if (!CHECK(proc_log_contains(&srv, "relay.drop.queue_full=", 0)))
        proc_dump_log(&srv);
    proc_cleanup(&srv);
    return check_summary();
}
