/* auth.c — RFC 8489 §9.2.4 checks of a request, the 401/438 challenge, and signing the answer. */
#include "auth/auth.h"

#include <string.h>

#include "proto/stun_attr.h"
#include "proto/stun_integrity.h"

/* PASSWORD-ALGORITHMS as every challenge of ours carries it (RFC 8489 §14.11): SHA-256, then
 * MD5, each with no parameters.  Preference order: a client takes the first it supports
 * (§9.2.5), so SHA-256 first means an RFC 8489 client uses the stronger key.  A request must
 * send these bytes back unchanged (§9.2.4): that is how a stripped or reordered list is seen. */
static const uint8_t offered_algs[8] = {
    0x00, 0x02, 0x00, 0x00, /* SHA-256, no parameters */
    0x00, 0x01, 0x00, 0x00, /* MD5, no parameters */
};
#define ALG_ENTRY_LEN 4

static int fail(struct auth_req *r, int code, const char *reason, bool challenge)
{
    r->code = code;
    r->reason = reason;
    r->challenge = challenge;
    return -1;
}

/* The PASSWORD-ALGORITHM(S) rules of §9.2.4 for the features the nonce carried.  Sets
 * r->pwalg, or fails with 400.  Neither attribute: MD5, the key of an RFC 5389 client (and of
 * a browser that ignores the offer).  Either attribute when the nonce offered no algorithms:
 * the client answers an offer we never made, which is malformed. */
static int check_algorithms(const struct stun_msg *m, uint32_t features, struct auth_req *r)
{
    const uint8_t *algs, *alg;
    size_t algs_len, alg_len;
    bool has_algs =
        stun_msg_get_bytes(m, STUN_ATTR_PASSWORD_ALGORITHMS, &algs, &algs_len) == STUN_OK;
    bool has_alg = stun_msg_get_bytes(m, STUN_ATTR_PASSWORD_ALGORITHM, &alg, &alg_len) == STUN_OK;

    r->pwalg = STUN_PWALG_MD5;
    if (!has_algs && !has_alg)
        return 0;
    if ((features & AUTH_FEATURE_PASSWORD_ALGORITHMS) == 0)
        return fail(r, 400, "No password algorithms were offered", false);
    if (!has_algs || !has_alg)
        return fail(r, 400, "PASSWORD-ALGORITHM and PASSWORD-ALGORITHMS go together", false);
    if (algs_len != sizeof offered_algs || memcmp(algs, offered_algs, algs_len) != 0)
        return fail(r, 400, "PASSWORD-ALGORITHMS differs from the offer", false);
    for (size_t i = 0; i < sizeof offered_algs; i += ALG_ENTRY_LEN) {
        if (alg_len == ALG_ENTRY_LEN && memcmp(alg, offered_algs + i, ALG_ENTRY_LEN) == 0) {
            r->pwalg = (uint16_t)(alg[0] << 8 | alg[1]);
            return 0;
        }
    }
    return fail(r, 400, "PASSWORD-ALGORITHM was not offered", false);
}

/* r->user from USERNAME, or from USERHASH through the store (USERNAME wins when a request
 * carries both).  An unknown USERHASH is an invalid user: 401 (§9.2.4). */
static int find_user(const struct auth *a, const struct stun_msg *m, struct auth_req *r)
{
    const uint8_t *name;
    size_t len;

    if (stun_msg_get_bytes(m, STUN_ATTR_USERNAME, &name, &len) == STUN_OK) {
        if (len > STUN_MAX_USERNAME)
            return fail(r, 400, "USERNAME too long", false);
        memcpy(r->user, name, len);
        r->user[len] = '\0';
        r->user_len = len;
        return 0;
    }
    const struct stun_attr *hash = stun_msg_find(m, STUN_ATTR_USERHASH);
    int n =
        hash != NULL && hash->len == STUN_USERHASH_LEN
            ? auth_store_find_userhash(a->store, stun_msg_value(m, hash), r->user, sizeof r->user)
            : -1;
    if (n < 0)
        return fail(r, 401, NULL, true);
    r->user_len = (size_t)n;
    return 0;
}

/* The checks run in §9.2.4's order, but for the nonce, which is checked before the algorithms
 * and the user (RFC 5389 §10.2.2's place for it): the features the algorithm rules depend on
 * are trusted only once the nonce's MAC verified, and a stale or forged nonce then costs no
 * store lookup.  Every failure only fills r: nothing is allocated, nothing is remembered. */
int auth_begin(const struct auth *a, const char *realm_of, const struct stun_msg *m,
               const union addr *client, uint32_t now, struct auth_req *r)
{
    const char *ours = realm_of ? realm_of : a->realm;
    const uint8_t *realm, *nonce;
    size_t realm_len, nonce_len;
    uint32_t features = 0;

    memset(r, 0, sizeof *r);
    r->pwalg = STUN_PWALG_MD5;
    if (m->integrity < 0 && m->integrity_sha256 < 0)
        return fail(r, 401, NULL, true);
    if (stun_msg_find(m, STUN_ATTR_USERNAME) == NULL &&
        stun_msg_find(m, STUN_ATTR_USERHASH) == NULL)
        return fail(r, 400, "Missing USERNAME or USERHASH", false);
    if (stun_msg_get_bytes(m, STUN_ATTR_REALM, &realm, &realm_len) != STUN_OK)
        return fail(r, 400, "Missing REALM", false);
    if (stun_msg_get_bytes(m, STUN_ATTR_NONCE, &nonce, &nonce_len) != STUN_OK)
        return fail(r, 400, "Missing NONCE", false);
    /* A realm not ours: the client picked credentials for another server; tell it ours. */
    if (realm_len != strlen(ours) || memcmp(realm, ours, realm_len) != 0)
        return fail(r, 401, NULL, true);
    if (auth_nonce_check(a->nonce_secret, nonce, nonce_len, now, a->nonce_lifetime, client,
                         &features) != AUTH_NONCE_OK)
        return fail(r, 438, NULL, true);
    if (check_algorithms(m, features, r) != 0)
        return -1;
    return find_user(a, m, r);
}

static bool key_for(const struct auth_key *k, uint16_t pwalg, const uint8_t **key, size_t *len)
{
    if (pwalg == STUN_PWALG_SHA256 && k->has_sha256) {
        *key = k->sha256;
        *len = sizeof k->sha256;
        return true;
    }
    if (pwalg == STUN_PWALG_MD5 && k->has_md5) {
        *key = k->md5;
        *len = sizeof k->md5;
        return true;
    }
    return false;
}

/* MESSAGE-INTEGRITY-SHA256 is the one checked when both are present (§9.2.4); MESSAGE-
 * INTEGRITY then proves nothing more. */
bool auth_check(const struct stun_msg *m, const struct auth_key *keys, size_t nkeys,
                struct auth_req *r)
{
    bool sha256_mi = m->integrity_sha256 >= 0;

    if (r->code != 0)
        return false;
    for (size_t i = 0; i < nkeys; i++) {
        const uint8_t *key;
        size_t len;
        if (!key_for(&keys[i], r->pwalg, &key, &len))
            continue;
        int rc = sha256_mi ? stun_check_integrity_sha256(m, key, len)
                           : stun_check_integrity(m, key, len);
        if (rc == STUN_OK) {
            r->sha256_mi = sha256_mi;
            memcpy(r->key, key, len);
            r->key_len = len;
            return true;
        }
    }
    return false;
}

int auth_finish(const struct auth *a, const struct stun_msg *m, const struct auth_key *keys,
                size_t nkeys, struct auth_req *r)
{
    (void)a;
    if (r->code != 0)
        return -1;
    if (auth_check(m, keys, nkeys, r))
        return 0;
    r->sha256_mi = m->integrity_sha256 >= 0;
    return fail(r, 401, NULL, true);
}

/* The nonce always starts with the cookie, all-zero bits when nothing is offered: §9.2 asks
 * it of every RFC 8489 server, an RFC 5389 client treats the nonce as opaque, and an RFC 8489
 * client reads zero bits as "MD5 and USERNAME", as it would read no cookie at all.  Username
 * anonymity is offered only when every user can be found by USERHASH: a client told of it
 * MUST send USERHASH (§9.2.5), and neither REST names nor Redis users can be found that way. */
void auth_challenge(const struct auth *a, const char *realm, struct stun_builder *b,
                    const union addr *client, uint32_t now)
{
    char nonce[AUTH_NONCE_MAX + 1];
    uint32_t features = 0;

    if (a->sha256) {
        features |= AUTH_FEATURE_PASSWORD_ALGORITHMS;
        if (!a->external_users && !auth_store_has_secrets(a->store))
            features |= AUTH_FEATURE_USERNAME_ANONYMITY;
    }
    stun_build_str(b, STUN_ATTR_REALM, realm ? realm : a->realm);
    if (auth_nonce_make(a->nonce_secret, features, now, client, nonce, sizeof nonce) < 0) {
        /* The builder's error is sticky: the answer will not be sent half made. */
        if (b->err == 0)
            b->err = STUN_E_CRYPTO;
        return;
    }
    stun_build_str(b, STUN_ATTR_NONCE, nonce);
    if (a->sha256)
        stun_build_attr(b, STUN_ATTR_PASSWORD_ALGORITHMS, offered_algs, sizeof offered_algs);
}

void auth_sign(const struct auth_req *r, struct stun_builder *b)
{
    if (r->sha256_mi)
        stun_build_integrity_sha256(b, r->key, r->key_len);
    else
        stun_build_integrity(b, r->key, r->key_len);
}
