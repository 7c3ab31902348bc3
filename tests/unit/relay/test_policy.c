/* test_policy.c — the peer-address policy: defaults at their edges, operator ranges, own IPs. */
#include <stdio.h>
#include <string.h>

#include "relay/policy.h"
#include "tests/lib/check.h"

#define A true  /* allowed */
#define D false /* denied */

/* A peer ("IP" takes port 5000, "IP:port" and "[v6]:port" their own) and the verdict due. */
struct verdict {
    const char *peer;
    bool allowed;
};

#define NELEMS(a) (sizeof(a) / sizeof((a)[0]))

static void check_peer(const struct relay_policy *p, const char *peer, bool want, int line)
{
    union addr a;
    char what[128];

    if (!check_int(addr_parse(&a, peer, 5000), 0, __FILE__, line, peer))
        return;
    bool got = relay_policy_allows(p, &a);
    snprintf(what, sizeof what, "%s is %s, expected %s", peer, got ? "allowed" : "denied",
             want ? "allowed" : "denied");
    check_fail(got == want, __FILE__, line, what);
}

static void check_table(const struct relay_policy *p, const struct verdict *v, size_t n, int line)
{
    for (size_t i = 0; i < n; i++)
        check_peer(p, v[i].peer, v[i].allowed, line);
}

#define CHECK_TABLE(p, v) check_table((p), (v), NELEMS(v), __LINE__)

static struct relay_policy *policy(void)
{
    struct relay_policy *p = NULL;

    CHECK_INT(relay_policy_new(&p), 0);
    return p;
}

/* Adds ranges (allow when allow, else deny) that must parse. */
static void add(struct relay_policy *p, bool allow, const char *range)
{
    char err[256] = "";
    int rc = allow ? relay_policy_allow(p, range, err, sizeof err)
                   : relay_policy_deny(p, range, err, sizeof err);

    check_fail(rc == 0, __FILE__, __LINE__, err);
}

/* Each default IPv4 block at its first and last address and one outside on each side. */
static const struct verdict v4_defaults[] = {
    {"0.0.0.0", D},         {"0.0.0.1", D},         {"0.255.255.255", D},   {"1.0.0.0", A},
    {"9.255.255.255", A},   {"10.0.0.0", D},        {"10.255.255.255", D},  {"11.0.0.0", A},
    {"126.255.255.255", A}, {"127.0.0.0", D},       {"127.0.0.1", D},       {"127.255.255.255", D},
    {"128.0.0.0", A},       {"169.253.255.255", A}, {"169.254.0.0", D},     {"169.254.255.255", D},
    {"169.255.0.0", A},     {"172.15.255.255", A},  {"172.16.0.0", D},      {"172.31.255.255", D},
    {"172.32.0.0", A},      {"192.167.255.255", A}, {"192.168.0.0", D},     {"192.168.255.255", D},
    {"192.169.0.0", A},     {"223.255.255.255", A}, {"224.0.0.0", D},       {"224.0.0.251", D},
    {"239.255.255.255", D}, {"240.0.0.0", D},       {"255.255.255.254", D}, {"255.255.255.255", D},
    {"8.8.8.8", A},         {"192.0.2.1", A},       {"100.64.0.1", A},      {"198.51.100.20", A},
};

static const struct verdict v6_defaults[] = {
    {"::", D},
    {"::1", D},
    {"::2", D},          /* IPv4-compatible 0.0.0.2 */
    {"::fffe:a00:1", A}, /* neither mapped nor compatible: a plain IPv6 address */
    {"fe7f:ffff:ffff:ffff:ffff:ffff:ffff:ffff", A},
    {"fe80::", D},
    {"fe80::1", D},
    {"febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff", D},
    {"fec0::", A},
    {"fbff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", A},
    {"fc00::", D},
    {"fd12:3456::1", D},
    {"fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", D},
    {"fe00::", A},
    {"feff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", A},
    {"ff00::", D},
    {"ff02::1", D},
    {"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", D},
    {"2001:db8::1", A},
    {"2001:4860:4860::8888", A},
    {"[2001:db8::1]:1", A},
};

/* The IPv4 table again in its IPv4-mapped and IPv4-compatible forms: the same verdicts. */
static void check_v4_table_in_v6_forms(const struct relay_policy *p, const struct verdict *v,
                                       size_t n, int line)
{
    static const char *const forms[] = {"::ffff:%s", "::%s"};
    char s[64];

    for (size_t i = 0; i < n; i++) {
        for (size_t f = 0; f < NELEMS(forms); f++) {
            snprintf(s, sizeof s, forms[f], v[i].peer);
            check_peer(p, s, v[i].allowed, line);
        }
    }
}

static void test_defaults(void)
{
    struct relay_policy *p = policy();

    if (p == NULL)
        return;
    CHECK_TABLE(p, v4_defaults);
    check_v4_table_in_v6_forms(p, v4_defaults, NELEMS(v4_defaults), __LINE__);
    CHECK_TABLE(p, v6_defaults);
    relay_policy_free(p);
    relay_policy_free(NULL);
}

static void test_loopback_switch(void)
{
    static const struct verdict open[] = {
        {"127.0.0.1", A},   {"127.255.255.255", A}, {"::1", A},     {"::ffff:127.0.0.1", A},
        {"::127.0.0.1", A}, {"[::1]:3478", A},      {"0.0.0.0", D}, {"::", D},
        {"10.0.0.1", D},    {"fe80::1", D},         {"ff02::1", D}, {"128.0.0.0", A},
    };
    static const struct verdict closed[] = {
        {"127.0.0.1", D},
        {"::1", D},
        {"::ffff:127.0.0.1", D},
        {"8.8.8.8", A},
    };
    struct relay_policy *p = policy();

    if (p == NULL)
        return;
    relay_policy_allow_loopback(p, true);
    CHECK_TABLE(p, open);
    relay_policy_allow_loopback(p, false);
    CHECK_TABLE(p, closed);
    relay_policy_free(p);
}

/* Operator ranges: allowed ones open defaults and beat denied ones; denied ones close what the
 * defaults leave open. */
static void test_allow_and_deny_ranges(void)
{
    static const struct verdict v[] = {
        {"10.1.0.0", A},        {"10.1.255.255", A},
        {"10.2.0.0", D},        {"10.0.255.255", D},
        {"::ffff:10.1.2.3", A}, {"::10.1.2.3", A},
        {"10.200.0.5", A},      {"10.200.0.6", D},
        {"fd00::1", A},         {"fd00::2", D},
        {"192.168.1.9", D},     {"192.168.1.10", A},
        {"192.168.1.20", A},    {"192.168.1.21", D},
        {"8.8.7.255", A},       {"8.8.8.0", D},
        {"8.8.8.8", D},         {"8.8.8.255", D},
        {"::ffff:8.8.8.8", D},  {"8.8.9.0", A},
        {"2001:db8::1", D},     {"2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", D},
        {"2001:db9::", A},      {"2001:db7:ffff:ffff:ffff:ffff:ffff:ffff", A},
        {"203.0.113.7", D},     {"203.0.113.8", A},
        {"172.16.0.1", D},      {"[fd00::1]:1", A},
    };
    struct relay_policy *p = policy();

    if (p == NULL)
        return;
    add(p, true, "10.1.0.0/16");
    add(p, true, "fd00::1");
    add(p, true, "192.168.1.10-192.168.1.20");
    add(p, false, "10.0.0.0/8"); /* explicit deny of a default block, with an allowed hole */
    add(p, true, "10.200.0.5");
    add(p, false, "8.8.8.0-8.8.8.255");
    add(p, false, "2001:db8::/32");
    add(p, false, "203.0.113.7");
    CHECK_TABLE(p, v);
    relay_policy_free(p);
}

/* A range of one family never reaches the other, IPv4 in IPv6 clothing included. */
static void test_whole_family_ranges(void)
{
    static const struct verdict no_v6[] = {
        {"2a00::1", D},   {"fe80::1", D},  {"8.8.8.8", A}, {"::ffff:8.8.8.8", A},
        {"::8.8.8.8", A}, {"10.0.0.1", D}, {"1::", D},     {"ffff::1", D},
    };
    static const struct verdict all_v4[] = {
        {"10.0.0.1", A}, {"127.0.0.1", A}, {"255.255.255.255", A}, {"::ffff:192.168.0.1", A},
        {"0.0.0.0", A},  {"::1", D},       {"fe80::1", D},         {"fc00::1", D},
    };
    struct relay_policy *p = policy();

    if (p == NULL)
        return;
    add(p, false, "::/0");
    CHECK_TABLE(p, no_v6);
    relay_policy_free(p);
    p = policy();
    if (p == NULL)
        return;
    add(p, true, "0.0.0.0/0");
    CHECK_TABLE(p, all_v4);
    relay_policy_free(p);
}

/* Each accepted form, allowed on its own on a fresh policy: inside opens, outside (denied by
 * default) stays shut. */
static void test_accepted_forms(void)
{
    static const struct {
        const char *range, *inside, *outside;
    } cases[] = {
        {"10.0.0.1-10.0.0.1", "10.0.0.1", "10.0.0.2"},
        {"10.0.0.0/31", "10.0.0.1", "10.0.0.2"},
        {"10.0.0.0/32", "10.0.0.0", "10.0.0.1"},
        {"10.0.0.0/08", "10.255.255.255", "127.0.0.1"},
        {"0.0.0.0/0", "192.168.7.7", "fc00::1"},
        {"::/0", "fc00::1", "192.168.7.7"},
        {"fe80::/10", "febf::1", "fc00::1"},
        {"fe80::1/128", "fe80::1", "fe80::2"},
        {"fe80::-fe80::ff", "fe80::ff", "fe80::100"},
        {"::ffff:10.0.0.0/104", "10.9.9.9", "172.16.0.1"},
        {"::ffff:192.168.0.0/120", "192.168.0.255", "192.168.1.0"},
        {"::ffff:10.0.0.7", "10.0.0.7", "10.0.0.8"},
        {"::10.0.0.7", "10.0.0.7", "10.0.0.8"},
        {"::ffff:10.0.0.7-10.0.0.9", "10.0.0.9", "10.0.0.10"},
        {"127.0.0.1", "127.0.0.1", "127.0.0.2"},
        {"::1", "::1", "127.0.0.1"},
        {"255.255.255.255", "255.255.255.255", "255.255.255.254"},
    };

    for (size_t i = 0; i < NELEMS(cases); i++) {
        struct relay_policy *p = policy();
        if (p == NULL)
            return;
        add(p, true, cases[i].range);
        check_peer(p, cases[i].inside, A, __LINE__);
        check_peer(p, cases[i].outside, D, __LINE__);
        relay_policy_free(p);
    }
}

/* A relay IP is a peer on its relay ports only (any of its ranges), whatever the defaults say
 * of the IP; its other ports only with loopback opened, and only for loopback. */
static void test_relay_ips(void)
{
    static const struct verdict v[] = {
        {"10.0.0.5:49152", A},    {"10.0.0.5:65535", A},      {"10.0.0.5:49151", D},
        {"10.0.0.5:3478", D},     {"10.0.0.6:49152", D},      {"[::ffff:10.0.0.5]:50000", A},
        {"203.0.113.5:22", D},    {"203.0.113.5:50000", A},   {"203.0.113.5:50999", A},
        {"203.0.113.5:51000", D}, {"203.0.113.5:60050", A},   {"203.0.113.5:60100", D},
        {"203.0.113.6:22", A},    {"127.0.0.1:50000", A},     {"127.0.0.1:22", D},
        {"127.0.0.2:50000", D},   {"[2001:db8::5]:49152", A}, {"[2001:db8::5]:443", D},
        {"[2001:db8::6]:443", A},
    };
    static const struct verdict loopback[] = {
        {"127.0.0.1:22", A},   {"127.0.0.2:22", A},   {"10.0.0.5:22", D},
        {"203.0.113.5:22", D}, {"10.0.0.5:50000", A},
    };
    /* The operator's word comes before the relay-IP rule, either way. */
    static const struct verdict explicit[] = {
        {"10.0.0.5:50000", D},
        {"203.0.113.5:22", A},
        {"203.0.113.5:50000", A},
    };
    struct relay_policy *p = policy();
    union addr a;

    if (p == NULL)
        return;
    CHECK_INT(addr_parse(&a, "10.0.0.5:3478", 0), 0);
    CHECK_INT(relay_policy_add_relay_ip(p, &a, 49152, 65535), 0);
    CHECK_INT(addr_parse(&a, "203.0.113.5", 0), 0);
    CHECK_INT(relay_policy_add_relay_ip(p, &a, 50000, 50999), 0);
    CHECK_INT(relay_policy_add_relay_ip(p, &a, 60000, 60099), 0);
    CHECK_INT(relay_policy_add_relay_ip(p, &a, 60001, 60000), -1);
    CHECK_INT(addr_parse(&a, "127.0.0.1", 0), 0);
    CHECK_INT(relay_policy_add_relay_ip(p, &a, 49152, 65535), 0);
    CHECK_INT(addr_parse(&a, "2001:db8::5", 0), 0);
    CHECK_INT(relay_policy_add_relay_ip(p, &a, 49152, 65535), 0);
    CHECK_TABLE(p, v);
    relay_policy_allow_loopback(p, true);
    CHECK_TABLE(p, loopback);
    relay_policy_allow_loopback(p, false);
    add(p, false, "10.0.0.5");
    add(p, true, "203.0.113.5");
    CHECK_TABLE(p, explicit);
    relay_policy_free(p);
}

/* A listening address (IP and port) is never a peer, whatever else opens it. */
static void test_listeners(void)
{
    static const char *const listeners[] = {"203.0.113.1:3478", "[2001:db8::1]:3478",
                                            "127.0.0.1:3478", "203.0.113.1:50000",
                                            "[::ffff:198.51.100.1]:5349"};
    static const struct verdict v[] = {
        {"203.0.113.1:3478", D},     {"[::ffff:203.0.113.1]:3478", D},
        {"[::203.0.113.1]:3478", D}, {"203.0.113.1:3479", A},
        {"203.0.113.2:3478", A},     {"[2001:db8::1]:3478", D},
        {"[2001:db8::1]:3479", A},   {"127.0.0.1:3478", D},
        {"127.0.0.1:3479", A},       {"[::1]:3478", A},
        {"203.0.113.1:50000", D},    {"203.0.113.1:50001", A},
        {"198.51.100.1:5349", D},    {"198.51.100.1:5350", A},
    };
    struct relay_policy *p = policy();
    union addr a;

    if (p == NULL)
        return;
    for (size_t i = 0; i < NELEMS(listeners); i++) {
        CHECK_INT(addr_parse(&a, listeners[i], 0), 0);
        CHECK_INT(relay_policy_add_listener(p, &a), 0);
    }
    CHECK_INT(addr_parse(&a, "203.0.113.1", 0), 0);
    CHECK_INT(relay_policy_add_relay_ip(p, &a, 49152, 65535), 0);
    add(p, true, "203.0.113.0/24");
    add(p, true, "2001:db8::/32");
    add(p, true, "198.51.100.1");
    relay_policy_allow_loopback(p, true);
    CHECK_TABLE(p, v);
    relay_policy_free(p);
}

static void test_no_address(void)
{
    struct relay_policy *p = policy();
    union addr none;

    if (p == NULL)
        return;
    memset(&none, 0, sizeof none);
    none.sa.sa_family = AF_UNSPEC;
    add(p, true, "0.0.0.0/0");
    add(p, true, "::/0");
    CHECK(!relay_policy_allows(p, &none));
    CHECK_INT(relay_policy_add_listener(p, &none), -1);
    CHECK_INT(relay_policy_add_relay_ip(p, &none, 1, 2), -1);
    relay_policy_free(p);
}

static void test_parse_errors(void)
{
    static const struct {
        const char *range, *err;
    } cases[] = {
        {"10.0.0.9-10.0.0.1", "'10.0.0.9-10.0.0.1': range start is after its end"},
        {"fe80::2-fe80::1", "'fe80::2-fe80::1': range start is after its end"},
        {"fe80::1-10.0.0.1", "'fe80::1-10.0.0.1': range mixes IPv4 and IPv6"},
        {"10.0.0.1-::2:0:0", "'10.0.0.1-::2:0:0': range mixes IPv4 and IPv6"},
        {"::ffff:10.0.0.1-fe80::1", "'::ffff:10.0.0.1-fe80::1': range mixes IPv4 and IPv6"},
        {"1.2.3.4/33", "'1.2.3.4/33': bad prefix length"},
        {"::/129", "'::/129': bad prefix length"},
        {"1.2.3.4/", "'1.2.3.4/': bad prefix length"},
        {"1.2.3.4/-1", "'1.2.3.4/-1': bad prefix length"},
        {"1.2.3.4/8x", "'1.2.3.4/8x': bad prefix length"},
        {"1.2.3.4/ 8", "'1.2.3.4/ 8': bad prefix length"},
        {"1.2.3.4/0032", "'1.2.3.4/0032': bad prefix length"},
        {"10.0.0.0/8/8", "'10.0.0.0/8/8': bad prefix length"},
        {"10.0.0.1/8", "'10.0.0.1/8': address has bits set after the prefix"},
        {"fe80::1/10", "'fe80::1/10': address has bits set after the prefix"},
        {"::ffff:10.0.0.1/104", "'::ffff:10.0.0.1/104': address has bits set after the prefix"},
        {"/8", "'/8': CIDR base is not an IP address"},
        {"x/8", "'x/8': CIDR base is not an IP address"},
        {"", "'': not an IP address"},
        {"foo", "'foo': not an IP address"},
        {"10.0.0", "'10.0.0': not an IP address"},
        {"10.0.0.256", "'10.0.0.256': not an IP address"},
        {"192.0.2.1:3478", "'192.0.2.1:3478': not an IP address"},
        {"[::1]", "'[::1]': not an IP address"},
        {"[::1]:3478", "'[::1]:3478': not an IP address"},
        {"10.0.0.1 ", "'10.0.0.1 ': not an IP address"},
        {"fe80::1%eth0", "'fe80::1%eth0': not an IP address"},
        {"-10.0.0.1", "'-10.0.0.1': range start is not an IP address"},
        {"10.0.0.1-", "'10.0.0.1-': range end is not an IP address"},
        {"10.0.0.1-10.0.0.2-10.0.0.3",
         "'10.0.0.1-10.0.0.2-10.0.0.3': range end is not an IP address"},
        {"10.0.0.1-10.0.0.0/8", "'10.0.0.1-10.0.0.0/8': range end is not an IP address"},
        {"1111111111111111111111111111111111111111111111111111",
         "'1111111111111111111111111111111111111111111111111111': not an IP address"},
    };
    static const struct verdict unchanged[] = {
        {"10.0.0.1", D}, {"10.0.0.5", D}, {"fe80::1", D}, {"1.2.3.4", A}, {"::2:0:0", A},
    };
    struct relay_policy *p = policy();
    char err[256];

    if (p == NULL)
        return;
    for (size_t i = 0; i < NELEMS(cases); i++) {
        err[0] = '\0';
        CHECK_INT(relay_policy_allow(p, cases[i].range, err, sizeof err), -1);
        CHECK_STR(err, cases[i].err);
        err[0] = '\0';
        CHECK_INT(relay_policy_deny(p, cases[i].range, err, sizeof err), -1);
        CHECK_STR(err, cases[i].err);
    }
    CHECK_TABLE(p, unchanged); /* a range refused changes nothing */
    /* A short buffer gets the message cut; none at all is no crash. */
    CHECK_INT(relay_policy_allow(p, "10.0.0.9-10.0.0.1", err, 8), -1);
    CHECK_STR(err, "'10.0.0");
    CHECK_INT(relay_policy_allow(p, "10.0.0.9-10.0.0.1", NULL, 0), -1);
    relay_policy_free(p);
}

/* Many operator ranges: they grow their arrays and each still counts. */
static void test_many_ranges(void)
{
    struct relay_policy *p = policy();
    char range[64];

    if (p == NULL)
        return;
    for (int i = 0; i < 200; i++) {
        snprintf(range, sizeof range, "10.%d.0.0/16", i);
        add(p, true, range);
        snprintf(range, sizeof range, "8.8.%d.0-8.8.%d.127", i, i);
        add(p, false, range);
    }
    check_peer(p, "10.0.0.1", A, __LINE__);
    check_peer(p, "10.199.255.255", A, __LINE__);
    check_peer(p, "10.200.0.0", D, __LINE__);
    check_peer(p, "8.8.199.127", D, __LINE__);
    check_peer(p, "8.8.199.128", A, __LINE__);
    check_peer(p, "8.8.200.1", A, __LINE__);
    relay_policy_free(p);
}

int main(void)
{
    RUN(test_defaults);
    RUN(test_loopback_switch);
    RUN(test_allow_and_deny_ranges);
    RUN(test_whole_family_ranges);
    RUN(test_accepted_forms);
    RUN(test_relay_ips);
    RUN(test_listeners);
    RUN(test_no_address);
    RUN(test_parse_errors);
    RUN(test_many_ranges);
    return check_summary();
}
