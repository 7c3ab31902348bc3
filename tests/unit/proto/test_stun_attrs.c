/* test_stun_attrs.c — the descriptor table and every attribute's round trip: build, decode, get. */
#include <stdlib.h>
#include <string.h>

#include "proto/stun.h"
#include "proto/stun_build.h"
#include "proto/stun_integrity.h"
#include "tests/lib/check.h"

/* Every type stun_attr.h names. */
static const uint16_t all_types[] = {
    STUN_ATTR_MAPPED_ADDRESS,
    STUN_ATTR_CHANGE_REQUEST,
    STUN_ATTR_USERNAME,
    STUN_ATTR_MESSAGE_INTEGRITY,
    STUN_ATTR_ERROR_CODE,
    STUN_ATTR_UNKNOWN_ATTRIBUTES,
    STUN_ATTR_CHANNEL_NUMBER,
    STUN_ATTR_LIFETIME,
    STUN_ATTR_XOR_PEER_ADDRESS,
    STUN_ATTR_DATA,
    STUN_ATTR_REALM,
    STUN_ATTR_NONCE,
    STUN_ATTR_XOR_RELAYED_ADDRESS,
    STUN_ATTR_REQUESTED_ADDRESS_FAMILY,
    STUN_ATTR_EVEN_PORT,
    STUN_ATTR_REQUESTED_TRANSPORT,
    STUN_ATTR_DONT_FRAGMENT,
    STUN_ATTR_ACCESS_TOKEN,
    STUN_ATTR_MESSAGE_INTEGRITY_SHA256,
    STUN_ATTR_PASSWORD_ALGORITHM,
    STUN_ATTR_USERHASH,
    STUN_ATTR_XOR_MAPPED_ADDRESS,
    STUN_ATTR_RESERVATION_TOKEN,
    STUN_ATTR_PRIORITY,
    STUN_ATTR_USE_CANDIDATE,
    STUN_ATTR_PADDING,
    STUN_ATTR_RESPONSE_PORT,
    STUN_ATTR_CONNECTION_ID,
    STUN_ATTR_ADDITIONAL_ADDRESS_FAMILY,
    STUN_ATTR_ADDRESS_ERROR_CODE,
    STUN_ATTR_PASSWORD_ALGORITHMS,
    STUN_ATTR_ALTERNATE_DOMAIN,
    STUN_ATTR_ICMP,
    STUN_ATTR_SOFTWARE,
    STUN_ATTR_ALTERNATE_SERVER,
    STUN_ATTR_TRANSACTION_TRANSMIT_COUNTER,
    STUN_ATTR_CACHE_TIMEOUT,
    STUN_ATTR_FINGERPRINT,
    STUN_ATTR_ICE_CONTROLLED,
    STUN_ATTR_ICE_CONTROLLING,
    STUN_ATTR_RESPONSE_ORIGIN,
    STUN_ATTR_OTHER_ADDRESS,
    STUN_ATTR_ORIGIN,
    STUN_ATTR_MOBILITY_TICKET,
};
#define NTYPES (sizeof all_types / sizeof all_types[0])

static const uint8_t tid[STUN_TID_LEN] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};

static void test_every_type_has_a_row(void)
{
    for (size_t i = 0; i < NTYPES; i++) {
        const struct stun_attr_desc *d = stun_attr_desc(all_types[i]);
        if (!CHECK(d != NULL))
            continue;
        CHECK_INT(d->type, all_types[i]);
        CHECK(d->min_len <= d->max_len);
        CHECK_STR(stun_attr_name(all_types[i]), d->name);
        for (size_t j = 0; j < i; j++)
            CHECK(strcmp(d->name, stun_attr_name(all_types[j])) != 0);
    }
    static const uint16_t unassigned[] = {0x0000, 0x0002, 0x0021, 0x003f, 0x0040,
                                          0x7fff, 0x8005, 0x803f, 0x8040, 0xffff};
    for (size_t i = 0; i < sizeof unassigned / sizeof unassigned[0]; i++) {
        CHECK(stun_attr_desc(unassigned[i]) == NULL);
        CHECK_STR(stun_attr_name(unassigned[i]), "unknown");
    }
    CHECK_STR(stun_attr_name(STUN_ATTR_XOR_MAPPED_ADDRESS), "XOR-MAPPED-ADDRESS");
    CHECK(stun_attr_desc(STUN_ATTR_XOR_PEER_ADDRESS)->multiple_ok);
    CHECK(stun_attr_desc(STUN_ATTR_XOR_RELAYED_ADDRESS)->multiple_ok);
    CHECK(!stun_attr_desc(STUN_ATTR_XOR_MAPPED_ADDRESS)->multiple_ok);
}

/* Decodes a Binding request holding one attribute of the given type and value length (the
 * value bytes are 0x41). */
static int decode_one(uint16_t type, size_t len)
{
    size_t cap = STUN_HEADER_LEN + 4 + len + 4;
    uint8_t *buf = malloc(cap), *val = malloc(len + 1);
    struct stun_builder b;
    struct stun_msg m;
    size_t n = 0;
    int rc;

    memset(val, 0x41, len);
    stun_build_start(&b, buf, cap, 0x0001, tid);
    stun_build_attr(&b, type, val, len);
    rc = stun_build_end(&b, &n);
    if (rc == STUN_OK)
        rc = stun_msg_decode(&m, buf, n, 0);
    free(buf);
    free(val);
    return rc;
}

/* Every row's length rules, straight from the table: one byte under the minimum, one over
 * the maximum and one off the multiple are STUN_E_ATTR_LEN. */
static void test_length_rules_of_every_row(void)
{
    for (size_t i = 0; i < NTYPES; i++) {
        const struct stun_attr_desc *d = stun_attr_desc(all_types[i]);
        if (d->min_len > 0)
            CHECK_INT(decode_one(d->type, d->min_len - 1u), STUN_E_ATTR_LEN);
        if (d->max_len < 0xFFF0)
            CHECK_INT(decode_one(d->type, d->max_len + 1u), STUN_E_ATTR_LEN);
        if (d->len_multiple > 1)
            CHECK_INT(decode_one(d->type, d->min_len + 1u), STUN_E_ATTR_LEN);
    }
    /* The text limits themselves are allowed. */
    CHECK_INT(decode_one(STUN_ATTR_USERNAME, STUN_MAX_USERNAME), STUN_OK);
    CHECK_INT(decode_one(STUN_ATTR_REALM, STUN_MAX_TEXT), STUN_OK);
    CHECK_INT(decode_one(STUN_ATTR_NONCE, STUN_MAX_TEXT), STUN_OK);
    CHECK_INT(decode_one(STUN_ATTR_SOFTWARE, STUN_MAX_TEXT), STUN_OK);
    CHECK_INT(decode_one(STUN_ATTR_ALTERNATE_DOMAIN, 255), STUN_OK);
    CHECK_INT(decode_one(STUN_ATTR_DATA, 0), STUN_OK);
    CHECK_INT(decode_one(STUN_ATTR_DATA, 65000), STUN_OK);
    CHECK_INT(decode_one(STUN_ATTR_MESSAGE_INTEGRITY_SHA256, 20), STUN_OK);
}

static const uint8_t userhash[32] = {0x4a, 0x3c, 0xf3, 0x8f, 0xef, 0x69, 0x92, 0xbd};
static const uint8_t token8[8] = {0xde, 0xad, 0xbe, 0xef, 0x01, 0x02, 0x03, 0x04};
static const uint8_t icmp[8] = {0, 0, 3, 3, 0, 0, 0x05, 0xdc};
static const uint8_t even_port[1] = {0x80};
static const uint8_t pwalgs[] = {0, 1, 0, 0, 0, 2, 0, 0, 0x12, 0x34, 0, 3, 'a', 'b', 'c', 0};
static const uint8_t pwalg[] = {0, 2, 0, 0};
static const uint8_t ticket[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
static const uint8_t payload[7] = {'p', 'a', 'y', 'l', 'o', 'a', 'd'};
static const uint16_t unknown_types[3] = {0x0002, 0x7777, 0x0030};
static const uint8_t key[16] = "0123456789abcdef";

/* Text and opaque attributes, appended with stun_build_attr and read with get_bytes. */
static const struct {
    uint16_t type;
    const void *val;
    size_t len;
} blobs[] = {
    {STUN_ATTR_USERNAME, "alice", 5},
    {STUN_ATTR_REALM, "example.org", 11},
    {STUN_ATTR_NONCE, "obMatJos2AAAB", 13},
    {STUN_ATTR_SOFTWARE, "turnpike test", 13},
    {STUN_ATTR_ALTERNATE_DOMAIN, "turn.example.org", 16},
    {STUN_ATTR_ORIGIN, "https://example.org", 19},
    {STUN_ATTR_USERHASH, userhash, sizeof userhash},
    {STUN_ATTR_RESERVATION_TOKEN, token8, sizeof token8},
    {STUN_ATTR_ICE_CONTROLLED, token8, sizeof token8},
    {STUN_ATTR_ICE_CONTROLLING, token8, sizeof token8},
    {STUN_ATTR_ICMP, icmp, sizeof icmp},
    {STUN_ATTR_EVEN_PORT, even_port, sizeof even_port},
    {STUN_ATTR_DONT_FRAGMENT, NULL, 0},
    {STUN_ATTR_USE_CANDIDATE, NULL, 0},
    {STUN_ATTR_DATA, payload, sizeof payload},
    {STUN_ATTR_PADDING, payload, 3},
    {STUN_ATTR_MOBILITY_TICKET, ticket, sizeof ticket},
    {STUN_ATTR_ACCESS_TOKEN, ticket, 10},
    {STUN_ATTR_PASSWORD_ALGORITHMS, pwalgs, sizeof pwalgs},
    {STUN_ATTR_PASSWORD_ALGORITHM, pwalg, sizeof pwalg},
};

static const struct {
    uint16_t type;
    uint32_t v;
} words[] = {
    {STUN_ATTR_CHANGE_REQUEST, 0x00000006},      {STUN_ATTR_LIFETIME, 600},
    {STUN_ATTR_PRIORITY, 0x6e0001ff},            {STUN_ATTR_CONNECTION_ID, 0xfeedf00d},
    {STUN_ATTR_CACHE_TIMEOUT, 3600},             {STUN_ATTR_TRANSACTION_TRANSMIT_COUNTER, 0x0102},
};

static const uint16_t addr_types[] = {
    STUN_ATTR_MAPPED_ADDRESS,   STUN_ATTR_XOR_MAPPED_ADDRESS, STUN_ATTR_XOR_PEER_ADDRESS,
    STUN_ATTR_XOR_RELAYED_ADDRESS, STUN_ATTR_ALTERNATE_SERVER, STUN_ATTR_RESPONSE_ORIGIN,
    STUN_ATTR_OTHER_ADDRESS,
};

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* One message with every attribute stun_attr.h names, built through the builder's typed
 * appenders where there is one. */
static int build_everything(uint8_t *buf, size_t cap, const union addr *a, size_t *len)
{
    struct stun_builder b;

    stun_build_start(&b, buf, cap, 0x0001, tid);
    for (size_t i = 0; i < N(blobs); i++)
        stun_build_attr(&b, blobs[i].type, blobs[i].val, blobs[i].len);
    for (size_t i = 0; i < N(words); i++)
        stun_build_u32(&b, words[i].type, words[i].v);
    for (size_t i = 0; i < N(addr_types); i++)
        stun_build_addr(&b, addr_types[i], a);
    stun_build_u8(&b, STUN_ATTR_REQUESTED_TRANSPORT, STUN_TRANSPORT_UDP);
    stun_build_u8(&b, STUN_ATTR_REQUESTED_ADDRESS_FAMILY, STUN_FAMILY_IPV6);
    stun_build_u8(&b, STUN_ATTR_ADDITIONAL_ADDRESS_FAMILY, STUN_FAMILY_IPV6);
    stun_build_u16(&b, STUN_ATTR_CHANNEL_NUMBER, 0x4001);
    stun_build_u16(&b, STUN_ATTR_RESPONSE_PORT, 3479);
    stun_build_error(&b, 438, NULL);
    stun_build_address_error(&b, STUN_ATTR_ADDRESS_ERROR_CODE, STUN_FAMILY_IPV6, 440, "no v6 here");
    stun_build_unknown(&b, unknown_types, N(unknown_types));
    stun_build_integrity(&b, key, sizeof key);
    stun_build_integrity_sha256(&b, key, sizeof key);
    stun_build_fingerprint(&b);
    return stun_build_end(&b, len);
}

static void check_fixed_layouts(const struct stun_msg *m)
{
    const uint8_t *v;
    size_t n;
    uint8_t u8 = 0;
    uint16_t u16 = 0;

    CHECK_INT(stun_msg_get_u8(m, STUN_ATTR_REQUESTED_TRANSPORT, &u8), STUN_OK);
    CHECK_INT(u8, STUN_TRANSPORT_UDP);
    CHECK_INT(stun_msg_get_u8(m, STUN_ATTR_ADDITIONAL_ADDRESS_FAMILY, &u8), STUN_OK);
    CHECK_INT(u8, STUN_FAMILY_IPV6);
    if (CHECK_INT(stun_msg_get_bytes(m, STUN_ATTR_REQUESTED_ADDRESS_FAMILY, &v, &n), STUN_OK))
        CHECK_MEM(v, "\x02\0\0\0", 4); /* RFC 8656 §18.6: family, then 24 reserved bits */
    CHECK_INT(stun_msg_get_u16(m, STUN_ATTR_CHANNEL_NUMBER, &u16), STUN_OK);
    CHECK_INT(u16, 0x4001);
    if (CHECK_INT(stun_msg_get_bytes(m, STUN_ATTR_CHANNEL_NUMBER, &v, &n), STUN_OK))
        CHECK_MEM(v, "\x40\x01\0\0", 4); /* RFC 8656 §18.1: number, then RFFU */
    CHECK_INT(stun_msg_get_u16(m, STUN_ATTR_RESPONSE_PORT, &u16), STUN_OK);
    CHECK_INT(u16, 3479);

    int code = 0;
    const char *reason = NULL;
    size_t rlen = 0;
    CHECK_INT(stun_msg_get_error(m, &code, &reason, &rlen), STUN_OK);
    CHECK_INT(code, 438);
    if (CHECK_INT(rlen, strlen("Stale Nonce")))
        CHECK_MEM(reason, "Stale Nonce", rlen);
    if (CHECK_INT(stun_msg_get_bytes(m, STUN_ATTR_ADDRESS_ERROR_CODE, &v, &n), STUN_OK)) {
        CHECK_INT(v[0], STUN_FAMILY_IPV6);
        CHECK_INT(stun_error_decode(v, n, &code, &reason, &rlen), STUN_OK);
        CHECK_INT(code, 440);
        if (CHECK_INT(rlen, 10))
            CHECK_MEM(reason, "no v6 here", 10);
    }
    if (CHECK_INT(stun_msg_get_bytes(m, STUN_ATTR_UNKNOWN_ATTRIBUTES, &v, &n), STUN_OK) &&
        CHECK_INT(n, 6))
        CHECK_MEM(v, "\x00\x02\x77\x77\x00\x30", 6);
}

static void check_everything(const union addr *a)
{
    uint8_t buf[1024];
    struct stun_msg m;
    size_t len = 0;

    if (!CHECK_INT(build_everything(buf, sizeof buf, a, &len), STUN_OK) ||
        !CHECK_INT(stun_msg_decode(&m, buf, len, 0), STUN_OK))
        return;
    CHECK_INT(m.nunknown, 0);
    for (size_t i = 0; i < NTYPES; i++)
        CHECK(stun_msg_find(&m, all_types[i]) != NULL);
    for (size_t i = 0; i < N(blobs); i++) {
        const uint8_t *v;
        size_t n;
        if (CHECK_INT(stun_msg_get_bytes(&m, blobs[i].type, &v, &n), STUN_OK) &&
            CHECK_INT(n, blobs[i].len) && n > 0)
            CHECK_MEM(v, blobs[i].val, n);
    }
    for (size_t i = 0; i < N(words); i++) {
        uint32_t v = 0;
        CHECK_INT(stun_msg_get_u32(&m, words[i].type, &v), STUN_OK);
        CHECK_INT(v, words[i].v);
    }
    for (size_t i = 0; i < N(addr_types); i++) {
        union addr got;
        if (CHECK_INT(stun_msg_get_addr(&m, addr_types[i], &got), STUN_OK))
            CHECK(addr_equal(&got, a));
    }
    check_fixed_layouts(&m);
    CHECK_INT(stun_check_integrity(&m, key, sizeof key), STUN_OK);
    CHECK_INT(stun_check_integrity_sha256(&m, key, sizeof key), STUN_OK);
    CHECK_INT(stun_check_integrity(&m, key, sizeof key - 1), STUN_E_INTEGRITY);
    CHECK_INT(stun_check_integrity_sha256(&m, key, sizeof key - 1), STUN_E_INTEGRITY);
    CHECK_INT(m.fingerprint, m.nattrs - 1);
}

static void test_round_trip_ipv4(void)
{
    union addr a;

    if (CHECK_INT(addr_parse(&a, "203.0.113.7:49152", 0), 0))
        check_everything(&a);
}

static void test_round_trip_ipv6(void)
{
    union addr a;

    if (CHECK_INT(addr_parse(&a, "[2001:db8::fe:1]:65535", 0), 0))
        check_everything(&a);
}

/* An XOR address's bytes are the plain ones masked with the cookie and, for IPv6, the
 * transaction ID (RFC 8489 §14.2); the plain encoding is the address as is. */
static void test_xor_masking(void)
{
    union addr a;
    uint8_t plain[20], xored[20];
    union addr back;

    addr_parse(&a, "[2001:db8::1]:3478", 0);
    CHECK_INT(stun_addr_encode(plain, sizeof plain, &a, 0, tid), 20);
    CHECK_INT(stun_addr_encode(xored, sizeof xored, &a, 1, tid), 20);
    CHECK_MEM(plain, "\x00\x02\x0d\x96\x20\x01\x0d\xb8", 8);
    CHECK_INT(xored[2], 0x0d ^ 0x21);
    CHECK_INT(xored[3], 0x96 ^ 0x12);
    CHECK_INT(xored[4], 0x20 ^ 0x21);
    CHECK_INT(xored[8], 0x00 ^ tid[0]);
    CHECK_INT(xored[19], 0x01 ^ tid[11]);
    CHECK_INT(stun_addr_decode(xored, 20, 1, tid, &back), STUN_OK);
    CHECK(addr_equal(&back, &a));

    addr_parse(&a, "192.0.2.1:32853", 0);
    CHECK_INT(stun_addr_encode(xored, sizeof xored, &a, 1, tid), 8);
    CHECK_MEM(xored, "\x00\x01\xa1\x47\xe1\x12\xa6\x43", 8); /* RFC 5769 §2.2 */
}

static void test_addr_codec_errors(void)
{
    union addr a, none;
    uint8_t out[20];

    memset(&none, 0, sizeof none);
    addr_parse(&a, "[::1]:1", 0);
    CHECK_INT(stun_addr_encode(out, 19, &a, 0, tid), STUN_E_NOSPACE);
    CHECK_INT(stun_addr_encode(out, sizeof out, &none, 0, tid), STUN_E_ATTR_VALUE);
    CHECK_INT(stun_addr_decode((const uint8_t *)"\x00\x01\x00\x01\x7f\x00\x00", 7, 0, tid, &a),
              STUN_E_ATTR_VALUE);
    CHECK_INT(stun_addr_decode((const uint8_t *)"\x00\x02\x00\x01\x7f\x00\x00\x01", 8, 0, tid, &a),
              STUN_E_ATTR_VALUE);
    CHECK_INT(stun_addr_decode((const uint8_t *)"\xff\x01\x00\x01\x7f\x00\x00\x01", 8, 0, tid, &a),
              STUN_OK); /* the first byte is ignored (RFC 8489 §14.1) */
    CHECK_INT(addr_port(&a), 1);
}

static void test_error_codes(void)
{
    static const uint8_t v699[4] = {0xff, 0xff, 0xfe, 99}; /* reserved bits set: ignored */
    int code = 0;
    const char *reason;
    size_t rlen = 1;

    CHECK_INT(stun_error_decode(v699, 4, &code, &reason, &rlen), STUN_OK);
    CHECK_INT(code, 699);
    CHECK_INT(rlen, 0);
    CHECK_STR(stun_reason_phrase(401), "Unauthenticated");
    CHECK_STR(stun_reason_phrase(438), "Stale Nonce");
    CHECK_STR(stun_reason_phrase(508), "Insufficient Capacity");
    CHECK_STR(stun_reason_phrase(499), "Error");
}

int main(void)
{
    RUN(test_every_type_has_a_row);
    RUN(test_length_rules_of_every_row);
    RUN(test_round_trip_ipv4);
    RUN(test_round_trip_ipv6);
    RUN(test_xor_masking);
    RUN(test_addr_codec_errors);
    RUN(test_error_codes);
    return check_summary();
}
