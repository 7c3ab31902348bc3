/* tlsbridge.h — TLS and DTLS for the tests' plain clients: a thread carrying a local socket's
 * bytes over a TLS (stream) or DTLS (datagram) connection to the server. */
#ifndef TESTS_LIB_TLSBRIDGE_H
#define TESTS_LIB_TLSBRIDGE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

struct ssl_st;
struct ssl_ctx_st;

/* One bridge.  The test's client (turnc, client.h) talks plain TCP (tls) or UDP (dtls) to
 * 127.0.0.1:port; the bridge is the server's TLS or DTLS client. */
struct tlsbridge {
    bool dtls;
    uint16_t port;        /* where the plain client connects or sends */
    int plain;            /* TLS: the listener, then the accepted connection; DTLS: bound UDP */
    int secure;           /* the socket to the server */
    struct ssl_ctx_st *ctx;
    struct ssl_st *ssl;
    char alpn[32];        /* what the server selected, "" for none */
    char version[16];     /* "TLSv1.3", "DTLSv1.2" */
    _Atomic bool server_closed; /* the server closed the connection (close_notify or EOF) */
    int stop[2];          /* a pipe: a byte asks the thread to stop */
    pthread_t thread;
    bool running;
};

/* A bridge not started yet, which tlsbridge_close() accepts (no descriptor to close). */
#define TLSBRIDGE_INIT {.plain = -1, .secure = -1, .stop = {-1, -1}}

/* Connects to the server at ip:port over TLS or DTLS (offering ALPN "stun.turn", verifying
 * the server's certificate against cafile when not NULL), completes the handshake within 5 s,
 * then starts carrying bytes.  Returns 0, or -1 after printing why. */
int tlsbridge_start(struct tlsbridge *b, bool dtls, const char *ip, uint16_t port,
                    const char *cafile);

/* Stops carrying bytes but keeps the connection: the test may then use b->secure itself. */
void tlsbridge_pause(struct tlsbridge *b);

/* Stops the thread; with notify, sends close_notify to the server first.  Closes everything.
 * Accepts a bridge that failed to start. */
void tlsbridge_close(struct tlsbridge *b, bool notify);

#endif
