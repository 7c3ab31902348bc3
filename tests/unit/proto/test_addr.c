/* test_addr.c — transport addresses: parse, format, compare, hash, v4-mapped. */
#include <stdio.h>
#include <string.h>

#include "proto/addr.h"
#include "tests/lib/check.h"

static void test_parse_and_format(void)
{
    static const struct {
        const char *in;
        int family;
        const char *out; /* addr_format with default port 3478 */
    } ok[] = {
        {"192.0.2.1", AF_INET, "192.0.2.1:3478"},
        {"192.0.2.1:0", AF_INET, "192.0.2.1:0"},
        {"255.255.255.255:65535", AF_INET, "255.255.255.255:65535"},
        {"2001:db8::1", AF_INET6, "[2001:db8::1]:3478"},
        {"[2001:db8::1]", AF_INET6, "[2001:db8::1]:3478"},
        {"[2001:DB8:0:0:0:0:0:1]:5349", AF_INET6, "[2001:db8::1]:5349"},
        {"::", AF_INET6, "[::]:3478"},
        {"::ffff:192.0.2.1", AF_INET6, "[::ffff:192.0.2.1]:3478"},
        {"[::1]:1", AF_INET6, "[::1]:1"},
    };
    static const char *const bad[] = {
        "",        "192.0.2",         "192.0.2.1:",      "192.0.2.1:65536", "192.0.2.1:-1",
        "[::1",    "[::1]x",          "[::1]:",          "[192.0.2.1]:80",  "::1]:80",
        "host:80", "192.0.2.1:80:90", "fe80::1%eth0",    "192.0.2.1: 80",   "192.0.2.1:+80",
        "1.2.3.4:000080",
    };
    union addr a;
    char buf[ADDR_STRLEN];

    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        if (!CHECK_INT(addr_parse(&a, ok[i].in, 3478), 0))
            continue;
        CHECK_INT(a.sa.sa_family, ok[i].family);
        CHECK_STR(addr_format(&a, buf, sizeof buf), ok[i].out);
    }
    memset(&a, 0x5a, sizeof a);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (!CHECK_INT(addr_parse(&a, bad[i], 3478), -1))
            continue;
        CHECK_INT(((const uint8_t *)&a)[0], 0x5a); /* untouched */
    }
}

static void test_format_edges(void)
{
    union addr a, none;
    char buf[ADDR_STRLEN], small[8];

    memset(&none, 0, sizeof none);
    CHECK_STR(addr_format(&none, buf, sizeof buf), "(none)");
    addr_parse(&a, "[ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255]:65535", 0);
    CHECK_STR(addr_format(&a, buf, sizeof buf),
              "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535");
    CHECK(strlen(buf) < ADDR_STRLEN);
    CHECK_STR(addr_format_ip(&a, buf, sizeof buf), "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
    addr_parse(&a, "192.0.2.100:1234", 0);
    addr_format(&a, small, sizeof small); /* truncated, still terminated */
    CHECK_INT(strlen(small), sizeof small - 1);
}

static void test_compare(void)
{
    union addr a, b, c, d;

    addr_parse(&a, "192.0.2.1:1000", 0);
    addr_parse(&b, "192.0.2.1:2000", 0);
    addr_parse(&c, "::ffff:192.0.2.1", 1000);
    addr_parse(&d, "192.0.2.1:1000", 0);
    CHECK(addr_equal(&a, &d));
    CHECK(!addr_equal(&a, &b));
    CHECK(addr_ip_equal(&a, &b));
    CHECK(!addr_ip_equal(&a, &c)); /* a v4-mapped address is another family until unmapped */
    CHECK_INT(addr_port(&b), 2000);
    addr_set_port(&b, 1000);
    CHECK(addr_equal(&a, &b));
    CHECK_INT(addr_len(&a), sizeof(struct sockaddr_in));
    CHECK_INT(addr_len(&c), sizeof(struct sockaddr_in6));
    /* Scope IDs are ignored. */
    union addr e = c;
    e.sin6.sin6_scope_id = 3;
    CHECK(addr_equal(&c, &e));
}

static void test_v4mapped_and_any(void)
{
    union addr a, v4, none;

    addr_parse(&a, "[::ffff:198.51.100.7]:4242", 0);
    addr_parse(&v4, "198.51.100.7:4242", 0);
    CHECK(addr_is_v4mapped(&a));
    CHECK(!addr_is_v4mapped(&v4));
    addr_unmap(&a);
    CHECK_INT(a.sa.sa_family, AF_INET);
    CHECK(addr_equal(&a, &v4));
    addr_unmap(&v4); /* not mapped: unchanged */
    CHECK(addr_equal(&a, &v4));
    addr_parse(&a, "0.0.0.0", 0);
    CHECK(addr_is_any(&a));
    addr_parse(&a, "::", 0);
    CHECK(addr_is_any(&a));
    addr_parse(&a, "::1", 0);
    CHECK(!addr_is_any(&a));
    memset(&none, 0, sizeof none);
    CHECK(!addr_is_any(&none));
    CHECK_INT(addr_len(&none), 0);
    CHECK_INT(addr_port(&none), 0);
}

static void test_from_bytes(void)
{
    static const uint8_t ip4[4] = {192, 0, 2, 9}, ip6[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 5};
    union addr a, want;

    addr_from_bytes(&a, AF_INET, ip4, 80);
    addr_parse(&want, "192.0.2.9:80", 0);
    CHECK(addr_equal(&a, &want));
    addr_from_bytes(&a, AF_INET6, ip6, 443);
    addr_parse(&want, "[2001:db8::5]:443", 0);
    CHECK(addr_equal(&a, &want));
    addr_from_bytes(&a, AF_UNIX, ip4, 1);
    CHECK_INT(a.sa.sa_family, AF_UNSPEC);
}

/* Equal addresses hash equal; port, IP and seed all matter; addr_ip_hash ignores the port. */
static void test_hash_basics(void)
{
    union addr a, b, c;

    addr_parse(&a, "[2001:db8::1]:5000", 0);
    addr_parse(&b, "[2001:db8::1]:5000", 0);
    addr_parse(&c, "[2001:db8::1]:5001", 0);
    b.sin6.sin6_scope_id = 9;
    CHECK_INT(addr_hash(&a, 1), addr_hash(&b, 1));
    CHECK(addr_hash(&a, 1) != addr_hash(&c, 1));
    CHECK(addr_hash(&a, 1) != addr_hash(&a, 2));
    CHECK_INT(addr_ip_hash(&a, 1), addr_ip_hash(&c, 1));
    CHECK(addr_ip_hash(&a, 1) != addr_hash(&a, 1));
    addr_parse(&b, "[::c000:201]:5000", 0);
    addr_parse(&c, "192.0.2.1:5000", 0);
    CHECK(addr_hash(&b, 0) != addr_hash(&c, 0));
}

/* The hash keys tables on the packet path: 65536 clients that differ only in the last IPv4
 * byte and the port (the worst realistic case, one NAT's pool) must spread evenly over 4096
 * buckets.  A uniform hash gives 16 per bucket; allow 48 at the fullest. */
static void test_hash_spread(void)
{
    static uint16_t buckets[4096];
    union addr a;
    unsigned max = 0;

    memset(buckets, 0, sizeof buckets);
    for (unsigned i = 0; i < 65536; i++) {
        char s[32];
        snprintf(s, sizeof s, "198.51.100.%u:%u", i & 0xff, 40000 + (i >> 8));
        addr_parse(&a, s, 0);
        uint32_t h = addr_hash(&a, 0x9e3779b9);
        if (++buckets[h & 4095] > max)
            max = buckets[h & 4095];
    }
    CHECK(max <= 48);
    /* And the high bits too, for tables that use them. */
    memset(buckets, 0, sizeof buckets);
    max = 0;
    for (unsigned i = 0; i < 65536; i++) {
        addr_from_bytes(&a, AF_INET, (const uint8_t[4]){10, 0, (uint8_t)(i >> 8), (uint8_t)i},
                        3478);
        uint32_t h = addr_hash(&a, 0) >> 20;
        if (++buckets[h] > max)
            max = buckets[h];
    }
    CHECK(max <= 48);
}

int main(void)
{
    RUN(test_parse_and_format);
    RUN(test_format_edges);
    RUN(test_compare);
    RUN(test_v4mapped_and_any);
    RUN(test_from_bytes);
    RUN(test_hash_basics);
    RUN(test_hash_spread);
    return check_summary();
}
