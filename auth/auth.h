/* auth.h — RFC 8489 §9.2 long-term credential checks on a request, and signing the answer. */
#ifndef AUTH_AUTH_H
#define AUTH_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "auth/nonce.h"
#include "auth/store.h"
#include "proto/stun.h"
#include "proto/stun_build.h"

/* What a server authenticates with.  Immutable after set-up; shared by every worker. */
struct auth {
    struct auth_store *store;
    const char *realm;
    uint8_t nonce_secret[AUTH_NONCE_SECRET_LEN];
    uint32_t nonce_lifetime;  /* --stale-nonce seconds */
    bool sha256;              /* offer SHA-256 in PASSWORD-ALGORITHMS (RFC 8489) */
    bool external_users;      /* users also live where USERHASH cannot find them (Redis) */
};

/* The state of one request's authentication, from auth_begin() to auth_sign(). */
struct auth_req {
    int code;                 /* 0 while fine; else the error to answer (400, 401, 438, 441) */
    const char *reason;       /* a reason phrase for code, or NULL for the RFC's */
    bool challenge;           /* the error answer carries REALM, NONCE, PASSWORD-ALGORITHMS */
    uint16_t pwalg;           /* STUN_PWALG_MD5 or STUN_PWALG_SHA256 */
    bool sha256_mi;           /* the request used MESSAGE-INTEGRITY-SHA256 */
    char user[STUN_MAX_USERNAME + 1]; /* the user, NUL-terminated (found by USERHASH too) */
    size_t user_len;
    uint8_t key[STUN_KEY_SHA256_LEN]; /* the key that verified the request */
    size_t key_len;
};

/* First half: checks what needs no key — an integrity attribute is there (else 401 with a
 * challenge), USERNAME or USERHASH, REALM and NONCE are there (else 400), the realm is realm
 * (NULL: a->realm; else 401), the nonce is ours and fresh (else 438), and
 * PASSWORD-ALGORITHM(S) agree with what the nonce advertised (else 400).  Fills r->user.
 * Returns 0 when the caller should now look up r->user's keys in realm, or -1 with r->code
 * set. */
int auth_begin(const struct auth *a, const char *realm, const struct stun_msg *m,
               const union addr *client, uint32_t now, struct auth_req *r);

/* Second half: verifies the request's integrity with each candidate key (of the algorithm
 * r->pwalg), keeping the first that matches in r->key.  No key, or none matching: 401 with a
 * challenge.  Returns 0 or -1 with r->code set. */
int auth_finish(const struct auth *a, const struct stun_msg *m, const struct auth_key *keys,
                size_t nkeys, struct auth_req *r);

/* auth_finish's check alone: true (with r->key set) when one of the keys verifies m; r is
 * otherwise untouched, so that keys from another store may be tried next. */
bool auth_check(const struct stun_msg *m, const struct auth_key *keys, size_t nkeys,
                struct auth_req *r);

/* Appends REALM (realm, or a->realm when NULL), a fresh NONCE and (when SHA-256 is offered)
 * PASSWORD-ALGORITHMS: the challenge of a 401 or 438 answer. */
void auth_challenge(const struct auth *a, const char *realm, struct stun_builder *b,
                    const union addr *client, uint32_t now);

/* Appends the integrity attribute the request used (MESSAGE-INTEGRITY or -SHA256) with the
 * verified key.  Call after every other attribute but FINGERPRINT. */
void auth_sign(const struct auth_req *r, struct stun_builder *b);

#endif
