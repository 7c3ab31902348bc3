/* turn.c — a TURN request's way through the server: authentication, relay/, signed answer. */
#include "server/turn.h"

#include <string.h>
#include <time.h>

#include "auth/auth.h"
#include "server/dispatch.h"
#include "server/log.h"
#include "server/ratelimit.h"
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

/* Authenticates m.  Returns 0 with r filled, or -1 after answering the error (401 and 438
 * carry a fresh challenge; none of these answers is signed, as no key is agreed). */
static int authenticate(struct worker *w, const struct relay_client *c,
                        const struct stun_msg *m, uint32_t wall, struct auth_req *r)
{
    const struct auth *a = w->shared->auth;
    struct auth_key keys[AUTH_MAX_KEYS];
    uint8_t out[DISPATCH_REPLY_MAX];
    struct stun_builder b;
    int n;

    if (auth_begin(a, m, &c->remote, wall, r) == 0) {
        n = auth_store_lookup(a->store, (const uint8_t *)r->user, r->user_len, wall, keys,
                              AUTH_MAX_KEYS);
        if (auth_finish(a, m, keys, n < 0 ? 0 : (size_t)n, r) == 0)
            return 0;
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
        auth_challenge(a, &b, &c->remote, wall);
    dispatch_finish(w, c, m, &b, DISPATCH_REPLY_MAX, r->code);
    return -1;
}

void turn_request(struct worker *w, const struct relay_client *c, struct stun_msg *m)
{
    uint8_t out[DISPATCH_REPLY_MAX];
    struct stun_builder b;
    struct auth_req r = {0};
    uint32_t wall = (uint32_t)time(NULL);
    int code;

    if (w->shared->auth && authenticate(w, c, m, wall, &r) < 0)
        return;
    if (m->nunknown > 0) {
        stun_build_response(&b, out, sizeof(out), m, STUN_CLASS_ERROR);
        stun_build_error(&b, 420, NULL);
        stun_build_unknown(&b, m->unknown, m->nunknown);
        code = 420;
    } else {
        struct relay_sig sig = {.key_len = (uint8_t)r.key_len, .sha256 = r.sha256_mi};
        memcpy(sig.key, r.key, sizeof(sig.key));
        code = relay_request(w->relay, c, m, r.user, w->shared->auth ? &sig : NULL,
                             worker_now(w), &b, out, sizeof(out));
        if (code == RELAY_ANSWERED)
            return;
        if (code == RELAY_HANDOFF) {
            tcppeer_handoff(w, c, m, r.user, w->shared->auth ? &sig : NULL);
            return;
        }
    }
    if (code == 441)
        count_failure(w, m, code);
    if (code != 0 && log_enabled(LOG_LVL_DEBUG)) {
        char addr[ADDR_STRLEN];
        log_debug("%s: %s from user '%s': %d %s", addr_format(&c->remote, addr, sizeof(addr)),
                  stun_method_name(m->method), r.user, code, relay_reason(w->relay));
    }
    if (w->shared->auth)
        auth_sign(&r, &b);
    dispatch_finish(w, c, m, &b, DISPATCH_REPLY_MAX, code);
}
