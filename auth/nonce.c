/* nonce.c — stateless nonces: the RFC 8489 nonce cookie, then time, salt and a truncated MAC. */
#include "auth/nonce.h"

#include <string.h>

#include "proto/crypto.h"

/* A nonce is 45 characters of the base64 alphabet (no padding, no quote, no backslash, so it
 * is a valid quoted-string for the NONCE attribute, RFC 8489 §14.10):
 *
 *   "obMatJos2"   the nonce cookie (§9.2)
 *   4 characters  the 24 feature bits: 3 bytes, most significant first
 *   32 characters 24 bytes: time (4, big-endian seconds) | salt (6) | MAC (14)
 *
 * MAC = HMAC-SHA256(secret, label | feature bytes | time | salt | family | client IP),
 * truncated to 14 bytes (112 bits).  It covers the feature bits, so a man in the middle who
 * clears them to bid a client down (§9.2.1) turns the nonce invalid.  The port stays out:
 * a browser that retries on a new TCP connection keeps its nonce.  The salt is there because
 * §9.2.4 forbids giving the same nonce to two requests from different ports, which a nonce
 * made only of (time, IP) would do within one second.  Every part is a multiple of 3 bytes,
 * so each string decodes to exactly one byte string: no two spellings of one nonce. */
#define COOKIE        "obMatJos2"
#define COOKIE_LEN    9
#define FEAT_BYTES    3
#define FEAT_CHARS    4
#define TIME_LEN      4
#define SALT_LEN      6
#define MAC_LEN       14
#define BODY_LEN      (TIME_LEN + SALT_LEN + MAC_LEN)
#define BODY_CHARS    (BODY_LEN / 3 * 4)
#define NONCE_LEN     (COOKIE_LEN + FEAT_CHARS + BODY_CHARS)
#define FEATURES_MASK 0xFFFFFFu

/* Domain separation: this secret's MACs mean "a nonce of this format" and nothing else. */
static const char mac_label[] = "turnpike nonce v1";

_Static_assert(BODY_LEN % 3 == 0, "the body must encode without padding");
_Static_assert(NONCE_LEN <= AUTH_NONCE_MAX, "the nonce must fit AUTH_NONCE_MAX");

static void put_be(uint8_t *p, uint32_t v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)(v >> (8 * (n - 1 - i)));
}

static uint32_t get_be(const uint8_t *p, size_t n)
{
    uint32_t v = 0;

    for (size_t i = 0; i < n; i++)
        v = v << 8 | p[i];
    return v;
}

/* The MAC over the features, time and salt (body[0..TIME_LEN + SALT_LEN)) and the client's IP.
 * An IPv4-mapped IPv6 address counts as the IPv4 address it maps, so a client seen through a
 * dual-stack socket and a plain IPv4 one is one client.  Returns 0, or -1 for an address of
 * no family we know or a libcrypto failure. */
static int nonce_mac(const uint8_t secret[AUTH_NONCE_SECRET_LEN], const uint8_t *feat,
                     const uint8_t *body, const union addr *client, uint8_t mac[CRYPTO_MAX_MD])
{
    union addr ip = *client;
    const void *raw;
    size_t rawlen;
    uint8_t family;

    addr_unmap(&ip);
    if (ip.sa.sa_family == AF_INET) {
        raw = &ip.sin.sin_addr;
        rawlen = 4;
        family = 4;
    } else if (ip.sa.sa_family == AF_INET6) {
        raw = &ip.sin6.sin6_addr;
        rawlen = 16;
        family = 6;
    } else {
        return -1;
    }
    const struct crypto_buf parts[] = {
        {mac_label, sizeof mac_label - 1},
        {feat, FEAT_BYTES},
        {body, TIME_LEN + SALT_LEN},
        {&family, 1},
        {raw, rawlen},
    };
    return crypto_hmac(CRYPTO_SHA256, secret, AUTH_NONCE_SECRET_LEN, parts,
                       sizeof parts / sizeof parts[0], mac);
}

int auth_nonce_make(const uint8_t secret[AUTH_NONCE_SECRET_LEN], uint32_t features, uint32_t now,
                    const union addr *client, char *out, size_t cap)
{
    uint8_t feat[FEAT_BYTES], body[BODY_LEN], mac[CRYPTO_MAX_MD];

    if (cap < NONCE_LEN + 1 || (features & ~FEATURES_MASK) != 0)
        return -1;
    put_be(feat, features, FEAT_BYTES);
    put_be(body, now, TIME_LEN);
    if (crypto_random(body + TIME_LEN, SALT_LEN) != 0 ||
        nonce_mac(secret, feat, body, client, mac) != 0)
        return -1;
    memcpy(body + TIME_LEN + SALT_LEN, mac, MAC_LEN);
    memcpy(out, COOKIE, COOKIE_LEN);
    char *p = out + COOKIE_LEN;
    if (crypto_base64_encode(feat, FEAT_BYTES, p, cap - COOKIE_LEN) != FEAT_CHARS)
        return -1;
    p += FEAT_CHARS;
    if (crypto_base64_encode(body, BODY_LEN, p, cap - COOKIE_LEN - FEAT_CHARS) != BODY_CHARS)
        return -1;
    return NONCE_LEN;
}

/* *features is written only for OK and STALE, when the MAC verified: the bits of a nonce we
 * did not make mean nothing. */
enum auth_nonce_status auth_nonce_check(const uint8_t secret[AUTH_NONCE_SECRET_LEN],
                                        const uint8_t *nonce, size_t len, uint32_t now,
                                        uint32_t lifetime, const union addr *client,
                                        uint32_t *features)
{
    const char *s = (const char *)nonce;
    uint8_t feat[FEAT_BYTES], body[BODY_LEN], mac[CRYPTO_MAX_MD];

    if (len != NONCE_LEN || memcmp(s, COOKIE, COOKIE_LEN) != 0)
        return AUTH_NONCE_INVALID;
    if (crypto_base64_decode(s + COOKIE_LEN, FEAT_CHARS, feat, sizeof feat) != FEAT_BYTES ||
        crypto_base64_decode(s + COOKIE_LEN + FEAT_CHARS, BODY_CHARS, body, sizeof body) !=
            BODY_LEN)
        return AUTH_NONCE_INVALID;
    if (nonce_mac(secret, feat, body, client, mac) != 0 ||
        !crypto_equal(mac, body + TIME_LEN + SALT_LEN, MAC_LEN))
        return AUTH_NONCE_INVALID;
    uint32_t made = get_be(body, TIME_LEN);
    /* A time after now is not one we wrote (the secret is ours alone): treat it as forged
     * rather than as fresh, so no nonce can outlive its lifetime. */
    if (made > now)
        return AUTH_NONCE_INVALID;
    if (features != NULL)
        *features = get_be(feat, FEAT_BYTES);
    return now - made > lifetime ? AUTH_NONCE_STALE : AUTH_NONCE_OK;
}
