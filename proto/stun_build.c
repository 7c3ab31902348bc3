/* stun_build.c — appending attributes to a STUN message in a caller's buffer, sticky errors. */
#include "proto/stun_build.h"

#include <string.h>

#include "proto/crypto.h"
#include "proto/stun_integrity.h"
#include "proto/wire.h"

/* The length field is 16 bits and a multiple of 4. */
#define BUILD_MAX_BODY 0xFFFC

void stun_build_start(struct stun_builder *b, uint8_t *buf, size_t cap, uint16_t type,
                      const uint8_t tid[STUN_TID_LEN])
{
    b->buf = buf;
    b->cap = cap;
    b->len = 0;
    b->err = STUN_OK;
    b->integrity = false;
    if (cap < STUN_HEADER_LEN) {
        b->err = STUN_E_NOSPACE;
        return;
    }
    wire_put16(buf, type & 0x3FFF);
    wire_put16(buf + 2, 0);
    wire_put32(buf + 4, STUN_MAGIC_COOKIE);
    memcpy(buf + 8, tid, STUN_TID_LEN);
    b->len = STUN_HEADER_LEN;
}

void stun_build_response(struct stun_builder *b, uint8_t *buf, size_t cap,
                         const struct stun_msg *m, enum stun_class cls)
{
    stun_build_start(b, buf, cap, stun_type(m->method, cls), m->tid);
    /* RFC 8489 §12: an RFC 3489 client's 16-byte transaction ID goes back whole, its first
     * four bytes where the cookie would be. */
    if (b->err == STUN_OK && !m->has_cookie)
        memcpy(buf + 4, m->buf + 4, 4);
}

/* Appends an attribute header for a value of len bytes, zeroes its padding, updates the
 * length field and returns where the value goes, or NULL once the builder has failed. */
static uint8_t *build_reserve(struct stun_builder *b, uint16_t type, size_t len)
{
    if (b->err != STUN_OK)
        return NULL;
    size_t need = STUN_ATTR_HEADER_LEN + wire_pad4(len);
    if (len > 0xFFFF || b->cap - b->len < need ||
        b->len - STUN_HEADER_LEN + need > BUILD_MAX_BODY) {
        b->err = STUN_E_NOSPACE;
        return NULL;
    }
    uint8_t *p = b->buf + b->len;
    wire_put16(p, type);
    wire_put16(p + 2, (uint16_t)len);
    memset(p + STUN_ATTR_HEADER_LEN + len, 0, wire_pad4(len) - len);
    b->len += need;
    wire_put16(b->buf + 2, (uint16_t)(b->len - STUN_HEADER_LEN));
    return p + STUN_ATTR_HEADER_LEN;
}

void stun_build_attr(struct stun_builder *b, uint16_t type, const void *val, size_t len)
{
    uint8_t *p = build_reserve(b, type, len);

    if (p != NULL && len > 0)
        memcpy(p, val, len);
}

void stun_build_u32(struct stun_builder *b, uint16_t type, uint32_t v)
{
    uint8_t *p = build_reserve(b, type, 4);

    if (p != NULL)
        wire_put32(p, v);
}

void stun_build_u8(struct stun_builder *b, uint16_t type, uint8_t v)
{
    stun_build_u32(b, type, (uint32_t)v << 24);
}

void stun_build_u16(struct stun_builder *b, uint16_t type, uint16_t v)
{
    stun_build_u32(b, type, (uint32_t)v << 16);
}

void stun_build_str(struct stun_builder *b, uint16_t type, const char *s)
{
    stun_build_attr(b, type, s, strlen(s));
}

void stun_build_addr(struct stun_builder *b, uint16_t type, const union addr *a)
{
    const struct stun_attr_desc *d = stun_attr_desc(type);
    uint8_t val[20];
    int n;

    if (b->err != STUN_OK)
        return;
    n = stun_addr_encode(val, sizeof val, a, d != NULL && d->kind == STUN_KIND_XOR_ADDR,
                         b->buf + 8);
    if (n < 0)
        b->err = n;
    else
        stun_build_attr(b, type, val, (size_t)n);
}

/* ERROR-CODE and ADDRESS-ERROR-CODE share their layout after the first byte (RFC 8489 §14.8,
 * RFC 8656 §18.12): class and number, then the reason phrase. */
static void build_error(struct stun_builder *b, uint16_t type, uint8_t first, int code,
                        const char *reason)
{
    if (b->err != STUN_OK)
        return;
    if (reason == NULL)
        reason = stun_reason_phrase(code);
    size_t rlen = strlen(reason);
    if (code < 300 || code > 699 || rlen > STUN_MAX_TEXT) {
        b->err = STUN_E_ATTR_VALUE;
        return;
    }
    uint8_t *p = build_reserve(b, type, 4 + rlen);
    if (p == NULL)
        return;
    p[0] = first;
    p[1] = 0;
    p[2] = (uint8_t)(code / 100);
    p[3] = (uint8_t)(code % 100);
    memcpy(p + 4, reason, rlen);
}

void stun_build_error(struct stun_builder *b, int code, const char *reason)
{
    build_error(b, STUN_ATTR_ERROR_CODE, 0, code, reason);
}

void stun_build_address_error(struct stun_builder *b, uint16_t type, uint8_t family, int code,
                              const char *reason)
{
    build_error(b, type, family, code, reason);
}

void stun_build_unknown(struct stun_builder *b, const uint16_t *types, size_t n)
{
    /* More than 0xFFFF bytes of value cannot be framed: build_reserve says NOSPACE. */
    uint8_t *p = build_reserve(b, STUN_ATTR_UNKNOWN_ATTRIBUTES, n > 0xFFFF ? 0x10000 : 2 * n);

    for (size_t i = 0; p != NULL && i < n; i++)
        wire_put16(p + 2 * i, types[i]);
}

/* RFC 8489 §14.5, §14.6: the attribute is appended first, so the length field already ends
 * just after it, then the MAC of everything before it is written into its value. */
static void build_mac(struct stun_builder *b, uint16_t type, enum crypto_alg alg,
                      const uint8_t *key, size_t keylen)
{
    size_t maclen = crypto_md_len(alg);
    uint8_t *p = build_reserve(b, type, maclen);
    uint8_t mac[CRYPTO_MAX_MD];

    if (p == NULL)
        return;
    const struct crypto_buf part = {b->buf, (size_t)(p - STUN_ATTR_HEADER_LEN - b->buf)};
    if (crypto_hmac(alg, key, keylen, &part, 1, mac) != 0) {
        b->err = STUN_E_CRYPTO;
        return;
    }
    memcpy(p, mac, maclen);
    b->integrity = true;
}

void stun_build_integrity(struct stun_builder *b, const uint8_t *key, size_t keylen)
{
    build_mac(b, STUN_ATTR_MESSAGE_INTEGRITY, CRYPTO_SHA1, key, keylen);
}

void stun_build_integrity_sha256(struct stun_builder *b, const uint8_t *key, size_t keylen)
{
    build_mac(b, STUN_ATTR_MESSAGE_INTEGRITY_SHA256, CRYPTO_SHA256, key, keylen);
}

void stun_build_fingerprint(struct stun_builder *b)
{
    uint8_t *p = build_reserve(b, STUN_ATTR_FINGERPRINT, 4);

    if (p != NULL)
        wire_put32(p, stun_fingerprint(b->buf, (size_t)(p - STUN_ATTR_HEADER_LEN - b->buf)));
}

int stun_build_end(struct stun_builder *b, size_t *len)
{
    if (b->err != STUN_OK)
        return b->err;
    *len = b->len;
    return STUN_OK;
}
