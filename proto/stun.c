/* stun.c — STUN message types, the header check, the message decoder and its typed getters. */
#include "proto/stun.h"

#include <string.h>

#include "proto/stun_integrity.h"
#include "proto/wire.h"

const char *stun_strerror(int err)
{
    switch (err) {
    case STUN_OK:
        return "ok";
    case STUN_E_SHORT:
        return "shorter than a STUN header";
    case STUN_E_FIRST_BITS:
        return "first two bits are not 00";
    case STUN_E_COOKIE:
        return "magic cookie missing";
    case STUN_E_LEN_ALIGN:
        return "length not a multiple of 4";
    case STUN_E_LEN_MISMATCH:
        return "length differs from the bytes received";
    case STUN_E_FINGERPRINT:
        return "FINGERPRINT does not match";
    case STUN_E_ATTR_TRUNC:
        return "attribute runs past the end";
    case STUN_E_ATTR_LEN:
        return "attribute length not allowed";
    case STUN_E_ATTR_VALUE:
        return "attribute value not allowed";
    case STUN_E_TOO_MANY_ATTRS:
        return "too many attributes";
    case STUN_E_AFTER_FINGERPRINT:
        return "attribute after FINGERPRINT";
    case STUN_E_BAD_CLASS:
        return "class not allowed for the method";
    case STUN_E_NOSPACE:
        return "buffer too small";
    case STUN_E_NO_INTEGRITY:
        return "integrity attribute absent";
    case STUN_E_INTEGRITY:
        return "integrity check failed";
    case STUN_E_INCOMPLETE:
        return "incomplete frame";
    case STUN_E_NOT_FRAME:
        return "neither STUN nor ChannelData";
    case STUN_E_CHANNEL:
        return "channel number out of range";
    case STUN_E_CRYPTO:
        return "crypto library failure";
    case STUN_E_ABSENT:
        return "attribute absent";
    default:
        return "unknown error";
    }
}

/* RFC 8489 §5: the type is M11..M7 C1 M6..M4 C0 M3..M0 in its low 14 bits. */
uint16_t stun_type(uint16_t method, enum stun_class cls)
{
    unsigned m = method & 0x0FFFu, c = (unsigned)cls & 3u;

    return (uint16_t)((m & 0x000F) | (m & 0x0070) << 1 | (m & 0x0F80) << 2 | (c & 1) << 4 |
                      (c & 2) << 7);
}

uint16_t stun_type_method(uint16_t type)
{
    return (uint16_t)((type & 0x000F) | (type & 0x00E0) >> 1 | (type & 0x3E00) >> 2);
}

enum stun_class stun_type_class(uint16_t type)
{
    return (enum stun_class)((type >> 4 & 1) | (type >> 7 & 2));
}

const char *stun_method_name(uint16_t method)
{
    switch (method) {
    case STUN_METHOD_BINDING:
        return "Binding";
    case STUN_METHOD_ALLOCATE:
        return "Allocate";
    case STUN_METHOD_REFRESH:
        return "Refresh";
    case STUN_METHOD_SEND:
        return "Send";
    case STUN_METHOD_DATA:
        return "Data";
    case STUN_METHOD_CREATE_PERMISSION:
        return "CreatePermission";
    case STUN_METHOD_CHANNEL_BIND:
        return "ChannelBind";
    case STUN_METHOD_CONNECT:
        return "Connect";
    case STUN_METHOD_CONNECTION_BIND:
        return "ConnectionBind";
    case STUN_METHOD_CONNECTION_ATTEMPT:
        return "ConnectionAttempt";
    default:
        return "unknown";
    }
}

/* Which classes a known method has: Send and Data are indications only (RFC 8656 §10, §11),
 * so is ConnectionAttempt (RFC 6062 §4.4); the TURN transactions have no indication; Binding
 * has all four.  An unknown method is left to the caller (it answers 400). */
static bool class_allowed(uint16_t method, enum stun_class cls)
{
    switch (method) {
    case STUN_METHOD_BINDING:
        return true;
    case STUN_METHOD_SEND:
    case STUN_METHOD_DATA:
    case STUN_METHOD_CONNECTION_ATTEMPT:
        return cls == STUN_CLASS_INDICATION;
    case STUN_METHOD_ALLOCATE:
    case STUN_METHOD_REFRESH:
    case STUN_METHOD_CREATE_PERMISSION:
    case STUN_METHOD_CHANNEL_BIND:
    case STUN_METHOD_CONNECT:
    case STUN_METHOD_CONNECTION_BIND:
        return cls != STUN_CLASS_INDICATION;
    default:
        return true;
    }
}

int stun_header_check(const uint8_t *buf, size_t len, unsigned flags)
{
    if (len < STUN_HEADER_LEN)
        return STUN_E_SHORT;
    /* RFC 8489 §5: the two most significant bits are zero (RFC 7983 demultiplexing). */
    if ((buf[0] & 0xC0) != 0)
        return STUN_E_FIRST_BITS;
    if (wire_get32(buf + 4) != STUN_MAGIC_COOKIE && !(flags & STUN_DECODE_ALLOW_3489))
        return STUN_E_COOKIE;
    uint16_t mlen = wire_get16(buf + 2);
    if (mlen % 4 != 0)
        return STUN_E_LEN_ALIGN;
    return STUN_HEADER_LEN + mlen;
}

/* Where the walk stands with respect to the attributes that must come last (RFC 8489 §14.5,
 * §14.6, §14.7). */
enum tail { TAIL_NONE, TAIL_MI, TAIL_MI256, TAIL_FP };

/* Whether an attribute of this type at this point counts (1), is ignored (0), or makes the
 * message malformed (< 0).  After MESSAGE-INTEGRITY only MESSAGE-INTEGRITY-SHA256 and
 * FINGERPRINT count, after MESSAGE-INTEGRITY-SHA256 only FINGERPRINT, and FINGERPRINT is
 * last: the integrity attributes do not cover what follows them. */
static int tail_rule(enum tail tail, uint16_t type)
{
    switch (tail) {
    case TAIL_FP:
        return STUN_E_AFTER_FINGERPRINT;
    case TAIL_MI256:
        return type == STUN_ATTR_FINGERPRINT;
    case TAIL_MI:
        return type == STUN_ATTR_FINGERPRINT || type == STUN_ATTR_MESSAGE_INTEGRITY_SHA256;
    default:
        return 1;
    }
}

static void note_unknown(struct stun_msg *m, uint16_t type)
{
    for (unsigned i = 0; i < m->nunknown; i++) {
        if (m->unknown[i] == type)
            return;
    }
    if (m->nunknown < STUN_MAX_UNKNOWN)
        m->unknown[m->nunknown++] = type;
}

/* Validates one counted attribute and records it.  Returns STUN_OK, an attribute error, or
 * STUN_E_TOO_MANY_ATTRS. */
static int take_attr(struct stun_msg *m, uint16_t type, const uint8_t *val, uint16_t len)
{
    const struct stun_attr_desc *d = stun_attr_desc(type);

    if (d == NULL) {
        if (stun_attr_is_required(type))
            note_unknown(m, type);
        return STUN_OK;
    }
    /* RFC 8489 §14: of a repeated attribute only the first counts, unless the type says that
     * every occurrence does. */
    if (!d->multiple_ok && stun_msg_find(m, type) != NULL)
        return STUN_OK;
    int rc = stun_attr_check(d, val, len);
    if (rc != STUN_OK)
        return rc;
    if (m->nattrs == STUN_MAX_ATTRS)
        return STUN_E_TOO_MANY_ATTRS;
    int16_t idx = (int16_t)m->nattrs++;
    m->attrs[idx] = (struct stun_attr){.type = type, .len = len, .off = (uint32_t)(val - m->buf)};
    if (type == STUN_ATTR_MESSAGE_INTEGRITY)
        m->integrity = idx;
    else if (type == STUN_ATTR_MESSAGE_INTEGRITY_SHA256)
        m->integrity_sha256 = idx;
    else if (type == STUN_ATTR_FINGERPRINT)
        m->fingerprint = idx;
    return STUN_OK;
}

static enum tail next_tail(enum tail tail, uint16_t type)
{
    if (type == STUN_ATTR_FINGERPRINT)
        return TAIL_FP;
    if (type == STUN_ATTR_MESSAGE_INTEGRITY_SHA256)
        return TAIL_MI256;
    if (type == STUN_ATTR_MESSAGE_INTEGRITY && tail == TAIL_NONE)
        return TAIL_MI;
    return tail;
}

static bool is_value_error(int rc)
{
    return rc == STUN_E_ATTR_LEN || rc == STUN_E_ATTR_VALUE;
}

/* Walks every attribute with one bounds-checked reader.  A value error is remembered and the
 * walk goes on, so that a wrong FINGERPRINT (not STUN at all: drop) wins over a malformed
 * attribute (malformed STUN: answer 400). */
static int decode_attrs(struct stun_msg *m)
{
    const uint8_t *p = m->buf + STUN_HEADER_LEN, *end = m->buf + m->len;
    enum tail tail = TAIL_NONE;
    int err = STUN_OK;

    while (p < end) {
        if (end - p < STUN_ATTR_HEADER_LEN)
            return STUN_E_ATTR_TRUNC;
        uint16_t type = wire_get16(p), len = wire_get16(p + 2);
        p += STUN_ATTR_HEADER_LEN;
        /* The padding must fit as well; its bytes are ignored (RFC 8489 §14). */
        int rc = (size_t)(end - p) < wire_pad4(len) ? STUN_E_ATTR_TRUNC : tail_rule(tail, type);
        if (rc == 1)
            rc = take_attr(m, type, p, len);
        if (rc < 0 && !is_value_error(rc)) {
            m->err_attr = type;
            return rc;
        }
        if (rc < 0 && err == STUN_OK) {
            m->err_attr = type;
            err = rc;
        }
        tail = next_tail(tail, type);
        p += wire_pad4(len);
    }
    if (m->fingerprint >= 0) {
        const struct stun_attr *fp = &m->attrs[m->fingerprint];
        size_t covered = fp->off - STUN_ATTR_HEADER_LEN;
        if (stun_fingerprint(m->buf, covered) != wire_get32(m->buf + fp->off))
            return STUN_E_FINGERPRINT;
    }
    return err;
}

int stun_msg_decode(struct stun_msg *m, const uint8_t *buf, size_t len, unsigned flags)
{
    int total = stun_header_check(buf, len, flags);

    m->buf = buf;
    m->len = len;
    m->nattrs = 0;
    m->nunknown = 0;
    m->integrity = m->integrity_sha256 = m->fingerprint = -1;
    m->err_attr = 0;
    if (total < 0)
        return total;
    if ((size_t)total != len)
        return STUN_E_LEN_MISMATCH;
    m->type = wire_get16(buf);
    m->method = stun_type_method(m->type);
    m->cls = stun_type_class(m->type);
    m->has_cookie = wire_get32(buf + 4) == STUN_MAGIC_COOKIE;
    memcpy(m->tid, buf + 8, STUN_TID_LEN);
    if (!class_allowed(m->method, m->cls))
        return STUN_E_BAD_CLASS;
    return decode_attrs(m);
}

const struct stun_attr *stun_msg_find(const struct stun_msg *m, uint16_t type)
{
    for (unsigned i = 0; i < m->nattrs; i++) {
        if (m->attrs[i].type == type)
            return &m->attrs[i];
    }
    return NULL;
}

const struct stun_attr *stun_msg_next(const struct stun_msg *m, const struct stun_attr *prev)
{
    for (const struct stun_attr *a = prev + 1; a < m->attrs + m->nattrs; a++) {
        if (a->type == prev->type)
            return a;
    }
    return NULL;
}

/* The first attribute of a type with at least min bytes of value. */
static int find_value(const struct stun_msg *m, uint16_t type, size_t min,
                      const struct stun_attr **out)
{
    const struct stun_attr *a = stun_msg_find(m, type);

    if (a == NULL)
        return STUN_E_ABSENT;
    if (a->len < min)
        return STUN_E_ATTR_VALUE;
    *out = a;
    return STUN_OK;
}

int stun_msg_get_addr(const struct stun_msg *m, uint16_t type, union addr *out)
{
    const struct stun_attr_desc *d = stun_attr_desc(type);
    const struct stun_attr *a;
    int rc = find_value(m, type, 0, &a);

    if (rc != STUN_OK)
        return rc;
    return stun_addr_decode(stun_msg_value(m, a), a->len,
                            d != NULL && d->kind == STUN_KIND_XOR_ADDR, m->tid, out);
}

int stun_msg_get_u32(const struct stun_msg *m, uint16_t type, uint32_t *out)
{
    const struct stun_attr *a;
    int rc = find_value(m, type, 4, &a);

    if (rc == STUN_OK)
        *out = wire_get32(stun_msg_value(m, a));
    return rc;
}

int stun_msg_get_u16(const struct stun_msg *m, uint16_t type, uint16_t *out)
{
    const struct stun_attr *a;
    int rc = find_value(m, type, 2, &a);

    if (rc == STUN_OK)
        *out = wire_get16(stun_msg_value(m, a));
    return rc;
}

int stun_msg_get_u8(const struct stun_msg *m, uint16_t type, uint8_t *out)
{
    const struct stun_attr *a;
    int rc = find_value(m, type, 1, &a);

    if (rc == STUN_OK)
        *out = stun_msg_value(m, a)[0];
    return rc;
}

int stun_msg_get_bytes(const struct stun_msg *m, uint16_t type, const uint8_t **val,
                       size_t *len)
{
    const struct stun_attr *a;
    int rc = find_value(m, type, 0, &a);

    if (rc == STUN_OK) {
        *val = stun_msg_value(m, a);
        *len = a->len;
    }
    return rc;
}

int stun_msg_get_error(const struct stun_msg *m, int *code, const char **reason,
                       size_t *reason_len)
{
    const struct stun_attr *a;
    int rc = find_value(m, STUN_ATTR_ERROR_CODE, 0, &a);

    if (rc != STUN_OK)
        return rc;
    return stun_error_decode(stun_msg_value(m, a), a->len, code, reason, reason_len);
}
