/* stun_build.h — building STUN messages into a caller's buffer, integrity and fingerprint last. */
#ifndef PROTO_STUN_BUILD_H
#define PROTO_STUN_BUILD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/addr.h"
#include "proto/stun.h"

/* A builder appends attributes to a message in a buffer the caller owns.  Errors are sticky:
 * once an append does not fit, later calls do nothing and stun_build_end() reports
 * STUN_E_NOSPACE, so a handler can append a run of attributes and check once.  The length
 * field is kept current after every append.  Padding bytes are written as zero. */
struct stun_builder {
    uint8_t *buf;
    size_t cap;
    size_t len;
    int err;
    bool integrity; /* a MESSAGE-INTEGRITY(-SHA256) is in: only FINGERPRINT may follow */
};

/* Starts a message of the given type with the magic cookie and tid in buf (capacity cap). */
void stun_build_start(struct stun_builder *b, uint8_t *buf, size_t cap, uint16_t type,
                      const uint8_t tid[STUN_TID_LEN]);

/* Starts a response (success or error class) to request m, with the same method and tid.
 * For an RFC 3489 request (no cookie) the 16-byte transaction ID is copied back as it was. */
void stun_build_response(struct stun_builder *b, uint8_t *buf, size_t cap,
                         const struct stun_msg *m, enum stun_class cls);

/* Appends an attribute with value val[0..len); val may be NULL when len is 0. */
void stun_build_attr(struct stun_builder *b, uint16_t type, const void *val, size_t len);

/* Appends a 32-bit value (LIFETIME, CONNECTION-ID, ...). */
void stun_build_u32(struct stun_builder *b, uint16_t type, uint32_t v);

/* Appends a one-byte value followed by three zero bytes (REQUESTED-TRANSPORT,
 * REQUESTED-ADDRESS-FAMILY, ADDITIONAL-ADDRESS-FAMILY), or a 16-bit one followed by two zero
 * bytes (CHANNEL-NUMBER, RESPONSE-PORT). */
void stun_build_u8(struct stun_builder *b, uint16_t type, uint8_t v);
void stun_build_u16(struct stun_builder *b, uint16_t type, uint16_t v);

/* Appends a NUL-terminated string value (USERNAME, REALM, NONCE, SOFTWARE). */
void stun_build_str(struct stun_builder *b, uint16_t type, const char *s);

/* Appends an address; XORed when the type's descriptor is an XOR address. */
void stun_build_addr(struct stun_builder *b, uint16_t type, const union addr *a);

/* Appends ERROR-CODE; reason NULL means the RFC phrase for code. */
void stun_build_error(struct stun_builder *b, int code, const char *reason);

/* Appends ADDRESS-ERROR-CODE (RFC 8656 §18.12) for an address family (STUN_FAMILY_*) as type
 * STUN_ATTR_ADDRESS_ERROR_CODE, or as its draft codepoint for a client that spoke the draft. */
void stun_build_address_error(struct stun_builder *b, uint16_t type, uint8_t family, int code,
                              const char *reason);

/* Appends UNKNOWN-ATTRIBUTES listing n types. */
void stun_build_unknown(struct stun_builder *b, const uint16_t *types, size_t n);

/* Appends MESSAGE-INTEGRITY (HMAC-SHA1) or MESSAGE-INTEGRITY-SHA256 (full 32 bytes) computed
 * with key over everything before it, the length field covering the attribute itself. */
void stun_build_integrity(struct stun_builder *b, const uint8_t *key, size_t keylen);
void stun_build_integrity_sha256(struct stun_builder *b, const uint8_t *key, size_t keylen);

/* Appends FINGERPRINT; must be the last append. */
void stun_build_fingerprint(struct stun_builder *b);

/* Returns 0 and sets *len to the message length, or the sticky error. */
int stun_build_end(struct stun_builder *b, size_t *len);

#endif
