/* stun.h — STUN message header, message types, status codes, and the message decoder. */
#ifndef PROTO_STUN_H
#define PROTO_STUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/addr.h"
#include "proto/stun_attr.h"

#define STUN_MAGIC_COOKIE 0x2112A442u
#define STUN_HEADER_LEN 20
#define STUN_TID_LEN 12
#define STUN_ATTR_HEADER_LEN 4
/* Most attributes the decoder records per message; more is STUN_E_TOO_MANY_ATTRS. */
#define STUN_MAX_ATTRS 48
/* Most distinct comprehension-required unknown types recorded for a 420 answer. */
#define STUN_MAX_UNKNOWN 16

/* Methods (RFC 8489, RFC 8656, RFC 6062). */
enum {
    STUN_METHOD_BINDING = 0x001,
    STUN_METHOD_ALLOCATE = 0x003,
    STUN_METHOD_REFRESH = 0x004,
    STUN_METHOD_SEND = 0x006,
    STUN_METHOD_DATA = 0x007,
    STUN_METHOD_CREATE_PERMISSION = 0x008,
    STUN_METHOD_CHANNEL_BIND = 0x009,
    STUN_METHOD_CONNECT = 0x00A,
    STUN_METHOD_CONNECTION_BIND = 0x00B,
    STUN_METHOD_CONNECTION_ATTEMPT = 0x00C,
};

/* Classes, as the two class bits C1 C0. */
enum stun_class {
    STUN_CLASS_REQUEST = 0,
    STUN_CLASS_INDICATION = 1,
    STUN_CLASS_SUCCESS = 2,
    STUN_CLASS_ERROR = 3,
};

/* Status codes of proto/: 0 is success, every error is negative.  The header errors
 * (STUN_E_SHORT .. STUN_E_FINGERPRINT) mean "this is not a STUN message": drop it silently.
 * The attribute errors mean "a STUN message, but malformed": a request gets 400. */
enum stun_status {
    STUN_OK = 0,
    STUN_E_SHORT = -1,           /* fewer than 20 bytes */
    STUN_E_FIRST_BITS = -2,      /* the two most significant bits are not 00 */
    STUN_E_COOKIE = -3,          /* magic cookie missing (and not allowed) */
    STUN_E_LEN_ALIGN = -4,       /* length field not a multiple of 4 */
    STUN_E_LEN_MISMATCH = -5,    /* length field differs from the bytes that follow */
    STUN_E_FINGERPRINT = -6,     /* FINGERPRINT present and wrong */
    STUN_E_ATTR_TRUNC = -10,     /* an attribute runs past the end of the message */
    STUN_E_ATTR_LEN = -11,       /* a known attribute has a length its rules forbid */
    STUN_E_ATTR_VALUE = -12,     /* a known attribute has a value its rules forbid */
    STUN_E_TOO_MANY_ATTRS = -13, /* more than STUN_MAX_ATTRS attributes */
    STUN_E_AFTER_FINGERPRINT = -14, /* an attribute follows FINGERPRINT */
    STUN_E_BAD_CLASS = -15,      /* a class the method does not have (e.g. Send request) */
    STUN_E_NOSPACE = -20,        /* an encoder's buffer is too small */
    STUN_E_NO_INTEGRITY = -21,   /* the integrity attribute asked for is absent */
    STUN_E_INTEGRITY = -22,      /* MESSAGE-INTEGRITY(-SHA256) does not match */
    STUN_E_INCOMPLETE = -23,     /* stream framing: more bytes needed (never returned by decode) */
    STUN_E_NOT_FRAME = -24,      /* stream framing: neither STUN nor ChannelData */
    STUN_E_CHANNEL = -25,        /* ChannelData: channel number outside 0x4000-0x7FFF */
    STUN_E_CRYPTO = -26,         /* libcrypto failed */
    STUN_E_ABSENT = -27,         /* a getter's attribute is not in the message */
};

/* True when err means "not STUN at all" (drop), false for malformed STUN (answer 400). */
static inline bool stun_status_is_garbage(int err)
{
    return err <= STUN_E_SHORT && err >= STUN_E_FINGERPRINT;
}

/* A short English description of a status ("attribute runs past the end"). */
const char *stun_strerror(int err);

/* Message type <-> method and class (RFC 8489 §5: M11..M0 interleaved with C1 C0). */
uint16_t stun_type(uint16_t method, enum stun_class cls);
uint16_t stun_type_method(uint16_t type);
enum stun_class stun_type_class(uint16_t type);

/* A method's name ("CreatePermission"), or "unknown". */
const char *stun_method_name(uint16_t method);

/* One attribute as the decoder found it: type, value length (without padding) and the value's
 * offset from the start of the message.  The offset needs more than 16 bits: a message may be
 * 20 + 65532 bytes long, so a value can start past 65535. */
struct stun_attr {
    uint16_t type;
    uint16_t len;
    uint32_t off;
};

/* A decoded message.  It borrows the buffer given to stun_msg_decode(), which must outlive it
 * and stay unchanged.  Callers embed it (usually on the stack): decoding never allocates.
 * Attributes after MESSAGE-INTEGRITY are not recorded except MESSAGE-INTEGRITY-SHA256 and
 * FINGERPRINT, and after MESSAGE-INTEGRITY-SHA256 only FINGERPRINT (RFC 8489 §14.5, §14.6). */
struct stun_msg {
    const uint8_t *buf;
    size_t len;         /* whole message, header included */
    uint16_t type;
    uint16_t method;
    enum stun_class cls;
    bool has_cookie;    /* false only for RFC 3489 messages, see STUN_DECODE_ALLOW_3489 */
    uint8_t tid[STUN_TID_LEN];
    uint8_t nattrs;
    uint8_t nunknown;   /* comprehension-required types not in the descriptor table */
    int16_t integrity;  /* index in attrs[] of MESSAGE-INTEGRITY, or -1 */
    int16_t integrity_sha256;
    int16_t fingerprint;
    uint16_t err_attr;  /* on an attribute error: the offending type */
    struct stun_attr attrs[STUN_MAX_ATTRS];
    uint16_t unknown[STUN_MAX_UNKNOWN];
};

/* Decoder flags. */
enum {
    /* Accept a message without the magic cookie (an RFC 3489 client): has_cookie is false and
     * tid holds the last 12 of its 16 transaction-ID bytes. */
    STUN_DECODE_ALLOW_3489 = 1u << 0,
};

/* Decodes and validates a whole message in buf[0..len): header, every attribute's bounds and
 * the length rules of every known attribute, and FINGERPRINT when present.  Unknown
 * comprehension-required types are listed in m->unknown (the message still decodes: answering
 * 420 is the caller's choice).  Returns STUN_OK or a negative enum stun_status; on an attribute
 * error the header fields of *m are valid, so a 400 can be sent. */
int stun_msg_decode(struct stun_msg *m, const uint8_t *buf, size_t len, unsigned flags);

/* Checks only the 20-byte header of buf (first bits, cookie, alignment) and returns the length
 * of the whole message it announces (> 0) or a negative status.  For framing on streams. */
int stun_header_check(const uint8_t *buf, size_t len, unsigned flags);

/* The first attribute of a type, or NULL.  stun_msg_next() returns the one after prev of the
 * same type (for XOR-PEER-ADDRESS and XOR-RELAYED-ADDRESS, which may repeat). */
const struct stun_attr *stun_msg_find(const struct stun_msg *m, uint16_t type);
const struct stun_attr *stun_msg_next(const struct stun_msg *m, const struct stun_attr *prev);

/* The value bytes of an attribute of m. */
static inline const uint8_t *stun_msg_value(const struct stun_msg *m, const struct stun_attr *a)
{
    return m->buf + a->off;
}

/* Typed getters of the first attribute of a type.  Each returns STUN_OK, or STUN_E_ABSENT when
 * the message has no such attribute (nothing else can fail: the decoder validated values). */
int stun_msg_get_addr(const struct stun_msg *m, uint16_t type, union addr *out);
int stun_msg_get_u32(const struct stun_msg *m, uint16_t type, uint32_t *out);
/* Pointer into the message and length; not NUL-terminated. */
int stun_msg_get_bytes(const struct stun_msg *m, uint16_t type, const uint8_t **val,
                       size_t *len);
int stun_msg_get_error(const struct stun_msg *m, int *code, const char **reason,
                       size_t *reason_len);
/* REQUESTED-TRANSPORT protocol, REQUESTED-/ADDITIONAL-ADDRESS-FAMILY family: the first byte. */
int stun_msg_get_u8(const struct stun_msg *m, uint16_t type, uint8_t *out);
/* CHANNEL-NUMBER: the first 16 bits. */
int stun_msg_get_u16(const struct stun_msg *m, uint16_t type, uint16_t *out);

#endif
