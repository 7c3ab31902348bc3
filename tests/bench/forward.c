/* forward.c — a bare UDP forwarder, the user-space limit the TURN servers are measured against.
 *
 *   forward --listen IP:PORT --peer IP:PORT [--max-clients N] [--duration SECONDS]
 *
 * No TURN: no allocation, no authentication, no permission.  It keeps the shape of a relay's
 * packet path so that the system calls per datagram are those a TURN server cannot avoid: each
 * client address gets its own relay socket (opened at its first datagram), client datagrams
 * are ChannelData whose 4-byte header is stripped before the payload leaves the client's relay
 * socket for the one peer, and what the peer sends back to a relay socket returns to its
 * client behind a 4-byte ChannelData header.  Reads are recvmmsg batches; writes to the peer
 * are one sendmmsg per run of datagrams of one client; writes to clients are sendmmsg batches
 * gathered across relay sockets, received straight into the send queue (no copy).  Runs until
 * SIGTERM/SIGINT or --duration seconds (default 900).
 *
 * With --steer (root) the relay sockets are not read one by one: the BPF sk_lookup program of
 * turnpike's --relay-steering (server/steer.h) steers what the peer sends to any of their
 * ports to one socket, read in batches like the listener. */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
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
#include "server/steer.h"

#define FWD_BATCH  64
#define FWD_DGRAM  2048
#define FWD_HDR    4
#define FWD_EVENTS 256
#define FWD_ROUNDS 8
#define FWD_CTL    64 /* control data room: the destination of a steered datagram */

struct fwd_client {
    union addr addr;
    int fd; /* its relay socket */
    uint16_t chan;
    bool used; /* false: a free table slot */
};

struct fwd_queue {
    unsigned n;
    struct mmsghdr msgs[FWD_BATCH];
    struct iovec iov[FWD_BATCH];
    union addr addr[FWD_BATCH];
    char ctl[FWD_BATCH][FWD_CTL];
    uint8_t data[FWD_BATCH][FWD_HDR + FWD_DGRAM];
};

struct fwd {
    int lfd, ep, sigfd;
    union addr listen, peer;
    size_t cap, nclients; /* table slots (a power of two) and clients in it */
    struct fwd_client *table;
    struct fwd_queue in;  /* from clients, toward the peer */
    struct fwd_queue out; /* from the peer, toward clients */
    bool steering;
    struct steer *steer;
    int steer_fd;
    struct fwd_client **byport; /* steering: the client of each relay port */
};

static int udp_socket(const union addr *a)
{
    char err[256];

    return lgnet_udp_open(a, false, err, sizeof(err));
}

/* The client of address a, created with its relay socket on first sight; NULL when full. */
static struct fwd_client *client_of(struct fwd *f, const union addr *a)
{
    size_t i = addr_hash(a, 0) & (f->cap - 1);
    struct epoll_event ev = {.events = EPOLLIN};
    union addr relay = f->listen;

    while (f->table[i].used) {
        if (addr_equal(&f->table[i].addr, a))
            return &f->table[i];
        i = (i + 1) & (f->cap - 1);
    }
    if (2 * (f->nclients + 1) > f->cap)
        return NULL;
    addr_set_port(&relay, 0);
    f->table[i].fd = udp_socket(&relay);
    if (f->table[i].fd < 0)
        return NULL;
    f->table[i].used = true;
    f->table[i].addr = *a;
    ev.data.ptr = &f->table[i];
    if (f->steering) {
        socklen_t len = sizeof(relay);
        uint32_t idx;
        if (getsockname(f->table[i].fd, &relay.sa, &len) == 0 &&
            steer_index(f->steer, &relay, &idx) && steer_add(f->steer, 0, idx) == 0)
            f->byport[addr_port(&relay)] = &f->table[i];
        else
            fprintf(stderr, "forward: cannot steer a relay socket: %s\n", strerror(errno));
    } else {
        epoll_ctl(f->ep, EPOLL_CTL_ADD, f->table[i].fd, &ev);
    }
    f->nclients++;
    return &f->table[i];
}

/* Sends q->msgs[from..to) on fd, dropping what the kernel refuses. */
static void send_run(int fd, struct fwd_queue *q, unsigned from, unsigned to)
{
    while (from < to) {
        int r = sendmmsg(fd, q->msgs + from, to - from, 0);
        if (r < 0 && errno == EINTR)
            continue;
        from += r > 0 ? (unsigned)r : 1;
    }
}

/* Receives up to n datagrams into q from slot first on; ctl: with room for control data. */
static int recv_batch(int fd, struct fwd_queue *q, unsigned first, unsigned n, bool ctl)
{
    for (unsigned k = first; k < first + n; k++) {
        q->iov[k].iov_base = q->data[k] + FWD_HDR;
        q->iov[k].iov_len = FWD_DGRAM;
        q->msgs[k].msg_hdr.msg_iov = &q->iov[k];
        q->msgs[k].msg_hdr.msg_iovlen = 1;
        q->msgs[k].msg_hdr.msg_name = &q->addr[k];
        q->msgs[k].msg_hdr.msg_namelen = sizeof(q->addr[k]);
        q->msgs[k].msg_hdr.msg_control = ctl ? q->ctl[k] : NULL;
        q->msgs[k].msg_hdr.msg_controllen = ctl ? sizeof(q->ctl[k]) : 0;
    }
    return recvmmsg(fd, q->msgs + first, n, MSG_DONTWAIT, NULL);
}

/* Client datagrams: strip the header and send each run of one client's payloads at once. */
static int from_clients(struct fwd *f)
{
    struct fwd_queue *q = &f->in;
    struct fwd_client *c[FWD_BATCH];
    int n = recv_batch(f->lfd, q, 0, FWD_BATCH, false);

    for (int k = 0; k < n; k++) {
        uint8_t *d = q->data[k] + FWD_HDR;
        size_t len = q->msgs[k].msg_len;

        c[k] = NULL;
        if (len < FWD_HDR || (d[0] & 0xC0) != 0x40 || (c[k] = client_of(f, &q->addr[k])) == NULL)
            continue;
        c[k]->chan = (uint16_t)(d[0] << 8 | d[1]);
        q->iov[k].iov_base = d + FWD_HDR;
        q->iov[k].iov_len = len - FWD_HDR;
        q->addr[k] = f->peer;
        q->msgs[k].msg_hdr.msg_namelen = addr_len(&f->peer);
    }
    for (int k = 0, end; k < n; k = end) {
        for (end = k + 1; end < n && c[end] == c[k]; end++)
            ;
        if (c[k])
            send_run(c[k]->fd, q, (unsigned)k, (unsigned)end);
    }
    return n;
}

static void flush_out(struct fwd *f)
{
    send_run(f->lfd, &f->out, 0, f->out.n);
    f->out.n = 0;
}

/* Puts the ChannelData header of c in front of the peer's datagram in slot k, for c. */
static void frame(struct fwd_queue *q, unsigned k, const struct fwd_client *c)
{
    size_t len = q->msgs[k].msg_len;
    uint8_t *h = q->data[k];

    h[0] = (uint8_t)(c->chan >> 8);
    h[1] = (uint8_t)c->chan;
    h[2] = (uint8_t)(len >> 8);
    h[3] = (uint8_t)len;
    q->iov[k].iov_base = h;
    q->iov[k].iov_len = FWD_HDR + len;
    q->addr[k] = c->addr;
    q->msgs[k].msg_hdr.msg_namelen = addr_len(&c->addr);
    q->msgs[k].msg_hdr.msg_control = NULL;
    q->msgs[k].msg_hdr.msg_controllen = 0;
}

/* Peer datagrams on a client's relay socket (c), or with steering on the steering socket
 * (c NULL: the client by the port each came to), received into the client queue and framed;
 * a short read means the socket is empty. */
static void from_peer(struct fwd *f, struct fwd_client *c)
{
    struct fwd_queue *q = &f->out;
    int fd = c ? c->fd : f->steer_fd;

    for (;;) {
        unsigned want, end;
        int n;

        if (q->n == FWD_BATCH)
            flush_out(f);
        want = FWD_BATCH - q->n;
        n = recv_batch(fd, q, q->n, want, c == NULL);
        if (n <= 0)
            return;
        end = q->n + (unsigned)n;
        for (unsigned k = q->n; k < end;) {
            union addr dst;
            const struct fwd_client *to =
                c ? c : steer_dst(&q->msgs[k].msg_hdr, &dst) ? f->byport[addr_port(&dst)] : NULL;
            if (to == NULL) { /* not one of ours: the last datagram takes its slot */
                end--;
                q->msgs[k].msg_len = q->msgs[end].msg_len;
                q->msgs[k].msg_hdr.msg_controllen = q->msgs[end].msg_hdr.msg_controllen;
                memcpy(q->ctl[k], q->ctl[end], sizeof(q->ctl[k]));
                memcpy(q->data[k] + FWD_HDR, q->data[end] + FWD_HDR, q->msgs[end].msg_len);
                continue;
            }
            frame(q, k++, to);
        }
        q->n = end;
        if ((unsigned)n < want)
            return;
    }
}

static int setup(struct fwd *f, int argc, char **argv, long *duration)
{
    struct epoll_event ev = {.events = EPOLLIN};
    const char *listen = NULL, *peer = NULL;
    size_t max = 20000;
    sigset_t mask;

    for (int i = 1; i < argc; i += 2) {
        if (strcmp(argv[i], "--steer") == 0) {
            f->steering = true;
            i--;
        } else if (i + 1 == argc)
            break;
        else if (strcmp(argv[i], "--listen") == 0)
            listen = argv[i + 1];
        else if (strcmp(argv[i], "--peer") == 0)
            peer = argv[i + 1];
        else if (strcmp(argv[i], "--max-clients") == 0)
            max = strtoul(argv[i + 1], NULL, 10);
        else if (strcmp(argv[i], "--duration") == 0)
            *duration = strtol(argv[i + 1], NULL, 10);
    }
    if (!listen || !peer || addr_parse(&f->listen, listen, 0) < 0 ||
        addr_parse(&f->peer, peer, 0) < 0 || addr_port(&f->peer) == 0 || *duration <= 0) {
        fprintf(stderr, "usage: forward --listen IP:PORT --peer IP:PORT [--max-clients N] "
                        "[--duration SECONDS] [--steer]\n");
        return -1;
    }
    for (f->cap = 64; f->cap < 2 * max + 2; f->cap *= 2)
        ;
    f->table = calloc(f->cap, sizeof(*f->table));
    sigemptyset(&mask);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGINT);
    sigprocmask(SIG_BLOCK, &mask, NULL);
    f->sigfd = signalfd(-1, &mask, SFD_CLOEXEC);
    f->ep = epoll_create1(EPOLL_CLOEXEC);
    f->lfd = udp_socket(&f->listen);
    if (f->table == NULL || f->sigfd < 0 || f->ep < 0 || f->lfd < 0) {
        fprintf(stderr, "forward: cannot listen on %s: %s\n", listen, strerror(errno));
        return -1;
    }
    ev.data.ptr = &f->lfd;
    epoll_ctl(f->ep, EPOLL_CTL_ADD, f->lfd, &ev);
    ev.data.ptr = &f->sigfd;
    epoll_ctl(f->ep, EPOLL_CTL_ADD, f->sigfd, &ev);
    if (f->steering) {
        char err[256];
        f->byport = calloc(65536, sizeof(*f->byport));
        if (f->byport == NULL ||
            steer_new(&f->steer, &f->listen, 1, 1, 65535, 1, err, sizeof(err)) < 0) {
            fprintf(stderr, "forward: --steer: %s\n", f->byport ? err : "out of memory");
            return -1;
        }
        f->steer_fd = steer_socket(f->steer, 0, f->listen.sa.sa_family);
        ev.data.ptr = &f->steer_fd;
        epoll_ctl(f->ep, EPOLL_CTL_ADD, f->steer_fd, &ev);
    }
    return 0;
}

int main(int argc, char **argv)
{
    struct fwd *f = calloc(1, sizeof(*f));
    long duration = 900;
    time_t end;

    if (f == NULL || setup(f, argc, argv, &duration) < 0)
        return 2;
    printf("forward ready\n");
    fflush(stdout);
    end = time(NULL) + duration;
    while (time(NULL) < end) {
        struct epoll_event evs[FWD_EVENTS];
        int n = epoll_wait(f->ep, evs, FWD_EVENTS, 1000);

        for (int i = 0; i < n; i++) {
            if (evs[i].data.ptr == &f->sigfd)
                goto out;
            if (evs[i].data.ptr == &f->lfd) {
                /* As many batches as are waiting, up to FWD_ROUNDS, before the others. */
                for (int round = 0; round < FWD_ROUNDS && from_clients(f) == FWD_BATCH; round++)
                    ;
            } else
                from_peer(f, evs[i].data.ptr == &f->steer_fd ? NULL : evs[i].data.ptr);
        }
        flush_out(f);
    }
out:
    fprintf(stderr, "forward: %zu clients\n", f->nclients);
    return 0;
}
