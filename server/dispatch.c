/* dispatch.c — what a client sent, and the answer: demultiplexing, STUN checks, routing. */
#include "server/dispatch.h"

#include <stdio.h>

#include "proto/frame.h"
#include "proto/stun.h"
#include "proto/stun_build.h"
#include "server/dtls.h"
#include "server/log.h"
#include "server/nat.h"
#include "server/tcp.h"
#include "server/turn.h"
#include "server/udp.h"
#include "server/worker.h"

#define SOFTWARE_VALUE "turnpike " TURNPIKE_VERSION

int dispatch_send(struct worker *w, const struct relay_client *c, const void *buf, size_t len)
{
    (void)w;
    if (c->transport == RELAY_UDP)
        return udp_sock_send(c->handle, &c->remote, &c->local, buf, len);
    if (c->transport == RELAY_DTLS)
        return dtls_session_send(c->handle, buf, len);
    return tcp_conn_send(c->handle, buf, len);
}

void dispatch_software(const struct worker *w, struct stun_builder *b)
{
    if (w->cfg->software_attribute)
        stun_build_str(b, STUN_ATTR_SOFTWARE, SOFTWARE_VALUE);
}

int dispatch_finish(struct worker *w, const struct relay_client *c, const struct stun_msg *req,
                    struct stun_builder *b, size_t limit, int code)
{
    size_t len;

    if (!b->integrity)
        dispatch_software(w, b);
    if (req->has_cookie && (req->fingerprint >= 0 || w->cfg->fingerprint))
        stun_build_fingerprint(b);
    if (stun_build_end(b, &len) < 0 || len > limit)
        return -1;
    STATS_INC(w->stats.answers[stats_method_index(req->method)][stats_reply_index(code)]);
    dispatch_send(w, c, b->buf, len);
    return 0;
}

void dispatch_error(struct worker *w, const struct relay_client *c, const struct stun_msg *req,
                    int code, const char *reason, size_t limit)
{
    uint8_t out[DISPATCH_REPLY_MAX];
    struct stun_builder b;

    stun_build_response(&b, out, sizeof(out), req, STUN_CLASS_ERROR);
    stun_build_error(&b, code, reason);
    if (code == 420)
        stun_build_unknown(&b, req->unknown, req->nunknown);
    if (dispatch_finish(w, c, req, &b, limit, code) == 0)
        return;
    /* Over the limit (a malformed datagram): try once more without the reason phrase. */
    stun_build_response(&b, out, sizeof(out), req, STUN_CLASS_ERROR);
    stun_build_error(&b, code, "");
    if (dispatch_finish(w, c, req, &b, limit, code) < 0)
        STATS_INC(w->stats.drop[DROP_AMPLIFICATION]);
}

/* Binding success: the client's address as we see it.  An RFC 3489 client (no magic cookie)
 * does not know XOR-MAPPED-ADDRESS and gets MAPPED-ADDRESS (RFC 8489 §12).  Where RFC 5780 is
 * served (other: c's other address, else NULL), OTHER-ADDRESS and RESPONSE-ORIGIN too, and the
 * answer leaves from the address CHANGE-REQUEST asks for, to the port RESPONSE-PORT gives. */
static void reply_binding(struct worker *w, const struct relay_client *c,
                          const struct stun_msg *req, const union addr *other)
{
    uint8_t out[DISPATCH_REPLY_MAX];
    struct stun_builder b;
    struct relay_client to = *c;

    STATS_INC(w->stats.binding_requests);
    if (other) {
        const char *reason = NULL;
        int code = nat_route(w, c, req, other, &to, &reason);
        if (code) {
            dispatch_error(w, c, req, code, reason, DISPATCH_REPLY_MAX);
            return;
        }
    }
    stun_build_response(&b, out, sizeof(out), req, STUN_CLASS_SUCCESS);
    stun_build_addr(&b, req->has_cookie ? STUN_ATTR_XOR_MAPPED_ADDRESS : STUN_ATTR_MAPPED_ADDRESS,
                    &c->remote);
    if (other) {
        /* NAT behaviour discovery tools (coturn's among them) read MAPPED-ADDRESS, which RFC
         * 8489 §14.1 keeps for backward compatibility. */
        if (req->has_cookie)
            stun_build_addr(&b, STUN_ATTR_MAPPED_ADDRESS, &c->remote);
        stun_build_addr(&b, STUN_ATTR_OTHER_ADDRESS, other);
        stun_build_addr(&b, STUN_ATTR_RESPONSE_ORIGIN, &to.local);
    }
    dispatch_finish(w, &to, req, &b, DISPATCH_REPLY_MAX, 0);
}

/* CHANGE-REQUEST and RESPONSE-PORT belong to RFC 5780 NAT behaviour discovery, in Binding
 * requests; where it is not served they are attributes we do not understand (RFC 5780 §7.2,
 * §7.5: answer 420). */
static void mark_unsupported(struct stun_msg *m)
{
    static const uint16_t types[] = {STUN_ATTR_CHANGE_REQUEST, STUN_ATTR_RESPONSE_PORT};

    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
        if (m->nunknown < STUN_MAX_UNKNOWN && stun_msg_find(m, types[i]))
            m->unknown[m->nunknown++] = types[i];
}

static int handle_request(struct worker *w, const struct relay_client *c, struct stun_msg *m)
{
    union addr other;
    bool nat = m->method == STUN_METHOD_BINDING && nat_serves(w->cfg, c, &other);

    if (!nat)
        mark_unsupported(m);
    switch (m->method) {
    case STUN_METHOD_BINDING:
        if (m->nunknown > 0)
            dispatch_error(w, c, m, 420, NULL, DISPATCH_REPLY_MAX);
        else
            reply_binding(w, c, m, nat ? &other : NULL);
        return 0;
    case STUN_METHOD_ALLOCATE:
    case STUN_METHOD_REFRESH:
    case STUN_METHOD_CREATE_PERMISSION:
    case STUN_METHOD_CHANNEL_BIND:
    case STUN_METHOD_CONNECT:
    case STUN_METHOD_CONNECTION_BIND:
        /* Authentication comes first, then unknown attributes (RFC 8489 §6.3.1). */
        return turn_request(w, c, m) == TURN_PARKED ? DISPATCH_PARKED : 0;
    default:
        /* RFC 8489 §6.3.1: a method the server does not support gets 400. */
        dispatch_error(w, c, m, 400, "Unsupported method", DISPATCH_REPLY_MAX);
        return 0;
    }
}

static void handle_indication(struct worker *w, const struct relay_client *c,
                              const struct stun_msg *m)
{
    /* RFC 8489 §6.3.3: an indication with an unknown comprehension-required attribute is
     * discarded (nobody to tell). */
    if (m->nunknown > 0) {
        STATS_INC(w->stats.drop[DROP_UNEXPECTED]);
        return;
    }
    switch (m->method) {
    case STUN_METHOD_BINDING:
        /* A keepalive (RFC 8489 §6.3.2): taken silently. */
        STATS_INC(w->stats.binding_indications);
        return;
    case STUN_METHOD_SEND:
        relay_send_indication(w->relay, c, m, worker_now(w));
        return;
    default:
        STATS_INC(w->stats.drop[DROP_UNEXPECTED]);
        return;
    }
}

static int handle_stun(struct worker *w, const struct relay_client *c, const uint8_t *buf,
                       size_t len)
{
    unsigned flags = w->cfg->no_stun_3489 ? 0 : STUN_DECODE_ALLOW_3489;
    struct stun_msg m;
    int rc = stun_msg_decode(&m, buf, len, flags);

    if (stun_status_is_garbage(rc)) {
        STATS_INC(w->stats.drop[rc == STUN_E_COOKIE ? DROP_RFC3489 : DROP_NOT_STUN]);
        return 0;
    }
    if (rc != STUN_OK) {
        if (m.cls != STUN_CLASS_REQUEST) {
            STATS_INC(w->stats.drop[DROP_MALFORMED]);
            return 0;
        }
        if (log_enabled(LOG_LVL_DEBUG)) {
            char a[ADDR_STRLEN];
            log_debug("%s: malformed %s request: %s (attribute 0x%04x)",
                      addr_format(&c->remote, a, sizeof(a)), stun_method_name(m.method),
                      stun_strerror(rc), m.err_attr);
        }
        dispatch_error(w, c, &m, 400, NULL,
                       c->transport == RELAY_UDP ? len : DISPATCH_REPLY_MAX);
        return 0;
    }
    if (!m.has_cookie && (m.method != STUN_METHOD_BINDING || m.cls != STUN_CLASS_REQUEST)) {
        STATS_INC(w->stats.drop[DROP_RFC3489]);
        return 0;
    }
    if (m.cls == STUN_CLASS_REQUEST)
        return handle_request(w, c, &m);
    if (m.cls == STUN_CLASS_INDICATION)
        handle_indication(w, c, &m);
    else
        STATS_INC(w->stats.drop[DROP_UNEXPECTED]);
    return 0;
}

int dispatch_packet(struct worker *w, const struct relay_client *c, const uint8_t *buf,
                    size_t len)
{
    switch (frame_demux(buf[0])) {
    case FRAME_STUN:
        return handle_stun(w, c, buf, len);
    case FRAME_CHANDATA:
        relay_channel_data(w->relay, c, buf, len, worker_now(w));
        return 0;
    default:
        STATS_INC(w->stats.drop[DROP_NOT_STUN]);
        return 0;
    }
}
