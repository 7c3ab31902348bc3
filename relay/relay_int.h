/* relay_int.h — relay/'s private structures, shared by relay.c, alloc.c and handlers.c. */
#ifndef RELAY_RELAY_INT_H
#define RELAY_RELAY_INT_H

#include <stdatomic.h>

#include "relay/relay.h"
#include "relay/wheel.h"

/* How long a retransmitted request still gets its first answer (RFC 8489 §6.3: 40 s covers
 * a client's whole retransmission schedule). */
#define RELAY_RETRANSMIT_WINDOW 40
/* Deleted allocations (and families of dual ones) remembered for retransmitted Refresh(0)
 * requests, per worker. */
#define RELAY_TOMBS 256

/* A permission: an IP (port ignored, RFC 8656 §9), 4 or 16 significant bytes. */
struct relay_perm {
    uint8_t family;
    uint8_t ip[16];
    uint32_t expires;
};

/* A channel binding: number and peer transport address. */
struct relay_chan {
    uint16_t num;
    uint32_t expires;
    union addr peer;
};

/* RFC 6062: how long a peer connection waits for its ConnectionBind, and a Connect for the
 * peer to answer (both "at least 30 seconds"). */
#define RELAY_TCP_BIND_TIMEOUT 30

enum relay_tcp_state {
    RELAY_TCP_CONNECTING, /* Connect sent to the peer, not answered yet */
    RELAY_TCP_PENDING,    /* a peer connection waiting for its ConnectionBind */
    RELAY_TCP_BOUND,      /* joined to a client data connection */
};

/* A peer data connection of a TCP allocation.  Owned by relay/; the I/O layer holds handle. */
struct relay_tcpconn {
    struct relay_tcpconn *next;   /* the allocation's list */
    struct relay_tcpconn *hnext;  /* the relay's table by id */
    struct relay_alloc *alloc;
    void *handle;
    uint32_t id;
    uint32_t expires;             /* PENDING: closed unless bound by then */
    enum relay_tcp_state state;
    union addr peer;
    /* CONNECTING: what the Connect's answer needs. */
    uint8_t tid[STUN_TID_LEN];
    struct relay_sig sig;
    bool fingerprint;
};

/* A token bucket of bytes refilled each second up to rate (one second of burst). */
struct relay_bucket {
    uint64_t tokens;
    uint32_t last;
};

/* One relayed transport address of an allocation (one per address family). */
struct relay_ep {
    void *handle;                 /* the I/O layer's endpoint, NULL when unused */
    const struct relay_addr *pool;
    union addr addr;              /* the bound relay IP and port */
};

enum { RELAY_EP_V4, RELAY_EP_V6, RELAY_EP_COUNT };

/* An allocation.  Owned by one worker's relay; the server's endpoints point at it.  What
 * every relayed datagram reads comes first, the first permission and channel included (most
 * allocations have one peer): a few adjacent cache lines, and no pointer to follow for them. */
struct relay_alloc {
    struct relay_alloc *hnext;    /* the 5-tuple table's chain */
    struct relay_client client;
    uint16_t nperm, capperm;      /* capacity 1: perms is perm1 */
    uint16_t nchan, capchan;      /* capacity 1: chans is chan1 */
    struct relay_perm *perms;
    struct relay_chan *chans;
    struct relay_perm perm1;
    struct relay_chan chan1;
    struct relay_ep ep[RELAY_EP_COUNT];
    uint64_t to_peer_packets, to_peer_bytes;
    uint64_t to_client_packets, to_client_bytes;
    struct relay_bucket bw_to_peer, bw_to_client; /* --max-bps */
    uint32_t max_bps;             /* its --max-bps, or its realm's */
    bool dont_fragment;
    bool tcp;                     /* RFC 6062: the endpoints listen for TCP */
    /* The rest serves requests and timers. */
    struct wheel_timer timer;     /* the earliest of expiry, permission and channel expiries */
    struct relay *relay;
    uint32_t created;
    uint32_t expires;
    /* What a retransmitted Allocate needs to get the same answer (RFC 8656 §7.2). */
    uint8_t tid[STUN_TID_LEN];
    uint8_t token[RELAY_TOKEN_LEN];
    bool has_token;
    uint8_t addr_error_family;    /* the family ADDRESS-ERROR-CODE spoke of, or 0 */
    uint16_t addr_error_code;
    uint16_t addr_error_type;     /* its codepoint: RFC 8656's, or the draft's the client used */
    struct relay_tcpconn *tcpconns;
    uint16_t ntcpconns;
    struct relay_limits *limits;  /* a reference, or NULL */
    char user[];                  /* the user who created it: later requests must match */
};

/* The bytes of an allocation that relaying a datagram reads (relay_prefetch). */
#define RELAY_ALLOC_HOT offsetof(struct relay_alloc, timer)

/* A deleted allocation's 5-tuple and the transaction that deleted it. */
struct relay_tomb {
    struct relay_client client;
    uint8_t tid[STUN_TID_LEN];
    uint32_t when;
    bool used;
};

struct relay {
    const struct relay_shared *sh;
    const struct relay_io *io;
    struct wheel *wheel;
    struct relay_alloc **buckets; /* 5-tuple hash table, power-of-two size */
    size_t nbuckets;
    size_t count;
    uint32_t seed;                /* hash seed */
    unsigned worker;              /* this relay's worker: the top byte of its connection IDs */
    uint32_t next_id;             /* the last connection ID's low 24 bits */
    struct relay_tcpconn *tcp_buckets[256]; /* connection ID -> peer connection */
    uint64_t rng;                 /* xorshift state: ports, indication transaction IDs */
    uint32_t now;
    const char *reason;           /* the reason phrase of the error being answered, or NULL */
    union addr alternate;         /* the ALTERNATE-SERVER of a 300 being answered */
    uint64_t capacity;            /* this worker's share of --bps-capacity, 0 = none */
    struct relay_bucket cap_to_peer, cap_to_client;
    struct relay_tomb tombs[RELAY_TOMBS];
    unsigned tomb_next;
    struct relay_stats stats;
};

#define RELAY_STAT_ADD(ctr, n) \
    atomic_store_explicit(&(ctr), atomic_load_explicit(&(ctr), memory_order_relaxed) + (n), \
                          memory_order_relaxed)
#define RELAY_STAT_INC(ctr) RELAY_STAT_ADD(ctr, 1)

/* Returns code after noting why, for the answer's reason phrase. */
static inline int relay_fail(struct relay *r, int code, const char *why)
{
    r->reason = why;
    return code;
}

/* relay.c */
uint64_t relay_random(struct relay *r);
bool relay_client_equal(const struct relay_client *a, const struct relay_client *b);
void relay_insert(struct relay *r, struct relay_alloc *a);
void relay_delete(struct relay *r, struct relay_alloc *a, enum relay_end why);
void relay_announce(struct relay *r, const struct relay_alloc *a, enum relay_end why,
                    bool refreshed);
void relay_tomb_add(struct relay *r, const struct relay_client *c, const uint8_t *tid);
bool relay_tomb_find(struct relay *r, const struct relay_client *c, const uint8_t *tid);

/* limits.c: the shared peer policy with the allocation's realm's ranges. */
bool relay_peer_allowed(const struct relay *r, const struct relay_alloc *a,
                        const union addr *peer);

/* alloc.c: permissions, channels, endpoints and the allocation's timer. */
struct relay_alloc *relay_alloc_new(struct relay *r, const struct relay_client *c,
                                    const char *user, uint32_t now);
void relay_alloc_free(struct relay_alloc *a);
int relay_alloc_open(struct relay_alloc *a, int ep, const struct relay_addr *pool,
                     unsigned port_flags);
int relay_alloc_open_pair(struct relay_alloc *a, int ep, const struct relay_addr *pool,
                          union addr *next, void **held);
int relay_alloc_adopt(struct relay_alloc *a, int ep, const struct relay_addr *pool,
                      const union addr *addr, void *held);
struct relay_ep *relay_alloc_ep_for(struct relay_alloc *a, const union addr *peer);
bool relay_alloc_permitted(const struct relay_alloc *a, const union addr *peer, uint32_t now);
int relay_alloc_permit(struct relay_alloc *a, const union addr *peer, uint32_t now);
struct relay_chan *relay_alloc_chan_by_num(struct relay_alloc *a, uint16_t num, uint32_t now);
struct relay_chan *relay_alloc_chan_by_peer(struct relay_alloc *a, const union addr *peer,
                                            uint32_t now);
int relay_alloc_bind(struct relay_alloc *a, uint16_t num, const union addr *peer, uint32_t now);
void relay_alloc_schedule(struct relay_alloc *a);
void relay_alloc_sweep(struct relay_alloc *a, uint32_t now);
/* Deletes endpoint ep of a dual allocation (Refresh with LIFETIME 0 and its family, RFC 8656
 * §8.2): its socket and port, and the permissions and channels toward peers of its family,
 * which no longer have a relayed address to leave from. */
void relay_alloc_close_family(struct relay_alloc *a, int ep, uint32_t now);

/* tcprelay.c: RFC 6062. */
int relay_handle_connect(struct relay *r, struct relay_alloc *a, const struct stun_msg *m,
                         const struct relay_sig *sig);
void relay_tcp_close_all(struct relay *r, struct relay_alloc *a);
void relay_tcp_sweep(struct relay *r, struct relay_alloc *a, uint32_t now);

/* handlers.c */
int relay_handle_allocate(struct relay *r, const struct relay_client *c,
                          const struct stun_msg *m, const char *user,
                          struct relay_limits *limits, struct stun_builder *b);
void relay_put_quotas(struct relay *r, const struct relay_client *c, const char *user,
                      const struct relay_limits *limits);

int relay_handle_refresh(struct relay *r, struct relay_alloc *a, const struct stun_msg *m,
                         struct stun_builder *b);
int relay_handle_permission(struct relay *r, struct relay_alloc *a, const struct stun_msg *m);
int relay_handle_channel_bind(struct relay *r, struct relay_alloc *a, const struct stun_msg *m);

#endif
