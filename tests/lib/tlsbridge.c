/* tlsbridge.c — TLS and DTLS for the tests' plain clients: a thread carrying a local socket's
 * bytes over a TLS (stream) or DTLS (datagram) connection to the server. */
#include "tests/lib/tlsbridge.h"

#include <errno.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "proto/addr.h"
#include "tests/lib/client.h"

#define BRIDGE_BUF 65536

static int fail(const char *what)
{
    char why[256];

    ERR_error_string_n(ERR_get_error(), why, sizeof(why));
    fprintf(stderr, "tlsbridge: %s: %s\n", what, why);
    ERR_clear_error();
    return -1;
}

/* The plain side: a TCP listener or a UDP socket on 127.0.0.1 at a free port. */
static int open_plain(struct tlsbridge *b)
{
    union addr a;
    socklen_t len = sizeof(a);

    addr_parse(&a, "127.0.0.1", 0);
    b->plain = socket(AF_INET, (b->dtls ? SOCK_DGRAM : SOCK_STREAM) | SOCK_CLOEXEC, 0);
    if (b->plain < 0 || bind(b->plain, &a.sa, addr_len(&a)) < 0 ||
        (!b->dtls && listen(b->plain, 1) < 0) || getsockname(b->plain, &a.sa, &len) < 0)
        return -1;
    b->port = addr_port(&a);
    return 0;
}

static int handshake(struct tlsbridge *b, const char *ip, uint16_t port, const char *cafile)
{
    static const unsigned char alpn[] = "\x09stun.turn";
    struct timeval limit = {.tv_sec = 5};
    const unsigned char *sel = NULL;
    unsigned int sel_len = 0;
    BIO *bio;

    b->secure = client_connect(b->dtls ? SOCK_DGRAM : SOCK_STREAM, ip, port, NULL);
    if (b->secure < 0)
        return -1;
    setsockopt(b->secure, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof(limit));
    b->ctx = SSL_CTX_new(b->dtls ? DTLS_client_method() : TLS_client_method());
    if (b->ctx == NULL)
        return fail("context");
    /* A ticket or a retransmitted record must not make SSL_read block waiting for data. */
    SSL_CTX_clear_mode(b->ctx, SSL_MODE_AUTO_RETRY);
    if (cafile) {
        if (SSL_CTX_load_verify_locations(b->ctx, cafile, NULL) != 1)
            return fail(cafile);
        SSL_CTX_set_verify(b->ctx, SSL_VERIFY_PEER, NULL);
    }
    b->ssl = SSL_new(b->ctx);
    if (b->ssl == NULL || SSL_set_alpn_protos(b->ssl, alpn, sizeof(alpn) - 1) != 0)
        return fail("SSL object");
    if (b->dtls) {
        union addr peer;

        addr_parse(&peer, ip, port);
        bio = BIO_new_dgram(b->secure, BIO_NOCLOSE);
        if (bio == NULL)
            return fail("BIO");
        BIO_ctrl(bio, BIO_CTRL_DGRAM_SET_CONNECTED, 0, &peer);
        SSL_set_bio(b->ssl, bio, bio);
    } else if (SSL_set_fd(b->ssl, b->secure) != 1) {
        return fail("SSL_set_fd");
    }
    if (SSL_connect(b->ssl) != 1)
        return fail("handshake");
    SSL_get0_alpn_selected(b->ssl, &sel, &sel_len);
    snprintf(b->alpn, sizeof(b->alpn), "%.*s", (int)sel_len, sel ? (const char *)sel : "");
    snprintf(b->version, sizeof(b->version), "%s", SSL_get_version(b->ssl));
    return 0;
}

/* Plain to secure: what the client sent (a datagram, or any bytes of the stream). */
static bool forward_out(struct tlsbridge *b, uint8_t *buf, union addr *client, bool *known)
{
    socklen_t len = sizeof(*client);
    ssize_t n = b->dtls ? recvfrom(b->plain, buf, BRIDGE_BUF, 0, &client->sa, &len)
                        : recv(b->plain, buf, BRIDGE_BUF, 0);

    if (n < 0 && errno == EINTR)
        return true;
    if (n <= 0)
        return b->dtls; /* a stream client closed: the bridge stops */
    *known = true;
    return SSL_write(b->ssl, buf, (int)n) == (int)n;
}

/* Secure to plain: what OpenSSL decrypted.  False once the server closed. */
static bool forward_in(struct tlsbridge *b, uint8_t *buf, const union addr *client, bool known)
{
    do {
        int n = SSL_read(b->ssl, buf, BRIDGE_BUF);

        if (n <= 0) {
            int e = SSL_get_error(b->ssl, n);

            ERR_clear_error();
            if (e == SSL_ERROR_WANT_READ)
                return true;
            atomic_store(&b->server_closed, true);
            return false;
        }
        if (b->dtls && known)
            sendto(b->plain, buf, (size_t)n, 0, &client->sa, addr_len(client));
        else if (!b->dtls && client_send_all(b->plain, buf, (size_t)n) < 0)
            return false;
    } while (SSL_pending(b->ssl) > 0);
    return true;
}

static void *pump(void *arg)
{
    struct tlsbridge *b = arg;
    uint8_t (*bufs)[BRIDGE_BUF] = malloc(2 * BRIDGE_BUF);
    union addr client;
    bool known = false, up = bufs != NULL;

    memset(&client, 0, sizeof(client));
    if (!b->dtls && up) {
        struct pollfd p[2] = {{.fd = b->plain, .events = POLLIN},
                              {.fd = b->stop[0], .events = POLLIN}};
        int c = poll(p, 2, -1) > 0 && p[0].revents ? accept(b->plain, NULL, NULL) : -1;

        close(b->plain);
        b->plain = c;
        up = c >= 0;
    }
    while (up) {
        struct pollfd p[3] = {{.fd = b->plain, .events = POLLIN},
                              {.fd = b->secure, .events = POLLIN},
                              {.fd = b->stop[0], .events = POLLIN}};

        if (SSL_pending(b->ssl) == 0 && poll(p, 3, -1) < 0 && errno != EINTR)
            break;
        if (p[2].revents)
            break;
        if (p[0].revents)
            up = forward_out(b, bufs[0], &client, &known);
        if (up && (p[1].revents || SSL_pending(b->ssl) > 0))
            up = forward_in(b, bufs[1], &client, known);
    }
    if (!b->dtls && b->plain >= 0)
        shutdown(b->plain, SHUT_RDWR); /* the client sees the end of the stream */
    free(bufs);
    return NULL;
}

int tlsbridge_start(struct tlsbridge *b, bool dtls, const char *ip, uint16_t port,
                    const char *cafile)
{
    memset(b, 0, sizeof(*b));
    b->dtls = dtls;
    b->plain = b->secure = b->stop[0] = b->stop[1] = -1;
    if (open_plain(b) < 0 || pipe(b->stop) < 0 || handshake(b, ip, port, cafile) < 0 ||
        pthread_create(&b->thread, NULL, pump, b) != 0) {
        fprintf(stderr, "tlsbridge: cannot reach %s port %u over %s\n", ip, port,
                dtls ? "DTLS" : "TLS");
        tlsbridge_close(b, false);
        return -1;
    }
    b->running = true;
    return 0;
}

void tlsbridge_pause(struct tlsbridge *b)
{
    if (!b->running)
        return;
    if (write(b->stop[1], "x", 1) != 1)
        perror("tlsbridge stop");
    pthread_join(b->thread, NULL);
    b->running = false;
}

void tlsbridge_close(struct tlsbridge *b, bool notify)
{
    tlsbridge_pause(b);
    if (b->ssl && notify && !atomic_load(&b->server_closed))
        SSL_shutdown(b->ssl);
    SSL_free(b->ssl);
    SSL_CTX_free(b->ctx);
    b->ssl = NULL;
    b->ctx = NULL;
    {
        int *fds[] = {&b->plain, &b->secure, &b->stop[0], &b->stop[1]};

        for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++) {
            if (*fds[i] >= 0)
                close(*fds[i]);
            *fds[i] = -1;
        }
    }
}
