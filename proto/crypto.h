/* crypto.h — the one wrapper around libcrypto: HMAC, digests, random bytes, base64. */
#ifndef PROTO_CRYPTO_H
#define PROTO_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

enum crypto_alg { CRYPTO_MD5, CRYPTO_SHA1, CRYPTO_SHA256 };

#define CRYPTO_MAX_MD 32

/* A piece of the input to a digest or MAC: the input is the pieces concatenated. */
struct crypto_buf {
    const void *p;
    size_t n;
};

/* Output length of an algorithm: 16, 20 or 32. */
size_t crypto_md_len(enum crypto_alg alg);

/* HMAC(alg, key) over the pieces; writes crypto_md_len(alg) bytes to out.  0 or -1. */
int crypto_hmac(enum crypto_alg alg, const uint8_t *key, size_t keylen,
                const struct crypto_buf *parts, size_t nparts, uint8_t *out);

/* Digest over the pieces; writes crypto_md_len(alg) bytes to out.  0 or -1. */
int crypto_digest(enum crypto_alg alg, const struct crypto_buf *parts, size_t nparts,
                  uint8_t *out);

/* Constant-time equality of n bytes: 1 when equal. */
int crypto_equal(const void *a, const void *b, size_t n);

/* Fills buf with n cryptographically random bytes.  0 or -1. */
int crypto_random(void *buf, size_t n);

/* Standard base64 with padding.  crypto_base64_encode writes a NUL-terminated string into out
 * (capacity cap, at least 4 * ((n + 2) / 3) + 1) and returns its length or -1.
 * crypto_base64_decode returns the decoded length or -1 on bad input or small cap. */
int crypto_base64_encode(const uint8_t *in, size_t n, char *out, size_t cap);
int crypto_base64_decode(const char *in, size_t n, uint8_t *out, size_t cap);

#endif
