/* stats.c — names of the counters and summing workers' counters. */
#include "server/stats.h"

#include "proto/stun.h"

static const char *const drop_names[DROP_COUNT] = {
    [DROP_NOT_STUN] = "not_stun",
    [DROP_MALFORMED] = "malformed",
    [DROP_AMPLIFICATION] = "amplification",
    [DROP_OVERSIZE] = "oversize",
    [DROP_UNEXPECTED] = "unexpected",
    [DROP_NO_ALLOCATION] = "no_allocation",
    [DROP_RFC3489] = "rfc3489",
    [DROP_SEND_FAILED] = "send_failed",
    [DROP_RATELIMIT] = "ratelimit",
};

static const struct {
    int code;
    const char *name;
} reply_slots[REPLY_COUNT] = {
    [REPLY_SUCCESS] = {0, "success"}, [REPLY_300] = {300, "300"}, [REPLY_400] = {400, "400"},
    [REPLY_401] = {401, "401"},       [REPLY_403] = {403, "403"}, [REPLY_420] = {420, "420"},
    [REPLY_437] = {437, "437"},       [REPLY_438] = {438, "438"}, [REPLY_440] = {440, "440"},
    [REPLY_441] = {441, "441"},       [REPLY_442] = {442, "442"}, [REPLY_443] = {443, "443"},
    [REPLY_446] = {446, "446"},       [REPLY_447] = {447, "447"}, [REPLY_486] = {486, "486"},
    [REPLY_500] = {500, "500"},       [REPLY_508] = {508, "508"}, [REPLY_OTHER] = {-1, "other"},
};

static const char *const conn_names[CONN_COUNT] = {
    [CONN_ACCEPTED] = "accepted",
    [CONN_REJECTED_LIMIT] = "rejected_limit",
    [CONN_CLOSED_PEER] = "closed_peer",
    [CONN_CLOSED_IDLE] = "closed_idle",
    [CONN_CLOSED_DESYNC] = "closed_desync",
    [CONN_PAUSED_SLOW] = "paused_slow",
    [CONN_HANDED_OFF] = "handed_off",
};

static const char *const tls_names[TLS_COUNT] = {
    [TLS_HANDSHAKES] = "handshakes",
    [TLS_FAILED] = "failed",
    [TLS_TIMEOUT] = "timeout",
    [TLS_EVICTED] = "evicted",
};

static const char *const dtls_names[DTLS_COUNT] = {
    [DTLS_HELLO_VERIFY] = "hello_verify",
    [DTLS_SESSIONS] = "sessions",
    [DTLS_HANDSHAKES] = "handshakes",
    [DTLS_FAILED] = "failed",
    [DTLS_TIMEOUT] = "timeout",
    [DTLS_EVICTED] = "evicted",
    [DTLS_REJECTED_LIMIT] = "rejected_limit",
    [DTLS_CLOSED_IDLE] = "closed_idle",
    [DTLS_CLOSED_PEER] = "closed_peer",
    [DTLS_NOT_HELLO] = "not_hello",
};

static const char *const steered_names[STEERED_COUNT] = {
    [STEERED_RELAYED] = "relayed",
    [STEERED_NO_ENDPOINT] = "no_endpoint",
};

static const char *const method_names[METHOD_COUNT] = {
    [METHOD_BINDING] = "binding",
    [METHOD_ALLOCATE] = "allocate",
    [METHOD_REFRESH] = "refresh",
    [METHOD_CREATE_PERMISSION] = "create_permission",
    [METHOD_CHANNEL_BIND] = "channel_bind",
    [METHOD_CONNECT] = "connect",
    [METHOD_CONNECTION_BIND] = "connection_bind",
    [METHOD_OTHER] = "other",
};

static const char *const auth_names[AUTH_COUNT] = {
    [AUTH_CHALLENGED] = "challenged",
    [AUTH_BAD_CREDENTIALS] = "bad_credentials",
    [AUTH_STALE_NONCE] = "stale_nonce",
    [AUTH_BAD_REQUEST] = "bad_request",
    [AUTH_WRONG_USER] = "wrong_user",
};

enum stats_method stats_method_index(uint16_t method)
{
    switch (method) {
    case STUN_METHOD_BINDING:
        return METHOD_BINDING;
    case STUN_METHOD_ALLOCATE:
        return METHOD_ALLOCATE;
    case STUN_METHOD_REFRESH:
        return METHOD_REFRESH;
    case STUN_METHOD_CREATE_PERMISSION:
        return METHOD_CREATE_PERMISSION;
    case STUN_METHOD_CHANNEL_BIND:
        return METHOD_CHANNEL_BIND;
    case STUN_METHOD_CONNECT:
        return METHOD_CONNECT;
    case STUN_METHOD_CONNECTION_BIND:
        return METHOD_CONNECTION_BIND;
    default:
        return METHOD_OTHER;
    }
}

const char *stats_method_name(enum stats_method m)
{
    return m < METHOD_COUNT ? method_names[m] : "?";
}

const char *stats_auth_name(enum stats_auth a)
{
    return a < AUTH_COUNT ? auth_names[a] : "?";
}

enum stats_reply stats_reply_index(int code)
{
    for (int i = 0; i < REPLY_OTHER; i++)
        if (reply_slots[i].code == code)
            return (enum stats_reply)i;
    return REPLY_OTHER;
}

const char *stats_drop_name(enum stats_drop d)
{
    return d < DROP_COUNT ? drop_names[d] : "?";
}

const char *stats_reply_name(enum stats_reply r)
{
    return r < REPLY_COUNT ? reply_slots[r].name : "?";
}

const char *stats_conn_name(enum stats_conn c)
{
    return c < CONN_COUNT ? conn_names[c] : "?";
}

const char *stats_tls_name(enum stats_tls t)
{
    return t < TLS_COUNT ? tls_names[t] : "?";
}

const char *stats_dtls_name(enum stats_dtls d)
{
    return d < DTLS_COUNT ? dtls_names[d] : "?";
}

const char *stats_steered_name(enum stats_steered s)
{
    return s < STEERED_COUNT ? steered_names[s] : "?";
}

static void add(_Atomic uint64_t *dst, const _Atomic uint64_t *src)
{
    atomic_store_explicit(dst,
                          atomic_load_explicit(dst, memory_order_relaxed) +
                              atomic_load_explicit(src, memory_order_relaxed),
                          memory_order_relaxed);
}

void stats_sum(struct stats *dst, const struct stats *src)
{
    add(&dst->rx_packets, &src->rx_packets);
    add(&dst->rx_bytes, &src->rx_bytes);
    add(&dst->tx_packets, &src->tx_packets);
    add(&dst->tx_bytes, &src->tx_bytes);
    add(&dst->binding_requests, &src->binding_requests);
    add(&dst->binding_indications, &src->binding_indications);
    for (int i = 0; i < DROP_COUNT; i++)
        add(&dst->drop[i], &src->drop[i]);
    for (int m = 0; m < METHOD_COUNT; m++)
        for (int i = 0; i < REPLY_COUNT; i++)
            add(&dst->answers[m][i], &src->answers[m][i]);
    for (int i = 0; i < AUTH_COUNT; i++)
        add(&dst->auth[i], &src->auth[i]);
    for (int i = 0; i < CONN_COUNT; i++)
        add(&dst->conn[i], &src->conn[i]);
    for (int i = 0; i < TLS_COUNT; i++)
        add(&dst->tls[i], &src->tls[i]);
    for (int i = 0; i < DTLS_COUNT; i++)
        add(&dst->dtls[i], &src->dtls[i]);
    for (int i = 0; i < STEERED_COUNT; i++)
        add(&dst->steered[i], &src->steered[i]);
}
