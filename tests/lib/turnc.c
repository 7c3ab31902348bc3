/* turnc.c — a TURN client for tests, built on proto/: long-term credentials, allocations,
 * permissions, channels, data. */
#include "tests/lib/turnc.h"

#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "proto/crypto.h"
#include "proto/frame.h"
#include "proto/stun_build.h"
#include "proto/stun_integrity.h"
#include "tests/lib/client.h"
#include "tests/lib/proc.h"

#define TURNC_TIMEOUT 3000

int turnc_open(struct turnc *t, int type, const char *server_ip, uint16_t port,
               const char *user, const char *pass)
{
    memset(t, 0, sizeof(*t));
    t->fd = client_connect(type, server_ip, port, NULL);
    t->stream = type == SOCK_STREAM;
    snprintf(t->user, sizeof(t->user), "%s", user);
    snprintf(t->pass, sizeof(t->pass), "%s", pass);
    return t->fd < 0 ? -1 : 0;
}

void turnc_close(struct turnc *t)
{
    if (t->fd >= 0)
        close(t->fd);
    t->fd = -1;
}

static void copy_text(const struct stun_msg *m, uint16_t type, char *out, size_t cap)
{
    const uint8_t *v;
    size_t len;

    if (stun_msg_get_bytes(m, type, &v, &len) != STUN_OK || len >= cap)
        return;
    memcpy(out, v, len);
    out[len] = '\0';
}

static int code_of(const struct stun_msg *m)
{
    const char *reason;
    size_t rlen;
    int code = 0;

    if (m->cls == STUN_CLASS_SUCCESS)
        return 0;
    if (stun_msg_get_error(m, &code, &reason, &rlen) != STUN_OK)
        return -1;
    return code;
}

void turnc_rest_password(const char *secret, const char *name, char *pass, size_t cap)
{
    uint8_t mac[CRYPTO_MAX_MD];
    struct crypto_buf part = {name, strlen(name)};

    crypto_hmac(CRYPTO_SHA1, (const uint8_t *)secret, strlen(secret), &part, 1, mac);
    crypto_base64_encode(mac, 20, pass, cap);
}

int turnc_request(struct turnc *t, uint16_t method,
                  void (*add)(struct stun_builder *b, const void *arg), const void *arg,
                  uint8_t *buf, size_t cap, struct stun_msg *resp)
{
    for (int attempt = 0; attempt < 3; attempt++) {
        uint8_t req[1024], tid[STUN_TID_LEN];
        struct stun_builder b;
        size_t len = 0;
        int code;

        crypto_random(tid, sizeof(tid));
        stun_build_start(&b, req, sizeof(req), stun_type(method, STUN_CLASS_REQUEST), tid);
        if (add)
            add(&b, arg);
        if (t->have_nonce) {
            stun_build_str(&b, STUN_ATTR_USERNAME, t->user);
            stun_build_str(&b, STUN_ATTR_REALM, t->realm);
            stun_build_str(&b, STUN_ATTR_NONCE, t->nonce);
            stun_build_integrity(&b, t->key, sizeof(t->key));
        }
        stun_build_fingerprint(&b);
        if (stun_build_end(&b, &len) < 0 ||
            client_transact(t->fd, t->stream, req, len, buf, cap, resp, TURNC_TIMEOUT) < 0)
            return t->last_code = -1;
        code = code_of(resp);
        if (code != 401 && code != 438)
            return t->last_code = code;
        if (code == 401 && t->have_nonce && attempt > 0)
            return t->last_code = code; /* wrong credentials */
        copy_text(resp, STUN_ATTR_REALM, t->realm, sizeof(t->realm));
        copy_text(resp, STUN_ATTR_NONCE, t->nonce, sizeof(t->nonce));
        stun_key_md5(t->user, t->realm, t->pass, t->key);
        t->have_nonce = true;
    }
    return t->last_code;
}

static void add_transport(struct stun_builder *b, const void *arg)
{
    (void)arg;
    stun_build_u8(b, STUN_ATTR_REQUESTED_TRANSPORT, STUN_TRANSPORT_UDP);
}

int turnc_allocate(struct turnc *t)
{
    uint8_t buf[1024];
    struct stun_msg resp;
    int code = turnc_request(t, STUN_METHOD_ALLOCATE, add_transport, NULL, buf, sizeof(buf),
                             &resp);

    if (code == 0) {
        stun_msg_get_addr(&resp, STUN_ATTR_XOR_RELAYED_ADDRESS, &t->relayed);
        stun_msg_get_addr(&resp, STUN_ATTR_XOR_MAPPED_ADDRESS, &t->mapped);
        stun_msg_get_u32(&resp, STUN_ATTR_LIFETIME, &t->lifetime);
    }
    return code;
}

int turnc_try_allocate(int type, const char *server_ip, uint16_t port, const char *user,
                       const char *pass)
{
    struct turnc t;
    int code;

    if (turnc_open(&t, type, server_ip, port, user, pass) < 0)
        return -1;
    code = turnc_allocate(&t);
    turnc_close(&t);
    return code;
}

static void add_peer(struct stun_builder *b, const void *arg)
{
    stun_build_addr(b, STUN_ATTR_XOR_PEER_ADDRESS, arg);
}

int turnc_permit(struct turnc *t, const union addr *peer)
{
    uint8_t buf[1024];
    struct stun_msg resp;

    return turnc_request(t, STUN_METHOD_CREATE_PERMISSION, add_peer, peer, buf, sizeof(buf),
                         &resp);
}

struct bind_arg {
    uint16_t num;
    const union addr *peer;
};

static void add_bind(struct stun_builder *b, const void *arg)
{
    const struct bind_arg *a = arg;

    stun_build_u16(b, STUN_ATTR_CHANNEL_NUMBER, a->num);
    stun_build_addr(b, STUN_ATTR_XOR_PEER_ADDRESS, a->peer);
}

int turnc_bind(struct turnc *t, uint16_t num, const union addr *peer)
{
    struct bind_arg a = {.num = num, .peer = peer};
    uint8_t buf[1024];
    struct stun_msg resp;

    return turnc_request(t, STUN_METHOD_CHANNEL_BIND, add_bind, &a, buf, sizeof(buf), &resp);
}

static void add_lifetime(struct stun_builder *b, const void *arg)
{
    stun_build_u32(b, STUN_ATTR_LIFETIME, *(const uint32_t *)arg);
}

int turnc_refresh(struct turnc *t, uint32_t lifetime)
{
    uint8_t buf[1024];
    struct stun_msg resp;
    int code = turnc_request(t, STUN_METHOD_REFRESH, add_lifetime, &lifetime, buf, sizeof(buf),
                             &resp);

    if (code == 0)
        stun_msg_get_u32(&resp, STUN_ATTR_LIFETIME, &t->lifetime);
    return code;
}

int turnc_send(struct turnc *t, const union addr *peer, const void *payload, size_t len)
{
    uint8_t buf[4096], tid[STUN_TID_LEN];
    struct stun_builder b;
    size_t n = 0;

    crypto_random(tid, sizeof(tid));
    stun_build_start(&b, buf, sizeof(buf), stun_type(STUN_METHOD_SEND, STUN_CLASS_INDICATION),
                     tid);
    stun_build_addr(&b, STUN_ATTR_XOR_PEER_ADDRESS, peer);
    stun_build_attr(&b, STUN_ATTR_DATA, payload, len);
    if (stun_build_end(&b, &n) < 0)
        return -1;
    return client_send_all(t->fd, buf, n);
}

int turnc_channel_send(struct turnc *t, uint16_t num, const void *payload, size_t len)
{
    uint8_t buf[4096 + 8] = {0};
    size_t n = FRAME_CHANDATA_HDR + len;

    if (len > 4096)
        return -1;
    frame_chandata_hdr(buf, num, (uint16_t)len);
    memcpy(buf + FRAME_CHANDATA_HDR, payload, len);
    if (t->stream)
        n = (n + 3) & ~(size_t)3;
    return client_send_all(t->fd, buf, n);
}

ssize_t turnc_recv(struct turnc *t, uint8_t *out, size_t cap, union addr *peer, uint16_t *chan,
                   int timeout_ms)
{
    uint8_t buf[4200];
    ssize_t n = client_recv(t->fd, t->stream, buf, sizeof(buf), timeout_ms);
    struct stun_msg m;
    const uint8_t *data;
    size_t dlen;

    if (n <= 0)
        return -1;
    if (frame_demux(buf[0]) == FRAME_CHANDATA) {
        uint16_t num;
        if (frame_chandata_parse(buf, (size_t)n, &num, &dlen) < 0 || dlen > cap)
            return -1;
        if (chan)
            *chan = num;
        memcpy(out, buf + FRAME_CHANDATA_HDR, dlen);
        return (ssize_t)dlen;
    }
    if (stun_msg_decode(&m, buf, (size_t)n, 0) != STUN_OK ||
        m.type != stun_type(STUN_METHOD_DATA, STUN_CLASS_INDICATION) ||
        stun_msg_get_bytes(&m, STUN_ATTR_DATA, &data, &dlen) != STUN_OK || dlen > cap)
        return -1;
    if (peer)
        stun_msg_get_addr(&m, STUN_ATTR_XOR_PEER_ADDRESS, peer);
    memcpy(out, data, dlen);
    return (ssize_t)dlen;
}

long turnc_flood_unread(struct turnc *t, int pfd, const union addr *peer, const struct proc *srv)
{
    static const uint8_t payload[1000];
    int small = 4096;
    long rss0;

    setsockopt(t->fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
    if (turnc_permit(t, peer) != 0)
        return -1;
    rss0 = proc_rss_kib(srv);
    for (int i = 0; i < 20000; i++) {
        sendto(pfd, payload, sizeof(payload), 0, &t->relayed.sa, addr_len(&t->relayed));
        if (i % 500 == 499)
            usleep(1000);
    }
    usleep(300000);
    return proc_rss_kib(srv) - rss0;
}
