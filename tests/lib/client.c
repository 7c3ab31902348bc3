/* client.c — a small STUN/TURN test client built on proto/: sockets, requests, answers. */
#include "tests/lib/client.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "proto/crypto.h"
#include "proto/frame.h"
#include "proto/stun_build.h"
#include "tests/lib/proc.h"

int client_connect(int type, const char *ip, uint16_t port, const char *local_ip)
{
    union addr a, l;
    int fd;

    if (addr_parse(&a, ip, port) < 0)
        return -1;
    fd = socket(a.sa.sa_family, type | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    if (local_ip && (addr_parse(&l, local_ip, 0) < 0 || bind(fd, &l.sa, addr_len(&l)) < 0)) {
        close(fd);
        return -1;
    }
    if (connect(fd, &a.sa, addr_len(&a)) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

union addr client_local(int fd)
{
    union addr a;
    socklen_t len = sizeof(a);

    memset(&a, 0, sizeof(a));
    getsockname(fd, &a.sa, &len);
    return a;
}

int client_send_all(int fd, const void *buf, size_t len)
{
    const uint8_t *p = buf;

    while (len > 0) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

static bool wait_readable(int fd, long long deadline)
{
    struct pollfd pfd = {.fd = fd, .events = POLLIN};
    long long left = deadline - proc_now_ms();

    return left > 0 && poll(&pfd, 1, (int)left) == 1;
}

/* Reads exactly n bytes of a stream before the deadline: n, 0 on close, -1 on timeout. */
static ssize_t read_exact(int fd, uint8_t *buf, size_t n, long long deadline)
{
    size_t got = 0;

    while (got < n) {
        ssize_t r;
        if (!wait_readable(fd, deadline))
            return -1;
        r = recv(fd, buf + got, n - got, 0);
        if (r == 0)
            return 0;
        if (r < 0 && errno != EINTR && errno != EAGAIN)
            return 0; /* reset by the server: closed */
        if (r > 0)
            got += (size_t)r;
    }
    return (ssize_t)n;
}

ssize_t client_recv(int fd, int stream, uint8_t *buf, size_t cap, int timeout_ms)
{
    long long deadline = proc_now_ms() + timeout_ms;
    size_t have = 4;
    ssize_t r;
    int flen;

    if (!stream) {
        if (!wait_readable(fd, deadline))
            return -1;
        r = recv(fd, buf, cap, 0);
        return r < 0 ? -1 : r;
    }
    if (cap < STUN_HEADER_LEN)
        return -1;
    r = read_exact(fd, buf, have, deadline);
    if (r <= 0)
        return r;
    flen = frame_stream_len(buf, have);
    if (flen == STUN_E_INCOMPLETE) {
        r = read_exact(fd, buf + have, STUN_HEADER_LEN - have, deadline);
        if (r <= 0)
            return r;
        have = STUN_HEADER_LEN;
        flen = frame_stream_len(buf, have);
    }
    if (flen < 0 || (size_t)flen > cap)
        return -1;
    r = read_exact(fd, buf + have, (size_t)flen - have, deadline);
    if (r < 0 || (r == 0 && (size_t)flen > have))
        return r;
    return flen;
}

size_t client_binding_request(uint8_t *buf, size_t cap, bool fingerprint)
{
    uint8_t tid[STUN_TID_LEN];
    struct stun_builder b;
    size_t len = 0;

    crypto_random(tid, sizeof(tid));
    stun_build_start(&b, buf, cap, stun_type(STUN_METHOD_BINDING, STUN_CLASS_REQUEST), tid);
    if (fingerprint)
        stun_build_fingerprint(&b);
    stun_build_end(&b, &len);
    return len;
}

int client_transact(int fd, int stream, const uint8_t *req, size_t reqlen, uint8_t *buf,
                    size_t cap, struct stun_msg *resp, int timeout_ms)
{
    long long deadline = proc_now_ms() + timeout_ms;

    while (proc_now_ms() < deadline) {
        long long resend = proc_now_ms() + 500;
        if (client_send_all(fd, req, reqlen) < 0)
            return -1;
        while (stream || proc_now_ms() < resend) {
            long long left = deadline - proc_now_ms();
            ssize_t n;
            if (left <= 0)
                return -1;
            n = client_recv(fd, stream, buf, cap, stream ? (int)left : 500);
            if (n <= 0) {
                if (stream)
                    return -1;
                break;
            }
            if (stun_msg_decode(resp, buf, (size_t)n, STUN_DECODE_ALLOW_3489) == STUN_OK &&
                memcmp(resp->tid, req + 8, STUN_TID_LEN) == 0)
                return 0;
        }
    }
    return -1;
}

bool client_silent(int fd, int ms)
{
    struct pollfd pfd = {.fd = fd, .events = POLLIN};

    return poll(&pfd, 1, ms) == 0;
}

int client_udp_bound(const char *ip, union addr *bound)
{
    socklen_t len = sizeof(*bound);
    int fd;

    if (addr_parse(bound, ip, 0) < 0)
        return -1;
    fd = socket(bound->sa.sa_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    if (bind(fd, &bound->sa, addr_len(bound)) < 0 || getsockname(fd, &bound->sa, &len) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

bool client_udp_closed(const union addr *addr)
{
    int fd = socket(addr->sa.sa_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    uint8_t b;
    bool closed = false;

    if (fd < 0)
        return false;
    if (connect(fd, &addr->sa, addr_len(addr)) == 0) {
        for (int i = 0; i < 5 && !closed; i++) {
            send(fd, "x", 1, 0);
            if (!client_silent(fd, 200))
                closed = recv(fd, &b, 1, 0) < 0 && errno == ECONNREFUSED;
        }
    }
    close(fd);
    return closed;
}
