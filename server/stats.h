/* stats.h — per-worker counters: every reply code and every drop reason, read by other threads. */
#ifndef SERVER_STATS_H
#define SERVER_STATS_H

#include <stdatomic.h>
#include <stdint.h>

/* Why a packet or connection was dropped without an answer. */
enum stats_drop {
    DROP_NOT_STUN,        /* first byte or header says it is not STUN/TURN */
    DROP_MALFORMED,       /* malformed STUN that is not a request (nothing to answer) */
    DROP_AMPLIFICATION,   /* malformed request too short to answer without amplifying */
    DROP_OVERSIZE,        /* datagram larger than the receive buffer */
    DROP_UNEXPECTED,      /* a response or an indication the server does not take */
    DROP_NO_ALLOCATION,   /* ChannelData with no allocation on its 5-tuple */
    DROP_RFC3489,         /* RFC 3489 request with backward compatibility off */
    DROP_SEND_FAILED,     /* the kernel refused to send a reply */
    DROP_RATELIMIT,       /* over --unauthorized-ratelimit: no more 401s this second */
    DROP_COUNT
};

/* Which answer the server gave. */
enum stats_reply {
    REPLY_SUCCESS,
    REPLY_300, REPLY_400, REPLY_401, REPLY_403, REPLY_420, REPLY_437, REPLY_438, REPLY_440,
    REPLY_441, REPLY_442, REPLY_443, REPLY_446, REPLY_447, REPLY_486, REPLY_500, REPLY_508,
    REPLY_OTHER,
    REPLY_COUNT
};

/* The methods answers are counted by (a bounded label set for metrics). */
enum stats_method {
    METHOD_BINDING, METHOD_ALLOCATE, METHOD_REFRESH, METHOD_CREATE_PERMISSION,
    METHOD_CHANNEL_BIND, METHOD_CONNECT, METHOD_CONNECTION_BIND, METHOD_OTHER,
    METHOD_COUNT
};

/* Why a request did not authenticate. */
enum stats_auth {
    AUTH_CHALLENGED,      /* no integrity yet: the 401 every client gets first */
    AUTH_BAD_CREDENTIALS, /* 401 with integrity: unknown user, wrong password, expired REST */
    AUTH_STALE_NONCE,     /* 438 */
    AUTH_BAD_REQUEST,     /* 400: credentials attributes missing or contradictory */
    AUTH_WRONG_USER,      /* 441: a request on someone else's allocation */
    AUTH_COUNT
};

/* Stream connection events. */
enum stats_conn {
    CONN_ACCEPTED,
    CONN_REJECTED_LIMIT,  /* over --max-tcp-connections */
    CONN_CLOSED_PEER,     /* the client closed or reset */
    CONN_CLOSED_IDLE,     /* --tcp-idle-timeout passed */
    CONN_CLOSED_DESYNC,   /* bytes that are neither STUN nor ChannelData */
    CONN_PAUSED_SLOW,     /* stopped reading: the client does not read its answers */
    CONN_HANDED_OFF,      /* an RFC 6062 data connection moved to its allocation's worker */
    CONN_COUNT
};

/* TLS handshakes on the stream transport. */
enum stats_tls {
    TLS_HANDSHAKES,       /* completed */
    TLS_FAILED,           /* not TLS, nothing in common, a bad certificate, closed midway */
    TLS_TIMEOUT,          /* not completed within --tcp-idle-timeout */
    TLS_EVICTED,          /* the oldest in progress, closed for a new one (bound per worker) */
    TLS_COUNT
};

/* DTLS: the cookie exchange, the handshakes and the sessions. */
enum stats_dtls {
    DTLS_HELLO_VERIFY,    /* HelloVerifyRequests sent: ClientHellos without a valid cookie */
    DTLS_SESSIONS,        /* sessions created: a ClientHello came back with a valid cookie */
    DTLS_HANDSHAKES,      /* handshakes completed */
    DTLS_FAILED,          /* handshakes that failed */
    DTLS_TIMEOUT,         /* handshakes not completed within --tcp-idle-timeout */
    DTLS_EVICTED,         /* the oldest handshake, closed for a new one (bound per worker) */
    DTLS_REJECTED_LIMIT,  /* a session refused: --max-tcp-connections on the worker */
    DTLS_CLOSED_IDLE,     /* no allocation and silent for --tcp-idle-timeout */
    DTLS_CLOSED_PEER,     /* close_notify, a fatal alert, or replaced by a new ClientHello */
    DTLS_NOT_HELLO,       /* a datagram from an unknown 5-tuple that is no ClientHello */
    DTLS_COUNT
};

/* Peers' datagrams that came through a --relay-steering socket. */
enum stats_steered {
    STEERED_RELAYED,      /* to a relayed address of the worker's: relayed (or dropped by TURN) */
    STEERED_NO_ENDPOINT,  /* to an address that is no longer one of its endpoints */
    STEERED_COUNT
};

/* A worker's counters.  Only the owning worker writes them (STATS_INC: a plain load and store,
 * no locked instruction); any thread may read them with atomic_load. */
struct stats {
    _Atomic uint64_t rx_packets;
    _Atomic uint64_t rx_bytes;
    _Atomic uint64_t tx_packets;
    _Atomic uint64_t tx_bytes;
    _Atomic uint64_t binding_requests;
    _Atomic uint64_t binding_indications;
    _Atomic uint64_t drop[DROP_COUNT];
    _Atomic uint64_t answers[METHOD_COUNT][REPLY_COUNT]; /* answers sent, by method and code */
    _Atomic uint64_t auth[AUTH_COUNT];
    _Atomic uint64_t heartbeat;   /* the worker clock at its last tick: is the loop alive? */
    _Atomic uint64_t loop_lag_us; /* how late its last 1 s tick ran: is the loop keeping up? */
    _Atomic uint64_t conn[CONN_COUNT];
    _Atomic uint64_t tls[TLS_COUNT];
    _Atomic uint64_t dtls[DTLS_COUNT];
    _Atomic uint64_t steered[STEERED_COUNT];
};

#define STATS_ADD(ctr, n) \
    atomic_store_explicit(&(ctr), atomic_load_explicit(&(ctr), memory_order_relaxed) + (n), \
                          memory_order_relaxed)
#define STATS_INC(ctr) STATS_ADD(ctr, 1)

/* The counter slot for a STUN reply code (0 for success), and for a method. */
enum stats_reply stats_reply_index(int code);
enum stats_method stats_method_index(uint16_t method);

/* Names for logs and metrics ("not_stun", "400", "idle"). */
const char *stats_drop_name(enum stats_drop d);
const char *stats_reply_name(enum stats_reply r);
const char *stats_conn_name(enum stats_conn c);
const char *stats_method_name(enum stats_method m);
const char *stats_auth_name(enum stats_auth a);
const char *stats_tls_name(enum stats_tls t);
const char *stats_dtls_name(enum stats_dtls d);
const char *stats_steered_name(enum stats_steered s);

/* Adds src's counters into dst (dst is not shared: plain sum). */
void stats_sum(struct stats *dst, const struct stats *src);

#endif
