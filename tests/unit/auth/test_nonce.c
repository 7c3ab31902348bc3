/* test_nonce.c — stateless nonces: round trip, lifetime, client binding, tampering, cookie bits. */
#include <stdio.h>
#include <string.h>

#include "auth/nonce.h"
#include "tests/lib/check.h"
#include "tests/lib/stun_vectors.h"

/* Our nonces are 45 characters: "obMatJos2", 4 of feature bits, 32 of time, salt and MAC. */
#define NONCE_LEN 45
#define T0        1700000000u
#define LIFETIME  600u

static const uint8_t secret[AUTH_NONCE_SECRET_LEN] = "0123456789abcdef0123456789abcde";

static union addr ip(const char *s)
{
    union addr a;

    memset(&a, 0, sizeof a);
    CHECK_INT(addr_parse(&a, s, 3478), 0);
    return a;
}

static int make(uint32_t features, uint32_t now, const union addr *client, char *out)
{
    return auth_nonce_make(secret, features, now, client, out, AUTH_NONCE_MAX + 1);
}

static enum auth_nonce_status check(const char *nonce, size_t len, uint32_t now,
                                    const union addr *client, uint32_t *features)
{
    return auth_nonce_check(secret, (const uint8_t *)nonce, len, now, LIFETIME, client, features);
}

static int is_b64(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
           c == '/';
}

static void test_round_trip(void)
{
    static const char *const clients[] = {"192.0.2.1", "2001:db8::7", "[2001:db8::7]:9"};
    static const uint32_t features[] = {
        0,
        AUTH_FEATURE_PASSWORD_ALGORITHMS,
        AUTH_FEATURE_PASSWORD_ALGORITHMS | AUTH_FEATURE_USERNAME_ANONYMITY,
    };
    char n[AUTH_NONCE_MAX + 1];

    for (size_t c = 0; c < sizeof clients / sizeof clients[0]; c++) {
        union addr a = ip(clients[c]);
        for (size_t f = 0; f < sizeof features / sizeof features[0]; f++) {
            uint32_t got = 0xdead;
            if (!CHECK_INT(make(features[f], T0, &a, n), NONCE_LEN))
                continue;
            CHECK_INT(strlen(n), NONCE_LEN);
            CHECK(NONCE_LEN <= AUTH_NONCE_MAX);
            CHECK_INT(check(n, NONCE_LEN, T0, &a, &got), AUTH_NONCE_OK);
            CHECK_INT(got, features[f]);
            /* A quoted-string without quotes or backslashes: base64 characters only. */
            for (size_t i = 0; i < NONCE_LEN; i++)
                CHECK(is_b64(n[i]));
        }
    }
}

/* §9.2.4 forbids one nonce for two requests unless they come from one IP and port. */
static void test_two_nonces_differ(void)
{
    union addr a = ip("192.0.2.1:1000"), b = ip("192.0.2.1:1001");
    char n1[AUTH_NONCE_MAX + 1], n2[AUTH_NONCE_MAX + 1];

    CHECK_INT(make(0, T0, &a, n1), NONCE_LEN);
    CHECK_INT(make(0, T0, &b, n2), NONCE_LEN);
    CHECK(strcmp(n1, n2) != 0);
    CHECK_INT(check(n1, NONCE_LEN, T0, &b, NULL), AUTH_NONCE_OK);
}

static void test_lifetime(void)
{
    static const struct {
        int64_t age;
        enum auth_nonce_status want;
    } rows[] = {
        {0, AUTH_NONCE_OK},          {1, AUTH_NONCE_OK},
        {LIFETIME, AUTH_NONCE_OK},   {LIFETIME + 1, AUTH_NONCE_STALE},
        {86400, AUTH_NONCE_STALE},   {-1, AUTH_NONCE_INVALID}, /* from the future */
        {-3600, AUTH_NONCE_INVALID},
    };
    union addr a = ip("198.51.100.20");
    char n[AUTH_NONCE_MAX + 1];

    if (!CHECK_INT(make(AUTH_FEATURE_PASSWORD_ALGORITHMS, T0, &a, n), NONCE_LEN))
        return;
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        uint32_t got = 0xdead;
        enum auth_nonce_status st = check(n, NONCE_LEN, (uint32_t)(T0 + rows[i].age), &a, &got);
        if (!CHECK_INT(st, rows[i].want))
            fprintf(stderr, "    age %lld\n", (long long)rows[i].age);
        /* The bits come back when the MAC verified, even from a stale nonce. */
        CHECK_INT(got, st == AUTH_NONCE_INVALID ? 0xdead : AUTH_FEATURE_PASSWORD_ALGORITHMS);
    }
}

/* Bound to the IP, not the port; an IPv4-mapped IPv6 address is its IPv4 address. */
static void test_client_binding(void)
{
    static const struct {
        const char *made_for, *checked_from;
        enum auth_nonce_status want;
    } rows[] = {
        {"192.0.2.1:3478", "192.0.2.1:50000", AUTH_NONCE_OK},
        {"192.0.2.1", "192.0.2.2", AUTH_NONCE_INVALID},
        {"192.0.2.1", "[::ffff:192.0.2.1]:1", AUTH_NONCE_OK},
        {"[::ffff:192.0.2.1]:1", "192.0.2.1", AUTH_NONCE_OK},
        {"192.0.2.1", "::ffff:192.0.2.2", AUTH_NONCE_INVALID},
        {"2001:db8::1", "[2001:db8::1]:40000", AUTH_NONCE_OK},
        {"2001:db8::1", "2001:db8::2", AUTH_NONCE_INVALID},
        {"2001:db8::1", "2001:db9::1", AUTH_NONCE_INVALID},
        {"192.0.2.1", "::c000:201", AUTH_NONCE_INVALID}, /* same 32 bits, other family */
    };
    char n[AUTH_NONCE_MAX + 1];

    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        union addr a = ip(rows[i].made_for), b = ip(rows[i].checked_from);
        if (CHECK_INT(make(0, T0, &a, n), NONCE_LEN) &&
            !CHECK_INT(check(n, NONCE_LEN, T0 + 5, &b, NULL), rows[i].want))
            fprintf(stderr, "    %s -> %s\n", rows[i].made_for, rows[i].checked_from);
    }
}

static void test_other_secret(void)
{
    uint8_t other[AUTH_NONCE_SECRET_LEN];
    union addr a = ip("192.0.2.1");
    char n[AUTH_NONCE_MAX + 1];

    memcpy(other, secret, sizeof other);
    other[31] ^= 1;
    CHECK_INT(make(0, T0, &a, n), NONCE_LEN);
    CHECK_INT(auth_nonce_check(other, (const uint8_t *)n, NONCE_LEN, T0, LIFETIME, &a, NULL),
              AUTH_NONCE_INVALID);
}

/* Each character changed to every other base64 character, and to a quote and a NUL: every
 * one is invalid (cookie, feature bits, time, salt or MAC, the MAC covers them all). */
static void test_tampered_every_position(void)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/\"=";
    union addr a = ip("203.0.113.9");
    char n[AUTH_NONCE_MAX + 1], copy[AUTH_NONCE_MAX + 1];
    int valid = 0;

    if (!CHECK_INT(make(AUTH_FEATURE_USERNAME_ANONYMITY, T0, &a, n), NONCE_LEN))
        return;
    for (size_t i = 0; i < NONCE_LEN; i++) {
        for (size_t c = 0; c <= sizeof alphabet - 1; c++) {
            if (alphabet[c] == n[i])
                continue;
            memcpy(copy, n, sizeof copy);
            copy[i] = alphabet[c]; /* c == sizeof alphabet - 1: the NUL byte */
            if (check(copy, NONCE_LEN, T0, &a, NULL) != AUTH_NONCE_INVALID) {
                fprintf(stderr, "    position %zu -> '%c' accepted\n", i, alphabet[c]);
                valid++;
            }
        }
    }
    CHECK_INT(valid, 0);
    CHECK_INT(check(n, NONCE_LEN, T0, &a, NULL), AUTH_NONCE_OK);
}

static void test_truncated_and_extended(void)
{
    union addr a = ip("203.0.113.9");
    char n[AUTH_NONCE_MAX + 2];

    if (!CHECK_INT(make(0, T0, &a, n), NONCE_LEN))
        return;
    for (size_t len = 0; len < NONCE_LEN; len++)
        CHECK_INT(check(n, len, T0, &a, NULL), AUTH_NONCE_INVALID);
    n[NONCE_LEN] = 'A';
    n[NONCE_LEN + 1] = '\0';
    CHECK_INT(check(n, NONCE_LEN + 1, T0, &a, NULL), AUTH_NONCE_INVALID);
    CHECK_INT(check(n, NONCE_LEN, T0, &a, NULL), AUTH_NONCE_OK);
}

static void test_not_ours(void)
{
    static const char *const rows[] = {
        VEC_NONCE_5769,
        VEC_NONCE_8489,
        "obMatJos2",
        "",
    };
    union addr a = ip("192.0.2.1");
    char zeros[NONCE_LEN + 1];

    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
        CHECK_INT(check(rows[i], strlen(rows[i]), T0, &a, NULL), AUTH_NONCE_INVALID);
    /* Our shape and length, every byte zero: the MAC does not match. */
    memset(zeros, 'A', NONCE_LEN);
    memcpy(zeros, "obMatJos2", 9);
    zeros[NONCE_LEN] = '\0';
    CHECK_INT(check(zeros, NONCE_LEN, T0, &a, NULL), AUTH_NONCE_INVALID);
}

/* RFC 8489 §9.2 with erratum 6290: "obMatJos2" then the base64 of the 24 feature bits, sent as
 * 3 bytes most significant first, bit N being 1 << N.  Appendix B.1's nonce, from a server
 * offering username anonymity (its request carries USERHASH), starts "obMatJos2AAAC". */
static void test_cookie_bits(void)
{
    static const struct {
        uint32_t features;
        const char *prefix;
    } rows[] = {
        {0, "obMatJos2AAAA"},
        {AUTH_FEATURE_PASSWORD_ALGORITHMS, "obMatJos2AAAB"},
        {AUTH_FEATURE_USERNAME_ANONYMITY, "obMatJos2AAAC"},
        {AUTH_FEATURE_PASSWORD_ALGORITHMS | AUTH_FEATURE_USERNAME_ANONYMITY, "obMatJos2AAAD"},
        {1u << 23, "obMatJos2gAAA"}, /* bit 23, the most significant of the 24 */
        {0xFFFFFF, "obMatJos2////"},
    };
    union addr a = ip("192.0.2.1");
    char n[AUTH_NONCE_MAX + 1];

    CHECK_INT(AUTH_FEATURE_PASSWORD_ALGORITHMS, 1);
    CHECK_INT(AUTH_FEATURE_USERNAME_ANONYMITY, 2);
    CHECK_MEM(VEC_NONCE_8489, "obMatJos2AAAC", 13);
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        uint32_t got = 0;
        if (!CHECK_INT(make(rows[i].features, T0, &a, n), NONCE_LEN))
            continue;
        CHECK_MEM(n, rows[i].prefix, 13);
        CHECK_INT(check(n, NONCE_LEN, T0, &a, &got), AUTH_NONCE_OK);
        CHECK_INT(got, rows[i].features);
    }
}

static void test_make_refuses(void)
{
    union addr a = ip("192.0.2.1"), none;
    char n[AUTH_NONCE_MAX + 1];

    memset(&none, 0, sizeof none);
    none.sa.sa_family = AF_UNSPEC;
    CHECK_INT(auth_nonce_make(secret, 0, T0, &a, n, NONCE_LEN), -1); /* no room for the NUL */
    CHECK_INT(auth_nonce_make(secret, 0, T0, &a, n, NONCE_LEN + 1), NONCE_LEN);
    CHECK_INT(make(1u << 24, T0, &a, n), -1); /* more than 24 bits */
    CHECK_INT(make(0, T0, &none, n), -1);
    CHECK_INT(make(0, T0, &a, n), NONCE_LEN);
    CHECK_INT(check(n, NONCE_LEN, T0, &none, NULL), AUTH_NONCE_INVALID);
}

int main(void)
{
    RUN(test_round_trip);
    RUN(test_two_nonces_differ);
    RUN(test_lifetime);
    RUN(test_client_binding);
    RUN(test_other_secret);
    RUN(test_tampered_every_position);
    RUN(test_truncated_and_extended);
    RUN(test_not_ours);
    RUN(test_cookie_bits);
    RUN(test_make_refuses);
    return check_summary();
}
