/* test_stun_vectors.c — the published STUN test vectors (RFC 5769, RFC 8489 B.1), both ways. */
#include <string.h>

#include "proto/stun.h"
#include "proto/stun_build.h"
#include "proto/stun_integrity.h"
#include "tests/lib/check.h"
#include "tests/lib/stun_vectors.h"

static const uint8_t short_key[] = VEC_SHORT_TERM_PASSWORD;
#define SHORT_KEY_LEN (sizeof short_key - 1)

/* The RFC 5769 vectors pad USERNAME and SOFTWARE with 0x20 where our builder writes zeros
 * (RFC 8489 §14 lets a receiver ignore padding, and a sender pick any bytes it wants under
 * RFC 5389).  To compare a rebuilt message byte for byte the tests set the padding of the
 * last appended attribute to the vector's spaces before the next append. */
static void pad_with_spaces(struct stun_builder *b, size_t value_len)
{
    size_t pad = (4 - value_len % 4) % 4;

    memset(b->buf + b->len - pad, 0x20, pad);
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int check_decoded(struct stun_msg *m, const uint8_t *buf, size_t len, uint16_t type)
{
    int ok = CHECK_INT(stun_msg_decode(m, buf, len, 0), STUN_OK);

    ok &= CHECK_INT(m->type, type);
    ok &= CHECK(m->has_cookie);
    ok &= CHECK_MEM(m->tid, buf + 8, STUN_TID_LEN);
    return ok;
}

static void check_text(const struct stun_msg *m, uint16_t type, const char *want)
{
    const uint8_t *val;
    size_t len;

    if (!CHECK_INT(stun_msg_get_bytes(m, type, &val, &len), STUN_OK))
        return;
    CHECK_INT(len, strlen(want));
    CHECK_MEM(val, want, strlen(want));
}

/* RFC 5769 §2.1: the short-term credential key is the password itself (RFC 8489 §9.1.1). */
static void test_rfc5769_request_decodes(void)
{
    const uint8_t *v = vec_rfc5769_request;
    static const uint8_t controlled[8] = {0x93, 0x2f, 0xf9, 0xb1, 0x51, 0x26, 0x3b, 0x36};
    struct stun_msg m;
    uint32_t prio = 0;

    if (!check_decoded(&m, v, sizeof vec_rfc5769_request, 0x0001))
        return;
    CHECK_INT(m.method, STUN_METHOD_BINDING);
    CHECK_INT(m.cls, STUN_CLASS_REQUEST);
    CHECK_INT(m.nattrs, 6);
    CHECK_INT(m.nunknown, 0);
    check_text(&m, STUN_ATTR_SOFTWARE, "STUN test client");
    check_text(&m, STUN_ATTR_USERNAME, "evtj:h6vY");
    CHECK_INT(stun_msg_get_u32(&m, STUN_ATTR_PRIORITY, &prio), STUN_OK);
    CHECK_INT(prio, 0x6e0001ff);
    const struct stun_attr *a = stun_msg_find(&m, STUN_ATTR_ICE_CONTROLLED);
    if (CHECK(a != NULL) && CHECK_INT(a->len, 8))
        CHECK_MEM(stun_msg_value(&m, a), controlled, 8);
    CHECK_INT(m.integrity, 4);
    CHECK_INT(m.fingerprint, 5);
    CHECK_INT(m.integrity_sha256, -1);
    CHECK_INT(stun_check_integrity(&m, short_key, SHORT_KEY_LEN), STUN_OK);
    CHECK_INT(stun_check_integrity(&m, short_key, SHORT_KEY_LEN - 1), STUN_E_INTEGRITY);
    CHECK_INT(stun_check_integrity_sha256(&m, short_key, SHORT_KEY_LEN), STUN_E_NO_INTEGRITY);
    /* The FINGERPRINT value is the CRC of the 100 bytes before it, xor 0x5354554e. */
    CHECK_INT(stun_fingerprint(v, 100), 0xe57a3bcf);
}

/* Rebuilt from its parts with the vector's space padding, the request comes out byte for
 * byte: MESSAGE-INTEGRITY and FINGERPRINT computed by the builder equal the RFC's. */
static void test_rfc5769_request_rebuilds(void)
{
    static const uint8_t controlled[8] = {0x93, 0x2f, 0xf9, 0xb1, 0x51, 0x26, 0x3b, 0x36};
    const uint8_t *tid = vec_rfc5769_request + 8;
    uint8_t buf[256];
    struct stun_builder b;
    size_t len = 0;

    stun_build_start(&b, buf, sizeof buf, 0x0001, tid);
    stun_build_str(&b, STUN_ATTR_SOFTWARE, "STUN test client");
    stun_build_u32(&b, STUN_ATTR_PRIORITY, 0x6e0001ff);
    stun_build_attr(&b, STUN_ATTR_ICE_CONTROLLED, controlled, sizeof controlled);
    stun_build_str(&b, STUN_ATTR_USERNAME, "evtj:h6vY");
    pad_with_spaces(&b, 9);
    stun_build_integrity(&b, short_key, SHORT_KEY_LEN);
    stun_build_fingerprint(&b);
    if (CHECK_INT(stun_build_end(&b, &len), STUN_OK) && CHECK_INT(len, 108))
        CHECK_MEM(buf, vec_rfc5769_request, 108);

    /* With our zero padding: the same message but for those three bytes, and therefore the
     * two values computed over them; it verifies all the same. */
    stun_build_start(&b, buf, sizeof buf, 0x0001, tid);
    stun_build_str(&b, STUN_ATTR_SOFTWARE, "STUN test client");
    stun_build_u32(&b, STUN_ATTR_PRIORITY, 0x6e0001ff);
    stun_build_attr(&b, STUN_ATTR_ICE_CONTROLLED, controlled, sizeof controlled);
    stun_build_str(&b, STUN_ATTR_USERNAME, "evtj:h6vY");
    stun_build_integrity(&b, short_key, SHORT_KEY_LEN);
    stun_build_fingerprint(&b);
    if (!CHECK_INT(stun_build_end(&b, &len), STUN_OK) || !CHECK_INT(len, 108))
        return;
    /* USERNAME's value ends at 73, MESSAGE-INTEGRITY's value is 80..100, FINGERPRINT's
     * 104..108. */
    CHECK_MEM(buf, vec_rfc5769_request, 73);
    CHECK_MEM(buf + 73, "\0\0\0", 3);
    CHECK_MEM(buf + 76, vec_rfc5769_request + 76, 4);
    CHECK(memcmp(buf + 80, vec_rfc5769_request + 80, 20) != 0);
    CHECK_MEM(buf + 100, vec_rfc5769_request + 100, 4);
    CHECK(memcmp(buf + 104, vec_rfc5769_request + 104, 4) != 0);
    struct stun_msg m;
    if (CHECK_INT(stun_msg_decode(&m, buf, len, 0), STUN_OK))
        CHECK_INT(stun_check_integrity(&m, short_key, SHORT_KEY_LEN), STUN_OK);
}

/* §2.2 and §2.3 share everything but the address. */
static void check_response_vector(const uint8_t *v, size_t vlen, const char *ip, int af)
{
    struct stun_msg m;
    union addr want, got;
    char text[ADDR_STRLEN];
    uint8_t enc[20];

    if (!check_decoded(&m, v, vlen, 0x0101))
        return;
    CHECK_INT(m.cls, STUN_CLASS_SUCCESS);
    check_text(&m, STUN_ATTR_SOFTWARE, "test vector");
    CHECK_INT(addr_parse(&want, ip, 32853), 0);
    CHECK_INT(want.sa.sa_family, af);
    if (!CHECK_INT(stun_msg_get_addr(&m, STUN_ATTR_XOR_MAPPED_ADDRESS, &got), STUN_OK))
        return;
    CHECK_STR(addr_format_ip(&got, text, sizeof text), ip);
    CHECK(addr_equal(&got, &want));
    CHECK_INT(addr_port(&got), 32853);
    /* The encoder gives the vector's XOR-MAPPED-ADDRESS value byte for byte. */
    const struct stun_attr *a = stun_msg_find(&m, STUN_ATTR_XOR_MAPPED_ADDRESS);
    int n = stun_addr_encode(enc, sizeof enc, &want, 1, m.tid);
    if (CHECK(a != NULL) && CHECK_INT(n, a->len))
        CHECK_MEM(enc, stun_msg_value(&m, a), (size_t)n);
    CHECK_INT(stun_check_integrity(&m, short_key, SHORT_KEY_LEN), STUN_OK);
    CHECK_INT(stun_fingerprint(v, vlen - 8), be32(v + vlen - 4));

    /* Rebuilt with the vector's space after "test vector": byte for byte. */
    uint8_t buf[128];
    struct stun_builder b;
    size_t len = 0;
    stun_build_response(&b, buf, sizeof buf, &m, STUN_CLASS_SUCCESS);
    stun_build_str(&b, STUN_ATTR_SOFTWARE, "test vector");
    pad_with_spaces(&b, 11);
    stun_build_addr(&b, STUN_ATTR_XOR_MAPPED_ADDRESS, &want);
    stun_build_integrity(&b, short_key, SHORT_KEY_LEN);
    stun_build_fingerprint(&b);
    if (CHECK_INT(stun_build_end(&b, &len), STUN_OK) && CHECK_INT(len, vlen))
        CHECK_MEM(buf, v, vlen);
}

static void test_rfc5769_ipv4_response(void)
{
    check_response_vector(vec_rfc5769_ipv4, sizeof vec_rfc5769_ipv4, "192.0.2.1", AF_INET);
}

static void test_rfc5769_ipv6_response(void)
{
    check_response_vector(vec_rfc5769_ipv6, sizeof vec_rfc5769_ipv6,
                          "2001:db8:1234:5678:11:2233:4455:6677", AF_INET6);
}

/* §2.4: key = MD5(username ":" realm ":" SASLprep(password)) (RFC 8489 §9.2.2). */
static void test_rfc5769_long_term(void)
{
    const uint8_t *v = vec_rfc5769_longterm;
    uint8_t key[STUN_KEY_MD5_LEN], raw_key[STUN_KEY_MD5_LEN];
    struct stun_msg m;

    if (!check_decoded(&m, v, sizeof vec_rfc5769_longterm, 0x0001))
        return;
    CHECK_INT(m.nattrs, 4);
    check_text(&m, STUN_ATTR_USERNAME, VEC_USER);
    check_text(&m, STUN_ATTR_NONCE, VEC_NONCE_5769);
    check_text(&m, STUN_ATTR_REALM, VEC_REALM);
    CHECK_INT(m.fingerprint, -1);
    CHECK_INT(stun_key_md5(VEC_USER, VEC_REALM, VEC_PASSWORD, key), STUN_OK);
    CHECK_INT(stun_check_integrity(&m, key, sizeof key), STUN_OK);
    /* The unprepared password gives another key: SASLprep is not optional. */
    CHECK_INT(stun_key_md5(VEC_USER, VEC_REALM, VEC_PASSWORD_RAW, raw_key), STUN_OK);
    CHECK_INT(stun_check_integrity(&m, raw_key, sizeof raw_key), STUN_E_INTEGRITY);

    /* Its padding is zeros, as ours: rebuilt, it is the vector byte for byte. */
    uint8_t buf[128];
    struct stun_builder b;
    size_t len = 0;
    stun_build_start(&b, buf, sizeof buf, 0x0001, m.tid);
    stun_build_str(&b, STUN_ATTR_USERNAME, VEC_USER);
    stun_build_str(&b, STUN_ATTR_NONCE, VEC_NONCE_5769);
    stun_build_str(&b, STUN_ATTR_REALM, VEC_REALM);
    stun_build_integrity(&b, key, sizeof key);
    if (CHECK_INT(stun_build_end(&b, &len), STUN_OK) && CHECK_INT(len, sizeof vec_rfc5769_longterm))
        CHECK_MEM(buf, v, len);
}

/* RFC 8489 Appendix B.1 with erratum 6268 (reported against the published vector, whose
 * length field 0x9c counts the 20-byte header and which lacks the PASSWORD-ALGORITHM that a
 * SHA-256 key needs; the erratum adds PASSWORD-ALGORITHM = SHA-256, sets the length to 0x90
 * and recomputes MESSAGE-INTEGRITY-SHA256).  We test the corrected message. */
static void test_rfc8489_b1_sha256(void)
{
    const uint8_t *v = vec_rfc8489_b1;
    static const uint8_t sha256_alg[4] = {0x00, 0x02, 0x00, 0x00};
    uint8_t key[STUN_KEY_SHA256_LEN], hash[STUN_USERHASH_LEN];
    const uint8_t *val;
    size_t vlen;
    struct stun_msg m;

    if (!check_decoded(&m, v, sizeof vec_rfc8489_b1, 0x0001))
        return;
    CHECK_INT(m.nattrs, 5);
    CHECK_INT(stun_userhash(VEC_USER, VEC_REALM, hash), STUN_OK);
    if (CHECK_INT(stun_msg_get_bytes(&m, STUN_ATTR_USERHASH, &val, &vlen), STUN_OK))
        CHECK_MEM(val, hash, sizeof hash);
    check_text(&m, STUN_ATTR_NONCE, VEC_NONCE_8489);
    check_text(&m, STUN_ATTR_REALM, VEC_REALM);
    if (CHECK_INT(stun_msg_get_bytes(&m, STUN_ATTR_PASSWORD_ALGORITHM, &val, &vlen), STUN_OK))
        CHECK_MEM(val, sha256_alg, 4);
    CHECK_INT(stun_key_sha256(VEC_USER, VEC_REALM, VEC_PASSWORD, key), STUN_OK);
    CHECK_INT(stun_check_integrity_sha256(&m, key, sizeof key), STUN_OK);
    CHECK_INT(stun_check_integrity(&m, key, sizeof key), STUN_E_NO_INTEGRITY);
    key[0] ^= 1;
    CHECK_INT(stun_check_integrity_sha256(&m, key, sizeof key), STUN_E_INTEGRITY);
    key[0] ^= 1;

    uint8_t buf[256];
    struct stun_builder b;
    size_t len = 0;
    stun_build_start(&b, buf, sizeof buf, 0x0001, m.tid);
    stun_build_attr(&b, STUN_ATTR_USERHASH, hash, sizeof hash);
    stun_build_str(&b, STUN_ATTR_NONCE, VEC_NONCE_8489);
    stun_build_str(&b, STUN_ATTR_REALM, VEC_REALM);
    stun_build_attr(&b, STUN_ATTR_PASSWORD_ALGORITHM, sha256_alg, sizeof sha256_alg);
    stun_build_integrity_sha256(&b, key, sizeof key);
    if (CHECK_INT(stun_build_end(&b, &len), STUN_OK) && CHECK_INT(len, sizeof vec_rfc8489_b1))
        CHECK_MEM(buf, v, len);
}

/* The vector as published is not a valid message (its length field disagrees with its size),
 * and with the length corrected its MAC does not verify: it was computed over a header
 * claiming 0x9c.  Both facts are why the test above follows the erratum. */
static void test_rfc8489_b1_as_published(void)
{
    uint8_t copy[sizeof vec_rfc8489_b1_published];
    uint8_t key[STUN_KEY_SHA256_LEN];
    struct stun_msg m;

    CHECK_INT(stun_msg_decode(&m, vec_rfc8489_b1_published, sizeof copy, 0), STUN_E_LEN_MISMATCH);
    memcpy(copy, vec_rfc8489_b1_published, sizeof copy);
    copy[3] = 0x88;
    if (!CHECK_INT(stun_msg_decode(&m, copy, sizeof copy, 0), STUN_OK))
        return;
    CHECK_INT(stun_key_sha256(VEC_USER, VEC_REALM, VEC_PASSWORD, key), STUN_OK);
    CHECK_INT(stun_check_integrity_sha256(&m, key, sizeof key), STUN_E_INTEGRITY);
}

/* A FINGERPRINT is checked by the decoder itself: one flipped bit in any value or padding
 * byte before it (type and length bytes would change the framing instead) and the message is
 * not STUN any more. */
static void test_rfc5769_fingerprint_guards_every_byte(void)
{
    static const size_t values[][2] = {{8, 20}, {24, 40}, {44, 48}, {52, 60}, {64, 76}, {80, 100}};
    uint8_t copy[sizeof vec_rfc5769_request];
    struct stun_msg m;

    for (size_t r = 0; r < sizeof values / sizeof values[0]; r++) {
        for (size_t i = values[r][0]; i < values[r][1]; i++) {
            memcpy(copy, vec_rfc5769_request, sizeof copy);
            copy[i] ^= 0x01;
            CHECK_INT(stun_msg_decode(&m, copy, sizeof copy, 0), STUN_E_FINGERPRINT);
        }
    }
}

int main(void)
{
    RUN(test_rfc5769_request_decodes);
    RUN(test_rfc5769_request_rebuilds);
    RUN(test_rfc5769_ipv4_response);
    RUN(test_rfc5769_ipv6_response);
    RUN(test_rfc5769_long_term);
    RUN(test_rfc8489_b1_sha256);
    RUN(test_rfc8489_b1_as_published);
    RUN(test_rfc5769_fingerprint_guards_every_byte);
    return check_summary();
}
