/* stun_integrity.h — MESSAGE-INTEGRITY(-SHA256), FINGERPRINT, long-term keys and USERHASH. */
#ifndef PROTO_STUN_INTEGRITY_H
#define PROTO_STUN_INTEGRITY_H

#include <stddef.h>
#include <stdint.h>

#include "proto/stun.h"

#define STUN_FINGERPRINT_XOR 0x5354554eu
#define STUN_KEY_MD5_LEN 16
#define STUN_KEY_SHA256_LEN 32
#define STUN_USERHASH_LEN 32

/* CRC-32 (ISO-HDLC, as in zlib) of buf, and the FINGERPRINT value: that CRC xor 0x5354554e. */
uint32_t stun_crc32(const uint8_t *buf, size_t len);
uint32_t stun_fingerprint(const uint8_t *buf, size_t len);

/* Checks MESSAGE-INTEGRITY (HMAC-SHA1) of a decoded message with key: the HMAC covers the
 * message up to the attribute, with the header's length field set to end just after it
 * (RFC 8489 §14.5), computed over a copy of the header.  Returns STUN_OK,
 * STUN_E_NO_INTEGRITY or STUN_E_INTEGRITY.  Comparison is constant-time. */
int stun_check_integrity(const struct stun_msg *m, const uint8_t *key, size_t keylen);

/* The same for MESSAGE-INTEGRITY-SHA256 (HMAC-SHA256, possibly truncated to 16..32 bytes). */
int stun_check_integrity_sha256(const struct stun_msg *m, const uint8_t *key, size_t keylen);

/* Long-term credential keys (RFC 8489 §9.2.2): MD5 or SHA-256 of "user:realm:password".
 * out receives 16 or 32 bytes.  Returns 0 or STUN_E_CRYPTO. */
int stun_key_md5(const char *user, const char *realm, const char *password,
                 uint8_t out[STUN_KEY_MD5_LEN]);
int stun_key_sha256(const char *user, const char *realm, const char *password,
                    uint8_t out[STUN_KEY_SHA256_LEN]);

/* USERHASH (RFC 8489 §14.4): SHA-256 of "user:realm". */
int stun_userhash(const char *user, const char *realm, uint8_t out[STUN_USERHASH_LEN]);

#endif
