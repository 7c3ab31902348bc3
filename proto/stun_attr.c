/* stun_attr.c — the attribute descriptor table, value checks and value codecs. */
#include "proto/stun_attr.h"

#include <string.h>

#include "proto/stun.h"
#include "proto/wire.h"

/* The table covers 0x0000-0x003F and 0x8000-0x803F, the ranges the IANA registry uses; a row
 * is indexed by the type's low bits, so lookup is one comparison and one load. */
#define DESC_SPAN 0x40
#define TEXT_MAX STUN_MAX_TEXT
#define ANY_LEN 0xFFFF

#define ROW(t, n, k, lo, hi, mul, many)                                                       \
    [(t)&0x7FFF] = {.type = (t), .name = (n), .kind = (k), .min_len = (lo), .max_len = (hi), \
                    .len_multiple = (mul), .multiple_ok = (many)}
#define ADDR_ROW(t, n, k, many) ROW(t, n, k, 8, 20, 4, many)
#define U32_ROW(t, n) ROW(t, n, STUN_KIND_U32, 4, 4, 1, 0)
#define FIXED_ROW(t, n, len) ROW(t, n, STUN_KIND_OPAQUE, len, len, 1, 0)
#define VAR_ROW(t, n, hi) ROW(t, n, STUN_KIND_OPAQUE, 0, hi, 1, 0)

/* Comprehension-required types.  Lengths: RFC 8489 §14, RFC 8656 §18, RFC 5780 §7,
 * RFC 6062 §6.2, RFC 8445 §16.1, RFC 7635 §6.2. */
static const struct stun_attr_desc desc_required[DESC_SPAN] = {
    ADDR_ROW(STUN_ATTR_MAPPED_ADDRESS, "MAPPED-ADDRESS", STUN_KIND_ADDR, 0),
    U32_ROW(STUN_ATTR_CHANGE_REQUEST, "CHANGE-REQUEST"),
    /* RFC 8489 §14.3: sent fewer than 509 bytes, but a receiver MUST parse up to 763. */
    VAR_ROW(STUN_ATTR_USERNAME, "USERNAME", STUN_MAX_USERNAME),
    FIXED_ROW(STUN_ATTR_MESSAGE_INTEGRITY, "MESSAGE-INTEGRITY", 20),
    ROW(STUN_ATTR_ERROR_CODE, "ERROR-CODE", STUN_KIND_ERROR, 4, 4 + TEXT_MAX, 1, 0),
    ROW(STUN_ATTR_UNKNOWN_ATTRIBUTES, "UNKNOWN-ATTRIBUTES", STUN_KIND_UNKNOWN, 0, ANY_LEN, 2, 0),
    U32_ROW(STUN_ATTR_CHANNEL_NUMBER, "CHANNEL-NUMBER"),
    U32_ROW(STUN_ATTR_LIFETIME, "LIFETIME"),
    /* RFC 8656 §9.1, §7.1 (ADDITIONAL-ADDRESS-FAMILY): several peers per CreatePermission, two
     * relayed addresses for a dual-stack allocation. */
    ADDR_ROW(STUN_ATTR_XOR_PEER_ADDRESS, "XOR-PEER-ADDRESS", STUN_KIND_XOR_ADDR, 1),
    VAR_ROW(STUN_ATTR_DATA, "DATA", ANY_LEN),
    VAR_ROW(STUN_ATTR_REALM, "REALM", TEXT_MAX),
    VAR_ROW(STUN_ATTR_NONCE, "NONCE", TEXT_MAX),
    ADDR_ROW(STUN_ATTR_XOR_RELAYED_ADDRESS, "XOR-RELAYED-ADDRESS", STUN_KIND_XOR_ADDR, 1),
    U32_ROW(STUN_ATTR_REQUESTED_ADDRESS_FAMILY, "REQUESTED-ADDRESS-FAMILY"),
    FIXED_ROW(STUN_ATTR_EVEN_PORT, "EVEN-PORT", 1),
    U32_ROW(STUN_ATTR_REQUESTED_TRANSPORT, "REQUESTED-TRANSPORT"),
    FIXED_ROW(STUN_ATTR_DONT_FRAGMENT, "DONT-FRAGMENT", 0),
    /* RFC 7635 §6.2: a self-contained token; 1024 bytes is far beyond its fixed fields plus
     * any sane nonce and still fits a datagram next to the rest of an Allocate. */
    VAR_ROW(STUN_ATTR_ACCESS_TOKEN, "ACCESS-TOKEN", 1024),
    /* RFC 8489 §14.6: 16 to 32 bytes, a multiple of 4. */
    ROW(STUN_ATTR_MESSAGE_INTEGRITY_SHA256, "MESSAGE-INTEGRITY-SHA256", STUN_KIND_OPAQUE, 16, 32,
        4, 0),
    ROW(STUN_ATTR_PASSWORD_ALGORITHM, "PASSWORD-ALGORITHM", STUN_KIND_PWALGS, 4, ANY_LEN, 4, 0),
    FIXED_ROW(STUN_ATTR_USERHASH, "USERHASH", 32),
    ADDR_ROW(STUN_ATTR_XOR_MAPPED_ADDRESS, "XOR-MAPPED-ADDRESS", STUN_KIND_XOR_ADDR, 0),
    FIXED_ROW(STUN_ATTR_RESERVATION_TOKEN, "RESERVATION-TOKEN", 8),
    U32_ROW(STUN_ATTR_PRIORITY, "PRIORITY"),
    FIXED_ROW(STUN_ATTR_USE_CANDIDATE, "USE-CANDIDATE", 0),
    VAR_ROW(STUN_ATTR_PADDING, "PADDING", ANY_LEN),
    U32_ROW(STUN_ATTR_RESPONSE_PORT, "RESPONSE-PORT"),
    U32_ROW(STUN_ATTR_CONNECTION_ID, "CONNECTION-ID"),
};

/* Comprehension-optional types. */
static const struct stun_attr_desc desc_optional[DESC_SPAN] = {
    U32_ROW(STUN_ATTR_ADDITIONAL_ADDRESS_FAMILY, "ADDITIONAL-ADDRESS-FAMILY"),
    ROW(STUN_ATTR_ADDRESS_ERROR_CODE, "ADDRESS-ERROR-CODE", STUN_KIND_ADDR_ERROR, 4, 4 + TEXT_MAX,
        1, 0),
    ROW(STUN_ATTR_PASSWORD_ALGORITHMS, "PASSWORD-ALGORITHMS", STUN_KIND_PWALGS, 4, ANY_LEN, 4, 0),
    /* RFC 8489 §14.16: a DNS name of 255 or fewer ASCII characters. */
    VAR_ROW(STUN_ATTR_ALTERNATE_DOMAIN, "ALTERNATE-DOMAIN", 255),
    FIXED_ROW(STUN_ATTR_ICMP, "ICMP", 8),
    VAR_ROW(STUN_ATTR_SOFTWARE, "SOFTWARE", TEXT_MAX),
    ADDR_ROW(STUN_ATTR_ALTERNATE_SERVER, "ALTERNATE-SERVER", STUN_KIND_ADDR, 0),
    U32_ROW(STUN_ATTR_TRANSACTION_TRANSMIT_COUNTER, "TRANSACTION-TRANSMIT-COUNTER"),
    U32_ROW(STUN_ATTR_CACHE_TIMEOUT, "CACHE-TIMEOUT"),
    U32_ROW(STUN_ATTR_FINGERPRINT, "FINGERPRINT"),
    FIXED_ROW(STUN_ATTR_ICE_CONTROLLED, "ICE-CONTROLLED", 8),
    FIXED_ROW(STUN_ATTR_ICE_CONTROLLING, "ICE-CONTROLLING", 8),
    ADDR_ROW(STUN_ATTR_RESPONSE_ORIGIN, "RESPONSE-ORIGIN", STUN_KIND_ADDR, 0),
    ADDR_ROW(STUN_ATTR_OTHER_ADDRESS, "OTHER-ADDRESS", STUN_KIND_ADDR, 0),
    /* An origin serialisation (scheme://host:port), text like REALM. */
    VAR_ROW(STUN_ATTR_ORIGIN, "ORIGIN", TEXT_MAX),
    /* RFC 8016 §5.1: opaque to the client, sent empty in a first Allocate. */
    VAR_ROW(STUN_ATTR_MOBILITY_TICKET, "MOBILITY-TICKET", 1024),
    U32_ROW(STUN_ATTR_ADDITIONAL_ADDRESS_FAMILY_DRAFT, "ADDITIONAL-ADDRESS-FAMILY (draft)"),
    ROW(STUN_ATTR_ADDRESS_ERROR_CODE_DRAFT, "ADDRESS-ERROR-CODE (draft)", STUN_KIND_ADDR_ERROR,
        4, 4 + TEXT_MAX, 1, 0),
};

const struct stun_attr_desc *stun_attr_desc(uint16_t type)
{
    const struct stun_attr_desc *d;

    if (type < DESC_SPAN)
        d = &desc_required[type];
    else if (type >= 0x8000 && type < 0x8000 + DESC_SPAN)
        d = &desc_optional[type - 0x8000];
    else
        return NULL;
    return d->name != NULL ? d : NULL;
}

const char *stun_attr_name(uint16_t type)
{
    const struct stun_attr_desc *d = stun_attr_desc(type);

    return d != NULL ? d->name : "unknown";
}

/* Family 1 with 8 bytes or family 2 with 20 (RFC 8489 §14.1). */
static int check_addr(const uint8_t *val, size_t len)
{
    if (len != 8 && len != 20)
        return STUN_E_ATTR_LEN;
    if (val[1] != (len == 8 ? STUN_FAMILY_IPV4 : STUN_FAMILY_IPV6))
        return STUN_E_ATTR_VALUE;
    return STUN_OK;
}

/* Class and number (RFC 8489 §14.8) in the last two bytes of the first word.  The 21 reserved
 * bits are ignored, as receivers must. */
static int check_class_number(const uint8_t *val)
{
    unsigned cls = val[2] & 7u, number = val[3];

    return cls >= 3 && cls <= 6 && number <= 99 ? STUN_OK : STUN_E_ATTR_VALUE;
}

/* (algorithm, parameters length, parameters padded to 4) entries filling the value exactly
 * (RFC 8489 §14.11, §14.12); PASSWORD-ALGORITHM holds exactly one. */
static int check_pwalgs(uint16_t type, const uint8_t *val, size_t len)
{
    const uint8_t *p = val, *end = val + len;
    size_t n = 0;

    while (p < end) {
        if (end - p < 4)
            return STUN_E_ATTR_VALUE;
        size_t plen = wire_pad4(wire_get16(p + 2));
        p += 4;
        if ((size_t)(end - p) < plen)
            return STUN_E_ATTR_VALUE;
        p += plen;
        n++;
    }
    if (type == STUN_ATTR_PASSWORD_ALGORITHM && n != 1)
        return STUN_E_ATTR_VALUE;
    return STUN_OK;
}

int stun_attr_check(const struct stun_attr_desc *d, const uint8_t *val, size_t len)
{
    if (len < d->min_len || len > d->max_len)
        return STUN_E_ATTR_LEN;
    if (d->len_multiple > 1 && len % d->len_multiple != 0)
        return STUN_E_ATTR_LEN;
    switch (d->kind) {
    case STUN_KIND_ADDR:
    case STUN_KIND_XOR_ADDR:
        return check_addr(val, len);
    case STUN_KIND_ERROR:
        return check_class_number(val);
    case STUN_KIND_ADDR_ERROR:
        /* RFC 8656 §18.12: the first byte is the family the error is about. */
        if (val[0] != STUN_FAMILY_IPV4 && val[0] != STUN_FAMILY_IPV6)
            return STUN_E_ATTR_VALUE;
        return check_class_number(val);
    case STUN_KIND_PWALGS:
        return check_pwalgs(d->type, val, len);
    default:
        return STUN_OK;
    }
}

/* XOR-MAPPED-ADDRESS and kin (RFC 8489 §14.2): the port with the cookie's top 16 bits, IPv4
 * with the cookie, IPv6 with the cookie followed by the transaction ID. */
static void xor_mask(uint8_t *port_ip, size_t iplen, const uint8_t *tid)
{
    uint8_t mask[16];

    wire_put32(mask, STUN_MAGIC_COOKIE);
    memcpy(mask + 4, tid, STUN_TID_LEN);
    port_ip[0] ^= mask[0];
    port_ip[1] ^= mask[1];
    for (size_t i = 0; i < iplen; i++)
        port_ip[2 + i] ^= mask[i];
}

int stun_addr_decode(const uint8_t *val, size_t len, int xored, const uint8_t *tid,
                     union addr *out)
{
    uint8_t port_ip[2 + 16];
    size_t iplen = len - 4;

    if (check_addr(val, len) != STUN_OK)
        return STUN_E_ATTR_VALUE;
    memcpy(port_ip, val + 2, len - 2);
    if (xored)
        xor_mask(port_ip, iplen, tid);
    addr_from_bytes(out, iplen == 4 ? AF_INET : AF_INET6, port_ip + 2, wire_get16(port_ip));
    return STUN_OK;
}

int stun_addr_encode(uint8_t *out, size_t cap, const union addr *a, int xored,
                     const uint8_t *tid)
{
    size_t iplen;
    const void *ip;

    if (a->sa.sa_family == AF_INET) {
        iplen = 4;
        ip = &a->sin.sin_addr;
    } else if (a->sa.sa_family == AF_INET6) {
        iplen = 16;
        ip = &a->sin6.sin6_addr;
    } else {
        return STUN_E_ATTR_VALUE;
    }
    if (cap < 4 + iplen)
        return STUN_E_NOSPACE;
    out[0] = 0;
    out[1] = iplen == 4 ? STUN_FAMILY_IPV4 : STUN_FAMILY_IPV6;
    wire_put16(out + 2, addr_port(a));
    memcpy(out + 4, ip, iplen);
    if (xored)
        xor_mask(out + 2, iplen, tid);
    return (int)(4 + iplen);
}

int stun_error_decode(const uint8_t *val, size_t len, int *code, const char **reason,
                      size_t *reason_len)
{
    if (len < 4 || len > 4 + STUN_MAX_TEXT || check_class_number(val) != STUN_OK)
        return STUN_E_ATTR_VALUE;
    *code = (val[2] & 7) * 100 + val[3];
    *reason = (const char *)val + 4;
    *reason_len = len - 4;
    return STUN_OK;
}

/* Reason phrases of the IANA "STUN Error Codes" registry (RFC 8489 §18.4, RFC 8656 §19,
 * RFC 6062 §6.3, RFC 8016 §6, RFC 8445 §16.3). */
static const struct {
    int code;
    const char *phrase;
} reasons[] = {
    {300, "Try Alternate"},
    {400, "Bad Request"},
    {401, "Unauthenticated"},
    {403, "Forbidden"},
    {405, "Mobility Forbidden"},
    {420, "Unknown Attribute"},
    {437, "Allocation Mismatch"},
    {438, "Stale Nonce"},
    {440, "Address Family not Supported"},
    {441, "Wrong Credentials"},
    {442, "Unsupported Transport Protocol"},
    {443, "Peer Address Family Mismatch"},
    {446, "Connection Already Exists"},
    {447, "Connection Timeout or Failure"},
    {486, "Allocation Quota Reached"},
    {487, "Role Conflict"},
    {500, "Server Error"},
    {508, "Insufficient Capacity"},
};

const char *stun_reason_phrase(int code)
{
    for (size_t i = 0; i < sizeof reasons / sizeof reasons[0]; i++) {
        if (reasons[i].code == code)
            return reasons[i].phrase;
    }
    return "Error";
}
