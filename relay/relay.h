/* relay.h — TURN on one worker: allocations, permissions, channels, data both ways, expiry. */
#ifndef RELAY_RELAY_H
#define RELAY_RELAY_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/addr.h"
#include "proto/stun.h"
#include "proto/stun_build.h"
#include "relay/policy.h"
#include "relay/ports.h"
#include "relay/quota.h"
#include "relay/reservation.h"

/* How a client reaches the server. */
enum relay_transport { RELAY_UDP, RELAY_TCP, RELAY_TLS, RELAY_DTLS };
#define RELAY_TRANSPORT_COUNT 4

/* A client's 5-tuple and the server's opaque handle (socket or connection) to answer it on.
 * relay/ compares transport, remote and local; it only hands handle back to the I/O layer. */
struct relay_client {
    enum relay_transport transport;
    union addr remote;
    union addr local;
    void *handle;
};

struct relay_alloc;
struct relay_tcpconn;

/* Why an allocation ended (RELAY_END_NONE: it was just created). */
enum relay_end {
    RELAY_END_NONE,
    RELAY_END_EXPIRED,     /* its lifetime ran out */
    RELAY_END_DELETED,     /* Refresh with LIFETIME 0 */
    RELAY_END_CLIENT_GONE, /* its stream connection closed */
    RELAY_END_SHUTDOWN,    /* the server stopped */
};

/* What the I/O layer is told of an allocation when it starts and when it ends (one log line
 * each, DESIGN §5).  Valid only during the callback. */
struct relay_alloc_info {
    const char *user;
    const struct relay_client *client;
    union addr relayed[2];        /* as advertised (--external-ip applied) */
    size_t nrelayed;
    bool tcp;                     /* an RFC 6062 TCP allocation */
    uint32_t lifetime;            /* seconds left */
    uint32_t duration;            /* seconds since it was created */
    uint64_t to_peer_packets, to_peer_bytes;
    uint64_t to_client_packets, to_client_bytes;
    enum relay_end end;
    bool refreshed;                    /* RELAY_END_NONE: a Refresh, not the start */
    const struct relay_limits *limits; /* what it is held to (its realm's), or NULL */
};

/* How to sign an answer that relay/ sends on its own, later than the request (Connect,
 * ConnectionBind): the key that verified the request and the integrity attribute it used. */
struct relay_sig {
    uint8_t key[32];
    uint8_t key_len; /* 0: no integrity (--no-auth) */
    bool sha256;     /* MESSAGE-INTEGRITY-SHA256 rather than MESSAGE-INTEGRITY */
};

/* What one realm's allocations are held to in place of relay_shared's settings (the realm
 * options of the Redis user database), taken at Allocate and kept by the allocation until it
 * ends.  Made by the server with relay_limits_new and filled in before first use; counted
 * references, one worker's only (not thread-safe): the maker holds one, each allocation one. */
struct relay_limits {
    unsigned refs;
    uint32_t user_quota;             /* in place of relay_shared.user_quota (0 = no limit) */
    uint32_t max_bps;                /* in place of relay_shared.max_bps (0 = none) */
    uint32_t total_quota;            /* the realm's allocations at once, 0 = no limit ... */
    struct relay_quota *realm_count; /* ... counted here by realm (shared; borrowed) */
    struct relay_policy *peers;      /* the realm's ranges, judged with the shared policy
                                        (relay_policy_allows_with); owned; may be NULL */
    char realm[];                    /* the realm, NUL-terminated */
};

/* A relay_limits for realm (copied) holding one reference, the rest zero.  0 or -1. */
int relay_limits_new(struct relay_limits **out, const char *realm);
void relay_limits_hold(struct relay_limits *l);
/* Drops a reference; the last frees l and its peers policy.  Accepts NULL. */
void relay_limits_release(struct relay_limits *l);

/* What relay/ asks of the network.  Implemented by the server (sockets) and by the tests (a
 * fake network).  Every call happens on the worker that owns the relay. */
struct relay_io {
    void *ctx;
    /* Opens a UDP endpoint bound to a (IP and port) for allocation owner, with the DF bit set
     * on what it sends when dont_fragment.  Returns a handle, or NULL with errno set
     * (EADDRINUSE: the port is taken outside our pool; relay/ then tries another one). */
    void *(*open_udp)(void *ctx, const union addr *a, bool dont_fragment,
                      struct relay_alloc *owner);
    /* Closes an endpoint; no callback for it happens afterwards. */
    void (*close)(void *ctx, void *endpoint);
    /* Binds a UDP socket on a without reading it, so that a port reserved for a later
     * Allocate (RESERVATION-TOKEN) stays ours meanwhile: marking it in our pool does not stop
     * the kernel from giving it to someone else.  Returns a handle or NULL with errno. */
    void *(*hold)(void *ctx, const union addr *a);
    /* Makes a held socket an endpoint of owner, read in this worker's loop.  The held handle
     * is consumed either way; NULL when it failed. */
    void *(*adopt)(void *ctx, void *held, bool dont_fragment, struct relay_alloc *owner);
    /* Closes a held socket whose reservation lapsed.  Called from whichever worker expires the
     * reservation: it touches nothing but the socket. */
    void (*unhold)(void *ctx, void *held);
    /* Sends a datagram from an endpoint to a peer; dont_fragment asks for DF on this one. */
    int (*send_peer)(void *ctx, void *endpoint, const union addr *peer, const uint8_t *buf,
                     size_t len, bool dont_fragment);
    /* Sends bytes (a STUN message or a ChannelData message) to a client.  Returns 0, -1, or
     * RELAY_IO_FULL when a stream client's queue is full (the datagram is dropped: a slow
     * reader costs bounded memory, RFC 8656 §12.5 leaves the loss to UDP's semantics). */
    int (*send_client)(void *ctx, const struct relay_client *c, const uint8_t *buf, size_t len);
    /* Tells the I/O layer that client c now holds an allocation (or no longer does), so that
     * a stream's idle timeout gives way to the allocation's lifetime.  May be NULL. */
    void (*client_state)(void *ctx, const struct relay_client *c, bool has_allocation);
    /* An allocation started or was refreshed (info->end is RELAY_END_NONE; info->refreshed
     * tells which) or ended.  May be NULL. */
    void (*on_allocation)(void *ctx, const struct relay_alloc_info *info);

    /* RFC 6062 TCP relays (all may be NULL when the I/O layer has none: TCP allocations then
     * get 442).  open_tcp: a listening TCP socket on a, whose incoming connections are handed
     * to relay_tcp_accepted(); closed with close().  tcp_connect: starts a connection from
     * the listener's address to peer for tc; the outcome comes back through
     * relay_tcp_connected().  tcp_bind: from now on the bytes of tc's peer connection and of
     * client data connection c flow both ways as they are.  tcp_close: closes tc's peer
     * connection (and its client data connection if bound); no callback follows. */
    void *(*open_tcp)(void *ctx, const union addr *a, struct relay_alloc *owner);
    int (*tcp_connect)(void *ctx, void *listener, const union addr *peer,
                       struct relay_tcpconn *tc, void **handle);
    int (*tcp_bind)(void *ctx, void *handle, const struct relay_client *c);
    void (*tcp_close)(void *ctx, void *handle);
};

#define RELAY_IO_FULL (-2)

/* One relay IP with its port pool.  external is the address advertised in
 * XOR-RELAYED-ADDRESS instead of ip (--external-ip), AF_UNSPEC for ip itself. */
struct relay_addr {
    union addr ip;
    union addr external;
    struct relay_ports *ports;
};

#define RELAY_MAX_ADDRS 32

/* Settings and state shared by every worker's relay: set up before the workers start,
 * read-only afterwards except the thread-safe pools, reservations and quotas. */
struct relay_shared {
    struct relay_addr addrs[RELAY_MAX_ADDRS];
    size_t naddrs;
    /* Swapped whole on SIGHUP (atomically; the old one is freed once every worker has moved
     * on): read it with relay_policy_of(). */
    _Atomic(struct relay_policy *) policy;
    struct relay_reservations *reservations;
    struct relay_quota *quota;
    uint32_t default_lifetime;    /* 600 */
    uint32_t max_lifetime;        /* --max-allocate-lifetime, 3600 */
    uint32_t permission_lifetime; /* 300 (RFC 8656 §9) */
    uint32_t channel_lifetime;    /* 600 (RFC 8656 §12) */
    uint32_t user_quota;          /* --user-quota, 0 = no limit */
    uint32_t total_quota;         /* --total-quota, 0 = no limit */
    uint16_t max_permissions;     /* per allocation */
    uint16_t max_channels;        /* per allocation */
    uint16_t max_tcp_connections; /* RFC 6062 peer connections per allocation */
    bool no_tcp_relay;            /* --no-tcp-relay: REQUESTED-TRANSPORT TCP gets 442 */
    uint32_t max_per_ip;          /* --max-allocations-per-ip, 0 = no limit */
    struct relay_quota *ip_quota; /* allocations counted by client IP */
    uint32_t max_bps;             /* --max-bps: bytes/s per allocation and direction, 0 = none */
    uint64_t bps_capacity;        /* --bps-capacity: bytes/s per direction for the server */
    unsigned nworkers;            /* the capacity is shared out evenly between the workers */
    union addr alternates[8];     /* --alternate-server: Allocates get 300, in turn */
    size_t nalternates;
    struct relay_control *control;/* what changes while the workers run */
};

/* The peer policy in force. */
static inline const struct relay_policy *relay_policy_of(const struct relay_shared *sh)
{
    return atomic_load_explicit(&sh->policy, memory_order_acquire);
}

/* The little shared state that changes at run time, owned by whoever set up relay_shared. */
struct relay_control {
    _Atomic unsigned alternate_next; /* round robin over the alternates */
    _Atomic bool draining;           /* SIGUSR1: no new allocation (300 or 508) */
};

/* Why relay/ dropped something without an answer. */
enum relay_drop {
    RELAY_DROP_NO_ALLOCATION,  /* ChannelData or Send on a 5-tuple without allocation */
    RELAY_DROP_NO_CHANNEL,     /* ChannelData on an unbound channel */
    RELAY_DROP_NO_PERMISSION,  /* Send to, or datagram from, a peer without permission */
    RELAY_DROP_DENIED_PEER,    /* Send to a peer the policy forbids */
    RELAY_DROP_MALFORMED,      /* Send without its attributes, ChannelData too short */
    RELAY_DROP_QUEUE_FULL,     /* a stream client's queue is full (it reads too slowly) */
    RELAY_DROP_TCP_ALLOCATION, /* Send or ChannelData on a TCP allocation (RFC 6062) */
    RELAY_DROP_BANDWIDTH,      /* over --max-bps or --bps-capacity */
    RELAY_DROP_SEND_FAILED,    /* the network refused */
    RELAY_DROP_COUNT
};

/* A worker relay's counters; read by other threads with atomic loads. */
struct relay_stats {
    _Atomic uint64_t allocations_active;
    /* The same by the client's transport and address family ([0] IPv4, [1] IPv6). */
    _Atomic uint64_t active_by[RELAY_TRANSPORT_COUNT][2];
    _Atomic uint64_t allocations_created;
    _Atomic uint64_t allocations_expired;
    _Atomic uint64_t allocations_deleted;
    _Atomic uint64_t ports_exhausted;    /* 508 for want of a port */
    _Atomic uint64_t to_peer_packets;
    _Atomic uint64_t to_peer_bytes;
    _Atomic uint64_t to_client_packets;
    _Atomic uint64_t to_client_bytes;
    _Atomic uint64_t drop[RELAY_DROP_COUNT];
};

struct relay;

/* A relay for worker number worker (0..255: RFC 6062 connection IDs carry it, so that any
 * worker can tell which one owns a connection).  sh and io are borrowed and must outlive it;
 * now is the worker's clock in seconds (monotonic).  0 or -1 (no memory). */
int relay_new(struct relay **out, const struct relay_shared *sh, const struct relay_io *io,
              unsigned worker, uint32_t now);

/* Deletes every allocation (endpoints closed, ports and quotas given back) and frees. */
void relay_free(struct relay *r);

/* Answers an authenticated TURN request (Allocate, Refresh, CreatePermission, ChannelBind,
 * Connect, ConnectionBind) from c for user (NUL-terminated; "" with --no-auth), signed with
 * sig (NULL with --no-auth); an Allocate is held to limits (NULL: relay_shared's), of which
 * the allocation takes a reference.  Starts the response in b over buf[0..cap) and appends its
 * attributes; the caller appends integrity and FINGERPRINT and sends it.  Returns the response
 * code: 0 for success, else the ERROR-CODE already in b; or RELAY_ANSWERED when relay/ sends
 * (or will send) the answer itself; or RELAY_HANDOFF for a ConnectionBind whose connection
 * belongs to another worker (relay_connection_owner() says which): the caller moves the client
 * connection there and calls relay_connection_bind() on that worker. */
int relay_request(struct relay *r, const struct relay_client *c, const struct stun_msg *m,
                  const char *user, struct relay_limits *limits, const struct relay_sig *sig,
                  uint32_t now, struct stun_builder *b, uint8_t *buf, size_t cap);

#define RELAY_ANSWERED (-1)
#define RELAY_HANDOFF (-2)

/* Sends client c an answer of its own making: success (with CONNECTION-ID conn_id when not
 * 0) or error code with reason, for transaction tid, signed with sig, FINGERPRINT when
 * asked.  For the answers that do not come back through relay_request(). */
void relay_answer(struct relay *r, const struct relay_client *c, uint16_t method,
                  const uint8_t *tid, int code, const char *reason, uint32_t conn_id,
                  const struct relay_sig *sig, bool fingerprint);

/* The worker that owns the CONNECTION-ID of m, or -1 when m has none. */
int relay_connection_owner(const struct stun_msg *m);

/* ConnectionBind (RFC 6062 §5.4) of client data connection c to connection id, on the worker
 * that owns id: checks it is pending and the user is the allocation's, answers on c (tid,
 * signed with sig, FINGERPRINT when asked), then joins c to the peer connection.  On failure
 * c gets the error answer and stays an ordinary client connection. */
void relay_connection_bind(struct relay *r, const struct relay_client *c, uint32_t id,
                           const char *user, const struct relay_sig *sig,
                           const uint8_t tid[STUN_TID_LEN], bool fingerprint, uint32_t now);

/* The outcome of io->tcp_connect for tc: the Connect request is answered (CONNECTION-ID, or
 * 447), and a failed tc is forgotten. */
void relay_tcp_connected(struct relay *r, struct relay_tcpconn *tc, bool ok, uint32_t now);

/* A peer connected to the TCP relayed address of a.  Returns the connection to keep
 * (ConnectionAttempt sent to the client, RFC 6062 §5.3), or NULL when the peer has no
 * permission (or the allocation has too many): the caller closes the connection. */
struct relay_tcpconn *relay_tcp_accepted(struct relay *r, struct relay_alloc *a,
                                         const union addr *peer, void *handle, uint32_t now);

/* The I/O layer closed tc's peer or client data connection on its own (an end closed it):
 * relay/ forgets tc. */
void relay_tcp_closed(struct relay *r, struct relay_tcpconn *tc);

/* Takes a Send indication: relays its DATA to its XOR-PEER-ADDRESS when permitted; otherwise
 * drops it and counts why. */
void relay_send_indication(struct relay *r, const struct relay_client *c,
                           const struct stun_msg *m, uint32_t now);

/* Takes a ChannelData message (buf starts at its 4-byte header; len is the datagram or the
 * frame) and relays its payload to the channel's peer. */
void relay_channel_data(struct relay *r, const struct relay_client *c, const uint8_t *buf,
                        size_t len, uint32_t now);

/* A datagram from peer arrived on an endpoint of a.  The payload lies at p[0..len) with
 * FRAME_HEADROOM writable bytes before it and 3 after it, so it is framed in place (ChannelData
 * when a channel is bound to the peer, else a Data indication) and sent to the client. */
void relay_peer_data(struct relay *r, struct relay_alloc *a, const union addr *peer,
                     uint8_t *p, size_t len, uint32_t now);

/* Runs the timers up to now: expired allocations are deleted, expired permissions and
 * channels removed, expired reservations returned to their pools. */
void relay_tick(struct relay *r, uint32_t now);

/* The client's stream closed: its allocation (if any) goes with it. */
void relay_client_gone(struct relay *r, const struct relay_client *c);

/* The allocation on a 5-tuple, or NULL. */
struct relay_alloc *relay_find(struct relay *r, const struct relay_client *c);

/* Hints the cache that data is about to be relayed for the allocation on c's 5-tuple
 * (relay_prefetch_client) or for a (relay_prefetch): a pass of these over a batch of datagrams
 * ahead of the real work lets the cache misses of many allocations overlap instead of coming
 * one after the other. */
void relay_prefetch_client(const struct relay *r, const struct relay_client *c);
void relay_prefetch(const struct relay_alloc *a);

/* The limits the allocation on a 5-tuple is held to (and so its realm), or NULL. */
const struct relay_limits *relay_alloc_limits(struct relay *r, const struct relay_client *c);

/* The reason phrase of the last error relay_request() answered ("" for the RFC's phrase). */
const char *relay_reason(const struct relay *r);

/* Counters of this relay. */
const struct relay_stats *relay_stats(const struct relay *r);

/* Adds the counters of src (another thread's, read with atomic loads) into dst, a private
 * sum. */
void relay_stats_add(struct relay_stats *dst, const struct relay_stats *src);

/* Name of a drop reason ("no_permission"). */
const char *relay_drop_name(enum relay_drop d);

#endif
