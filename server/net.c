/* net.c — socket set-up helpers: bound UDP and TCP sockets and TCP listeners, non-blocking. */
#include "server/net.h"

#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int fail(int fd, const char *what, const char *proto, const union addr *a, char *err,
                size_t errlen)
{
    char buf[ADDR_STRLEN];
    int e = errno;

    snprintf(err, errlen, "cannot %s %s %s: %s", what, proto, addr_format(a, buf, sizeof(buf)),
             strerror(e));
    if (fd >= 0)
        close(fd);
    errno = e;
    return -1;
}

static int setopt(int fd, int level, int name, int v)
{
    return setsockopt(fd, level, name, &v, sizeof(v));
}

/* Options common to both kinds: address reuse, port sharing between workers, and for IPv6
 * the v6-only flag so that a wildcard :: does not also grab IPv4. */
static int prepare(int fd, const union addr *a, unsigned flags)
{
    /* A relay port is ours alone: with SO_REUSEADDR another UDP socket could share it. */
    if (!(flags & NET_RELAY) && setopt(fd, SOL_SOCKET, SO_REUSEADDR, 1) < 0)
        return -1;
    if ((flags & NET_REUSEPORT) && setopt(fd, SOL_SOCKET, SO_REUSEPORT, 1) < 0)
        return -1;
    if (a->sa.sa_family == AF_INET6 && setopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, 1) < 0)
        return -1;
    return 0;
}

int net_udp_socket(const union addr *a, unsigned flags, char *err, size_t errlen)
{
    int fd = socket(a->sa.sa_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

    if (fd < 0)
        return fail(fd, "open", "UDP", a, err, errlen);
    if (prepare(fd, a, flags) < 0)
        return fail(fd, "configure", "UDP", a, err, errlen);
    if (flags & NET_PKTINFO) {
        int r = a->sa.sa_family == AF_INET ? setopt(fd, IPPROTO_IP, IP_PKTINFO, 1)
                                           : setopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, 1);
        if (r < 0)
            return fail(fd, "configure", "UDP", a, err, errlen);
    }
    /* Large kernel buffers absorb bursts while a worker is busy; failure only costs burst room.
     * A relay endpoint carries one allocation's traffic: a smaller buffer does. */
    (void)setopt(fd, SOL_SOCKET, SO_RCVBUF, (flags & NET_RELAY) ? 256 << 10 : 4 << 20);
    (void)setopt(fd, SOL_SOCKET, SO_SNDBUF, (flags & NET_RELAY) ? 256 << 10 : 4 << 20);
    if (bind(fd, &a->sa, addr_len(a)) < 0)
        return fail(fd, "bind", "UDP", a, err, errlen);
    return fd;
}

int net_tcp_socket(const union addr *a, unsigned flags, char *err, size_t errlen)
{
    int fd = socket(a->sa.sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

    if (fd < 0)
        return fail(fd, "open", "TCP", a, err, errlen);
    if (prepare(fd, a, flags) < 0)
        return fail(fd, "configure", "TCP", a, err, errlen);
    if (bind(fd, &a->sa, addr_len(a)) < 0)
        return fail(fd, "bind", "TCP", a, err, errlen);
    return fd;
}

int net_tcp_listener(const union addr *a, unsigned flags, int backlog, char *err, size_t errlen)
{
    int fd = net_tcp_socket(a, flags, err, errlen);

    if (fd < 0)
        return -1;
    if (listen(fd, backlog) < 0)
        return fail(fd, "listen on", "TCP", a, err, errlen);
    return fd;
}

bool net_pktinfo_get(const struct msghdr *msg, uint16_t port, union addr *out)
{
    for (struct cmsghdr *c = CMSG_FIRSTHDR(msg); c; c = CMSG_NXTHDR((struct msghdr *)msg, c)) {
        if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
            struct in_pktinfo pi;
            memcpy(&pi, CMSG_DATA(c), sizeof(pi));
            addr_from_bytes(out, AF_INET, (const uint8_t *)&pi.ipi_addr, port);
            return true;
        }
        if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
            struct in6_pktinfo pi;
            memcpy(&pi, CMSG_DATA(c), sizeof(pi));
            addr_from_bytes(out, AF_INET6, (const uint8_t *)&pi.ipi6_addr, port);
            return true;
        }
    }
    return false;
}

size_t net_pktinfo_put(void *ctl, size_t cap, const union addr *src)
{
    struct msghdr msg = {.msg_control = ctl, .msg_controllen = cap};
    struct cmsghdr *c = CMSG_FIRSTHDR(&msg);

    memset(ctl, 0, cap);
    if (src->sa.sa_family == AF_INET && cap >= CMSG_SPACE(sizeof(struct in_pktinfo))) {
        struct in_pktinfo pi = {.ipi_spec_dst = src->sin.sin_addr};
        c->cmsg_level = IPPROTO_IP;
        c->cmsg_type = IP_PKTINFO;
        c->cmsg_len = CMSG_LEN(sizeof(pi));
        memcpy(CMSG_DATA(c), &pi, sizeof(pi));
        return CMSG_SPACE(sizeof(pi));
    }
    if (src->sa.sa_family == AF_INET6 && cap >= CMSG_SPACE(sizeof(struct in6_pktinfo))) {
        struct in6_pktinfo pi = {.ipi6_addr = src->sin6.sin6_addr};
        c->cmsg_level = IPPROTO_IPV6;
        c->cmsg_type = IPV6_PKTINFO;
        c->cmsg_len = CMSG_LEN(sizeof(pi));
        memcpy(CMSG_DATA(c), &pi, sizeof(pi));
        return CMSG_SPACE(sizeof(pi));
    }
    return 0;
}

size_t net_local_addrs(union addr *out, size_t max)
{
    static const int families[] = {AF_INET, AF_INET6};
    struct ifaddrs *list, *i;
    size_t n = 0;

    if (getifaddrs(&list) < 0)
        return 0;
    for (size_t f = 0; f < 2; f++) {
        for (i = list; i && n < max; i = i->ifa_next) {
            union addr a;
            bool dup = false;
            if (i->ifa_addr == NULL || i->ifa_addr->sa_family != families[f])
                continue;
            memset(&a, 0, sizeof(a));
            memcpy(&a, i->ifa_addr, families[f] == AF_INET ? sizeof(a.sin) : sizeof(a.sin6));
            if (families[f] == AF_INET6 && IN6_IS_ADDR_LINKLOCAL(&a.sin6.sin6_addr))
                continue;
            addr_set_port(&a, 0);
            if (families[f] == AF_INET6)
                a.sin6.sin6_scope_id = 0;
            for (size_t k = 0; k < n; k++)
                dup |= addr_ip_equal(&out[k], &a);
            if (!dup)
                out[n++] = a;
        }
    }
    freeifaddrs(list);
    return n;
}
