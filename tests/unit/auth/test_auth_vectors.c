/* test_auth_vectors.c — the RFC 5769 §2.4 and RFC 8489 B.1 requests through auth/. */
#include <string.h>

#include "auth/auth.h"
#include "proto/stun_integrity.h"
#include "tests/lib/check.h"
#include "tests/lib/stun_vectors.h"

#define NOW      1700000000u
#define LIFETIME 600u

/* RFC 5769 §2.4: its nonce is not ours (auth_begin says 438), but auth_finish verifies it with
 * the key the store derives for the vector's user. */
static void test_rfc5769_long_term_vector(void)
{
    struct auth_store *s = NULL;
    struct auth a = {.realm = VEC_REALM, .nonce_lifetime = LIFETIME};
    struct auth_key keys[AUTH_MAX_KEYS];
    uint8_t want[STUN_KEY_MD5_LEN];
    struct stun_msg m;
    struct auth_req r;
    union addr client;

    CHECK_INT(addr_parse(&client, "192.0.2.1", 0), 0);
    CHECK_INT(auth_store_new(&s, VEC_REALM), 0);
    CHECK_INT(auth_store_add_user(s, VEC_USER ":" VEC_PASSWORD, NULL, 0), 0);
    a.store = s;
    if (!CHECK_INT(stun_msg_decode(&m, vec_rfc5769_longterm, sizeof vec_rfc5769_longterm, 0), 0))
        goto out;
    CHECK_INT(auth_nonce_check(a.nonce_secret, (const uint8_t *)VEC_NONCE_5769,
                               strlen(VEC_NONCE_5769), NOW, LIFETIME, &client, NULL),
              AUTH_NONCE_INVALID);
    CHECK_INT(auth_begin(&a, NULL, &m, &client, NOW, &r), -1);
    CHECK_INT(r.code, 438);

    memset(&r, 0, sizeof r);
    r.pwalg = STUN_PWALG_MD5;
    int n = auth_store_lookup(s, (const uint8_t *)VEC_USER, strlen(VEC_USER), NOW, keys, 8);
    if (!CHECK_INT(n, 1))
        goto out;
    CHECK_INT(auth_finish(&a, &m, keys, 1, &r), 0);
    CHECK_INT(r.sha256_mi, 0);
    CHECK_INT(stun_key_md5(VEC_USER, VEC_REALM, VEC_PASSWORD, want), STUN_OK);
    if (CHECK_INT(r.key_len, sizeof want))
        CHECK_MEM(r.key, want, sizeof want);
    /* With the password before SASLprep, the key differs and the vector fails. */
    CHECK_INT(auth_store_add_user(s, VEC_USER ":" VEC_PASSWORD_RAW, NULL, 0), 0);
    n = auth_store_lookup(s, (const uint8_t *)VEC_USER, strlen(VEC_USER), NOW, keys, 8);
    memset(&r, 0, sizeof r);
    CHECK_INT(auth_finish(&a, &m, keys, (size_t)n, &r), -1);
    CHECK_INT(r.code, 401);
out:
    auth_store_free(s);
}

/* RFC 8489 B.1 (erratum 6268): its USERHASH finds the vector's user in the store, and
 * auth_finish verifies its MESSAGE-INTEGRITY-SHA256 with the user's SHA-256 key. */
static void test_rfc8489_b1_vector(void)
{
    struct auth_store *s = NULL;
    struct auth a = {.realm = VEC_REALM, .nonce_lifetime = LIFETIME, .sha256 = true};
    struct auth_key keys[AUTH_MAX_KEYS];
    struct stun_msg m;
    struct auth_req r;
    union addr client;
    char name[64];
    const uint8_t *hash;
    size_t len;

    CHECK_INT(addr_parse(&client, "192.0.2.1", 0), 0);
    CHECK_INT(auth_store_new(&s, VEC_REALM), 0);
    CHECK_INT(auth_store_add_user(s, VEC_USER ":" VEC_PASSWORD, NULL, 0), 0);
    a.store = s;
    if (!CHECK_INT(stun_msg_decode(&m, vec_rfc8489_b1, sizeof vec_rfc8489_b1, 0), 0) ||
        !CHECK_INT(stun_msg_get_bytes(&m, STUN_ATTR_USERHASH, &hash, &len), 0))
        goto out;
    CHECK_INT(auth_store_find_userhash(s, hash, name, sizeof name), strlen(VEC_USER));
    CHECK_STR(name, VEC_USER);
    CHECK_INT(auth_begin(&a, NULL, &m, &client, NOW, &r), -1);
    CHECK_INT(r.code, 438); /* a cookie, but not our MAC */

    memset(&r, 0, sizeof r);
    r.pwalg = STUN_PWALG_SHA256;
    int n = auth_store_lookup(s, (const uint8_t *)name, strlen(name), NOW, keys, 8);
    CHECK_INT(auth_finish(&a, &m, keys, (size_t)n, &r), 0);
    CHECK_INT(r.sha256_mi, 1);
    CHECK_INT(r.key_len, STUN_KEY_SHA256_LEN);
    /* The same request read as MD5: no match. */
    memset(&r, 0, sizeof r);
    r.pwalg = STUN_PWALG_MD5;
    CHECK_INT(auth_finish(&a, &m, keys, (size_t)n, &r), -1);
out:
    auth_store_free(s);
}

int main(void)
{
    RUN(test_rfc5769_long_term_vector);
    RUN(test_rfc8489_b1_vector);
    return check_summary();
}
