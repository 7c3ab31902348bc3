/* rest.c — TURN REST API ephemeral credentials: the expiry in the name, keys from the secrets. */
#include "auth/rest.h"

#include <string.h>

#include "proto/crypto.h"

/* Most decimal digits of a REST expiry: 19 always fit in 64 bits. */
#define MAX_EXPIRY_DIGITS 19

bool auth_rest_expiry(const char *name, size_t len, char sep, uint64_t *expiry)
{
    const char *end = memchr(name, sep, len);
    size_t n = end != NULL ? (size_t)(end - name) : len;
    uint64_t v = 0;

    if (n == 0 || n > MAX_EXPIRY_DIGITS)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (name[i] < '0' || name[i] > '9')
            return false;
        v = v * 10 + (uint64_t)(name[i] - '0');
    }
    *expiry = v;
    return true;
}

/* draft-uberti-behave-turn-rest §2.2: password = base64(HMAC-SHA1(secret, name)); the keys
 * are then made from it as from any password. */
static bool rest_key(const char *secret, const char *name, const char *realm, struct auth_key *k)
{
    uint8_t mac[20];
    char password[4 * ((sizeof mac + 2) / 3) + 1];
    const struct crypto_buf part = {name, strlen(name)};

    bool ok =
        crypto_hmac(CRYPTO_SHA1, (const uint8_t *)secret, strlen(secret), &part, 1, mac) == 0 &&
        crypto_base64_encode(mac, sizeof mac, password, sizeof password) > 0 &&
        auth_key_from_password(k, name, realm, password);

    if (!ok)
        k->has_md5 = k->has_sha256 = false;
    explicit_bzero(mac, sizeof mac);
    explicit_bzero(password, sizeof password);
    return ok;
}

size_t auth_rest_keys(const char *const *secrets, size_t nsecrets, const char *name,
                      const char *realm, char sep, uint32_t now, struct auth_key *keys,
                      size_t max)
{
    uint64_t expiry;
    size_t n = 0;

    if (nsecrets == 0 || !auth_rest_expiry(name, strlen(name), sep, &expiry) || expiry < now)
        return 0;
    for (size_t i = 0; i < nsecrets && n < max; i++) {
        if (rest_key(secrets[i], name, realm, &keys[n]))
            n++;
    }
    return n;
}
