/* fuzz_stun_decode.c — libFuzzer target: decode, read every attribute, check, rebuild, redecode. */
#include <stdlib.h>
#include <string.h>

#include "proto/stun.h"
#include "proto/stun_build.h"
#include "proto/stun_integrity.h"
#include "tests/fuzz/fuzz.h"

static const uint8_t key[16] = "fuzzing key 0123";

/* Reads one recorded attribute through the getter its kind calls for. */
static void read_attr(const struct stun_msg *m, const struct stun_attr *a)
{
    const struct stun_attr_desc *d = stun_attr_desc(a->type);
    const uint8_t *val = stun_msg_value(m, a), *bytes;
    char text[ADDR_STRLEN];
    union addr addr;
    const char *reason;
    size_t len, rlen;
    uint32_t u32;
    uint16_t u16;
    uint8_t u8;
    int code;

    REQUIRE(d != NULL && a->off + a->len <= m->len && a->off >= STUN_HEADER_LEN + 4);
    REQUIRE(stun_attr_check(d, val, a->len) == STUN_OK);
    REQUIRE(stun_msg_get_bytes(m, a->type, &bytes, &len) == STUN_OK);
    REQUIRE(strcmp(stun_attr_name(a->type), d->name) == 0);
    switch (d->kind) {
    case STUN_KIND_ADDR:
    case STUN_KIND_XOR_ADDR:
        REQUIRE(stun_addr_decode(val, a->len, d->kind == STUN_KIND_XOR_ADDR, m->tid, &addr) == 0);
        REQUIRE(stun_msg_get_addr(m, a->type, &addr) == STUN_OK);
        addr_format(&addr, text, sizeof text);
        break;
    case STUN_KIND_U32:
        REQUIRE(stun_msg_get_u32(m, a->type, &u32) == STUN_OK);
        REQUIRE(stun_msg_get_u16(m, a->type, &u16) == STUN_OK);
        REQUIRE(stun_msg_get_u8(m, a->type, &u8) == STUN_OK);
        break;
    case STUN_KIND_ERROR:
        REQUIRE(stun_msg_get_error(m, &code, &reason, &rlen) == STUN_OK);
        REQUIRE(code >= 300 && code <= 699 && rlen <= STUN_MAX_TEXT);
        stun_reason_phrase(code);
        break;
    case STUN_KIND_ADDR_ERROR:
        REQUIRE(stun_error_decode(val, a->len, &code, &reason, &rlen) == STUN_OK);
        break;
    default:
        break;
    }
}

/* Appends attribute a of m to b through the builder's typed appender where one applies. */
static void append_attr(struct stun_builder *b, const struct stun_msg *m,
                        const struct stun_attr *a)
{
    const struct stun_attr_desc *d = stun_attr_desc(a->type);
    const uint8_t *val = stun_msg_value(m, a);
    char reason[STUN_MAX_TEXT + 1];
    union addr addr;
    const char *r;
    size_t rlen;
    int code;

    if (d->kind == STUN_KIND_ADDR || d->kind == STUN_KIND_XOR_ADDR) {
        stun_addr_decode(val, a->len, d->kind == STUN_KIND_XOR_ADDR, m->tid, &addr);
        stun_build_addr(b, a->type, &addr);
    } else if (d->kind == STUN_KIND_ERROR &&
               stun_error_decode(val, a->len, &code, &r, &rlen) == STUN_OK &&
               memchr(r, 0, rlen) == NULL) {
        memcpy(reason, r, rlen);
        reason[rlen] = '\0';
        stun_build_error(b, code, reason);
    } else {
        stun_build_attr(b, a->type, val, a->len);
    }
}

/* The same value, but for the bits a receiver ignores: an address's first byte and the 21
 * reserved bits of ERROR-CODE (RFC 8489 §14.1, §14.8). */
static void require_same_value(const struct stun_attr_desc *d, const uint8_t *x,
                               const uint8_t *y, size_t len)
{
    size_t from = 0;

    if (d->kind == STUN_KIND_ADDR || d->kind == STUN_KIND_XOR_ADDR) {
        from = 1;
    } else if (d->kind == STUN_KIND_ERROR) {
        REQUIRE((x[2] & 7) == (y[2] & 7));
        from = 3;
    }
    REQUIRE(memcmp(x + from, y + from, len - from) == 0);
}

static uint8_t out[STUN_HEADER_LEN + 0xFFFC];

/* Builds m again from its recorded attributes, with fresh integrity and fingerprint, and
 * checks that it decodes to the same attributes. */
static void rebuild(const struct stun_msg *m)
{
    struct stun_builder b;
    struct stun_msg again;
    size_t len;

    stun_build_start(&b, out, sizeof out, m->type, m->tid);
    for (unsigned i = 0; i < m->nattrs; i++) {
        uint16_t t = m->attrs[i].type;
        if (t != STUN_ATTR_MESSAGE_INTEGRITY && t != STUN_ATTR_MESSAGE_INTEGRITY_SHA256 &&
            t != STUN_ATTR_FINGERPRINT)
            append_attr(&b, m, &m->attrs[i]);
    }
    if (m->integrity >= 0)
        stun_build_integrity(&b, key, sizeof key);
    if (m->integrity_sha256 >= 0)
        stun_build_integrity_sha256(&b, key, sizeof key);
    if (m->fingerprint >= 0)
        stun_build_fingerprint(&b);
    int rc = stun_build_end(&b, &len);
    if (rc == STUN_E_NOSPACE)
        return; /* a truncated MESSAGE-INTEGRITY-SHA256 grew back to 32 bytes past the limit */
    REQUIRE(rc == STUN_OK);
    REQUIRE(stun_msg_decode(&again, out, len, 0) == STUN_OK);
    REQUIRE(again.nattrs == m->nattrs && again.nunknown == 0);
    for (unsigned i = 0; i < m->nattrs; i++) {
        const struct stun_attr *x = &m->attrs[i], *y = stun_msg_find(&again, x->type);
        for (const struct stun_attr *p = stun_msg_find(m, x->type); p != x; p = stun_msg_next(m, p))
            y = stun_msg_next(&again, y);
        REQUIRE(y != NULL);
        if (x->type == STUN_ATTR_MESSAGE_INTEGRITY_SHA256 || x->type == STUN_ATTR_MESSAGE_INTEGRITY ||
            x->type == STUN_ATTR_FINGERPRINT)
            continue;
        REQUIRE(y->len == x->len);
        require_same_value(stun_attr_desc(x->type), stun_msg_value(m, x), stun_msg_value(&again, y),
                           x->len);
    }
    REQUIRE(m->integrity < 0 || stun_check_integrity(&again, key, sizeof key) == STUN_OK);
    REQUIRE(m->integrity_sha256 < 0 ||
            stun_check_integrity_sha256(&again, key, sizeof key) == STUN_OK);
}

/* A request gets an error response listing its unknown attributes, as a server would. */
static void answer(const struct stun_msg *m)
{
    struct stun_builder b;
    struct stun_msg r;
    size_t len;

    if (m->cls != STUN_CLASS_REQUEST)
        return;
    stun_build_response(&b, out, sizeof out, m, STUN_CLASS_ERROR);
    stun_build_error(&b, m->nunknown > 0 ? 420 : 400, NULL);
    if (m->nunknown > 0)
        stun_build_unknown(&b, m->unknown, m->nunknown);
    stun_build_fingerprint(&b);
    REQUIRE(stun_build_end(&b, &len) == STUN_OK);
    REQUIRE(stun_msg_decode(&r, out, len, STUN_DECODE_ALLOW_3489) == STUN_OK);
    REQUIRE(r.has_cookie == m->has_cookie && memcmp(r.tid, m->tid, STUN_TID_LEN) == 0);
}

static void exercise(const uint8_t *data, size_t size, unsigned flags)
{
    struct stun_msg m;
    int hdr = stun_header_check(data, size, flags);
    int rc = stun_msg_decode(&m, data, size, flags);

    REQUIRE(hdr < 0 ? rc == hdr : (rc != STUN_E_SHORT && rc != STUN_E_COOKIE));
    stun_strerror(rc);
    if (rc != STUN_OK)
        return;
    REQUIRE(m.len == size && m.nattrs <= STUN_MAX_ATTRS && m.nunknown <= STUN_MAX_UNKNOWN);
    stun_method_name(m.method);
    for (unsigned i = 0; i < m.nattrs; i++)
        read_attr(&m, &m.attrs[i]);
    int mi = stun_check_integrity(&m, key, sizeof key);
    int mi256 = stun_check_integrity_sha256(&m, key, sizeof key);
    REQUIRE(mi == (m.integrity < 0 ? STUN_E_NO_INTEGRITY : mi));
    REQUIRE(mi256 == (m.integrity_sha256 < 0 ? STUN_E_NO_INTEGRITY : mi256));
    REQUIRE(mi != STUN_E_CRYPTO && mi256 != STUN_E_CRYPTO);
    rebuild(&m);
    answer(&m);
}

static uint8_t repaired[STUN_HEADER_LEN + 0xFFFC];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    exercise(data, size, 0);
    exercise(data, size, STUN_DECODE_ALLOW_3489);
    /* A mutated message almost never keeps a right CRC: when the input ends in what looks
     * like a FINGERPRINT, decode a copy with the CRC made right, so that the fuzzer can get
     * past it into the attributes. */
    if (size >= STUN_HEADER_LEN + 8 && size <= sizeof repaired && data[size - 8] == 0x80 &&
        data[size - 7] == 0x28 && data[size - 6] == 0 && data[size - 5] == 4) {
        uint32_t fp;
        memcpy(repaired, data, size);
        fp = stun_fingerprint(repaired, size - 8);
        for (int i = 0; i < 4; i++)
            repaired[size - 4 + i] = (uint8_t)(fp >> (24 - 8 * i));
        exercise(repaired, size, 0);
    }
    return 0;
}
