/* test_stun_build.c — the builder: exact layout, sticky errors at every capacity, integrity. */
#include <stdlib.h>
#include <string.h>

#include "proto/crypto.h"
#include "proto/stun.h"
#include "proto/stun_build.h"
#include "proto/stun_integrity.h"
#include "tests/lib/check.h"

static const uint8_t tid[STUN_TID_LEN] = {9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 0xff, 0xfe};
static const uint8_t key[20] = "a long-term key here";

/* Layout: header, then each attribute as type, length, value and zero padding, the length
 * field current after every append. */
static void test_layout(void)
{
    static const uint8_t want[] = {
        0x00, 0x03, 0x00, 0x18, 0x21, 0x12, 0xa4, 0x42, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 0xff, 0xfe,
        0x00, 0x19, 0x00, 0x04, 17, 0, 0, 0,          /* REQUESTED-TRANSPORT UDP */
        0x80, 0x22, 0x00, 0x05, 'h', 'e', 'l', 'l', 'o', 0, 0, 0, /* SOFTWARE, zero padding */
        0x00, 0x1a, 0x00, 0x00,                       /* DONT-FRAGMENT */
    };
    uint8_t buf[64];
    struct stun_builder b;
    size_t len = 0;

    memset(buf, 0xee, sizeof buf);
    stun_build_start(&b, buf, sizeof buf, stun_type(STUN_METHOD_ALLOCATE, STUN_CLASS_REQUEST),
                     tid);
    CHECK_INT(buf[3], 0);
    stun_build_u8(&b, STUN_ATTR_REQUESTED_TRANSPORT, STUN_TRANSPORT_UDP);
    CHECK_INT(buf[3], 8);
    stun_build_str(&b, STUN_ATTR_SOFTWARE, "hello");
    CHECK_INT(buf[3], 20);
    stun_build_attr(&b, STUN_ATTR_DONT_FRAGMENT, NULL, 0);
    if (CHECK_INT(stun_build_end(&b, &len), STUN_OK) && CHECK_INT(len, sizeof want))
        CHECK_MEM(buf, want, sizeof want);
    CHECK_INT(buf[len], 0xee); /* nothing written past the message */
}

/* Appends a message with every kind of append, ending with both integrity attributes and a
 * fingerprint. */
static int build_sample(uint8_t *buf, size_t cap, size_t *len, struct stun_builder *b)
{
    static const uint16_t unknown[3] = {0x0002, 0x0031, 0x7777};
    union addr a;

    addr_parse(&a, "[2001:db8::7]:5000", 0);
    stun_build_start(b, buf, cap, stun_type(STUN_METHOD_ALLOCATE, STUN_CLASS_ERROR), tid);
    stun_build_error(b, 420, NULL);
    stun_build_unknown(b, unknown, 3);
    stun_build_address_error(b, STUN_ATTR_ADDRESS_ERROR_CODE, STUN_FAMILY_IPV4, 440, NULL);
    stun_build_addr(b, STUN_ATTR_XOR_MAPPED_ADDRESS, &a);
    stun_build_u16(b, STUN_ATTR_CHANNEL_NUMBER, 0x4abc);
    stun_build_u32(b, STUN_ATTR_LIFETIME, 3600);
    stun_build_str(b, STUN_ATTR_REALM, "example.org");
    stun_build_integrity(b, key, sizeof key);
    stun_build_integrity_sha256(b, key, sizeof key);
    stun_build_fingerprint(b);
    return stun_build_end(b, len);
}

/* Every capacity from 0 to the full length: NOSPACE below it (sticky, never a byte written
 * past cap: the buffers are exact heap blocks under ASan), success at it, and the bytes that
 * were written are a prefix of the full message. */
static void test_every_capacity(void)
{
    uint8_t full[512];
    struct stun_builder b;
    size_t full_len = 0;

    if (!CHECK_INT(build_sample(full, sizeof full, &full_len, &b), STUN_OK))
        return;
    for (size_t cap = 0; cap <= full_len; cap++) {
        uint8_t *buf = malloc(cap > 0 ? cap : 1);
        size_t len = 12345;
        int rc = build_sample(buf, cap, &len, &b);
        if (cap < full_len) {
            CHECK_INT(rc, STUN_E_NOSPACE);
            CHECK_INT(len, 12345);
            CHECK(b.len <= cap);
            /* Everything but the length field matches the full message so far. */
            if (b.len >= STUN_HEADER_LEN) {
                CHECK_MEM(buf, full, 2);
                CHECK_MEM(buf + 4, full + 4, b.len - 4);
            }
        } else if (CHECK_INT(rc, STUN_OK) && CHECK_INT(len, full_len)) {
            CHECK_MEM(buf, full, full_len);
        }
        free(buf);
    }
}

static void test_errors_are_sticky(void)
{
    uint8_t buf[64];
    struct stun_builder b;
    union addr none;
    size_t len = 0;

    stun_build_start(&b, buf, sizeof buf, 0x0001, tid);
    stun_build_attr(&b, STUN_ATTR_DATA, buf, 100);
    CHECK_INT(b.err, STUN_E_NOSPACE);
    stun_build_u32(&b, STUN_ATTR_LIFETIME, 1); /* would fit, but the error sticks */
    CHECK_INT(b.len, STUN_HEADER_LEN);
    CHECK_INT(stun_build_end(&b, &len), STUN_E_NOSPACE);

    /* Values that cannot be encoded are errors of their own. */
    stun_build_start(&b, buf, sizeof buf, 0x0111, tid);
    stun_build_error(&b, 299, "too low");
    CHECK_INT(stun_build_end(&b, &len), STUN_E_ATTR_VALUE);
    stun_build_start(&b, buf, sizeof buf, 0x0111, tid);
    stun_build_error(&b, 700, NULL);
    CHECK_INT(stun_build_end(&b, &len), STUN_E_ATTR_VALUE);
    memset(&none, 0, sizeof none);
    stun_build_start(&b, buf, sizeof buf, 0x0101, tid);
    stun_build_addr(&b, STUN_ATTR_XOR_MAPPED_ADDRESS, &none);
    CHECK_INT(stun_build_end(&b, &len), STUN_E_ATTR_VALUE);

    /* A value longer than a 16-bit length, and a list of more types than one holds. */
    uint8_t *big = calloc(70000, 1);
    stun_build_start(&b, big, 70000, 0x0001, tid);
    stun_build_attr(&b, STUN_ATTR_DATA, big, 0x10000);
    CHECK_INT(stun_build_end(&b, &len), STUN_E_NOSPACE);
    stun_build_start(&b, big, 70000, 0x0111, tid);
    stun_build_unknown(&b, (const uint16_t *)big, 0x8000);
    CHECK_INT(stun_build_end(&b, &len), STUN_E_NOSPACE);
    free(big);
}

/* An error reason longer than 763 bytes is refused; 763 is fine. */
static void test_reason_limit(void)
{
    char reason[STUN_MAX_TEXT + 2];
    uint8_t buf[1024];
    struct stun_builder b;
    struct stun_msg m;
    size_t len = 0, rlen = 0;
    const char *r;
    int code = 0;

    memset(reason, 'r', sizeof reason - 1);
    reason[sizeof reason - 1] = '\0';
    stun_build_start(&b, buf, sizeof buf, 0x0111, tid);
    stun_build_error(&b, 500, reason);
    CHECK_INT(stun_build_end(&b, &len), STUN_E_ATTR_VALUE);
    reason[STUN_MAX_TEXT] = '\0';
    stun_build_start(&b, buf, sizeof buf, 0x0111, tid);
    stun_build_error(&b, 500, reason);
    if (CHECK_INT(stun_build_end(&b, &len), STUN_OK) &&
        CHECK_INT(stun_msg_decode(&m, buf, len, 0), STUN_OK)) {
        CHECK_INT(stun_msg_get_error(&m, &code, &r, &rlen), STUN_OK);
        CHECK_INT(code, 500);
        CHECK_INT(rlen, STUN_MAX_TEXT);
    }
}

/* Both integrity attributes verify with the right key and fail with any other; a flipped
 * bit in a covered byte fails them too (the FINGERPRINT is then recomputed so that the
 * message still decodes). */
static void test_integrity_both_kinds(void)
{
    uint8_t buf[512];
    struct stun_builder b;
    struct stun_msg m;
    uint8_t wrong[sizeof key];
    size_t len = 0;

    if (!CHECK_INT(build_sample(buf, sizeof buf, &len, &b), STUN_OK) ||
        !CHECK_INT(stun_msg_decode(&m, buf, len, 0), STUN_OK))
        return;
    CHECK_INT(stun_check_integrity(&m, key, sizeof key), STUN_OK);
    CHECK_INT(stun_check_integrity_sha256(&m, key, sizeof key), STUN_OK);
    memcpy(wrong, key, sizeof key);
    wrong[19] ^= 0x80;
    CHECK_INT(stun_check_integrity(&m, wrong, sizeof wrong), STUN_E_INTEGRITY);
    CHECK_INT(stun_check_integrity_sha256(&m, wrong, sizeof wrong), STUN_E_INTEGRITY);
    CHECK_INT(stun_check_integrity(&m, key, 0), STUN_E_INTEGRITY);

    /* The realm's last byte is covered by both MACs. */
    const struct stun_attr *realm = stun_msg_find(&m, STUN_ATTR_REALM);
    if (!CHECK(realm != NULL))
        return;
    buf[realm->off] ^= 0x20;
    uint32_t fp = stun_fingerprint(buf, len - 8);
    uint8_t fpb[4] = {(uint8_t)(fp >> 24), (uint8_t)(fp >> 16), (uint8_t)(fp >> 8), (uint8_t)fp};
    memcpy(buf + len - 4, fpb, 4);
    if (CHECK_INT(stun_msg_decode(&m, buf, len, 0), STUN_OK)) {
        CHECK_INT(stun_check_integrity(&m, key, sizeof key), STUN_E_INTEGRITY);
        CHECK_INT(stun_check_integrity_sha256(&m, key, sizeof key), STUN_E_INTEGRITY);
    }
}

/* A truncated MESSAGE-INTEGRITY-SHA256 (16 to 28 bytes, RFC 8489 §14.6) verifies on its
 * leading bytes.  The builder always writes 32, so a truncating sender is emulated: the
 * attribute is appended with a zero value (the length field then ends after it, as the MAC
 * wants) and the first n bytes of the HMAC are written in. */
static void test_truncated_sha256(void)
{
    static const uint8_t zeros[32];

    for (size_t n = 16; n <= 32; n += 4) {
        uint8_t msg[128], mac[32], own[128];
        struct stun_builder b;
        struct stun_msg m;
        size_t len = 0, own_len = 0;

        stun_build_start(&b, msg, sizeof msg, 0x0001, tid);
        stun_build_str(&b, STUN_ATTR_USERNAME, "bob");
        size_t at = b.len;
        stun_build_attr(&b, STUN_ATTR_MESSAGE_INTEGRITY_SHA256, zeros, n);
        const struct crypto_buf part = {msg, at};
        if (!CHECK_INT(stun_build_end(&b, &len), STUN_OK) ||
            !CHECK_INT(crypto_hmac(CRYPTO_SHA256, key, sizeof key, &part, 1, mac), 0))
            return;
        memcpy(msg + at + 4, mac, n);
        if (!CHECK_INT(stun_msg_decode(&m, msg, len, 0), STUN_OK))
            return;
        CHECK_INT(m.attrs[m.integrity_sha256].len, n);
        CHECK_INT(stun_check_integrity_sha256(&m, key, sizeof key), STUN_OK);
        CHECK_INT(stun_check_integrity_sha256(&m, key, sizeof key - 1), STUN_E_INTEGRITY);
        if (n < 32)
            continue;
        /* Untruncated, the emulation and the builder agree byte for byte. */
        stun_build_start(&b, own, sizeof own, 0x0001, tid);
        stun_build_str(&b, STUN_ATTR_USERNAME, "bob");
        stun_build_integrity_sha256(&b, key, sizeof key);
        if (CHECK_INT(stun_build_end(&b, &own_len), STUN_OK) && CHECK_INT(own_len, len))
            CHECK_MEM(own, msg, len);
    }
}

int main(void)
{
    RUN(test_layout);
    RUN(test_every_capacity);
    RUN(test_errors_are_sticky);
    RUN(test_reason_limit);
    RUN(test_integrity_both_kinds);
    RUN(test_truncated_sha256);
    return check_summary();
}
