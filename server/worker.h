/* worker.h — a worker thread: one event loop owning its sockets, connections and counters. */
#ifndef SERVER_WORKER_H
#define SERVER_WORKER_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/queue.h>

#include "relay/relay.h"
#include "server/config.h"
#include "server/stats.h"

struct auth;
struct event;
struct mailbox;
struct event_base;
struct server;
struct udp_sock;
struct udp_rx;
struct tcp_listener;
struct tcp_conn;
struct tls;
struct tls_worker;
struct dtls;
struct rstore;
struct rstore_shared;
struct steer;
struct peer_steering;

#define WORKER_MAX_LISTEN (2 * CONFIG_MAX_ADDRS)

LIST_HEAD(tcp_conn_list, tcp_conn);

/* What every worker reads and nobody changes while they run (set up by server.c). */
struct worker_shared {
    const struct config *cfg;
    const struct auth *auth;           /* NULL with --no-auth */
    const struct relay_shared *relay;
    struct mailbox **mailboxes;        /* every worker's inbox, by worker id */
    unsigned nworkers;
    const struct tls *tls;             /* NULL: no TLS listeners */
    const struct tls *dtls;            /* NULL: no DTLS sockets */
    struct rstore_shared *rstore;      /* NULL: no --redis-userdb or --redis-statsdb */
    const struct steer *steer;         /* NULL: no --relay-steering */
};

/* Everything a worker owns.  Only the worker's own thread touches it while it runs, except
 * `stats` (read by anyone with atomic loads) and the stop request (event_base_loopexit is
 * thread-safe).  The server module and the transports in server/ read the fields directly. */
struct worker {
    int id;
    const struct config *cfg;
    const struct worker_shared *shared;
    struct event_base *base;
    struct event *tick;                       /* 1 s: relay timers */
    uint64_t last_tick_us;                    /* when it last ran */
    pthread_t thread;
    bool started;

    struct udp_rx *rx;       /* receive batch shared by this worker's listeners */
    struct udp_rx *relay_rx; /* the relay endpoints' batch (udp_relay_recv) */
    struct udp_sock *udp[WORKER_MAX_LISTEN];
    size_t nudp;
    struct tcp_listener *tcp[WORKER_MAX_LISTEN];
    size_t ntcp;
    struct tcp_conn_list conns;
    size_t nconns;
    struct tcp_listener *tls[WORKER_MAX_LISTEN]; /* TLS ports: TCP connections over OpenSSL */
    size_t ntls;
    struct tls_worker *tls_worker;           /* TLS handshakes in progress (bounded) */
    struct dtls *dtls;                        /* DTLS sockets and sessions, or NULL */

    struct relay *relay;                      /* this worker's allocations */
    struct mailbox *mailbox;                  /* work posted by other threads */
    struct ratelimit *unauthorized;           /* --unauthorized-ratelimit, or NULL */
    struct rstore *rstore;                    /* this worker's Redis connections, or NULL */
    struct relay_io io;                       /* relay/'s view of our sockets */
    struct peer_steering *steering;           /* --relay-steering (peer.c), or NULL */

    struct stats stats;
};

/* Creates worker id with its event base and its own SO_REUSEPORT UDP socket and TCP listener
 * on each of the n listening addresses (as --no-udp/--no-tcp allow), at the listening port and
 * --alt-listening-port, and its TLS listener and DTLS socket (as sh->tls and sh->dtls say) at
 * --tls-listening-port and --alt-tls-listening-port.  Sockets are opened here, in the calling
 * thread, so a bind error is reported before any thread starts.  Returns 0, or -1 with the
 * reason in err. */
int worker_new(struct worker **out, const struct worker_shared *sh, int id,
               const union addr *listen, size_t n, char *err, size_t errlen);

/* The worker clock for relay/: whole seconds of CLOCK_MONOTONIC, the same for every worker
 * (reservations are redeemed across workers). */
uint32_t worker_now(const struct worker *w);

/* Starts the worker's thread running its loop.  0 or -1 (errno). */
int worker_start(struct worker *w);

/* Asks the loop to stop; callable from any thread.  worker_join() waits for it. */
void worker_stop(struct worker *w);
void worker_join(struct worker *w);

/* Closes every socket and connection and frees the worker.  Accepts NULL.  The thread must
 * have been joined (or never started). */
void worker_free(struct worker *w);

#endif
