/* stun_attr.h — STUN/TURN attribute numbers, the attribute descriptor table, value codecs. */
#ifndef PROTO_STUN_ATTR_H
#define PROTO_STUN_ATTR_H

#include <stddef.h>
#include <stdint.h>

#include "proto/addr.h"

/* Attribute types (RFC 8489 §18.3, RFC 8656 §18, RFC 6062, RFC 5780, RFC 8016, RFC 7635,
 * RFC 8445).  Types below 0x8000 are comprehension-required. */
enum {
    STUN_ATTR_MAPPED_ADDRESS = 0x0001,
    STUN_ATTR_CHANGE_REQUEST = 0x0003,
    STUN_ATTR_USERNAME = 0x0006,
    STUN_ATTR_MESSAGE_INTEGRITY = 0x0008,
    STUN_ATTR_ERROR_CODE = 0x0009,
    STUN_ATTR_UNKNOWN_ATTRIBUTES = 0x000A,
    STUN_ATTR_CHANNEL_NUMBER = 0x000C,
    STUN_ATTR_LIFETIME = 0x000D,
    STUN_ATTR_XOR_PEER_ADDRESS = 0x0012,
    STUN_ATTR_DATA = 0x0013,
    STUN_ATTR_REALM = 0x0014,
    STUN_ATTR_NONCE = 0x0015,
    STUN_ATTR_XOR_RELAYED_ADDRESS = 0x0016,
    STUN_ATTR_REQUESTED_ADDRESS_FAMILY = 0x0017,
    STUN_ATTR_EVEN_PORT = 0x0018,
    STUN_ATTR_REQUESTED_TRANSPORT = 0x0019,
    STUN_ATTR_DONT_FRAGMENT = 0x001A,
    STUN_ATTR_ACCESS_TOKEN = 0x001B,
    STUN_ATTR_MESSAGE_INTEGRITY_SHA256 = 0x001C,
    STUN_ATTR_PASSWORD_ALGORITHM = 0x001D,
    STUN_ATTR_USERHASH = 0x001E,
    STUN_ATTR_XOR_MAPPED_ADDRESS = 0x0020,
    STUN_ATTR_RESERVATION_TOKEN = 0x0022,
    STUN_ATTR_PRIORITY = 0x0024,
    STUN_ATTR_USE_CANDIDATE = 0x0025,
    STUN_ATTR_PADDING = 0x0026,
    STUN_ATTR_RESPONSE_PORT = 0x0027,
    STUN_ATTR_CONNECTION_ID = 0x002A,
    STUN_ATTR_ADDITIONAL_ADDRESS_FAMILY = 0x8000,
    STUN_ATTR_ADDRESS_ERROR_CODE = 0x8001,
    STUN_ATTR_PASSWORD_ALGORITHMS = 0x8002,
    STUN_ATTR_ALTERNATE_DOMAIN = 0x8003,
    STUN_ATTR_ICMP = 0x8004,
    STUN_ATTR_SOFTWARE = 0x8022,
    STUN_ATTR_ALTERNATE_SERVER = 0x8023,
    STUN_ATTR_TRANSACTION_TRANSMIT_COUNTER = 0x8025,
    STUN_ATTR_CACHE_TIMEOUT = 0x8027,
    STUN_ATTR_FINGERPRINT = 0x8028,
    STUN_ATTR_ICE_CONTROLLED = 0x8029,
    STUN_ATTR_ICE_CONTROLLING = 0x802A,
    STUN_ATTR_RESPONSE_ORIGIN = 0x802B,
    STUN_ATTR_OTHER_ADDRESS = 0x802C,
    STUN_ATTR_ORIGIN = 0x802F,
    STUN_ATTR_MOBILITY_TICKET = 0x8030,
    /* The codepoints of draft-ietf-tram-turnbis, before IANA gave 0x8000 and 0x8001: coturn
     * 4.x clients still send ADDITIONAL-ADDRESS-FAMILY as 0x8032 and read ADDRESS-ERROR-CODE
     * as 0x8033, so a server that wants their dual allocations accepts both numbers. */
    STUN_ATTR_ADDITIONAL_ADDRESS_FAMILY_DRAFT = 0x8032,
    STUN_ATTR_ADDRESS_ERROR_CODE_DRAFT = 0x8033,
};

/* Address family codes inside address attributes and REQUESTED-ADDRESS-FAMILY. */
enum { STUN_FAMILY_IPV4 = 0x01, STUN_FAMILY_IPV6 = 0x02 };

/* PASSWORD-ALGORITHM numbers (RFC 8489 §18.5). */
enum { STUN_PWALG_MD5 = 0x0001, STUN_PWALG_SHA256 = 0x0002 };

/* REQUESTED-TRANSPORT protocol numbers. */
enum { STUN_TRANSPORT_TCP = 6, STUN_TRANSPORT_UDP = 17 };

/* Longest USERNAME value accepted; longest REALM, NONCE, SOFTWARE and reason phrase (763 bytes,
 * i.e. 127 characters of up to 6 bytes).  A sender keeps USERNAME under 509 bytes, but RFC 8489
 * §14.3 says a receiver MUST parse up to 763 for RFC 5389 compatibility. */
#define STUN_MAX_USERNAME 763
#define STUN_MAX_TEXT 763

/* How the decoder checks an attribute's value and how its value is read. */
enum stun_attr_kind {
    STUN_KIND_OPAQUE,    /* bytes, length within [min_len, max_len] */
    STUN_KIND_ADDR,      /* family, port, IP: 8 or 20 bytes, family 1 or 2 */
    STUN_KIND_XOR_ADDR,  /* the same, XORed with the cookie and transaction ID */
    STUN_KIND_U32,       /* exactly 4 bytes */
    STUN_KIND_ERROR,     /* ERROR-CODE layout: class 3..6, number 0..99, reason */
    STUN_KIND_ADDR_ERROR,/* ADDRESS-ERROR-CODE: family, class, number, reason */
    STUN_KIND_UNKNOWN,   /* list of 16-bit types */
    STUN_KIND_PWALGS,    /* PASSWORD-ALGORITHM(S): (algorithm, length, params) entries */
};

/* One row of the descriptor table.  The decoder rejects a known attribute whose value breaks
 * the row's rules; multiple_ok marks types that may appear more than once and all count
 * (XOR-PEER-ADDRESS, XOR-RELAYED-ADDRESS); for the others only the first one counts. */
struct stun_attr_desc {
    uint16_t type;
    const char *name;
    enum stun_attr_kind kind;
    uint16_t min_len;
    uint16_t max_len;
    uint8_t len_multiple; /* value length must be a multiple of this (0 or 1: any) */
    uint8_t multiple_ok;
};

/* The descriptor for a type, or NULL for a type we do not know. */
const struct stun_attr_desc *stun_attr_desc(uint16_t type);

/* Checks the value val[0..len) of an attribute against its descriptor row: length bounds and
 * multiple, then the layout its kind implies (address family, error class and number,
 * algorithm entries).  Returns 0, STUN_E_ATTR_LEN or STUN_E_ATTR_VALUE. */
int stun_attr_check(const struct stun_attr_desc *d, const uint8_t *val, size_t len);

/* Name of a type ("XOR-MAPPED-ADDRESS"), or "unknown". */
const char *stun_attr_name(uint16_t type);

/* True when a type below 0x8000 must be understood by the receiver. */
static inline int stun_attr_is_required(uint16_t type) { return type < 0x8000; }

/* Address values.  tid is the 12-byte transaction ID (needed for XORed IPv6 addresses).
 * stun_addr_decode returns 0 or STUN_E_ATTR_VALUE; stun_addr_encode writes 8 or 20 bytes into
 * out (capacity cap) and returns the length written, or STUN_E_NOSPACE. */
int stun_addr_decode(const uint8_t *val, size_t len, int xored, const uint8_t *tid,
                     union addr *out);
int stun_addr_encode(uint8_t *out, size_t cap, const union addr *a, int xored,
                     const uint8_t *tid);

/* ERROR-CODE values: code = class * 100 + number.  *reason points into val (not terminated). */
int stun_error_decode(const uint8_t *val, size_t len, int *code, const char **reason,
                      size_t *reason_len);

/* The RFC reason phrase for a code ("Stale Nonce"), or "Error" for a code we do not name. */
const char *stun_reason_phrase(int code);

#endif
