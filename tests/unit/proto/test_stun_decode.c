/* test_stun_decode.c — decoder semantics: repeats, unknowns, the integrity tail, limits, 3489. */
#include <stdlib.h>
#include <string.h>

#include "proto/stun.h"
#include "proto/stun_build.h"
#include "proto/stun_integrity.h"
#include "tests/lib/check.h"

static const uint8_t tid[STUN_TID_LEN] = {0xa, 0xb, 0xc, 0xd, 0xe, 0xf, 1, 2, 3, 4, 5, 6};
static const uint8_t key[] = {'k', 'e', 'y'};

static void test_type_bits(void)
{
    static const struct {
        uint16_t method;
        enum stun_class cls;
        uint16_t type;
    } known[] = {
        {STUN_METHOD_BINDING, STUN_CLASS_REQUEST, 0x0001},
        {STUN_METHOD_BINDING, STUN_CLASS_INDICATION, 0x0011},
        {STUN_METHOD_BINDING, STUN_CLASS_SUCCESS, 0x0101},
        {STUN_METHOD_BINDING, STUN_CLASS_ERROR, 0x0111},
        {STUN_METHOD_ALLOCATE, STUN_CLASS_ERROR, 0x0113},
        {STUN_METHOD_SEND, STUN_CLASS_INDICATION, 0x0016},
        {STUN_METHOD_DATA, STUN_CLASS_INDICATION, 0x0017},
        {STUN_METHOD_CONNECTION_ATTEMPT, STUN_CLASS_INDICATION, 0x001c},
        {0x0FFF, STUN_CLASS_ERROR, 0x3FFF},
    };

    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++) {
        CHECK_INT(stun_type(known[i].method, known[i].cls), known[i].type);
        CHECK_INT(stun_type_method(known[i].type), known[i].method);
        CHECK_INT(stun_type_class(known[i].type), known[i].cls);
    }
    for (uint16_t m = 0; m < 0x1000; m++) {
        for (int c = 0; c < 4; c++) {
            uint16_t t = stun_type(m, (enum stun_class)c);
            if (!CHECK(t < 0x4000 && stun_type_method(t) == m && (int)stun_type_class(t) == c))
                return;
        }
    }
    CHECK_STR(stun_method_name(STUN_METHOD_CREATE_PERMISSION), "CreatePermission");
    CHECK_STR(stun_method_name(STUN_METHOD_CONNECTION_BIND), "ConnectionBind");
    CHECK_STR(stun_method_name(0x0123), "unknown");
}

/* The classes each known method may have (RFC 8656 §3, RFC 6062 §4). */
static void test_method_classes(void)
{
    static const struct {
        uint16_t method;
        unsigned allowed; /* bit per class */
    } rules[] = {
        {STUN_METHOD_BINDING, 0xF},
        {STUN_METHOD_ALLOCATE, 0xD},
        {STUN_METHOD_REFRESH, 0xD},
        {STUN_METHOD_SEND, 0x2},
        {STUN_METHOD_DATA, 0x2},
        {STUN_METHOD_CREATE_PERMISSION, 0xD},
        {STUN_METHOD_CHANNEL_BIND, 0xD},
        {STUN_METHOD_CONNECT, 0xD},
        {STUN_METHOD_CONNECTION_BIND, 0xD},
        {STUN_METHOD_CONNECTION_ATTEMPT, 0x2},
        {0x0777, 0xF},
    };
    uint8_t buf[STUN_HEADER_LEN];
    struct stun_builder b;
    struct stun_msg m;
    size_t len;

    for (size_t i = 0; i < sizeof rules / sizeof rules[0]; i++) {
        for (int c = 0; c < 4; c++) {
            stun_build_start(&b, buf, sizeof buf, stun_type(rules[i].method, (enum stun_class)c),
                             tid);
            stun_build_end(&b, &len);
            int want = rules[i].allowed >> c & 1 ? STUN_OK : STUN_E_BAD_CLASS;
            CHECK_INT(stun_msg_decode(&m, buf, len, 0), want);
        }
    }
}

/* Of a repeated single-valued attribute the first counts and the rest are not recorded
 * (RFC 8489 §14). */
static void test_repeats(void)
{
    uint8_t buf[256];
    struct stun_builder b;
    struct stun_msg m;
    union addr p[3], got;
    uint32_t life = 0;
    size_t len;

    addr_parse(&p[0], "192.0.2.1:1", 0);
    addr_parse(&p[1], "[2001:db8::2]:2", 0);
    addr_parse(&p[2], "192.0.2.3:3", 0);
    stun_build_start(&b, buf, sizeof buf, stun_type(STUN_METHOD_CREATE_PERMISSION, 0), tid);
    stun_build_u32(&b, STUN_ATTR_LIFETIME, 600);
    for (int i = 0; i < 3; i++)
        stun_build_addr(&b, STUN_ATTR_XOR_PEER_ADDRESS, &p[i]);
    stun_build_u32(&b, STUN_ATTR_LIFETIME, 0);
    stun_build_str(&b, STUN_ATTR_SOFTWARE, "first");
    stun_build_str(&b, STUN_ATTR_SOFTWARE, "second");
    if (!CHECK_INT(stun_build_end(&b, &len), STUN_OK) ||
        !CHECK_INT(stun_msg_decode(&m, buf, len, 0), STUN_OK))
        return;
    CHECK_INT(m.nattrs, 5);
    CHECK_INT(stun_msg_get_u32(&m, STUN_ATTR_LIFETIME, &life), STUN_OK);
    CHECK_INT(life, 600);
    CHECK(stun_msg_next(&m, stun_msg_find(&m, STUN_ATTR_LIFETIME)) == NULL);
    const struct stun_attr *a = stun_msg_find(&m, STUN_ATTR_XOR_PEER_ADDRESS);
    for (int i = 0; i < 3; i++) {
        if (!CHECK(a != NULL))
            return;
        CHECK_INT(stun_addr_decode(stun_msg_value(&m, a), a->len, 1, m.tid, &got), STUN_OK);
        CHECK(addr_equal(&got, &p[i]));
        a = stun_msg_next(&m, a);
    }
    CHECK(a == NULL);
    CHECK_INT(stun_msg_get_addr(&m, STUN_ATTR_XOR_PEER_ADDRESS, &got), STUN_OK);
    CHECK(addr_equal(&got, &p[0]));
}

/* Unknown comprehension-required types are listed once each, up to STUN_MAX_UNKNOWN;
 * unknown comprehension-optional ones are silently skipped. */
static void test_unknown_types(void)
{
    uint8_t buf[512];
    struct stun_builder b;
    struct stun_msg m;
    size_t len;

    stun_build_start(&b, buf, sizeof buf, 0x0001, tid);
    stun_build_attr(&b, 0x0002, "x", 1);
    stun_build_attr(&b, 0xC001, "y", 1);
    stun_build_attr(&b, 0x7FFF, NULL, 0);
    stun_build_attr(&b, 0x0002, "z", 1);
    stun_build_str(&b, STUN_ATTR_SOFTWARE, "s");
    if (!CHECK_INT(stun_build_end(&b, &len), STUN_OK) ||
        !CHECK_INT(stun_msg_decode(&m, buf, len, 0), STUN_OK))
        return;
    CHECK_INT(m.nunknown, 2);
    CHECK_INT(m.unknown[0], 0x0002);
    CHECK_INT(m.unknown[1], 0x7FFF);
    CHECK_INT(m.nattrs, 1);

    stun_build_start(&b, buf, sizeof buf, 0x0001, tid);
    for (uint16_t t = 0x0100; t < 0x0100 + 2 * STUN_MAX_UNKNOWN; t++)
        stun_build_attr(&b, t, NULL, 0);
    if (!CHECK_INT(stun_build_end(&b, &len), STUN_OK) ||
        !CHECK_INT(stun_msg_decode(&m, buf, len, 0), STUN_OK))
        return;
    CHECK_INT(m.nunknown, STUN_MAX_UNKNOWN);
    CHECK_INT(m.unknown[STUN_MAX_UNKNOWN - 1], 0x0100 + STUN_MAX_UNKNOWN - 1);
}

/* RFC 8489 §14.5-§14.7: what follows MESSAGE-INTEGRITY is not covered by it, so only
 * MESSAGE-INTEGRITY-SHA256 and FINGERPRINT count there, and only FINGERPRINT after
 * MESSAGE-INTEGRITY-SHA256.  Each integrity value still checks. */
static void test_integrity_tail(void)
{
    uint8_t buf[256];
    struct stun_builder b;
    struct stun_msg m;
    uint32_t v;
    size_t len;

    stun_build_start(&b, buf, sizeof buf, stun_type(STUN_METHOD_REFRESH, 0), tid);
    stun_build_u32(&b, STUN_ATTR_LIFETIME, 600);
    stun_build_integrity(&b, key, sizeof key);
    stun_build_str(&b, STUN_ATTR_SOFTWARE, "sneaked in");
    stun_build_attr(&b, 0x0002, NULL, 0); /* unknown required: ignored as well */
    stun_build_integrity_sha256(&b, key, sizeof key);
    stun_build_u32(&b, STUN_ATTR_CONNECTION_ID, 7);
    stun_build_integrity(&b, key, sizeof key);
    stun_build_fingerprint(&b);
    if (!CHECK_INT(stun_build_end(&b, &len), STUN_OK) ||
        !CHECK_INT(stun_msg_decode(&m, buf, len, 0), STUN_OK))
        return;
    CHECK_INT(m.nattrs, 4);
    CHECK_INT(m.integrity, 1);
    CHECK_INT(m.integrity_sha256, 2);
    CHECK_INT(m.fingerprint, 3);
    CHECK_INT(m.nunknown, 0);
    CHECK_INT(stun_msg_get_u32(&m, STUN_ATTR_LIFETIME, &v), STUN_OK);
    CHECK_INT(stun_msg_get_u32(&m, STUN_ATTR_CONNECTION_ID, &v), STUN_E_ABSENT);
    CHECK(stun_msg_find(&m, STUN_ATTR_SOFTWARE) == NULL);
    CHECK_INT(stun_check_integrity(&m, key, sizeof key), STUN_OK);
    CHECK_INT(stun_check_integrity_sha256(&m, key, sizeof key), STUN_OK);
}

/* STUN_MAX_ATTRS recorded attributes decode; one more does not. */
static void test_attribute_limit(void)
{
    uint8_t buf[1024];
    struct stun_builder b;
    struct stun_msg m;
    union addr p;
    size_t len;

    addr_parse(&p, "198.51.100.1:9", 0);
    for (int n = STUN_MAX_ATTRS; n <= STUN_MAX_ATTRS + 1; n++) {
        stun_build_start(&b, buf, sizeof buf, stun_type(STUN_METHOD_CREATE_PERMISSION, 0), tid);
        for (int i = 0; i < n; i++)
            stun_build_addr(&b, STUN_ATTR_XOR_PEER_ADDRESS, &p);
        CHECK_INT(stun_build_end(&b, &len), STUN_OK);
        CHECK_INT(stun_msg_decode(&m, buf, len, 0),
                  n <= STUN_MAX_ATTRS ? STUN_OK : STUN_E_TOO_MANY_ATTRS);
    }
    CHECK_INT(m.err_attr, STUN_ATTR_XOR_PEER_ADDRESS);
}

/* The longest message: 20 + 65532 bytes, with a value starting past offset 65535. */
static void test_largest_message(void)
{
    size_t cap = STUN_HEADER_LEN + 0xFFFC;
    uint8_t *buf = malloc(cap), *data = calloc(65520, 1);
    struct stun_builder b;
    struct stun_msg m;
    const uint8_t *v;
    size_t len = 0, n;

    stun_build_start(&b, buf, cap, 0x0001, tid);
    stun_build_attr(&b, STUN_ATTR_DATA, data, 65520);
    stun_build_str(&b, STUN_ATTR_SOFTWARE, "tail");
    CHECK_INT(stun_build_end(&b, &len), STUN_OK);
    CHECK_INT(len, cap);
    stun_build_attr(&b, STUN_ATTR_USE_CANDIDATE, NULL, 0); /* no room left in the length field */
    CHECK_INT(stun_build_end(&b, &len), STUN_E_NOSPACE);
    if (CHECK_INT(stun_msg_decode(&m, buf, cap, 0), STUN_OK) &&
        CHECK_INT(stun_msg_get_bytes(&m, STUN_ATTR_SOFTWARE, &v, &n), STUN_OK)) {
        CHECK_INT(v - buf, 65548);
        CHECK_INT(n, 4);
        CHECK_MEM(v, "tail", 4);
    }
    free(buf);
    free(data);
}

/* RFC 3489 clients have no cookie: with the flag they decode, their 16-byte transaction ID's
 * last 12 bytes are the tid, and a response carries all 16 back. */
static void test_rfc3489(void)
{
    static const uint8_t req[STUN_HEADER_LEN] = {0, 1, 0, 0, 0xde, 0xad, 0xbe, 0xef, 1, 2,
                                                 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
    uint8_t buf[64];
    struct stun_builder b;
    struct stun_msg m, r;
    union addr a;
    size_t len = 0;

    CHECK_INT(stun_msg_decode(&m, req, sizeof req, 0), STUN_E_COOKIE);
    if (!CHECK_INT(stun_msg_decode(&m, req, sizeof req, STUN_DECODE_ALLOW_3489), STUN_OK))
        return;
    CHECK(!m.has_cookie);
    CHECK_MEM(m.tid, req + 8, STUN_TID_LEN);
    addr_parse(&a, "192.0.2.1:1000", 0);
    stun_build_response(&b, buf, sizeof buf, &m, STUN_CLASS_SUCCESS);
    stun_build_addr(&b, STUN_ATTR_MAPPED_ADDRESS, &a);
    if (!CHECK_INT(stun_build_end(&b, &len), STUN_OK))
        return;
    CHECK_INT(buf[0] << 8 | buf[1], 0x0101);
    CHECK_MEM(buf + 4, req + 4, 16);
    CHECK_INT(stun_msg_decode(&r, buf, len, STUN_DECODE_ALLOW_3489), STUN_OK);
    CHECK(!r.has_cookie);
    /* A request with the cookie decodes the same with or without the flag. */
    stun_build_start(&b, buf, sizeof buf, 0x0001, tid);
    stun_build_end(&b, &len);
    CHECK_INT(stun_msg_decode(&r, buf, len, STUN_DECODE_ALLOW_3489), STUN_OK);
    CHECK(r.has_cookie);
}

static void test_header_check(void)
{
    uint8_t buf[STUN_HEADER_LEN];
    struct stun_builder b;
    size_t len;

    stun_build_start(&b, buf, sizeof buf, 0x0001, tid);
    stun_build_end(&b, &len);
    buf[3] = 0x40;
    CHECK_INT(stun_header_check(buf, sizeof buf, 0), STUN_HEADER_LEN + 0x40);
    CHECK_INT(stun_header_check(buf, 19, 0), STUN_E_SHORT);
    buf[3] = 0x41;
    CHECK_INT(stun_header_check(buf, sizeof buf, 0), STUN_E_LEN_ALIGN);
    buf[3] = 0;
    buf[7] ^= 1;
    CHECK_INT(stun_header_check(buf, sizeof buf, 0), STUN_E_COOKIE);
    CHECK_INT(stun_header_check(buf, sizeof buf, STUN_DECODE_ALLOW_3489), STUN_HEADER_LEN);
    buf[0] = 0x40;
    CHECK_INT(stun_header_check(buf, sizeof buf, STUN_DECODE_ALLOW_3489), STUN_E_FIRST_BITS);
}

static void test_getters_absent_and_short(void)
{
    uint8_t buf[64];
    struct stun_builder b;
    struct stun_msg m;
    union addr a;
    uint32_t u32;
    uint16_t u16;
    uint8_t u8;
    const uint8_t *v;
    int code;
    const char *reason;
    size_t len, n;

    stun_build_start(&b, buf, sizeof buf, 0x0001, tid);
    stun_build_attr(&b, STUN_ATTR_EVEN_PORT, "\x80", 1);
    stun_build_end(&b, &len);
    if (!CHECK_INT(stun_msg_decode(&m, buf, len, 0), STUN_OK))
        return;
    CHECK_INT(stun_msg_get_addr(&m, STUN_ATTR_XOR_MAPPED_ADDRESS, &a), STUN_E_ABSENT);
    CHECK_INT(stun_msg_get_u32(&m, STUN_ATTR_LIFETIME, &u32), STUN_E_ABSENT);
    CHECK_INT(stun_msg_get_u16(&m, STUN_ATTR_CHANNEL_NUMBER, &u16), STUN_E_ABSENT);
    CHECK_INT(stun_msg_get_u8(&m, STUN_ATTR_REQUESTED_TRANSPORT, &u8), STUN_E_ABSENT);
    CHECK_INT(stun_msg_get_bytes(&m, STUN_ATTR_DATA, &v, &n), STUN_E_ABSENT);
    CHECK_INT(stun_msg_get_error(&m, &code, &reason, &n), STUN_E_ABSENT);
    /* Asking for more than the attribute holds is refused, never read past. */
    CHECK_INT(stun_msg_get_u32(&m, STUN_ATTR_EVEN_PORT, &u32), STUN_E_ATTR_VALUE);
    CHECK_INT(stun_msg_get_u8(&m, STUN_ATTR_EVEN_PORT, &u8), STUN_OK);
    CHECK_INT(u8, 0x80);
}

int main(void)
{
    RUN(test_type_bits);
    RUN(test_method_classes);
    RUN(test_repeats);
    RUN(test_unknown_types);
    RUN(test_integrity_tail);
    RUN(test_attribute_limit);
    RUN(test_largest_message);
    RUN(test_rfc3489);
    RUN(test_header_check);
    RUN(test_getters_absent_and_short);
    return check_summary();
}
