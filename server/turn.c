/* turn.c — a TURN request's way through the server: authentication, relay/, signed answer. */
#include "server/turn.h"

#include <string.h>
#include <time.h>

#include "auth/auth.h"
#include "server/dispatch.h"
#include "server/log.h"
#include "server/ratelimit.h"
#include "server/rstore.h"
#include "server/tcppeer.h"
#include "server/worker.h"

static void count_failure(struct worker *w, const struct stun_msg *m, int code)
{
    enum stats_auth why = code == 438   ? AUTH_STALE_NONCE
                          : code == 400 ? AUTH_BAD_REQUEST
                          : code == 441 ? AUTH_WRONG_USER
                          : m->integrity >= 0 || m->integrity_sha256 >= 0 ? AUTH_BAD_CREDENTIALS
                                                                           : AUTH_CHALLENGED;

    STATS_INC(w->stats.auth[why]);
}

/* Verifies m with the keys r->user has in realm, each store asked and each key tried once: the
 * embedded store's (users, userdb file, static REST secrets; its realm is --realm) and, when
 * none of them verifies m, the Redis user database's.  True when one did (r->key set); else
 * r->code is set, or *wait is RSTORE_PARKED or RSTORE_FAILED (0 otherwise). */
static bool verify(struct worker *w, const struct relay_client *c, const struct stun_msg *m,
                   const char *realm, uint32_t wall, struct auth_req *r, int *wait)
{
    const struct auth *a = w->shared->auth;
    struct auth_key keys[AUTH_MAX_KEYS];
    int n = 0;

    *wait = 0;
    if (strcmp(realm, a->realm) == 0)
        n = auth_store_lookup(a->store, (const uint8_t *)r->user, r->user_len, wall, keys,
                              AUTH_MAX_KEYS);
    if (n < 0)
        n = 0;
    if (w->rstore != NULL) {
        if (auth_check(m, keys, (size_t)n, r))
            return true;
        n = rstore_keys(w, c, m, realm, r->user, r->user_len, wall, keys, AUTH_MAX_KEYS);
        if (n < 0) {
            *wait = n;
            return false;
        }
    }
    return auth_finish(a, m, keys, (size_t)n, r) == 0;
}

/* Authenticates m in realm.  Returns 0 with r filled, TURN_PARKED, or -1 after answering the
 * error (401 and 438 carry a fresh challenge; none of these answers is signed, as no key is
 * agreed; 500 when the user is in no cache and Redis cannot be asked). */
static int authenticate(struct worker *w, const struct relay_client *c,
                        const struct stun_msg *m, const char *realm, uint32_t wall,
                        struct auth_req *r)
{
    const struct auth *a = w->shared->auth;
    uint8_t out[DISPATCH_REPLY_MAX];
    struct stun_builder b;
    int wait;

    if (auth_begin(a, realm, m, &c->remote, wall, r) == 0) {
        if (verify(w, c, m, realm, wall, r, &wait))
            return 0;
        if (wait == RSTORE_PARKED)
            return TURN_PARKED;
        if (wait == RSTORE_FAILED) {
            dispatch_error(w, c, m, 500, "The user database cannot be reached",
                           DISPATCH_REPLY_MAX);
            return -1;
        }
    }
    /* A client that keeps failing (or a flood of strangers from one address) gets at most
     * --unauthorized-ratelimit 401s a second; the rest are dropped, counted. */
    if (r->code == 401 && w->unauthorized &&
        !ratelimit_allow(w->unauthorized, &c->remote, worker_now(w))) {
        STATS_INC(w->stats.drop[DROP_RATELIMIT]);
        return -1;
    }
    count_failure(w, m, r->code);
    if (r->code == 401 && m->integrity >= 0 && log_enabled(LOG_LVL_DEBUG)) {
        char addr[ADDR_STRLEN];
        log_debug("%s: %s refused for user '%s'", addr_format(&c->remote, addr, sizeof(addr)),
                  stun_method_name(m->method), r->user);
    }
    stun_build_response(&b, out, sizeof(out), m, STUN_CLASS_ERROR);
    stun_build_error(&b, r->code, r->reason);
    if (r->challenge)
        auth_challenge(a, realm, &b, &c->remote, wall);
    dispatch_finish(w, c, m, &b, DISPATCH_REPLY_MAX, r->code);
    return -1;
}

/* Asks relay/ (an Allocate first gets its realm's limits and, across nodes, its quota slot).
 * Returns the answer's code as relay_request does, or TURN_PARKED. */
static int relay_turn(struct worker *w, const struct relay_client *c, const struct stun_msg *m,
                      const char *realm, const struct auth_req *r, struct stun_builder *b,
                      uint8_t *out, size_t cap)
{
    struct relay_sig sig = {.key_len = (uint8_t)r->key_len, .sha256 = r->sha256_mi};
    const struct relay_sig *sigp = w->shared->auth ? &sig : NULL;
    struct relay_limits *limits = NULL;
    bool granted = false;
    int code;

    memcpy(sig.key, r->key, sizeof(sig.key));
    if (m->method == STUN_METHOD_ALLOCATE) {
        code = rstore_allocate(w, c, m, realm, r->user, &limits, &granted);
        if (code == RSTORE_PARKED)
            return TURN_PARKED;
        if (code == RSTORE_FAILED || code == 486) {
            code = code == 486 ? 486 : 500;
            stun_build_response(b, out, cap, m, STUN_CLASS_ERROR);
            stun_build_error(b, code,
                             code == 486 ? "Allocation quota reached"
                                         : "The user database cannot be reached");
            return code;
        }
    }
    code = relay_request(w->relay, c, m, r->user, limits, sigp, worker_now(w), b, out, cap);
    if (granted && code != 0 && relay_find(w->relay, c) == NULL)
        rstore_release(w, c, realm, r->user);
    if (code == RELAY_HANDOFF)
        tcppeer_handoff(w, c, m, r->user, sigp);
    return code;
}

int turn_request(struct worker *w, const struct relay_client *c, struct stun_msg *m)
{
    uint8_t out[DISPATCH_REPLY_MAX];
    struct stun_builder b;
    struct auth_req r = {0};
    uint32_t wall = (uint32_t)time(NULL);
    char buf[RSTORE_REALM_MAX];
    const char *realm = rstore_realm(w, c, m, buf);
    int code;

    if (realm == NULL)
        return TURN_PARKED;
    if (w->shared->auth && (code = authenticate(w, c, m, realm, wall, &r)) != 0)
        return code == TURN_PARKED ? TURN_PARKED : 0;
    if (m->nunknown > 0) {
        stun_build_response(&b, out, sizeof(out), m, STUN_CLASS_ERROR);
        stun_build_error(&b, 420, NULL);
        stun_build_unknown(&b, m->unknown, m->nunknown);
        code = 420;
    } else {
        code = relay_turn(w, c, m, realm, &r, &b, out, sizeof(out));
        if (code == TURN_PARKED)
            return TURN_PARKED;
        if (code == RELAY_ANSWERED || code == RELAY_HANDOFF)
            return 0;
    }
    if (code == 441)
        count_failure(w, m, code);
    if (code != 0 && log_enabled(LOG_LVL_DEBUG)) {
        char addr[ADDR_STRLEN];
        log_debug("%s: %s from user '%s': %d %s", addr_format(&c->remote, addr, sizeof(addr)),
                  stun_method_name(m->method), r.user, code, relay_reason(w->relay));
    }
    if (w->shared->auth) {
        dispatch_software(w, &b);
        auth_sign(&r, &b);
    }
    dispatch_finish(w, c, m, &b, DISPATCH_REPLY_MAX, code);
    return 0;
}
