/* tls.h — the TLS and DTLS server contexts, OpenSSL streams for TLS clients, TLS handshakes. */
#ifndef SERVER_TLS_H
#define SERVER_TLS_H

#include <stdbool.h>
#include <stddef.h>

#include "proto/addr.h"

struct bufferevent;
struct config;
struct event_base;
struct ssl_ctx_st;
struct tcp_conn;
struct worker;

/* A server context: certificate chain and key, protocol versions, ciphers and groups, ALPN
 * (RFC 7443) and SNI.  Built once at start-up and shared by every worker (an OpenSSL 3 SSL_CTX
 * may be used from many threads once it is set up). */
struct tls;

/* A worker's TLS state: its handshakes in progress, oldest first, and a write buffer. */
struct tls_worker;
struct tls_handshake;

/* TLS handshakes in progress per worker.  A client that connects and sends nothing costs an
 * SSL object; past this many, the oldest handshake is closed to make room, so that a flood of
 * silent connections cannot hold every slot while real clients finish theirs in a few
 * round trips. */
#define TLS_HANDSHAKES_MAX 256

/* The DTLS link MTU assumed for handshake messages (RFC 6347 §4.1.1.1): what fits in one
 * Ethernet frame with room for a tunnel header. */
#define TLS_DTLS_MTU 1400

/* Builds the TLS context (dtls false: TLS 1.2 and 1.3) or the DTLS one (DTLS 1.2, with the
 * stateless cookies of RFC 6347 §4.2.1 keyed by a random per-process secret) from --cert,
 * --pkey (default: the --cert file), --pkey-pwd, --CA-file, --cipher-list, --ec-curve-name and
 * --dh-file.  cfg is borrowed for the call only.  Returns 0, or -1 with a message naming the
 * option and the file in err (a file that cannot be read, a key that does not decrypt with
 * --pkey-pwd or does not match the certificate, an unknown group or cipher list). */
int tls_new(struct tls **out, const struct config *cfg, bool dtls, char *err, size_t errlen);

/* Frees the context; accepts NULL.  No connection may use it any more. */
void tls_free(struct tls *t);

/* A new server SSL object from the current context (thread-safe: a reload may swap the
 * context meanwhile; the object keeps its own reference to the one it was made from). */
struct ssl_st;
struct ssl_st *tls_ssl_new(const struct tls *t);

/* SIGHUP: a new context from cfg's certificate, key and settings replaces the current one for
 * the connections made from now on; those already open keep theirs.  On any error nothing
 * changes and err names the file.  Call from one thread at a time (the main thread). */
int tls_reload(struct tls *t, const struct config *cfg, char *err, size_t errlen);


/* One line for the start-up log: "TLS 1.2-1.3, certificate 'CN=...' valid until ...". */
void tls_describe(const struct tls *t, char *buf, size_t cap);

/* A bufferevent running the server side of a TLS handshake on accepted socket fd in base, then
 * carrying the connection's plaintext: an OpenSSL filter over a socket bufferevent; freeing it
 * frees both, the SSL object, and closes fd.  Takes fd in every case: NULL when out of memory,
 * fd then closed (by libevent once the filter has taken it; if the filter's very first
 * allocation fails, fd and the SSL object leak, which we cannot tell). */
struct bufferevent *tls_bev_accept(const struct tls *t, struct event_base *base, int fd);

/* Logs at debug level what a TLS connection from remote agreed on (version, cipher, ALPN), or
 * why its handshake failed. */
/* Moving an established TLS connection to another worker (an RFC 6062 data connection that
 * reached the wrong one).  tls_bev_detach: before bev is freed, takes a reference of its own
 * to the session and unhooks it from bev's socket, so that freeing bev closes the socket but
 * leaves the session whole.  tls_bev_adopt: on the other worker, a connection over socket fd
 * continuing that session (the reference is consumed), with the n bytes of ciphertext wire
 * that had been read ahead.  NULL when out of memory, as tls_bev_accept says. */
struct ssl_st *tls_bev_detach(struct bufferevent *bev);
struct bufferevent *tls_bev_adopt(struct event_base *base, int fd, struct ssl_st *ssl,
                                  const void *wire, size_t n);

/* Frees a detached session nobody adopted (a handoff that could not be delivered). */
void tls_session_free(struct ssl_st *ssl);

void tls_log_established(struct bufferevent *bev, const union addr *remote);
void tls_log_failure(struct bufferevent *bev, const union addr *remote);

/* The TLS state of worker w.  0 or -1 (no memory). */
int tls_worker_new(struct tls_worker **out, struct worker *w);

/* Frees it; accepts NULL.  The connections must have been closed already. */
void tls_worker_free(struct tls_worker *q);

/* Queues buf[0..len) (one STUN or ChannelData message) on TLS connection bev as a TLS record
 * of its own, as coturn sends them: some clients (coturn's among them) take one message per
 * record and would lose the rest of a record holding several.  0 or -1 (no memory). */
int tls_send(struct tls_worker *q, struct bufferevent *bev, const void *buf, size_t len);

/* Starts watching the handshake of connection c: it is closed (counted as a timeout) when its
 * handshake has not finished within --tcp-idle-timeout, and when TLS_HANDSHAKES_MAX are in
 * progress the oldest one is closed first (counted as evicted).  Returns the watch, to be
 * ended by exactly one of the calls below, or NULL when out of memory. */
struct tls_handshake *tls_handshake_begin(struct tls_worker *q, struct tcp_conn *c);

/* The handshake completed (counted); the watch is freed.  Accepts NULL. */
void tls_handshake_done(struct tls_handshake *h);

/* The connection is closing before its handshake completed: counted as a failure unless the
 * watch itself closed it; the watch is freed.  Accepts NULL. */
void tls_handshake_abort(struct tls_handshake *h);

#endif
