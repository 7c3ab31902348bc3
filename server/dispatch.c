/* dispatch.c — what a client sent, and the answer: demultiplexing, STUN checks, Binding. */
#include "server/dispatch.h"

#include <stdio.h>

#include "proto/frame.h"
#include "proto/stun.h"
#include "proto/stun_build.h"
#include "server/log.h"
#include "server/tcp.h"
#include "server/udp.h"
#include "server/worker.h"

/* Room for any answer dispatch builds: a Binding response is under 100 bytes, an error with
 * UNKNOWN-ATTRIBUTES and a reason phrase under 200. */
#define REPLY_MAX 512
#define SOFTWARE_VALUE "turnpike " TURNPIKE_VERSION

int dispatch_send(struct worker *w, const struct client_ref *c, const void *buf, size_t len)
{
    (void)w;
    if (c->tp == TRANSPORT_UDP)
        return udp_sock_send(c->udp, &c->remote, &c->local, buf, len);
    return tcp_conn_send(c->conn, buf, len);
}

/* Appends what every answer carries last (SOFTWARE when configured, FINGERPRINT when the
 * request had one or --fingerprint asks) and sends it.  limit bounds the answer's size: an
 * answer to a malformed datagram may not be larger than it, so that a spoofed source cannot
 * use us as an amplifier; returns -1 when the answer does not fit. */
static int finish(struct worker *w, const struct client_ref *c, const struct stun_msg *req,
                  struct stun_builder *b, size_t limit, int code)
{
    size_t len;

    if (w->cfg->software_attribute)
        stun_build_str(b, STUN_ATTR_SOFTWARE, SOFTWARE_VALUE);
    if (req->has_cookie && (req->fingerprint >= 0 || w->cfg->fingerprint))
        stun_build_fingerprint(b);
    if (stun_build_end(b, &len) < 0 || len > limit)
        return -1;
    STATS_INC(w->stats.reply[stats_reply_index(code)]);
    dispatch_send(w, c, b->buf, len);
    return 0;
}

/* An error response.  For a malformed UDP request (limit below REPLY_MAX) the reason phrase
 * is left out when that is what it takes to stay within limit. */
static void reply_error(struct worker *w, const struct client_ref *c, const struct stun_msg *req,
                        int code, const char *reason, size_t limit)
{
    uint8_t out[REPLY_MAX];
    struct stun_builder b;

    stun_build_response(&b, out, sizeof(out), req, STUN_CLASS_ERROR);
    stun_build_error(&b, code, reason);
    if (code == 420)
        stun_build_unknown(&b, req->unknown, req->nunknown);
    if (finish(w, c, req, &b, limit, code) == 0)
        return;
    stun_build_response(&b, out, sizeof(out), req, STUN_CLASS_ERROR);
    stun_build_error(&b, code, "");
    if (finish(w, c, req, &b, limit, code) < 0)
        STATS_INC(w->stats.drop[DROP_AMPLIFICATION]);
}

/* Binding success: the client's address as we see it.  An RFC 3489 client (no magic cookie)
 * does not know XOR-MAPPED-ADDRESS and gets MAPPED-ADDRESS (RFC 8489 §12). */
static void reply_binding(struct worker *w, const struct client_ref *c, const struct stun_msg *req)
{
    uint8_t out[REPLY_MAX];
    struct stun_builder b;

    STATS_INC(w->stats.binding_requests);
    stun_build_response(&b, out, sizeof(out), req, STUN_CLASS_SUCCESS);
    stun_build_addr(&b, req->has_cookie ? STUN_ATTR_XOR_MAPPED_ADDRESS : STUN_ATTR_MAPPED_ADDRESS,
                    &c->remote);
    finish(w, c, req, &b, REPLY_MAX, 0);
}

/* CHANGE-REQUEST belongs to RFC 5780 NAT behaviour discovery, which needs a second address;
 * without it the attribute is one we do not understand (RFC 5780 §7.2: answer 420). */
static void mark_unsupported(struct stun_msg *m)
{
    if (m->nunknown < STUN_MAX_UNKNOWN && stun_msg_find(m, STUN_ATTR_CHANGE_REQUEST))
        m->unknown[m->nunknown++] = STUN_ATTR_CHANGE_REQUEST;
}

static void handle_request(struct worker *w, const struct client_ref *c, struct stun_msg *m)
{
    mark_unsupported(m);
    if (m->nunknown > 0) {
        reply_error(w, c, m, 420, NULL, REPLY_MAX);
        return;
    }
    switch (m->method) {
    case STUN_METHOD_BINDING:
        reply_binding(w, c, m);
        return;
    default:
        /* RFC 8489 §6.3.1: a method the server does not support gets 400. */
        reply_error(w, c, m, 400, "Unsupported method", REPLY_MAX);
        return;
    }
}

static void handle_stun(struct worker *w, const struct client_ref *c, const uint8_t *buf,
                        size_t len)
{
    unsigned flags = w->cfg->no_stun_3489 ? 0 : STUN_DECODE_ALLOW_3489;
    struct stun_msg m;
    int rc = stun_msg_decode(&m, buf, len, flags);

    if (stun_status_is_garbage(rc)) {
        STATS_INC(w->stats.drop[rc == STUN_E_COOKIE ? DROP_RFC3489 : DROP_NOT_STUN]);
        return;
    }
    if (rc != STUN_OK) {
        if (m.cls != STUN_CLASS_REQUEST) {
            STATS_INC(w->stats.drop[DROP_MALFORMED]);
            return;
        }
        if (log_enabled(LOG_LVL_DEBUG)) {
            char a[ADDR_STRLEN];
            log_debug("%s: malformed %s request: %s (attribute 0x%04x)",
                      addr_format(&c->remote, a, sizeof(a)), stun_method_name(m.method),
                      stun_strerror(rc), m.err_attr);
        }
        reply_error(w, c, &m, 400, NULL, c->tp == TRANSPORT_UDP ? len : REPLY_MAX);
        return;
    }
    if (!m.has_cookie && (m.method != STUN_METHOD_BINDING || m.cls != STUN_CLASS_REQUEST)) {
        STATS_INC(w->stats.drop[DROP_RFC3489]);
        return;
    }
    switch (m.cls) {
    case STUN_CLASS_REQUEST:
        handle_request(w, c, &m);
        return;
    case STUN_CLASS_INDICATION:
        if (m.method == STUN_METHOD_BINDING) {
            /* A keepalive (RFC 8489 §6.3.2): taken silently. */
            STATS_INC(w->stats.binding_indications);
            return;
        }
        STATS_INC(w->stats.drop[DROP_UNEXPECTED]);
        return;
    default:
        STATS_INC(w->stats.drop[DROP_UNEXPECTED]);
        return;
    }
}

void dispatch_packet(struct worker *w, const struct client_ref *c, const uint8_t *buf,
                     size_t len)
{
    switch (frame_demux(buf[0])) {
    case FRAME_STUN:
        handle_stun(w, c, buf, len);
        return;
    case FRAME_CHANDATA:
        /* TURN channels need an allocation; there is none on this 5-tuple. */
        STATS_INC(w->stats.drop[DROP_NO_ALLOCATION]);
        return;
    default:
        STATS_INC(w->stats.drop[DROP_NOT_STUN]);
        return;
    }
}
