/* policy.c — the peer-address policy: defaults, operator ranges, the server's own addresses. */
#include "relay/policy.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* An IP as a 128-bit number in host order, with its family.  IPv4 lives in the low 32 bits
 * of lo.  Every address a lookup sees is canonical: IPv4-mapped (::ffff:a.b.c.d) and
 * IPv4-compatible (::a.b.c.d) IPv6 addresses become the IPv4 address they carry, because a
 * dual-stack socket sends to that IPv4 address, so they must meet IPv4's rules, not slip past
 * them (:: and ::1 stay IPv6: they are the unspecified and loopback addresses, not IPv4). */
struct ip {
    uint64_t hi;
    uint64_t lo;
    bool v6;
};

/* A closed interval of one family: first <= last. */
struct span {
    struct ip first;
    struct ip last;
    bool loopback; /* a default opened by relay_policy_allow_loopback() */
};

struct span_list {
    struct span *v;
    size_t n;
    size_t cap;
};

struct listener {
    struct ip ip;
    uint16_t port;
};

struct relay_ip {
    struct ip ip;
    uint16_t min;
    uint16_t max;
};

/* The default denials (relay_policy_new's contract).  255.255.255.255 needs no row of its own:
 * it is the last address of 240.0.0.0/4. */
static const struct {
    const char *cidr;
    bool loopback;
} default_denied[] = {
    {.cidr = "0.0.0.0/8"},      {.cidr = "127.0.0.0/8", .loopback = true},
    {.cidr = "10.0.0.0/8"},     {.cidr = "172.16.0.0/12"},
    {.cidr = "192.168.0.0/16"}, {.cidr = "169.254.0.0/16"},
    {.cidr = "224.0.0.0/4"},    {.cidr = "240.0.0.0/4"},
    {.cidr = "::/128"},         {.cidr = "::1/128", .loopback = true},
    {.cidr = "fe80::/10"},      {.cidr = "fc00::/7"},
    {.cidr = "ff00::/8"},
};
#define NDEFAULTS (sizeof default_denied / sizeof default_denied[0])

/* Lookup cost: relay_policy_allows() compares the peer with each listener, each operator
 * range, each relay IP and the 13 defaults, at most two 64-bit comparisons per bound, so
 * O(listeners + allowed + denied + relay IPs + 13) with no allocation, no lock and no
 * hashing.  Deployments declare a handful of each, which makes that a few dozen comparisons
 * over a couple of cache lines: cheaper than any index until the operator lists hundreds of
 * ranges (then sorted, merged spans and a binary search would be the next step). */
struct relay_policy {
    struct span_list allow;
    struct span_list deny;
    struct listener *listeners;
    size_t nlisteners, caplisteners;
    struct relay_ip *relays;
    size_t nrelays, caprelays;
    struct span defaults[NDEFAULTS];
    bool loopback;
};

/* ---- IPs --------------------------------------------------------------------------------- */

static uint64_t load_be64(const uint8_t *p)
{
    uint64_t v = 0;

    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
}

/* Sets *out from a's IP, reduced to IPv4 when reduce and a carries one.  False for AF_UNSPEC
 * and unknown families. */
static bool ip_from_addr(const union addr *a, struct ip *out, bool reduce)
{
    if (a->sa.sa_family == AF_INET) {
        *out = (struct ip){.lo = ntohl(a->sin.sin_addr.s_addr)};
        return true;
    }
    if (a->sa.sa_family != AF_INET6)
        return false;
    const uint8_t *b = a->sin6.sin6_addr.s6_addr;
    *out = (struct ip){.hi = load_be64(b), .lo = load_be64(b + 8), .v6 = true};
    bool compatible = out->hi == 0 && out->lo >> 32 == 0 && out->lo > 1;
    if (reduce && (addr_is_v4mapped(a) || compatible)) {
        out->lo &= 0xffffffffu;
        out->v6 = false;
    }
    return true;
}

static bool ip_le(const struct ip *a, const struct ip *b)
{
    return a->hi < b->hi || (a->hi == b->hi && a->lo <= b->lo);
}

static bool ip_eq(const struct ip *a, const struct ip *b)
{
    return a->v6 == b->v6 && a->hi == b->hi && a->lo == b->lo;
}

static bool ip_is_loopback(const struct ip *ip)
{
    return ip->v6 ? ip->hi == 0 && ip->lo == 1 : ip->lo >> 24 == 127;
}

static bool span_has(const struct span *s, const struct ip *ip)
{
    return s->first.v6 == ip->v6 && ip_le(&s->first, ip) && ip_le(ip, &s->last);
}

static const struct span *spans_find(const struct span *v, size_t n, const struct ip *ip)
{
    for (size_t i = 0; i < n; i++) {
        if (span_has(&v[i], ip))
            return &v[i];
    }
    return NULL;
}

/* ---- parsing operator ranges ------------------------------------------------------------- */

static int fail(char *err, size_t errlen, const char *range, const char *why)
{
    if (err != NULL && errlen > 0)
        snprintf(err, errlen, "'%s': %s", range, why);
    return -1;
}

/* Parses the n bytes at s as a bare IP literal (no port, no brackets). */
static int parse_ip(const char *s, size_t n, union addr *out)
{
    char buf[INET6_ADDRSTRLEN];

    if (n == 0 || n >= sizeof buf)
        return -1;
    memcpy(buf, s, n);
    buf[n] = '\0';
    /* addr_parse also takes "a.b.c.d:port" and "[v6]:port": an operator range has no port. */
    if (buf[0] == '[' || addr_parse(out, buf, 0) != 0)
        return -1;
    if (out->sa.sa_family == AF_INET && memchr(buf, ':', n) != NULL)
        return -1;
    return 0;
}

/* A prefix length: 1 to 3 decimal digits, at most bits. */
static int parse_prefix(const char *s, unsigned bits, unsigned *out)
{
    unsigned v = 0;
    size_t n = 0;

    for (; s[n] >= '0' && s[n] <= '9'; n++) {
        if (n == 3)
            return -1;
        v = v * 10 + (unsigned)(s[n] - '0');
    }
    if (n == 0 || s[n] != '\0' || v > bits)
        return -1;
    *out = v;
    return 0;
}

/* The low h bits of a 128-bit number set (0 <= h <= 128), as hi and lo halves. */
static void host_mask(unsigned h, uint64_t *hi, uint64_t *lo)
{
    *lo = h >= 64 ? ~0ull : h == 0 ? 0 : (1ull << h) - 1;
    *hi = h >= 128 ? ~0ull : h <= 64 ? 0 : (1ull << (h - 64)) - 1;
}

/* "a/n".  An IPv6 block of at least /96 whose base carries an IPv4 address is that IPv4
 * block ("::ffff:10.0.0.0/104" is 10.0.0.0/8), since its peers are judged as IPv4. */
static int parse_cidr(const char *range, const char *slash, struct span *out, char *err,
                      size_t errlen)
{
    union addr a;
    unsigned n;
    uint64_t mhi, mlo;

    if (parse_ip(range, (size_t)(slash - range), &a) != 0)
        return fail(err, errlen, range, "CIDR base is not an IP address");
    if (parse_prefix(slash + 1, a.sa.sa_family == AF_INET ? 32 : 128, &n) != 0)
        return fail(err, errlen, range, "bad prefix length");
    ip_from_addr(&a, &out->first, n >= 96);
    if (a.sa.sa_family == AF_INET6 && !out->first.v6)
        n -= 96;
    host_mask((out->first.v6 ? 128 : 32) - n, &mhi, &mlo);
    if ((out->first.hi & mhi) != 0 || (out->first.lo & mlo) != 0)
        return fail(err, errlen, range, "address has bits set after the prefix");
    out->last = out->first;
    out->last.hi |= mhi;
    out->last.lo |= mlo;
    return 0;
}

/* "a-b", both ends of one family (after reduction), a <= b. */
static int parse_interval(const char *range, const char *dash, struct span *out, char *err,
                          size_t errlen)
{
    union addr a, b;

    if (parse_ip(range, (size_t)(dash - range), &a) != 0)
        return fail(err, errlen, range, "range start is not an IP address");
    if (parse_ip(dash + 1, strlen(dash + 1), &b) != 0)
        return fail(err, errlen, range, "range end is not an IP address");
    ip_from_addr(&a, &out->first, true);
    ip_from_addr(&b, &out->last, true);
    if (out->first.v6 != out->last.v6)
        return fail(err, errlen, range, "range mixes IPv4 and IPv6");
    if (!ip_le(&out->first, &out->last))
        return fail(err, errlen, range, "range start is after its end");
    return 0;
}

/* Parses an operator range into *out; -1 with the reason in err.  The first of '-' and '/'
 * says which form it is ("1.2.3.4/-1" is a CIDR block with a bad prefix). */
static int parse_range(const char *range, struct span *out, char *err, size_t errlen)
{
    const char *dash = strchr(range, '-'), *slash = strchr(range, '/');
    union addr a;

    *out = (struct span){0};
    if (dash != NULL && (slash == NULL || dash < slash))
        return parse_interval(range, dash, out, err, errlen);
    if (slash != NULL)
        return parse_cidr(range, slash, out, err, errlen);
    if (parse_ip(range, strlen(range), &a) != 0)
        return fail(err, errlen, range, "not an IP address");
    ip_from_addr(&a, &out->first, true);
    out->last = out->first;
    return 0;
}

/* ---- building the policy ----------------------------------------------------------------- */

/* Makes room for one more element of size bytes in *v (holding n of cap).  0 or -1. */
static int grow(void **v, size_t n, size_t *cap, size_t size)
{
    if (n < *cap)
        return 0;
    size_t ncap = *cap ? *cap * 2 : 8;
    void *nv = realloc(*v, ncap * size);
    if (nv == NULL)
        return -1;
    *v = nv;
    *cap = ncap;
    return 0;
}

int relay_policy_new(struct relay_policy **out)
{
    struct relay_policy *p = calloc(1, sizeof *p);

    if (p == NULL)
        return -1;
    for (size_t i = 0; i < NDEFAULTS; i++) {
        if (parse_range(default_denied[i].cidr, &p->defaults[i], NULL, 0) != 0) {
            free(p);
            return -1;
        }
        p->defaults[i].loopback = default_denied[i].loopback;
    }
    *out = p;
    return 0;
}

void relay_policy_free(struct relay_policy *p)
{
    if (p == NULL)
        return;
    free(p->allow.v);
    free(p->deny.v);
    free(p->listeners);
    free(p->relays);
    free(p);
}

static int add_range(struct span_list *l, const char *range, char *err, size_t errlen)
{
    struct span s;

    if (parse_range(range, &s, err, errlen) != 0)
        return -1;
    if (grow((void **)&l->v, l->n, &l->cap, sizeof *l->v) != 0)
        return fail(err, errlen, range, "out of memory");
    l->v[l->n++] = s;
    return 0;
}

int relay_policy_allow(struct relay_policy *p, const char *range, char *err, size_t errlen)
{
    return add_range(&p->allow, range, err, errlen);
}

int relay_policy_deny(struct relay_policy *p, const char *range, char *err, size_t errlen)
{
    return add_range(&p->deny, range, err, errlen);
}

void relay_policy_allow_loopback(struct relay_policy *p, bool allow)
{
    p->loopback = allow;
}

/* A wildcard listener (0.0.0.0 or ::) is kept as it is and matches only itself (already denied
 * by default): the server declares the concrete addresses it answers on. */
int relay_policy_add_listener(struct relay_policy *p, const union addr *a)
{
    struct ip ip;

    if (!ip_from_addr(a, &ip, true))
        return -1;
    if (grow((void **)&p->listeners, p->nlisteners, &p->caplisteners, sizeof *p->listeners) != 0)
        return -1;
    p->listeners[p->nlisteners++] = (struct listener){.ip = ip, .port = addr_port(a)};
    return 0;
}

int relay_policy_add_relay_ip(struct relay_policy *p, const union addr *ip, uint16_t min,
                              uint16_t max)
{
    struct ip key;

    if (min > max || !ip_from_addr(ip, &key, true))
        return -1;
    if (grow((void **)&p->relays, p->nrelays, &p->caprelays, sizeof *p->relays) != 0)
        return -1;
    p->relays[p->nrelays++] = (struct relay_ip){.ip = key, .min = min, .max = max};
    return 0;
}

/* ---- the lookup -------------------------------------------------------------------------- */

static bool is_listener(const struct relay_policy *p, const struct ip *ip, uint16_t port)
{
    for (size_t i = 0; i < p->nlisteners; i++) {
        if (p->listeners[i].port == port && ip_eq(&p->listeners[i].ip, ip))
            return true;
    }
    return false;
}

/* The relay-IP rule: -1 when ip is no relay IP, else 1 (allowed) or 0.  One IP may carry
 * several ranges (one per pool declared on it): a port in any of them is a relay port. */
static int relay_ip_verdict(const struct relay_policy *p, const struct ip *ip, uint16_t port)
{
    int verdict = -1;

    for (size_t i = 0; i < p->nrelays && verdict != 1; i++) {
        const struct relay_ip *r = &p->relays[i];
        if (ip_eq(&r->ip, ip))
            verdict = port >= r->min && port <= r->max;
    }
    if (verdict == 0 && p->loopback && ip_is_loopback(ip))
        verdict = 1;
    return verdict;
}

/* The order of the checks is the contract of policy.h: own listeners, operator allow,
 * operator deny, relay IPs, defaults, and otherwise allowed. */
bool relay_policy_allows(const struct relay_policy *p, const union addr *peer)
{
    return relay_policy_allows_with(p, NULL, peer);
}

bool relay_policy_allows_with(const struct relay_policy *p, const struct relay_policy *extra,
                              const union addr *peer)
{
    struct ip ip;
    uint16_t port = addr_port(peer);

    if (!ip_from_addr(peer, &ip, true))
        return false;
    if (is_listener(p, &ip, port))
        return false;
    if (spans_find(p->allow.v, p->allow.n, &ip) != NULL ||
        (extra && spans_find(extra->allow.v, extra->allow.n, &ip) != NULL))
        return true;
    if (spans_find(p->deny.v, p->deny.n, &ip) != NULL ||
        (extra && spans_find(extra->deny.v, extra->deny.n, &ip) != NULL))
        return false;
    int relay = relay_ip_verdict(p, &ip, port);
    if (relay >= 0)
        return relay == 1;
    const struct span *d = spans_find(p->defaults, NDEFAULTS, &ip);
    if (d != NULL)
        return d->loopback && p->loopback;
    return true;
}
