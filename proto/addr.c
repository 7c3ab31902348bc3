/* addr.c — transport addresses: compare, hash, parse and format IPv4/IPv6 + port. */
#include "proto/addr.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

socklen_t addr_len(const union addr *a)
{
    switch (a->sa.sa_family) {
    case AF_INET:
        return sizeof a->sin;
    case AF_INET6:
        return sizeof a->sin6;
    default:
        return 0;
    }
}

uint16_t addr_port(const union addr *a)
{
    switch (a->sa.sa_family) {
    case AF_INET:
        return ntohs(a->sin.sin_port);
    case AF_INET6:
        return ntohs(a->sin6.sin6_port);
    default:
        return 0;
    }
}

void addr_set_port(union addr *a, uint16_t port)
{
    if (a->sa.sa_family == AF_INET)
        a->sin.sin_port = htons(port);
    else if (a->sa.sa_family == AF_INET6)
        a->sin6.sin6_port = htons(port);
}

bool addr_ip_equal(const union addr *a, const union addr *b)
{
    if (a->sa.sa_family != b->sa.sa_family)
        return false;
    switch (a->sa.sa_family) {
    case AF_INET:
        return a->sin.sin_addr.s_addr == b->sin.sin_addr.s_addr;
    case AF_INET6:
        return memcmp(&a->sin6.sin6_addr, &b->sin6.sin6_addr, 16) == 0;
    default:
        return true; /* two AF_UNSPEC: both "no address" */
    }
}

bool addr_equal(const union addr *a, const union addr *b)
{
    return addr_ip_equal(a, b) && addr_port(a) == addr_port(b);
}

/* One round of a multiply-xorshift mix (the 64-bit finaliser of MurmurHash3): every input bit
 * reaches every output bit, at the cost of two multiplications. */
static uint64_t mix64(uint64_t h)
{
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ull;
    h ^= h >> 33;
    return h;
}

/* Folds the IP (and the port when with_port) into the seed.  The family goes in first so that
 * 192.0.2.1 and ::c000:201 never collide by construction. */
static uint32_t hash_addr(const union addr *a, uint32_t seed, int with_port)
{
    uint64_t h = (uint64_t)seed << 32 | a->sa.sa_family;

    if (with_port)
        h ^= (uint64_t)addr_port(a) << 16;
    if (a->sa.sa_family == AF_INET) {
        uint32_t ip;
        memcpy(&ip, &a->sin.sin_addr, 4);
        h = mix64(h ^ (uint64_t)ip << 32);
    } else if (a->sa.sa_family == AF_INET6) {
        uint64_t w[2];
        memcpy(w, &a->sin6.sin6_addr, 16);
        h = mix64(h ^ w[0]);
        h = mix64(h ^ w[1]);
    } else {
        h = mix64(h);
    }
    return (uint32_t)(h ^ h >> 32);
}

uint32_t addr_hash(const union addr *a, uint32_t seed)
{
    return hash_addr(a, seed, 1);
}

uint32_t addr_ip_hash(const union addr *a, uint32_t seed)
{
    return hash_addr(a, seed, 0);
}

void addr_from_bytes(union addr *out, int family, const uint8_t *ip, uint16_t port)
{
    memset(out, 0, sizeof *out);
    if (family == AF_INET) {
        out->sin.sin_family = AF_INET;
        memcpy(&out->sin.sin_addr, ip, 4);
        out->sin.sin_port = htons(port);
    } else if (family == AF_INET6) {
        out->sin6.sin6_family = AF_INET6;
        memcpy(&out->sin6.sin6_addr, ip, 16);
        out->sin6.sin6_port = htons(port);
    } else {
        out->sa.sa_family = AF_UNSPEC;
    }
}

/* Decimal 0..65535, digits only, nothing after them. */
static int parse_port(const char *s, uint16_t *port)
{
    unsigned long v = 0;
    size_t n = 0;

    for (; s[n] >= '0' && s[n] <= '9'; n++) {
        if (n == 5)
            return -1;
        v = v * 10 + (unsigned long)(s[n] - '0');
    }
    if (n == 0 || s[n] != '\0' || v > 65535)
        return -1;
    *port = (uint16_t)v;
    return 0;
}

/* Parses the n bytes at s as an IPv4 or IPv6 literal into ip (4 or 16 bytes). */
static int parse_ip(const char *s, size_t n, int *family, uint8_t ip[16])
{
    char tmp[INET6_ADDRSTRLEN];

    if (n == 0 || n >= sizeof tmp)
        return -1;
    memcpy(tmp, s, n);
    tmp[n] = '\0';
    if (inet_pton(AF_INET, tmp, ip) == 1) {
        *family = AF_INET;
        return 0;
    }
    if (inet_pton(AF_INET6, tmp, ip) == 1) {
        *family = AF_INET6;
        return 0;
    }
    return -1;
}

int addr_parse(union addr *out, const char *s, uint16_t default_port)
{
    const char *ip = s, *colon = strchr(s, ':'), *port_s = NULL;
    size_t iplen = strlen(s);
    uint16_t port = default_port;
    uint8_t raw[16];
    int family;

    if (s[0] == '[') {
        /* "[v6]" or "[v6]:port": brackets only around IPv6. */
        const char *close = strchr(s, ']');
        if (close == NULL || (close[1] != '\0' && close[1] != ':'))
            return -1;
        ip = s + 1;
        iplen = (size_t)(close - ip);
        port_s = close[1] == ':' ? close + 2 : NULL;
    } else if (colon != NULL && strchr(colon + 1, ':') == NULL) {
        /* Exactly one colon: "v4:port".  Two or more: a bare IPv6 literal. */
        iplen = (size_t)(colon - s);
        port_s = colon + 1;
    }
    if (parse_ip(ip, iplen, &family, raw) != 0)
        return -1;
    if (s[0] == '[' && family != AF_INET6)
        return -1;
    if (port_s != NULL && parse_port(port_s, &port) != 0)
        return -1;
    addr_from_bytes(out, family, raw, port);
    return 0;
}

char *addr_format_ip(const union addr *a, char *buf, size_t cap)
{
    const void *src = a->sa.sa_family == AF_INET ? (const void *)&a->sin.sin_addr
                                                 : (const void *)&a->sin6.sin6_addr;

    if (cap == 0)
        return buf;
    if ((a->sa.sa_family != AF_INET && a->sa.sa_family != AF_INET6) ||
        inet_ntop(a->sa.sa_family, src, buf, (socklen_t)cap) == NULL)
        snprintf(buf, cap, "%s", "(none)");
    return buf;
}

char *addr_format(const union addr *a, char *buf, size_t cap)
{
    char ip[INET6_ADDRSTRLEN];

    if (cap == 0)
        return buf;
    addr_format_ip(a, ip, sizeof ip);
    if (a->sa.sa_family == AF_INET6)
        snprintf(buf, cap, "[%s]:%u", ip, (unsigned)addr_port(a));
    else if (a->sa.sa_family == AF_INET)
        snprintf(buf, cap, "%s:%u", ip, (unsigned)addr_port(a));
    else
        snprintf(buf, cap, "%s", ip);
    return buf;
}

bool addr_is_v4mapped(const union addr *a)
{
    return a->sa.sa_family == AF_INET6 && IN6_IS_ADDR_V4MAPPED(&a->sin6.sin6_addr);
}

void addr_unmap(union addr *a)
{
    uint8_t ip[4];
    uint16_t port;

    if (!addr_is_v4mapped(a))
        return;
    memcpy(ip, &a->sin6.sin6_addr.s6_addr[12], 4);
    port = addr_port(a);
    addr_from_bytes(a, AF_INET, ip, port);
}

bool addr_is_any(const union addr *a)
{
    if (a->sa.sa_family == AF_INET)
        return a->sin.sin_addr.s_addr == htonl(INADDR_ANY);
    if (a->sa.sa_family == AF_INET6)
        return IN6_IS_ADDR_UNSPECIFIED(&a->sin6.sin6_addr);
    return false;
}
