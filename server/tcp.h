/* tcp.h — TCP client listeners and connections: STUN and ChannelData framed on the stream. */
#ifndef SERVER_TCP_H
#define SERVER_TCP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/addr.h"

struct tls;
struct worker;
struct tcp_listener;
struct tcp_conn;

/* Opens worker w's SO_REUSEPORT TCP listener on a and accepts in w's loop.  Each connection
 * lives on that worker, within --max-tcp-connections, --tcp-idle-timeout and
 * --max-tcp-buffer.  0, or -1 with the reason in err. */
int tcp_listener_open(struct tcp_listener **out, struct worker *w, const union addr *a,
                      char *err, size_t errlen);

/* The same on a TLS port: each connection first runs a TLS handshake with context tls
 * (borrowed; it must outlive the listener) within TLS_HANDSHAKES_MAX handshakes per worker and
 * --tcp-idle-timeout, then carries the same framing as TCP as transport RELAY_TLS. */
int tcp_listener_open_tls(struct tcp_listener **out, struct worker *w, const union addr *a,
                          const struct tls *tls, char *err, size_t errlen);
void tcp_listener_close(struct tcp_listener *l);

/* Appends buf[0..len) to the connection's output.  0, or -1 when the connection cannot take
 * it.  Answers are produced only for input, and input is not read while the output holds
 * --max-tcp-buffer bytes, so the output stays bounded. */
int tcp_conn_send(struct tcp_conn *c, const void *buf, size_t len);

/* Appends relayed data, unless --max-tcp-buffer bytes are already waiting: then it is dropped
 * and RELAY_IO_FULL returned (relayed UDP may be lost; memory may not grow). */
int tcp_conn_relay(struct tcp_conn *c, const void *buf, size_t len);

/* The connection holds an allocation (or no longer does): while it does, its lifetime rules
 * instead of --tcp-idle-timeout on reads; a client that stops reading still meets the write
 * timeout. */
void tcp_conn_set_allocated(struct tcp_conn *c, bool allocated);

/* RFC 6062 data connections.  tcp_conn_release: the connection stops being a STUN client
 * connection and its bufferevent (callbacks cleared, still open) becomes the caller's, for
 * splicing; callable from inside the connection's own request handling.  Its input may
 * already hold what the client sent behind the request (and, until the request's handling
 * returns, the request itself): the caller sets its callbacks and triggers its read callback
 * deferred, which runs once the request is gone. */
struct bufferevent;
struct bufferevent *tcp_conn_release(struct tcp_conn *c);

/* A connection on its way to another worker: a duplicate of its socket, for TLS its session
 * (tls_bev_detach) and the ciphertext read ahead, the plaintext read past the request, and
 * what was queued on the socket but not written yet (for TLS the end of the handshake: TLS 1.3
 * session tickets, which the client must get before any later record).  The pointers are
 * valid only during the handoff callback. */
struct ssl_st;
struct tcp_handover {
    int fd;
    struct ssl_st *ssl;    /* NULL for plain TCP */
    const uint8_t *wire;
    size_t nwire;
    const uint8_t *rest;
    size_t nrest;
    const uint8_t *unsent;
    size_t nunsent;
};

/* Called (from inside the connection's request handling) to move the connection to another
 * worker: once the current request is done, fn gets the handover, then the connection closes
 * here (its session and socket live on in the handover). */
typedef void tcp_handoff_fn(const struct tcp_handover *h, void *arg);
void tcp_conn_handoff(struct tcp_conn *c, tcp_handoff_fn *fn, void *arg);

/* The other end of a handoff: a client connection on w from a handover whose buffers the caller
 * owns.  NULL (socket closed, session freed) when w cannot take it. */
struct tcp_conn *tcp_conn_adopt(struct worker *w, const struct tcp_handover *h,
                                const union addr *remote, const union addr *local);

/* Closes the connection at once and frees it (unlinking it from its worker). */
void tcp_conn_close(struct tcp_conn *c);

/* A request of the connection's waited for Redis (dispatch_packet returned DISPATCH_PARKED,
 * and the connection stopped reading with the request first in its input): reading resumes
 * with that request.  The connection may be closed by the time this returns. */
void tcp_conn_resume(struct tcp_conn *c);

#endif
