/* tls.c — the TLS and DTLS server contexts, OpenSSL streams for TLS clients, TLS handshakes. */
#include "server/tls.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <time.h>
#include <unistd.h>

#include "proto/crypto.h"
#include "server/config.h"
#include "server/log.h"
#include "server/tcp.h"
#include "server/worker.h"

/* A DTLS cookie: the second it was made (4 bytes) and a truncated HMAC-SHA256 over that second
 * and the client's address.  It is good for COOKIE_LIFETIME seconds: long enough for a client
 * to answer a HelloVerifyRequest, short enough that a captured cookie soon expires. */
#define COOKIE_MAC_LEN 16
#define COOKIE_LEN (4 + COOKIE_MAC_LEN)
#define COOKIE_LIFETIME 60

/* Ciphertext queued on a TLS connection's socket before the filter stops encrypting more. */
#define TLS_WIRE_MAX (32 * 1024)

struct tls {
    /* SIGHUP swaps the context under the lock; each SSL_new takes its own reference to it, so
     * the old context lives on for the connections made from it. */
    pthread_mutex_t *lock;
    SSL_CTX *ctx;
    bool dtls;
    uint8_t cookie_secret[32];
    char summary[256];
};

/* What the PEM password callback is given while the key loads. */
struct key_password {
    const char *pwd;
    bool asked; /* the key is encrypted */
};

struct tls_handshake {
    TAILQ_ENTRY(tls_handshake) link;
    struct tls_worker *q;
    struct tcp_conn *conn;
    struct event *deadline;
    bool closed_by_us; /* the deadline or an eviction closes the connection: already counted */
};

TAILQ_HEAD(tls_handshake_list, tls_handshake);

struct tls_worker {
    struct worker *w;
    struct tls_handshake_list list; /* oldest first */
    size_t n;
    struct evbuffer *scratch; /* empty between calls of tls_send */
};

/* ---- errors -------------------------------------------------------------------------------- */

/* The reason of the first error OpenSSL queued ("bad decrypt"), and the queue emptied. */
static const char *ssl_reason(char *buf, size_t cap)
{
    unsigned long e = ERR_peek_error();
    const char *r = e ? ERR_reason_error_string(e) : NULL;

    snprintf(buf, cap, "%s", r ? r : "unknown error");
    ERR_clear_error();
    return buf;
}

static int fail_file(char *err, size_t errlen, const char *opt, const char *path, const char *why)
{
    snprintf(err, errlen, "%s '%s': %s", opt, path, why);
    ERR_clear_error();
    return -1;
}

/* An unreadable file is named with the system's reason, before OpenSSL's vaguer one. */
static int check_readable(const char *opt, const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");

    if (f == NULL)
        return fail_file(err, errlen, opt, path, strerror(errno));
    fclose(f);
    return 0;
}

/* ---- callbacks ----------------------------------------------------------------------------- */

/* Never prompts on a terminal: without --pkey-pwd an encrypted key simply does not load. */
static int pem_password(char *buf, int size, int rwflag, void *userdata)
{
    struct key_password *kp = userdata;
    size_t n;

    (void)rwflag;
    if (kp == NULL)
        return 0;
    kp->asked = true;
    if (kp->pwd == NULL)
        return 0;
    n = strlen(kp->pwd);
    if (n > (size_t)size)
        return 0;
    memcpy(buf, kp->pwd, n);
    return (int)n;
}

/* RFC 7443 §4: "stun.turn" for TURN, "stun.nat-discovery" for STUN.  A client that offers
 * neither still gets a connection, only without ALPN. */
static int select_alpn(SSL *ssl, const unsigned char **out, unsigned char *outlen,
                       const unsigned char *in, unsigned int inlen, void *arg)
{
    static const char *const ours[] = {"stun.turn", "stun.nat-discovery"};

    (void)ssl;
    (void)arg;
    for (size_t k = 0; k < sizeof(ours) / sizeof(ours[0]); k++) {
        size_t want = strlen(ours[k]);

        for (unsigned int i = 0; i < inlen; i += 1u + in[i]) {
            unsigned int n = in[i];

            if (n > inlen - i - 1)
                return SSL_TLSEXT_ERR_NOACK; /* a malformed list: no ALPN */
            if (n == want && memcmp(in + i + 1, ours[k], n) == 0) {
                *out = in + i + 1;
                *outlen = (unsigned char)n;
                return SSL_TLSEXT_ERR_OK;
            }
        }
    }
    return SSL_TLSEXT_ERR_NOACK;
}

/* SNI: one certificate serves every name; the name is only logged. */
static int on_servername(SSL *ssl, int *alert, void *arg)
{
    const char *name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
    char safe[128];
    size_t i;

    (void)alert;
    (void)arg;
    if (name == NULL || !log_enabled(LOG_LVL_DEBUG))
        return SSL_TLSEXT_ERR_OK;
    for (i = 0; name[i] && i < sizeof(safe) - 1; i++)
        safe[i] = name[i] > ' ' && name[i] < 0x7f ? name[i] : '?';
    safe[i] = '\0';
    log_debug("tls: server name '%s'", safe);
    return SSL_TLSEXT_ERR_OK;
}

static uint32_t monotonic_seconds(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint32_t)ts.tv_sec;
}

/* HMAC-SHA256(secret, when || family || IP || port) of the client the SSL object's BIO names
 * (the DTLS transport's BIO answers BIO_dgram_get_peer).  0 or -1. */
static int cookie_mac(SSL *ssl, uint32_t when, uint8_t mac[CRYPTO_MAX_MD])
{
    const struct tls *t = SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl));
    BIO_ADDR *peer = BIO_ADDR_new();
    uint8_t be[4] = {when >> 24, when >> 16, when >> 8, when}, ip[16], family;
    unsigned short port;
    size_t iplen = 0;
    int rc = -1;

    if (peer == NULL || BIO_dgram_get_peer(SSL_get_rbio(ssl), peer) <= 0 ||
        !BIO_ADDR_rawaddress(peer, NULL, &iplen) || iplen > sizeof(ip) ||
        !BIO_ADDR_rawaddress(peer, ip, &iplen))
        goto out;
    family = (uint8_t)BIO_ADDR_family(peer);
    port = BIO_ADDR_rawport(peer);
    {
        const struct crypto_buf parts[] = {
            {be, sizeof(be)}, {&family, 1}, {ip, iplen}, {&port, sizeof(port)}};

        rc = crypto_hmac(CRYPTO_SHA256, t->cookie_secret, sizeof(t->cookie_secret), parts,
                         sizeof(parts) / sizeof(parts[0]), mac);
    }
out:
    BIO_ADDR_free(peer);
    return rc;
}

/* RFC 6347 §4.2.1: the cookie lets the server check the client owns its address before it
 * keeps any state; nothing is stored to make or to check it. */
static int make_cookie(SSL *ssl, unsigned char *cookie, unsigned int *len)
{
    uint32_t now = monotonic_seconds();
    uint8_t mac[CRYPTO_MAX_MD];

    if (cookie_mac(ssl, now, mac) < 0)
        return 0;
    cookie[0] = (uint8_t)(now >> 24);
    cookie[1] = (uint8_t)(now >> 16);
    cookie[2] = (uint8_t)(now >> 8);
    cookie[3] = (uint8_t)now;
    memcpy(cookie + 4, mac, COOKIE_MAC_LEN);
    *len = COOKIE_LEN;
    return 1;
}

static int check_cookie(SSL *ssl, const unsigned char *cookie, unsigned int len)
{
    uint8_t mac[CRYPTO_MAX_MD];
    uint32_t when;

    if (len != COOKIE_LEN)
        return 0;
    when = (uint32_t)cookie[0] << 24 | (uint32_t)cookie[1] << 16 | (uint32_t)cookie[2] << 8 |
           cookie[3];
    if (monotonic_seconds() - when > COOKIE_LIFETIME)
        return 0;
    if (cookie_mac(ssl, when, mac) < 0)
        return 0;
    return crypto_equal(mac, cookie + 4, COOKIE_MAC_LEN);
}

/* ---- the context --------------------------------------------------------------------------- */

static int load_cert_and_key(SSL_CTX *ctx, const struct config *cfg, char *err, size_t errlen)
{
    const char *pkey = cfg->pkey ? cfg->pkey : cfg->cert;
    struct key_password kp = {.pwd = cfg->pkey_pwd};
    char why[128];
    int ok;

    if (check_readable("--cert", cfg->cert, err, errlen) < 0 ||
        check_readable("--pkey", pkey, err, errlen) < 0)
        return -1;
    if (SSL_CTX_use_certificate_chain_file(ctx, cfg->cert) != 1)
        return fail_file(err, errlen, "--cert", cfg->cert, ssl_reason(why, sizeof(why)));
    SSL_CTX_set_default_passwd_cb(ctx, pem_password);
    SSL_CTX_set_default_passwd_cb_userdata(ctx, &kp);
    ok = SSL_CTX_use_PrivateKey_file(ctx, pkey, SSL_FILETYPE_PEM) == 1;
    SSL_CTX_set_default_passwd_cb_userdata(ctx, NULL);
    if (!ok && kp.asked && cfg->pkey_pwd == NULL)
        return fail_file(err, errlen, "--pkey", pkey, "the key is encrypted: give --pkey-pwd");
    if (!ok && kp.asked)
        return fail_file(err, errlen, "--pkey", pkey, "cannot decrypt the key with --pkey-pwd");
    /* OpenSSL compares a key with the certificate as it loads it. */
    if (!ok && ERR_GET_REASON(ERR_peek_last_error()) != X509_R_KEY_VALUES_MISMATCH)
        return fail_file(err, errlen, "--pkey", pkey, ssl_reason(why, sizeof(why)));
    if (!ok || SSL_CTX_check_private_key(ctx) != 1) {
        snprintf(err, errlen, "--pkey '%s' does not match the certificate of --cert '%s'", pkey,
                 cfg->cert);
        ERR_clear_error();
        return -1;
    }
    return 0;
}

/* --CA-file: the trust store for client certificates.  A client is asked for one and may send
 * none; one it sends must verify. */
static int load_ca(SSL_CTX *ctx, const char *ca, char *err, size_t errlen)
{
    STACK_OF(X509_NAME) *names;
    char why[128];

    if (check_readable("--CA-file", ca, err, errlen) < 0)
        return -1;
    if (SSL_CTX_load_verify_locations(ctx, ca, NULL) != 1)
        return fail_file(err, errlen, "--CA-file", ca, ssl_reason(why, sizeof(why)));
    names = SSL_load_client_CA_file(ca);
    if (names)
        SSL_CTX_set_client_CA_list(ctx, names);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    return 0;
}

/* --dh-file: fixed DH parameters for DHE ciphers; without it OpenSSL picks them by key size. */
static int load_dh(SSL_CTX *ctx, const char *path, char *err, size_t errlen)
{
    BIO *b;
    EVP_PKEY *dh;

    if (path == NULL) {
        SSL_CTX_set_dh_auto(ctx, 1);
        return 0;
    }
    if (check_readable("--dh-file", path, err, errlen) < 0)
        return -1;
    b = BIO_new_file(path, "r");
    dh = b ? PEM_read_bio_Parameters(b, NULL) : NULL;
    BIO_free(b);
    if (dh == NULL || !EVP_PKEY_is_a(dh, "DH")) {
        EVP_PKEY_free(dh);
        return fail_file(err, errlen, "--dh-file", path, "no DH parameters in PEM form");
    }
    if (SSL_CTX_set0_tmp_dh_pkey(ctx, dh) != 1) {
        EVP_PKEY_free(dh);
        return fail_file(err, errlen, "--dh-file", path, "DH parameters refused (too small?)");
    }
    return 0;
}

static int set_algorithms(SSL_CTX *ctx, const struct config *cfg, char *err, size_t errlen)
{
    if (cfg->cipher_list && SSL_CTX_set_cipher_list(ctx, cfg->cipher_list) != 1)
        return fail_file(err, errlen, "--cipher-list", cfg->cipher_list, "no usable cipher");
    if (cfg->ec_curve_name && SSL_CTX_set1_groups_list(ctx, cfg->ec_curve_name) != 1)
        return fail_file(err, errlen, "--ec-curve-name", cfg->ec_curve_name, "unknown group");
    return load_dh(ctx, cfg->dh_file, err, errlen);
}

/* "CN=turn.example.org, until 2027-01-31" for the start-up log. */
static void summarize(struct tls *t, SSL_CTX *ctx)
{
    X509 *x = SSL_CTX_get0_certificate(ctx);
    char name[160] = "?", until[32] = "?";
    struct tm tm;

    if (x) {
        X509_NAME_oneline(X509_get_subject_name(x), name, sizeof(name));
        if (ASN1_TIME_to_tm(X509_get0_notAfter(x), &tm) == 1)
            strftime(until, sizeof(until), "%Y-%m-%d", &tm);
    }
    snprintf(t->summary, sizeof(t->summary), "%s, certificate %s valid until %s",
             t->dtls ? "DTLS 1.2" : "TLS 1.2-1.3", name, until);
}

/* Everything a context of t needs: versions, options, callbacks, certificate, key, CA. */
static int setup(struct tls *t, SSL_CTX *ctx, const struct config *cfg, char *err,
                 size_t errlen)
{
    uint64_t opts = SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE |
                    SSL_OP_NO_COMPRESSION;

    /* RFC 8656 §3.1 and DESIGN: TLS 1.2 at least (1.3 is chosen when both sides have it);
     * DTLS 1.2 only. */
    if (t->dtls) {
        SSL_CTX_set_min_proto_version(ctx, DTLS1_2_VERSION);
        SSL_CTX_set_max_proto_version(ctx, DTLS1_2_VERSION);
        opts |= SSL_OP_COOKIE_EXCHANGE | SSL_OP_NO_QUERY_MTU;
        SSL_CTX_set_cookie_generate_cb(ctx, make_cookie);
        SSL_CTX_set_cookie_verify_cb(ctx, check_cookie);
    } else {
        SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    }
    SSL_CTX_set_options(ctx, opts);
    SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
    SSL_CTX_set_app_data(ctx, t);
    SSL_CTX_set_session_id_context(ctx, (const unsigned char *)"turnpike", 8);
    SSL_CTX_set_alpn_select_cb(ctx, select_alpn, NULL);
    SSL_CTX_set_tlsext_servername_callback(ctx, on_servername);
    if (load_cert_and_key(ctx, cfg, err, errlen) < 0 || set_algorithms(ctx, cfg, err, errlen) < 0)
        return -1;
    if (cfg->ca_file && load_ca(ctx, cfg->ca_file, err, errlen) < 0)
        return -1;
    summarize(t, ctx);
    return 0;
}

/* A new context for t from cfg's files, or NULL with the reason in err. */
static SSL_CTX *new_ctx(struct tls *t, const struct config *cfg, char *err, size_t errlen)
{
    SSL_CTX *ctx = SSL_CTX_new(t->dtls ? DTLS_server_method() : TLS_server_method());

    if (ctx == NULL) {
        snprintf(err, errlen, "cannot create the %s context", t->dtls ? "DTLS" : "TLS");
        return NULL;
    }
    if (setup(t, ctx, cfg, err, errlen) < 0) {
        SSL_CTX_free(ctx);
        return NULL;
    }
    return ctx;
}

int tls_new(struct tls **out, const struct config *cfg, bool dtls, char *err, size_t errlen)
{
    struct tls *t = calloc(1, sizeof(*t));

    if (t == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    t->dtls = dtls;
    t->lock = malloc(sizeof(*t->lock));
    if (t->lock == NULL || pthread_mutex_init(t->lock, NULL) != 0) {
        free(t->lock);
        t->lock = NULL;
        snprintf(err, errlen, "out of memory");
        tls_free(t);
        return -1;
    }
    if (dtls && crypto_random(t->cookie_secret, sizeof(t->cookie_secret)) < 0) {
        snprintf(err, errlen, "no random numbers for the DTLS cookie secret");
        tls_free(t);
        return -1;
    }
    t->ctx = new_ctx(t, cfg, err, errlen);
    if (t->ctx == NULL) {
        tls_free(t);
        return -1;
    }
    *out = t;
    return 0;
}

int tls_reload(struct tls *t, const struct config *cfg, char *err, size_t errlen)
{
    SSL_CTX *ctx = new_ctx(t, cfg, err, errlen), *old;

    if (ctx == NULL)
        return -1;
    pthread_mutex_lock(t->lock);
    old = t->ctx;
    t->ctx = ctx;
    pthread_mutex_unlock(t->lock);
    SSL_CTX_free(old);
    return 0;
}

SSL *tls_ssl_new(const struct tls *t)
{
    SSL *ssl;

    pthread_mutex_lock(t->lock);
    ssl = SSL_new(t->ctx);
    pthread_mutex_unlock(t->lock);
    return ssl;
}

void tls_free(struct tls *t)
{
    if (t == NULL)
        return;
    SSL_CTX_free(t->ctx);
    OPENSSL_cleanse(t->cookie_secret, sizeof(t->cookie_secret));
    if (t->lock) {
        pthread_mutex_destroy(t->lock);
        free(t->lock);
    }
    free(t);
}

void tls_describe(const struct tls *t, char *buf, size_t cap)
{
    snprintf(buf, cap, "%s", t->summary);
}

/* ---- TLS connections ----------------------------------------------------------------------- */

/* The TLS filter over a socket bufferevent of fd, in state, with wire[0..n) already read
 * from fd: the records of many messages leave in one write, and the ciphertext waiting in the
 * socket's buffer stays under TLS_WIRE_MAX, so that --max-tcp-buffer bounds the plaintext as
 * it does for TCP.  Takes fd and ssl whatever happens.  Once handed to
 * bufferevent_openssl_filter_new they are libevent's (BEV_OPT_CLOSE_ON_FREE), which frees
 * them itself on some failures and not others, depending on the version: a failure there
 * (out of memory) may leak them rather than free them twice. */
static struct bufferevent *filter_new(struct event_base *base, int fd, SSL *ssl,
                                      enum bufferevent_ssl_state state, const void *wire,
                                      size_t n)
{
    struct bufferevent *sock = ssl ? bufferevent_socket_new(base, fd, BEV_OPT_CLOSE_ON_FREE) : NULL;
    struct bufferevent *bev;

    if (sock == NULL) {
        SSL_free(ssl);
        close(fd);
        return NULL;
    }
    /* Ciphertext the other worker read ahead goes before what this socket reads (a socket
     * bufferevent's input takes bytes from outside only at its front). */
    if (n > 0 && evbuffer_prepend(bufferevent_get_input(sock), wire, n) < 0) {
        SSL_free(ssl);
        bufferevent_free(sock);
        return NULL;
    }
    bufferevent_setwatermark(sock, EV_WRITE, 0, TLS_WIRE_MAX);
    /* Deferred callbacks: enabling a filter decrypts what its socket holds and would run the
     * read callback inside bufferevent_enable(), under callers that do not expect it (the
     * end of the handshake, resuming a parked request, adopting a handed-over connection);
     * deferred, BEV_EVENT_CONNECTED also comes before the first read. */
    bev = bufferevent_openssl_filter_new(base, sock, ssl, state,
                                         BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
    if (bev == NULL)
        return NULL;
    /* Most clients close without a close_notify: an end of stream, not an error. */
    bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
    return bev;
}

struct bufferevent *tls_bev_accept(const struct tls *t, struct event_base *base, int fd)
{
    return filter_new(base, fd, tls_ssl_new(t), BUFFEREVENT_SSL_ACCEPTING, NULL, 0);
}

SSL *tls_bev_detach(struct bufferevent *bev)
{
    SSL *ssl = bufferevent_openssl_get_ssl(bev);

    if (ssl == NULL || SSL_up_ref(ssl) != 1)
        return NULL;
    /* The session's BIO reads this worker's socket bufferevent: drop it now, while that
     * bufferevent still exists; the adopting worker gives the session a BIO of its own. */
    SSL_set_bio(ssl, NULL, NULL);
    return ssl;
}

void tls_session_free(SSL *ssl)
{
    SSL_free(ssl);
}

struct bufferevent *tls_bev_adopt(struct event_base *base, int fd, SSL *ssl, const void *wire,
                                  size_t n)
{
    return filter_new(base, fd, ssl, BUFFEREVENT_SSL_OPEN, wire, n);
}

void tls_log_established(struct bufferevent *bev, const union addr *remote)
{
    SSL *ssl = bufferevent_openssl_get_ssl(bev);
    const unsigned char *alpn = NULL;
    unsigned int alpn_len = 0;
    char a[ADDR_STRLEN];

    if (!log_enabled(LOG_LVL_DEBUG) || ssl == NULL)
        return;
    SSL_get0_alpn_selected(ssl, &alpn, &alpn_len);
    log_debug("tls %s: %s %s, ALPN %.*s", addr_format(remote, a, sizeof(a)),
              SSL_get_version(ssl), SSL_get_cipher_name(ssl), alpn_len ? (int)alpn_len : 4,
              alpn_len ? (const char *)alpn : "none");
}

void tls_log_failure(struct bufferevent *bev, const union addr *remote)
{
    unsigned long e = bufferevent_get_openssl_error(bev);
    const char *why = e ? ERR_reason_error_string(e) : NULL;
    char a[ADDR_STRLEN];

    while (bufferevent_get_openssl_error(bev) != 0)
        ;
    log_debug("tls %s: handshake failed: %s", addr_format(remote, a, sizeof(a)),
              why ? why : "connection closed");
}

/* ---- handshakes in progress ---------------------------------------------------------------- */

int tls_worker_new(struct tls_worker **out, struct worker *w)
{
    struct tls_worker *q = calloc(1, sizeof(*q));

    if (q == NULL)
        return -1;
    q->w = w;
    TAILQ_INIT(&q->list);
    q->scratch = evbuffer_new();
    if (q->scratch == NULL) {
        free(q);
        return -1;
    }
    *out = q;
    return 0;
}

void tls_worker_free(struct tls_worker *q)
{
    if (q == NULL)
        return;
    evbuffer_free(q->scratch);
    free(q);
}

int tls_send(struct tls_worker *q, struct bufferevent *bev, const void *buf, size_t len)
{
    /* libevent's OpenSSL bufferevent writes each chain of its output with one SSL_write:
     * moving a chain of its own into the output, rather than appending to the last chain,
     * makes the message a record of its own. */
    if (evbuffer_add(q->scratch, buf, len) < 0 ||
        evbuffer_add_buffer(bufferevent_get_output(bev), q->scratch) < 0) {
        evbuffer_drain(q->scratch, evbuffer_get_length(q->scratch));
        return -1;
    }
    return 0;
}

/* Closes h's connection, which ends the watch (tcp_conn_close calls tls_handshake_abort). */
static void close_watched(struct tls_handshake *h, enum stats_tls why)
{
    STATS_INC(h->q->w->stats.tls[why]);
    h->closed_by_us = true;
    tcp_conn_close(h->conn);
}

static void on_deadline(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    close_watched(arg, TLS_TIMEOUT);
}

struct tls_handshake *tls_handshake_begin(struct tls_worker *q, struct tcp_conn *c)
{
    struct timeval limit = {.tv_sec = q->w->cfg->tcp_idle_timeout};
    struct tls_handshake *h;

    if (q->n >= TLS_HANDSHAKES_MAX)
        close_watched(TAILQ_FIRST(&q->list), TLS_EVICTED);
    h = calloc(1, sizeof(*h));
    if (h == NULL)
        return NULL;
    h->q = q;
    h->conn = c;
    /* The idle timeout alone would let a client trickle a byte now and then for ever. */
    h->deadline = evtimer_new(q->w->base, on_deadline, h);
    if (h->deadline == NULL || evtimer_add(h->deadline, &limit) < 0) {
        if (h->deadline)
            event_free(h->deadline);
        free(h);
        return NULL;
    }
    TAILQ_INSERT_TAIL(&q->list, h, link);
    q->n++;
    return h;
}

static void end_watch(struct tls_handshake *h)
{
    TAILQ_REMOVE(&h->q->list, h, link);
    h->q->n--;
    event_free(h->deadline);
    free(h);
}

void tls_handshake_done(struct tls_handshake *h)
{
    if (h == NULL)
        return;
    STATS_INC(h->q->w->stats.tls[TLS_HANDSHAKES]);
    end_watch(h);
}

void tls_handshake_abort(struct tls_handshake *h)
{
    if (h == NULL)
        return;
    if (!h->closed_by_us)
        STATS_INC(h->q->w->stats.tls[TLS_FAILED]);
    end_watch(h);
}
