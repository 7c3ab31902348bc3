/* nonce.h — stateless nonces: a timestamp and a MAC over it and the client's IP (RFC 8489 §9.2). */
#ifndef AUTH_NONCE_H
#define AUTH_NONCE_H

#include <stddef.h>
#include <stdint.h>

#include "proto/addr.h"

#define AUTH_NONCE_SECRET_LEN 32
/* Longest nonce auth_nonce_make() writes, NUL excluded. */
#define AUTH_NONCE_MAX 63

/* The nonce cookie "obMatJos2" announces RFC 8489 security features (§9.2); these are its
 * bits as a 24-bit value, sent as 3 bytes, most significant byte first.  Bit N is 1 << N:
 * verified erratum 6290 numbers the bits from the least significant end (the published §9.2
 * text said the opposite), which is what the RFC's own Appendix B.1 nonce "obMatJos2AAAC"
 * (username anonymity) shows. */
enum {
    AUTH_FEATURE_PASSWORD_ALGORITHMS = 1u << 0, /* bit 0 */
    AUTH_FEATURE_USERNAME_ANONYMITY = 1u << 1,  /* bit 1 */
};

enum auth_nonce_status {
    AUTH_NONCE_OK = 0,
    AUTH_NONCE_STALE = -1,   /* ours, but older than the lifetime: answer 438 */
    AUTH_NONCE_INVALID = -2, /* not ours (forged, another server, another client IP): 438 */
};

/* Writes a NUL-terminated nonce for a client IP at time now (seconds) into out (capacity at
 * least AUTH_NONCE_MAX + 1): the nonce cookie with the feature bits, then the time and a
 * truncated HMAC-SHA256 over (time, client IP) keyed by secret, in printable characters.
 * The server keeps no state for it.  Returns the length, or -1. */
int auth_nonce_make(const uint8_t secret[AUTH_NONCE_SECRET_LEN], uint32_t features,
                    uint32_t now, const union addr *client, char *out, size_t cap);

/* Checks a nonce a client sent back: made by auth_nonce_make with this secret for this
 * client IP, and at most lifetime seconds old (a time in the future is invalid).  The MAC is
 * compared in constant time.  *features gets the bits it carried when not NULL. */
enum auth_nonce_status auth_nonce_check(const uint8_t secret[AUTH_NONCE_SECRET_LEN],
                                        const uint8_t *nonce, size_t len, uint32_t now,
                                        uint32_t lifetime, const union addr *client,
                                        uint32_t *features);

#endif
