/* test_nat.c — RFC 5780 NAT behaviour discovery through the real turnserver, listening on
 * 127.0.0.1 and 127.0.0.2: OTHER-ADDRESS and RESPONSE-ORIGIN, answers leaving from the address
 * CHANGE-REQUEST asks for and going to RESPONSE-PORT, the TCP rules, the attributes refused
 * where the feature is off, the start-up checks, and coturn's turnutils_natdiscovery and
 * turnutils_stunclient against it. */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "proto/crypto.h"
#include "proto/stun_build.h"
#include "tests/lib/check.h"
#include "tests/lib/client.h"
#include "tests/lib/proc.h"

#define TIMEOUT 3000
#define CHANGE_IP 0x4u
#define CHANGE_PORT 0x2u

static struct proc srv; /* --rfc5780 on 127.0.0.1 and 127.0.0.2 */
static uint16_t alt;    /* its --alt-listening-port */

/* A Binding request with CHANGE-REQUEST flags (when change >= 0) and RESPONSE-PORT (when
 * port > 0) into buf; returns its length. */
static size_t nat_request(uint8_t *buf, size_t cap, int change, int port)
{
    uint8_t tid[STUN_TID_LEN];
    struct stun_builder b;
    size_t len = 0;

    crypto_random(tid, sizeof(tid));
    stun_build_start(&b, buf, cap, stun_type(STUN_METHOD_BINDING, STUN_CLASS_REQUEST), tid);
    if (change >= 0)
        stun_build_u32(&b, STUN_ATTR_CHANGE_REQUEST, (uint32_t)change);
    if (port > 0)
        stun_build_u32(&b, STUN_ATTR_RESPONSE_PORT, (uint32_t)port << 16);
    stun_build_end(&b, &len);
    return len;
}

/* Sends req from the unconnected UDP socket fd to server ip:port and receives one answer on
 * rfd (fd itself, or the socket RESPONSE-PORT names), decoded into *resp from buf, with the
 * address it came from in *from.  0, or -1 when nothing came. */
static int nat_exchange(int fd, int rfd, const char *ip, uint16_t port, const uint8_t *req,
                        size_t len, uint8_t *buf, size_t cap, struct stun_msg *resp,
                        union addr *from)
{
    union addr to;
    socklen_t flen = sizeof(*from);
    ssize_t n;

    addr_parse(&to, ip, port);
    for (int attempt = 0; attempt < 3; attempt++) {
        sendto(fd, req, len, 0, &to.sa, addr_len(&to));
        if (client_silent(rfd, TIMEOUT / 3))
            continue;
        n = recvfrom(rfd, buf, cap, 0, &from->sa, &flen);
        if (n > 0 && stun_msg_decode(resp, buf, (size_t)n, 0) == STUN_OK &&
            memcmp(resp->tid, req + 8, STUN_TID_LEN) == 0)
            return 0;
    }
    return -1;
}

static bool is_addr(const struct stun_msg *m, uint16_t type, const char *ip, uint16_t port)
{
    union addr got, want;

    addr_parse(&want, ip, port);
    return stun_msg_get_addr(m, type, &got) == STUN_OK && addr_equal(&got, &want);
}

/* Every CHANGE-REQUEST to each of the four server addresses: the answer leaves from the
 * changed address, says so in RESPONSE-ORIGIN, and names the other address of the one asked
 * in OTHER-ADDRESS; the mapped address is the client's own. */
static void change_request(void)
{
    const char *ips[] = {"127.0.0.1", "127.0.0.2"};
    uint16_t ports[] = {srv.port, alt};
    union addr me, from, want;
    int fd = client_udp_bound("127.0.0.1", &me);

    if (!CHECK(fd >= 0))
        return;
    for (int i = 0; i < 2; i++) {
        for (int p = 0; p < 2; p++) {
            for (int change = 0; change <= 6; change += 2) {
                uint8_t req[64], buf[512];
                struct stun_msg resp;
                size_t len = nat_request(req, sizeof(req), change, 0);
                const char *ip = ips[(change & CHANGE_IP) ? 1 - i : i];
                uint16_t port = ports[(change & CHANGE_PORT) ? 1 - p : p];

                if (!CHECK(nat_exchange(fd, fd, ips[i], ports[p], req, len, buf, sizeof(buf),
                                        &resp, &from) == 0))
                    continue;
                CHECK_INT(resp.type, stun_type(STUN_METHOD_BINDING, STUN_CLASS_SUCCESS));
                addr_parse(&want, ip, port);
                CHECK(addr_equal(&from, &want));
                CHECK(is_addr(&resp, STUN_ATTR_RESPONSE_ORIGIN, ip, port));
                CHECK(is_addr(&resp, STUN_ATTR_OTHER_ADDRESS, ips[1 - i], ports[1 - p]));
                CHECK(is_addr(&resp, STUN_ATTR_XOR_MAPPED_ADDRESS, "127.0.0.1", addr_port(&me)));
                CHECK(is_addr(&resp, STUN_ATTR_MAPPED_ADDRESS, "127.0.0.1", addr_port(&me)));
            }
        }
    }
    close(fd);
}

/* RESPONSE-PORT: the answer goes to the client's IP at that port, and still maps the address
 * the request came from; with CHANGE-REQUEST as well, from the changed address.  Port 0 is
 * refused with 400. */
static void response_port(void)
{
    union addr a, b, from, want;
    int fa = client_udp_bound("127.0.0.1", &a), fb = client_udp_bound("127.0.0.1", &b);
    uint8_t req[64], buf[512];
    struct stun_msg resp;
    size_t len;

    if (!CHECK(fa >= 0 && fb >= 0))
        goto out;
    len = nat_request(req, sizeof(req), -1, addr_port(&b));
    if (CHECK(nat_exchange(fa, fb, "127.0.0.1", srv.port, req, len, buf, sizeof(buf), &resp,
                           &from) == 0)) {
        CHECK(is_addr(&resp, STUN_ATTR_XOR_MAPPED_ADDRESS, "127.0.0.1", addr_port(&a)));
        CHECK(is_addr(&resp, STUN_ATTR_RESPONSE_ORIGIN, "127.0.0.1", srv.port));
    }
    CHECK(client_silent(fa, 200));
    len = nat_request(req, sizeof(req), CHANGE_IP | CHANGE_PORT, addr_port(&b));
    if (CHECK(nat_exchange(fa, fb, "127.0.0.1", srv.port, req, len, buf, sizeof(buf), &resp,
                           &from) == 0)) {
        addr_parse(&want, "127.0.0.2", alt);
        CHECK(addr_equal(&from, &want));
    }
    /* RESPONSE-PORT 0, which nat_request does not build. */
    {
        struct stun_builder sb;
        uint8_t tid[STUN_TID_LEN], zero[4] = {0};
        crypto_random(tid, sizeof(tid));
        stun_build_start(&sb, req, sizeof(req), stun_type(STUN_METHOD_BINDING, STUN_CLASS_REQUEST),
                         tid);
        stun_build_attr(&sb, STUN_ATTR_RESPONSE_PORT, zero, sizeof(zero));
        stun_build_end(&sb, &len);
    }
    if (CHECK(nat_exchange(fa, fa, "127.0.0.1", srv.port, req, len, buf, sizeof(buf), &resp,
                           &from) == 0)) {
        const char *reason;
        size_t rlen;
        int code = 0;
        CHECK_INT(resp.cls, STUN_CLASS_ERROR);
        CHECK(stun_msg_get_error(&resp, &code, &reason, &rlen) == STUN_OK && code == 400);
    }
out:
    if (fa >= 0)
        close(fa);
    if (fb >= 0)
        close(fb);
}

/* The error code of the answer to req on a connected socket (type), 0 for success, -1 none;
 * *other tells whether it had OTHER-ADDRESS. */
static int answer_code(int type, const char *ip, uint16_t port, const uint8_t *req, size_t len,
                       bool *other)
{
    uint8_t buf[512];
    struct stun_msg resp;
    int fd = client_connect(type, ip, port, NULL), code = -1;

    if (fd < 0)
        return -1;
    if (client_transact(fd, type == SOCK_STREAM, req, len, buf, sizeof(buf), &resp, TIMEOUT) ==
        0) {
        const char *reason;
        size_t rlen;
        code = 0;
        if (resp.cls == STUN_CLASS_ERROR)
            stun_msg_get_error(&resp, &code, &reason, &rlen);
        *other = stun_msg_find(&resp, STUN_ATTR_OTHER_ADDRESS) != NULL;
    }
    close(fd);
    return code;
}

/* Over TCP: OTHER-ADDRESS and RESPONSE-ORIGIN are there, CHANGE-REQUEST without flags is
 * fine, with flags (or RESPONSE-PORT) 400: a TCP answer goes back on its connection. */
static void tcp_rules(void)
{
    uint8_t req[64];
    bool other = false;

    CHECK_INT(answer_code(SOCK_STREAM, "127.0.0.2", srv.port,
                          req, nat_request(req, sizeof(req), 0, 0), &other), 0);
    CHECK(other);
    CHECK_INT(answer_code(SOCK_STREAM, "127.0.0.1", alt, req,
                          nat_request(req, sizeof(req), CHANGE_IP, 0), &other), 400);
    CHECK_INT(answer_code(SOCK_STREAM, "127.0.0.1", srv.port, req,
                          nat_request(req, sizeof(req), -1, 4000), &other), 400);
}

/* Where RFC 5780 is not served — ::1, the only IPv6 address, and a server without
 * --rfc5780 — the attributes are unknown comprehension-required ones: 420 with
 * UNKNOWN-ATTRIBUTES, and plain Bindings carry no OTHER-ADDRESS. */
static void refused_where_off(void)
{
    const char *args[] = {"--listening-ip", "127.0.0.1", "--listening-ip", "127.0.0.2", NULL};
    uint8_t req[64];
    bool other = true;
    struct proc off;

    CHECK_INT(answer_code(SOCK_DGRAM, "::1", srv.port, req,
                          nat_request(req, sizeof(req), CHANGE_IP, 0), &other), 420);
    CHECK_INT(answer_code(SOCK_DGRAM, "::1", srv.port, req,
                          nat_request(req, sizeof(req), -1, 0), &other), 0);
    CHECK(!other);
    if (!CHECK(proc_start(&off, args) == 0))
        return;
    CHECK_INT(answer_code(SOCK_DGRAM, "127.0.0.1", off.port, req,
                          nat_request(req, sizeof(req), 0, 0), &other), 420);
    CHECK_INT(answer_code(SOCK_DGRAM, "127.0.0.1", off.port, req,
                          nat_request(req, sizeof(req), -1, 5000), &other), 420);
    other = true;
    CHECK_INT(answer_code(SOCK_DGRAM, "127.0.0.1", off.port, req,
                          nat_request(req, sizeof(req), -1, 0), &other), 0);
    CHECK(!other);
    CHECK_INT(proc_stop(&off, SIGTERM, 5000, NULL), 0);
    proc_cleanup(&off);
}

/* Without --alt-listening-port the other port is the listening port + 1, as in coturn. */
static void alt_port_default(void)
{
    const char *args[] = {"--listening-ip", "127.0.0.2", "--listening-ip", "127.0.0.1",
                          "--rfc5780", NULL};
    uint8_t req[64], buf[512];
    struct stun_msg resp;
    struct proc p;
    int fd;

    if (!CHECK(proc_start(&p, args) == 0))
        return;
    fd = client_connect(SOCK_DGRAM, "127.0.0.1", (uint16_t)(p.port + 1), NULL);
    if (CHECK(fd >= 0) &&
        CHECK(client_transact(fd, 0, req, nat_request(req, sizeof(req), -1, 0), buf,
                              sizeof(buf), &resp, TIMEOUT) == 0))
        CHECK(is_addr(&resp, STUN_ATTR_OTHER_ADDRESS, "127.0.0.2", p.port));
    if (fd >= 0)
        close(fd);
    CHECK_INT(proc_stop(&p, SIGTERM, 5000, NULL), 0);
    proc_cleanup(&p);
}

/* --rfc5780 without two listening IPs of a family stops the server with the reason. */
static void needs_two_addresses(void)
{
    const char *argv[] = {"turnserver", "-n", "--rfc5780", "--listening-ip", "127.0.0.1",
                          "--listening-ip", "::1", NULL};
    struct proc p;

    CHECK_INT(proc_run(&p, argv, 5000), 1);
    CHECK(proc_log_contains(&p, "--rfc5780 needs two --listening-ip addresses of one family",
                            100));
    proc_cleanup(&p);
}

/* coturn's NAT behaviour discovery client: mapping and filtering (with PADDING), and its
 * STUN client forcing RFC 5780, against the server. */
static void coturn_natdiscovery(void)
{
    static char out[16384];
    char cmd[256];

    snprintf(cmd, sizeof(cmd), "turnutils_natdiscovery -m -f -P -p %u 127.0.0.1", srv.port);
    CHECK_INT(proc_capture(cmd, 30, out, sizeof(out)), 0);
    CHECK(strstr(out, "NAT with Endpoint Independent Mapping!") != NULL);
    CHECK(strstr(out, "NAT with Endpoint Independent Filtering!") != NULL);
    if (!CHECK(strstr(out, "Not received") == NULL))
        fprintf(stderr, "%s\n", out);
    snprintf(cmd, sizeof(cmd), "turnutils_stunclient -f -p %u 127.0.0.1", srv.port);
    CHECK_INT(proc_capture(cmd, 30, out, sizeof(out)), 0);
    CHECK(strstr(out, "Response origin: : 127.0.0.2:") != NULL);
    CHECK(strstr(out, "Other addr: : 127.0.0.2:") != NULL);
}

int main(void)
{
    char altbuf[8];
    const char *args[] = {"--listening-ip", "127.0.0.1", "--listening-ip", "127.0.0.2",
                          "--listening-ip", "::1", "--rfc5780", "--alt-listening-port", altbuf,
                          NULL};
    int rc;

    alt = proc_free_port();
    snprintf(altbuf, sizeof(altbuf), "%u", alt);
    if (alt == 0 || proc_start(&srv, args) != 0)
        return 1;
    RUN(change_request);
    RUN(response_port);
    RUN(tcp_rules);
    RUN(refused_where_off);
    RUN(alt_port_default);
    RUN(needs_two_addresses);
    RUN(coturn_natdiscovery);
    rc = proc_stop(&srv, SIGTERM, 5000, NULL);
    CHECK_INT(rc, 0);
    proc_cleanup(&srv);
    return check_summary() || rc != 0;
}
