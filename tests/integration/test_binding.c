/* test_binding.c — the real turnserver answering STUN Binding over UDP and TCP, IPv4 and IPv6. */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "proto/crypto.h"
#include "proto/stun_build.h"
#include "proto/stun_integrity.h"
#include "tests/lib/check.h"
#include "tests/lib/client.h"
#include "tests/lib/proc.h"

#define TIMEOUT 3000

/* One server for the tests that need no special option; started by main(). */
static struct proc srv;

/* Sends a Binding request on a fresh socket and checks the success response: same transaction
 * ID, XOR-MAPPED-ADDRESS equal to the socket's own address. */
static void binding_roundtrip(int type, const char *ip)
{
    uint8_t req[64], buf[512];
    struct stun_msg resp;
    union addr mapped, local;
    size_t len = client_binding_request(req, sizeof(req), false);
    int fd = client_connect(type, ip, srv.port, NULL);

    if (!CHECK(fd >= 0))
        return;
    local = client_local(fd);
    if (CHECK(client_transact(fd, type == SOCK_STREAM, req, len, buf, sizeof(buf), &resp,
                              TIMEOUT) == 0)) {
        CHECK_INT(resp.type, stun_type(STUN_METHOD_BINDING, STUN_CLASS_SUCCESS));
        CHECK(stun_msg_get_addr(&resp, STUN_ATTR_XOR_MAPPED_ADDRESS, &mapped) == STUN_OK);
        CHECK(addr_equal(&mapped, &local));
        CHECK(stun_msg_find(&resp, STUN_ATTR_MAPPED_ADDRESS) == NULL);
        CHECK(stun_msg_find(&resp, STUN_ATTR_FINGERPRINT) == NULL);
        CHECK(stun_msg_find(&resp, STUN_ATTR_SOFTWARE) == NULL);
    }
    close(fd);
}

static void udp_ipv4(void) { binding_roundtrip(SOCK_DGRAM, "127.0.0.1"); }
static void udp_ipv6(void) { binding_roundtrip(SOCK_DGRAM, "::1"); }
static void tcp_ipv4(void) { binding_roundtrip(SOCK_STREAM, "127.0.0.1"); }
static void tcp_ipv6(void) { binding_roundtrip(SOCK_STREAM, "::1"); }

/* A request with FINGERPRINT gets a response with a correct FINGERPRINT. */
static void fingerprint_echoed(void)
{
    uint8_t req[64], buf[512];
    struct stun_msg resp;
    size_t len = client_binding_request(req, sizeof(req), true);
    int fd = client_connect(SOCK_DGRAM, "127.0.0.1", srv.port, NULL);

    if (!CHECK(fd >= 0))
        return;
    if (CHECK(client_transact(fd, 0, req, len, buf, sizeof(buf), &resp, TIMEOUT) == 0))
        CHECK(resp.fingerprint >= 0); /* the decoder has verified its value */
    close(fd);
}

/* Sends raw bytes and returns the decoded answer's error code (0 for success), or -1 when
 * nothing came back. */
static int answer_code(int type, const uint8_t *req, size_t len, struct stun_msg *resp,
                       uint8_t *buf, size_t cap)
{
    int fd = client_connect(type, "127.0.0.1", srv.port, NULL);
    int code = -1;

    if (fd < 0)
        return -1;
    if (client_transact(fd, type == SOCK_STREAM, req, len, buf, cap, resp, TIMEOUT) == 0) {
        const char *reason;
        size_t rlen;
        code = 0;
        if (stun_msg_get_error(resp, &code, &reason, &rlen) != STUN_OK)
            code = 0;
    }
    close(fd);
    return code;
}

static size_t request_with(uint8_t *buf, size_t cap, uint16_t method,
                           const uint16_t *attrs, size_t nattrs)
{
    uint8_t tid[STUN_TID_LEN], zero[4] = {0};
    struct stun_builder b;
    size_t len = 0;

    crypto_random(tid, sizeof(tid));
    stun_build_start(&b, buf, cap, stun_type(method, STUN_CLASS_REQUEST), tid);
    for (size_t i = 0; i < nattrs; i++)
        stun_build_attr(&b, attrs[i], zero, sizeof(zero));
    stun_build_end(&b, &len);
    return len;
}

/* Unknown comprehension-required attributes: 420 listing them; unknown optional ones are
 * ignored. */
static void unknown_attributes(void)
{
    const uint16_t required[] = {0x0033, 0x8077, 0x0034};
    const uint16_t optional[] = {0x8077};
    uint8_t req[128], buf[512];
    struct stun_msg resp;
    const uint8_t *val;
    size_t len = request_with(req, sizeof(req), STUN_METHOD_BINDING, required, 3), vlen;

    CHECK_INT(answer_code(SOCK_DGRAM, req, len, &resp, buf, sizeof(buf)), 420);
    if (CHECK(stun_msg_get_bytes(&resp, STUN_ATTR_UNKNOWN_ATTRIBUTES, &val, &vlen) == STUN_OK)) {
        CHECK_INT(vlen, 4);
        CHECK_MEM(val, "\x00\x33\x00\x34", 4);
    }
    len = request_with(req, sizeof(req), STUN_METHOD_BINDING, optional, 1);
    CHECK_INT(answer_code(SOCK_DGRAM, req, len, &resp, buf, sizeof(buf)), 0);
    len = request_with(req, sizeof(req), STUN_METHOD_BINDING, required, 1);
    CHECK_INT(answer_code(SOCK_STREAM, req, len, &resp, buf, sizeof(buf)), 420);
}

/* Without RFC 5780 set up, CHANGE-REQUEST is not understood (RFC 5780 §7.2). */
static void change_request_420(void)
{
    const uint16_t attrs[] = {STUN_ATTR_CHANGE_REQUEST};
    uint8_t req[64], buf[512];
    struct stun_msg resp;
    size_t len = request_with(req, sizeof(req), STUN_METHOD_BINDING, attrs, 1);

    CHECK_INT(answer_code(SOCK_DGRAM, req, len, &resp, buf, sizeof(buf)), 420);
}

/* A malformed attribute in a request gets 400 with the request's transaction ID; a method the
 * server does not know gets 400 as well. */
static void bad_requests(void)
{
    const uint16_t attrs[] = {STUN_ATTR_LIFETIME};
    uint8_t req[128], buf[512];
    struct stun_msg resp;
    size_t len = request_with(req, sizeof(req), STUN_METHOD_BINDING, attrs, 1);

    /* LIFETIME must be 4 bytes: make it 8 with a second zero word, keeping the framing valid. */
    req[22] = 0;
    req[23] = 8;
    memset(req + len, 0, 4);
    len += 4;
    req[3] = (uint8_t)(len - STUN_HEADER_LEN);
    CHECK_INT(answer_code(SOCK_DGRAM, req, len, &resp, buf, sizeof(buf)), 400);
    CHECK_INT(answer_code(SOCK_STREAM, req, len, &resp, buf, sizeof(buf)), 400);
    len = request_with(req, sizeof(req), 0x0FF, NULL, 0);
    CHECK_INT(answer_code(SOCK_DGRAM, req, len, &resp, buf, sizeof(buf)), 400);
}

/* A malformed request shorter than any error answer is dropped over UDP (no amplification of
 * spoofed traffic) but answered over TCP. */
static void no_amplification(void)
{
    uint8_t req[64], buf[512];
    struct stun_msg resp;
    size_t len = request_with(req, sizeof(req), STUN_METHOD_BINDING, NULL, 0);
    int fd;

    /* 24 bytes: header + an attribute header announcing 4 bytes that are not there... the
     * message length says 4, so the attribute is truncated: malformed, yet framed. */
    req[3] = 4;
    req[20] = 0x00;
    req[21] = 0x06; /* USERNAME */
    req[22] = 0x00;
    req[23] = 0x08;
    len = 24;
    fd = client_connect(SOCK_DGRAM, "127.0.0.1", srv.port, NULL);
    if (!CHECK(fd >= 0))
        return;
    CHECK(client_send_all(fd, req, len) == 0);
    CHECK(client_silent(fd, 300));
    close(fd);
    CHECK_INT(answer_code(SOCK_STREAM, req, len, &resp, buf, sizeof(buf)), 400);
}

/* Garbage, responses and indications are never answered; Binding indications are taken. */
static void unanswered(void)
{
    const uint8_t garbage[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
    uint8_t msg[64], tid[STUN_TID_LEN] = {1};
    struct stun_builder b;
    size_t len;
    int fd = client_connect(SOCK_DGRAM, "127.0.0.1", srv.port, NULL);

    if (!CHECK(fd >= 0))
        return;
    CHECK(client_send_all(fd, garbage, sizeof(garbage) - 1) == 0);
    stun_build_start(&b, msg, sizeof(msg), stun_type(STUN_METHOD_BINDING, STUN_CLASS_INDICATION),
                     tid);
    stun_build_end(&b, &len);
    CHECK(client_send_all(fd, msg, len) == 0);
    stun_build_start(&b, msg, sizeof(msg), stun_type(STUN_METHOD_BINDING, STUN_CLASS_SUCCESS),
                     tid);
    stun_build_end(&b, &len);
    CHECK(client_send_all(fd, msg, len) == 0);
    CHECK(client_send_all(fd, "\x40\x00\x00\x04" "abcd", 8) == 0); /* ChannelData, no allocation */
    CHECK(client_silent(fd, 300));
    close(fd);
}

/* Bytes that cannot start a STUN or ChannelData frame end the connection: a TLS ClientHello
 * sent to the plain port (no magic cookie), and bytes whose first two bits are 1x. */
static void tcp_garbage_closes(void)
{
    static const struct {
        const char *bytes;
        size_t len;
    } garbage[] = {{"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03", 11},
                   {"\xff\xff\x00\x10", 4}};
    uint8_t buf[64];

    for (size_t i = 0; i < sizeof(garbage) / sizeof(garbage[0]); i++) {
        int fd = client_connect(SOCK_STREAM, "127.0.0.1", srv.port, NULL);
        if (!CHECK(fd >= 0))
            return;
        CHECK(client_send_all(fd, garbage[i].bytes, garbage[i].len) == 0);
        CHECK_INT(client_recv(fd, 1, buf, sizeof(buf), TIMEOUT), 0);
        close(fd);
    }
}

/* Several requests in one write, and one request dribbled a byte at a time, are all framed. */
static void tcp_framing(void)
{
    uint8_t reqs[3][64], all[192], buf[512];
    size_t lens[3], total = 0;
    struct stun_msg resp;
    int fd = client_connect(SOCK_STREAM, "::1", srv.port, NULL);

    if (!CHECK(fd >= 0))
        return;
    for (int i = 0; i < 3; i++) {
        lens[i] = client_binding_request(reqs[i], sizeof(reqs[i]), i == 1);
        memcpy(all + total, reqs[i], lens[i]);
        total += lens[i];
    }
    CHECK(client_send_all(fd, all, total) == 0);
    for (int i = 0; i < 3; i++) {
        ssize_t n = client_recv(fd, 1, buf, sizeof(buf), TIMEOUT);
        if (!CHECK(n > 0))
            break;
        CHECK(stun_msg_decode(&resp, buf, (size_t)n, 0) == STUN_OK);
        CHECK_MEM(resp.tid, reqs[i] + 8, STUN_TID_LEN);
    }
    for (size_t i = 0; i < lens[0]; i++) {
        CHECK(client_send_all(fd, reqs[0] + i, 1) == 0);
        usleep(2000);
    }
    if (CHECK(client_recv(fd, 1, buf, sizeof(buf), TIMEOUT) > 0))
        CHECK_MEM(buf + 8, reqs[0] + 8, STUN_TID_LEN);
    close(fd);
}

/* An RFC 3489 request (no magic cookie) gets MAPPED-ADDRESS and its whole 16-byte ID back. */
static void rfc3489_client(void)
{
    uint8_t req[20] = {0x00, 0x01, 0x00, 0x00}, buf[512];
    struct stun_msg resp;
    union addr mapped, local;
    int fd = client_connect(SOCK_DGRAM, "127.0.0.1", srv.port, NULL);

    if (!CHECK(fd >= 0))
        return;
    crypto_random(req + 4, 16);
    req[4] = 0x5a; /* not the cookie */
    local = client_local(fd);
    if (CHECK(client_transact(fd, 0, req, sizeof(req), buf, sizeof(buf), &resp, TIMEOUT) == 0)) {
        CHECK(!resp.has_cookie);
        CHECK_MEM(buf + 4, req + 4, 16);
        CHECK(stun_msg_get_addr(&resp, STUN_ATTR_MAPPED_ADDRESS, &mapped) == STUN_OK);
        CHECK(addr_equal(&mapped, &local));
        CHECK(stun_msg_find(&resp, STUN_ATTR_XOR_MAPPED_ADDRESS) == NULL);
    }
    close(fd);
}

/* coturn's turnutils_stunclient, a client nobody here wrote, prints our mapped address. */
static void coturn_stunclient(void)
{
    char cmd[128], out[4096];
    int rc;

    snprintf(cmd, sizeof(cmd), "turnutils_stunclient -p %u 127.0.0.1", srv.port);
    rc = proc_capture(cmd, 10, out, sizeof(out));
    if (!CHECK_INT(rc, 0) || !CHECK(strstr(out, "UDP reflexive addr: 127.0.0.1:") != NULL))
        fprintf(stderr, "turnutils_stunclient said:\n%s\n", out);
}

int main(void)
{
    const char *args[] = {"--listening-ip", "127.0.0.1", "--listening-ip", "::1",
                          "--relay-threads", "2", NULL};
    int rc;

    if (proc_start(&srv, args) < 0) {
        printf("0 passed, 1 failed\n");
        return 1;
    }
    RUN(udp_ipv4);
    RUN(udp_ipv6);
    RUN(tcp_ipv4);
    RUN(tcp_ipv6);
    RUN(fingerprint_echoed);
    RUN(unknown_attributes);
    RUN(change_request_420);
    RUN(bad_requests);
    RUN(no_amplification);
    RUN(unanswered);
    RUN(tcp_garbage_closes);
    RUN(tcp_framing);
    RUN(rfc3489_client);
    RUN(coturn_stunclient);
    rc = proc_stop(&srv, SIGTERM, 5000, NULL);
    if (rc != 0)
        fprintf(stderr, "server exit status %d\n", rc);
    proc_cleanup(&srv);
    return check_summary() || rc != 0;
}
