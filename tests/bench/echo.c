/* echo.c — the benchmark's UDP peer: every datagram goes back to its sender, in batches.
 *
 *   echo --listen IP:PORT [--listen IP:PORT]... [--duration SECONDS]
 *
 * Each datagram a listening socket receives (recvmmsg, up to ECHO_BATCH at once) is sent back
 * unchanged to the address it came from (sendmmsg of the same batch): for a TURN server that
 * address is the allocation's relayed address, so the echo returns through the relay.  Runs
 * until SIGTERM or SIGINT, or --duration seconds (default 900), then prints its counts. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "proto/addr.h"
#include "tests/bench/lgnet.h"

#define ECHO_BATCH     64
#define ECHO_MAX_SOCKS 4
#define ECHO_DGRAM     65536
/* Batches read from one socket per readiness before looking at the others. */
#define ECHO_ROUNDS 16

struct echo {
    int nsocks;
    int fds[ECHO_MAX_SOCKS];
    int ep;
    int sigfd;
    unsigned long long echoed, dropped;
    struct mmsghdr msgs[ECHO_BATCH];
    struct iovec iov[ECHO_BATCH];
    union addr from[ECHO_BATCH];
    uint8_t data[ECHO_BATCH][ECHO_DGRAM];
};

static int open_sock(const char *spec)
{
    char err[256];
    union addr a;
    int fd;

    if (addr_parse(&a, spec, 0) < 0 || addr_port(&a) == 0) {
        fprintf(stderr, "echo: bad address %s (IP:PORT)\n", spec);
        return -1;
    }
    if ((fd = lgnet_udp_open(&a, false, err, sizeof(err))) < 0)
        fprintf(stderr, "echo: %s\n", err);
    return fd;
}

/* Sends msgs[0..n) back; a datagram the kernel refuses (full buffer) is dropped, counted. */
static void send_back(struct echo *e, int fd, int n)
{
    int i = 0;

    for (int k = 0; k < n; k++)
        e->iov[k].iov_len = e->msgs[k].msg_len;
    while (i < n) {
        int r = sendmmsg(fd, e->msgs + i, (unsigned)(n - i), 0);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            e->dropped++;
            i++;
            continue;
        }
        e->echoed += (unsigned)r;
        i += r;
    }
}

static void on_readable(struct echo *e, int fd)
{
    for (int round = 0; round < ECHO_ROUNDS; round++) {
        int n;

        for (int k = 0; k < ECHO_BATCH; k++) {
            e->iov[k].iov_len = ECHO_DGRAM;
            e->msgs[k].msg_hdr.msg_namelen = sizeof(e->from[k]);
        }
        n = recvmmsg(fd, e->msgs, ECHO_BATCH, MSG_DONTWAIT, NULL);
        if (n <= 0)
            return;
        send_back(e, fd, n);
        if (n < ECHO_BATCH)
            return;
    }
}

static int setup(struct echo *e, int argc, char **argv, long *duration)
{
    struct epoll_event ev = {.events = EPOLLIN};
    sigset_t mask;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--listen") == 0 && i + 1 < argc && e->nsocks < ECHO_MAX_SOCKS) {
            if ((e->fds[e->nsocks++] = open_sock(argv[++i])) < 0)
                return -1;
        } else if (strcmp(argv[i], "--duration") == 0 && i + 1 < argc) {
            *duration = strtol(argv[++i], NULL, 10);
        } else {
            fprintf(stderr, "usage: echo --listen IP:PORT [--listen IP:PORT] "
                            "[--duration SECONDS]\n");
            return -1;
        }
    }
    if (e->nsocks == 0 || *duration <= 0) {
        fprintf(stderr, "echo: need --listen and a positive --duration\n");
        return -1;
    }
    sigemptyset(&mask);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGINT);
    sigprocmask(SIG_BLOCK, &mask, NULL);
    e->sigfd = signalfd(-1, &mask, SFD_CLOEXEC);
    e->ep = epoll_create1(EPOLL_CLOEXEC);
    if (e->sigfd < 0 || e->ep < 0)
        return -1;
    ev.data.fd = e->sigfd;
    epoll_ctl(e->ep, EPOLL_CTL_ADD, e->sigfd, &ev);
    for (int k = 0; k < e->nsocks; k++) {
        ev.data.fd = e->fds[k];
        epoll_ctl(e->ep, EPOLL_CTL_ADD, e->fds[k], &ev);
    }
    for (int k = 0; k < ECHO_BATCH; k++) {
        e->iov[k].iov_base = e->data[k];
        e->msgs[k].msg_hdr.msg_iov = &e->iov[k];
        e->msgs[k].msg_hdr.msg_iovlen = 1;
        e->msgs[k].msg_hdr.msg_name = &e->from[k];
    }
    return 0;
}

int main(int argc, char **argv)
{
    struct echo *e = calloc(1, sizeof(*e));
    long duration = 900;
    time_t end;

    if (e == NULL || setup(e, argc, argv, &duration) < 0)
        return 2;
    printf("echo ready\n");
    fflush(stdout);
    end = time(NULL) + duration;
    while (time(NULL) < end) {
        struct epoll_event evs[ECHO_MAX_SOCKS + 1];
        int n = epoll_wait(e->ep, evs, ECHO_MAX_SOCKS + 1, 1000);

        for (int i = 0; i < n; i++) {
            if (evs[i].data.fd == e->sigfd)
                goto out;
            on_readable(e, evs[i].data.fd);
        }
    }
out:
    fprintf(stderr, "echo: %llu echoed, %llu dropped\n", e->echoed, e->dropped);
    return 0;
}
