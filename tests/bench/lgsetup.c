/* lgsetup.c — the load generator's TURN handshakes: Allocate through the 401 challenge, then
 * CreatePermission and ChannelBind toward the echo peer, many allocations at once. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/crypto.h"
#include "proto/stun_build.h"
#include "proto/stun_integrity.h"
#include "tests/bench/lg.h"

/* UDP requests are sent again after this long, up to SETUP_TRIES times in all (RFC 8489 §6.2.1
 * would double the interval; a benchmark on loopback only needs a bound). */
#define SETUP_RTO_NS 500000000LL
#define SETUP_TRIES  7
/* A request on a stream gets no retransmission: the whole step must finish in this time. */
#define SETUP_STREAM_NS 5000000000LL
/* Stale nonces (438) tolerated per allocation before giving up. */
#define SETUP_STALE_MAX 3

#define CODE_TIMEOUT    1
#define CODE_CONNECTION 2

static uint16_t method_of(enum lg_step step)
{
    switch (step) {
    case STEP_PERM:
        return STUN_METHOD_CREATE_PERMISSION;
    case STEP_CHAN:
        return STUN_METHOD_CHANNEL_BIND;
    default:
        return STUN_METHOD_ALLOCATE;
    }
}

/* Builds and sends allocation i's request for its current step, with a fresh transaction ID
 * (allocation index, step and try in the first 6 bytes, random after). */
static void send_request(struct lg *lg, uint32_t i)
{
    struct lg_alloc *a = &lg->allocs[i];
    uint8_t buf[512];
    struct stun_builder b;
    size_t len;

    memcpy(a->tid, &i, 4);
    a->tid[4] = a->step;
    a->tid[5] = a->tries;
    crypto_random(a->tid + 6, STUN_TID_LEN - 6);
    stun_build_start(&b, buf, sizeof(buf), stun_type(method_of(a->step), STUN_CLASS_REQUEST),
                     a->tid);
    if (a->step == STEP_ALLOC0 || a->step == STEP_ALLOC1) {
        stun_build_u8(&b, STUN_ATTR_REQUESTED_TRANSPORT, STUN_TRANSPORT_UDP);
        if (lg->o.family == 6)
            stun_build_u8(&b, STUN_ATTR_REQUESTED_ADDRESS_FAMILY, STUN_FAMILY_IPV6);
    } else {
        if (a->step == STEP_CHAN)
            stun_build_u16(&b, STUN_ATTR_CHANNEL_NUMBER, a->chan);
        stun_build_addr(&b, STUN_ATTR_XOR_PEER_ADDRESS, &lg->o.peer);
    }
    if (a->step != STEP_ALLOC0) {
        char nonce[LG_NONCE_MAX + 1];
        memcpy(nonce, a->nonce, a->nonce_len);
        nonce[a->nonce_len] = '\0';
        stun_build_str(&b, STUN_ATTR_USERNAME, lg->o.user);
        stun_build_str(&b, STUN_ATTR_REALM, lg->realm);
        stun_build_str(&b, STUN_ATTR_NONCE, nonce);
        stun_build_integrity(&b, lg->key, sizeof(lg->key));
    }
    stun_build_fingerprint(&b);
    a->deadline = lg->now + (lg->o.transport == LG_UDP ? SETUP_RTO_NS : SETUP_STREAM_NS);
    if (stun_build_end(&b, &len) == 0)
        lg_send(lg, i, buf, len);
}

static void finish(struct lg *lg, uint32_t i, bool ok, unsigned code)
{
    struct lg_alloc *a = &lg->allocs[i];

    a->step = ok ? STEP_READY : STEP_FAILED;
    lg->su.slots[a->slot] = UINT32_MAX;
    lg->su.active--;
    lg->su.t_end = lg->now;
    if (ok) {
        lg->su.ready++;
        hist_add(&lg->su.h_setup, (uint64_t)(lg->now - a->t_start) / 1000);
    } else {
        lg->su.failed++;
        lg->su.last_code = code;
    }
}

static void start(struct lg *lg, uint32_t i, uint16_t slot)
{
    struct lg_alloc *a = &lg->allocs[i];

    a->slot = slot;
    a->tries = 0;
    a->chan = (uint16_t)(0x4000 + i % 0x1000);
    a->t_start = lg->now;
    lg->su.slots[slot] = i;
    lg->su.active++;
    if (lg->o.transport == LG_UDP) {
        a->step = STEP_ALLOC0;
        send_request(lg, i);
        return;
    }
    a->step = STEP_CONNECT;
    a->deadline = lg->now + SETUP_STREAM_NS;
    if (lg_connect(lg, i) < 0)
        finish(lg, i, false, CODE_CONNECTION);
}

int lg_setup_begin(struct lg *lg)
{
    memset(&lg->su, 0, sizeof(lg->su));
    lg->su.slots = calloc(lg->o.concurrency, sizeof(*lg->su.slots));
    if (lg->su.slots == NULL)
        return -1;
    memset(lg->su.slots, 0xFF, lg->o.concurrency * sizeof(*lg->su.slots));
    lg->su.t_begin = lg->su.t_end = lg->now;
    lg_setup_tick(lg);
    return 0;
}

void lg_setup_tick(struct lg *lg)
{
    for (unsigned s = 0; s < lg->o.concurrency; s++) {
        uint32_t i = lg->su.slots[s];
        struct lg_alloc *a;

        if (i == UINT32_MAX) {
            if (lg->su.next < lg->o.nallocs)
                start(lg, (uint32_t)lg->su.next++, (uint16_t)s);
            continue;
        }
        a = &lg->allocs[i];
        if (lg->now < a->deadline)
            continue;
        if (lg->o.transport != LG_UDP || ++a->tries >= SETUP_TRIES)
            finish(lg, i, false, CODE_TIMEOUT);
        else
            send_request(lg, i);
    }
}

void lg_setup_connected(struct lg *lg, uint32_t i)
{
    struct lg_alloc *a = &lg->allocs[i];

    if (a->step != STEP_CONNECT)
        return;
    a->step = STEP_ALLOC0;
    a->t_start = lg->now;
    send_request(lg, i);
}

void lg_setup_lost(struct lg *lg, uint32_t i)
{
    struct lg_alloc *a = &lg->allocs[i];

    if (a->step == STEP_READY) {
        a->step = STEP_FAILED; /* no more echoes; counted by the traffic as unsendable */
        return;
    }
    if (a->step != STEP_FAILED && a->step != STEP_WAIT)
        finish(lg, i, false, CODE_CONNECTION);
}

/* Takes REALM and NONCE of a 401 or 438; the key is computed once, for the first realm. */
static int take_challenge(struct lg *lg, struct lg_alloc *a, const struct stun_msg *m)
{
    const uint8_t *v;
    size_t len;

    if (stun_msg_get_bytes(m, STUN_ATTR_NONCE, &v, &len) != STUN_OK || len > LG_NONCE_MAX)
        return -1;
    memcpy(a->nonce, v, len);
    a->nonce_len = (uint8_t)len;
    if (lg->have_key)
        return 0;
    if (stun_msg_get_bytes(m, STUN_ATTR_REALM, &v, &len) != STUN_OK || len >= LG_TEXT_MAX)
        return -1;
    memcpy(lg->realm, v, len);
    lg->realm[len] = '\0';
    if (stun_key_md5(lg->o.user, lg->realm, lg->o.pass, lg->key) != 0)
        return -1;
    lg->have_key = true;
    return 0;
}

static enum lg_step next_step(const struct lg *lg, enum lg_step step)
{
    switch (step) {
    case STEP_ALLOC0:
    case STEP_ALLOC1:
        return lg->o.alloc_only ? STEP_READY : STEP_PERM;
    case STEP_PERM:
        return lg->o.send_ind ? STEP_READY : STEP_CHAN;
    default:
        return STEP_READY;
    }
}

void lg_setup_answer(struct lg *lg, uint32_t i, const struct stun_msg *m)
{
    struct lg_alloc *a = &lg->allocs[i];
    const char *reason;
    size_t rlen;
    int code = 0;

    if (a->step < STEP_ALLOC0 || a->step > STEP_CHAN || memcmp(m->tid, a->tid, STUN_TID_LEN))
        return; /* an answer to an earlier try, or to nothing */
    if (m->cls == STUN_CLASS_ERROR && stun_msg_get_error(m, &code, &reason, &rlen) != STUN_OK)
        code = 500;
    if (code == 401 && a->step == STEP_ALLOC0) {
        if (take_challenge(lg, a, m) < 0) {
            finish(lg, i, false, 401);
            return;
        }
        a->step = STEP_ALLOC1;
        a->tries = 0;
        send_request(lg, i);
        return;
    }
    if (code == 438 && ++a->tries <= SETUP_STALE_MAX && take_challenge(lg, a, m) == 0) {
        send_request(lg, i);
        return;
    }
    if (code != 0) {
        finish(lg, i, false, (unsigned)code);
        return;
    }
    if (a->step == STEP_ALLOC0 || a->step == STEP_ALLOC1)
        hist_add(&lg->su.h_alloc, (uint64_t)(lg->now - a->t_start) / 1000);
    a->step = next_step(lg, a->step);
    a->tries = 0;
    if (a->step == STEP_READY)
        finish(lg, i, true, 0);
    else
        send_request(lg, i);
}

bool lg_setup_done(const struct lg *lg)
{
    return lg->su.next >= lg->o.nallocs && lg->su.active == 0;
}
