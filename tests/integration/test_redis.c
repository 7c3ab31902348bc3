/* test_redis.c — the Redis user database through the real turnserver and a real redis-server:
 * users added and deleted with turnadmin, REST secrets in the realm's set, a Redis written by
 * coturn's own turnadmin, SHA-256 keys, realm options, origins, malformed values. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "proto/crypto.h"
#include "proto/stun_attr.h"
#include "proto/stun_build.h"
#include "proto/stun_integrity.h"
#include "tests/lib/check.h"
#include "tests/lib/client.h"
#include "tests/lib/proc.h"
#include "tests/lib/redis.h"
#include "tests/lib/turnc.h"

#define REALM "north.gov"

static struct redis_srv rds;
static struct proc srv;
static char out[8192];

/* The server on the test's Redis, caching for 1 s, with extra arguments (NULL-terminated). */
static int start_server(struct proc *p, const char *const *extra)
{
    const char *args[32] = {"--listening-ip", "127.0.0.1", "--realm", REALM, "--redis-userdb",
                            rds.conn, "--redis-cache-ttl", "1", "--redis-negative-ttl", "1",
                            "-m", "2"};
    int n = 12;

    for (int i = 0; extra && extra[i] && n < 31; i++)
        args[n++] = extra[i];
    args[n] = NULL;
    return proc_start(p, args);
}

static int ours(const char *a0, const char *a1, const char *a2, const char *a3, const char *a4,
                const char *a5, const char *a6, const char *a7)
{
    return redis_admin(redis_turnadmin_path(), out, sizeof out, "-N", rds.conn, a0, a1, a2, a3,
                       a4, a5, a6, a7, NULL);
}

/* The MD5 key of user in REALM, in hex. */
static const char *md5_hex(const char *user, const char *pass)
{
    static char hex[33];
    uint8_t k[16];

    stun_key_md5(user, REALM, pass, k);
    for (int i = 0; i < 16; i++)
        snprintf(hex + 2 * i, 3, "%02x", k[i]);
    return hex;
}

/* An Allocate over UDP as user with password: its answer's code (0 success). */
static int try_allocate(const struct proc *p, const char *user, const char *pass)
{
    return turnc_try_allocate(SOCK_DGRAM, "127.0.0.1", p->port, user, pass);
}

/* Polls try_allocate until it gives want, for up to ms; returns the last code. */
static int allocate_until(const struct proc *p, const char *user, const char *pass, int want,
                          int ms, long long *elapsed)
{
    long long start = proc_now_ms();
    int code;

    while ((code = try_allocate(p, user, pass)) != want && proc_now_ms() - start < ms)
        usleep(100000);
    if (elapsed)
        *elapsed = proc_now_ms() - start;
    return code;
}

/* A user added with turnadmin authenticates at once; a wrong password is 401; deleted, it is
 * refused within the cache TTL (1 s here) and a little. */
static void users_added_and_deleted(void)
{
    long long took;

    CHECK_INT(ours("-a", "-u", "gorst", "-r", REALM, "-p", "hero", NULL), 0);
    CHECK_INT(try_allocate(&srv, "gorst", "hero"), 0);
    CHECK_INT(try_allocate(&srv, "gorst", "villain"), 401);
    CHECK_INT(try_allocate(&srv, "nobody", "x"), 401);
    CHECK_INT(ours("-d", "-u", "gorst", "-r", REALM, NULL, NULL, NULL), 0);
    CHECK_INT(allocate_until(&srv, "gorst", "hero", 401, 3000, &took), 401);
    CHECK(took <= 2500);
    printf("  deleted user refused after %lld ms (cache TTL 1 s)\n", took);
}

/* TURN REST API: the secret of the realm's set works, one not there does not; a secret added
 * later is picked up without a restart, one removed stops working. */
static void rest_secrets(void)
{
    const char *extra[] = {"--use-auth-secret", NULL};
    struct proc p;
    char name[64], pw[64], pw2[64];

    CHECK_INT(ours("-s", "logen", "-r", REALM, NULL, NULL, NULL, NULL), 0);
    if (!CHECK_INT(start_server(&p, extra), 0))
        return;
    snprintf(name, sizeof name, "%ld:ninefingers", (long)time(NULL) + 600);
    turnc_rest_password("logen", name, pw, sizeof pw);
    turnc_rest_password("bloody9", name, pw2, sizeof pw2);
    CHECK_INT(try_allocate(&p, name, pw), 0);
    CHECK_INT(try_allocate(&p, name, pw2), 401);
    CHECK_INT(ours("-s", "bloody9", "-r", REALM, NULL, NULL, NULL, NULL), 0);
    CHECK_INT(allocate_until(&p, name, pw2, 0, 3000, NULL), 0);
    CHECK_INT(ours("-X", "logen", "-r", REALM, NULL, NULL, NULL, NULL), 0);
    CHECK_INT(allocate_until(&p, name, pw, 401, 3000, NULL), 401);
    CHECK_INT(try_allocate(&p, name, pw2), 0);
    /* An expired REST name is refused, whatever its password. */
    snprintf(name, sizeof name, "%ld:old", (long)time(NULL) - 10);
    turnc_rest_password("bloody9", name, pw2, sizeof pw2);
    CHECK_INT(try_allocate(&p, name, pw2), 401);
    CHECK_INT(proc_stop(&p, SIGTERM, 5000, NULL), 0);
    proc_cleanup(&p);
    CHECK_INT(ours("--delete-all-secrets", "-r", REALM, NULL, NULL, NULL, NULL, NULL), 0);
}

/* A Redis written by coturn's own turnadmin: its users, secrets and realm options work here. */
static void coturn_written(void)
{
    const char *extra[] = {"--use-auth-secret", NULL};
    struct proc p;
    char name[64], pw[64];
    struct turnc a, b;

    CHECK_INT(redis_admin("turnadmin", out, sizeof out, "-a", "-N", rds.conn, "-u",
                          "whirrun", "-r", REALM, "-p", "sword", NULL), 0);
    CHECK_INT(redis_admin("turnadmin", out, sizeof out, "-s", "north", "-N", rds.conn, "-r",
                          REALM, NULL), 0);
    CHECK_INT(redis_admin("turnadmin", out, sizeof out, "-g", "-N", rds.conn, "-r", REALM,
                          "--user-quota", "1", NULL), 0);
    /* What coturn wrote: the MD5 key in hex, as RFC 8489 §9.2.2 makes it. */
    redis_cmd(&rds, out, sizeof out, "GET", "turn/realm/" REALM "/user/whirrun/key", NULL);
    CHECK_STR(out, md5_hex("whirrun", "sword"));
    if (!CHECK_INT(start_server(&p, extra), 0))
        return;
    CHECK_INT(try_allocate(&p, "whirrun", "sword"), 0);
    snprintf(name, sizeof name, "%ld:logen", (long)time(NULL) + 60);
    turnc_rest_password("north", name, pw, sizeof pw);
    CHECK_INT(try_allocate(&p, name, pw), 0);
    /* coturn's realm option: one allocation per user at a time. */
    CHECK_INT(redis_admin("turnadmin", out, sizeof out, "-a", "-N", rds.conn, "-u",
                          "stranger-come-knocking", "-r", REALM, "-p", "civilization", NULL), 0);
    turnc_open(&a, SOCK_DGRAM, "127.0.0.1", p.port, "stranger-come-knocking", "civilization");
    turnc_open(&b, SOCK_DGRAM, "127.0.0.1", p.port, "stranger-come-knocking", "civilization");
    CHECK_INT(turnc_allocate(&a), 0);
    CHECK_INT(turnc_allocate(&b), 486);
    turnc_close(&a);
    turnc_close(&b);
    /* coturn's turnadmin lists what ours wrote, and the other way round. */
    CHECK_INT(ours("-a", "-u", "ninefingers", "-r", REALM, "-p", "bloody", NULL), 0);
    redis_admin("turnadmin", out, sizeof out, "-l", "-N", rds.conn, "-r", REALM, NULL);
    CHECK(strstr(out, "ninefingers") != NULL);
    CHECK_INT(ours("-l", "-r", REALM, NULL, NULL, NULL, NULL, NULL), 0);
    CHECK(strstr(out, "whirrun[" REALM "]") != NULL);
    CHECK_INT(proc_stop(&p, SIGTERM, 5000, NULL), 0);
    proc_cleanup(&p);
    redis_admin("turnadmin", out, sizeof out, "-g", "-N", rds.conn, "-r", REALM,
                "--user-quota", "0", NULL);
    redis_admin("turnadmin", out, sizeof out, "-X", "north", "-N", rds.conn, "-r", REALM, NULL);
}

static int answer_code(const struct stun_msg *m)
{
    const char *reason;
    size_t len;
    int code = -1;

    if (m->cls == STUN_CLASS_SUCCESS)
        return 0;
    stun_msg_get_error(m, &code, &reason, &len);
    return code;
}

/* An Allocate with the SHA-256 key (RFC 8489 §9.2.4): PASSWORD-ALGORITHMS sent back as the
 * challenge offered it, PASSWORD-ALGORITHM SHA-256, MESSAGE-INTEGRITY-SHA256.  Its code. */
static int sha256_allocate(const struct proc *p, const char *user, const char *pass)
{
    static const uint8_t sha256_alg[4] = {0x00, 0x02, 0x00, 0x00};
    int fd = client_connect(SOCK_DGRAM, "127.0.0.1", p->port, NULL);
    uint8_t req[512], buf[1024], tid[STUN_TID_LEN], key[32];
    const uint8_t *algs, *nonce;
    size_t len, algs_len, nonce_len;
    char nonce_s[128];
    struct stun_builder b;
    struct stun_msg resp;
    int code = -1;

    for (int step = 0; fd >= 0 && step < 2; step++) {
        crypto_random(tid, sizeof tid);
        stun_build_start(&b, req, sizeof req, stun_type(STUN_METHOD_ALLOCATE, STUN_CLASS_REQUEST),
                         tid);
        stun_build_u8(&b, STUN_ATTR_REQUESTED_TRANSPORT, STUN_TRANSPORT_UDP);
        if (step == 1) {
            stun_build_str(&b, STUN_ATTR_USERNAME, user);
            stun_build_str(&b, STUN_ATTR_REALM, REALM);
            stun_build_str(&b, STUN_ATTR_NONCE, nonce_s);
            stun_build_attr(&b, STUN_ATTR_PASSWORD_ALGORITHMS, algs, algs_len);
            stun_build_attr(&b, STUN_ATTR_PASSWORD_ALGORITHM, sha256_alg, sizeof sha256_alg);
            stun_key_sha256(user, REALM, pass, key);
            stun_build_integrity_sha256(&b, key, sizeof key);
        }
        if (stun_build_end(&b, &len) < 0 ||
            client_transact(fd, 0, req, len, buf, sizeof buf, &resp, 3000) < 0)
            break;
        code = answer_code(&resp);
        if (step == 0 && (code != 401 ||
                          stun_msg_get_bytes(&resp, STUN_ATTR_NONCE, &nonce, &nonce_len) ||
                          nonce_len >= sizeof nonce_s ||
                          stun_msg_get_bytes(&resp, STUN_ATTR_PASSWORD_ALGORITHMS, &algs,
                                             &algs_len)))
            break;
        if (step == 0) {
            memcpy(nonce_s, nonce, nonce_len);
            nonce_s[nonce_len] = '\0';
            /* algs points into buf, which the next answer overwrites: keep a copy. */
            static uint8_t algs_copy[64];
            memcpy(algs_copy, algs, algs_len < sizeof algs_copy ? algs_len : sizeof algs_copy);
            algs = algs_copy;
        }
    }
    if (fd >= 0)
        close(fd);
    return code;
}

/* Our sha256-key: the RFC 8489 key of a user added with our turnadmin works; a user coturn's
 * turnadmin wrote has none (MD5 only); a password changed by coturn's turnadmin leaves our
 * sha256-key stale, and the old password no longer works with SHA-256 either. */
static void sha256_keys(void)
{
    CHECK_INT(ours("-a", "-u", "crummock", "-r", REALM, "-p", "i", NULL), 0);
    CHECK_INT(sha256_allocate(&srv, "crummock", "i"), 0);
    CHECK_INT(sha256_allocate(&srv, "crummock", "wrong"), 401);
    CHECK_INT(redis_admin("turnadmin", out, sizeof out, "-a", "-N", rds.conn, "-u", "crummock",
                          "-r", REALM, "-p", "ii", NULL), 0);
    CHECK_INT(allocate_until(&srv, "crummock", "ii", 0, 3000, NULL), 0);
    /* Every worker's cache has let the old record go a TTL (1 s) after the change. */
    usleep(1100000);
    CHECK_INT(sha256_allocate(&srv, "crummock", "i"), 401);
    CHECK_INT(sha256_allocate(&srv, "crummock", "ii"), 401);
    CHECK(proc_log_contains(&srv, "sha256-key was made with another password: ignored", 2000));
    CHECK_INT(ours("-d", "-u", "crummock", "-r", REALM, NULL, NULL, NULL), 0);
}

/* Malformed values are absent to the server, said in its log, and crash nothing. */
static void malformed_values(void)
{
    const char *extra[] = {"--use-auth-secret", NULL};
    struct proc p;

    redis_cmd(&rds, out, sizeof out, "SET", "turn/realm/" REALM "/user/bayaz/key", "0xnothex",
              NULL);
    redis_cmd(&rds, out, sizeof out, "SET", "turn/realm/" REALM "/user-quota", "ten", NULL);
    redis_cmd(&rds, out, sizeof out, "SET", "turn/realm/" REALM "/secret", "not-a-set", NULL);
    redis_cmd(&rds, out, sizeof out, "SADD", "turn/realm/" REALM "/allowed-peer-ip", "10.0.0.300",
              NULL);
    redis_cmd(&rds, out, sizeof out, "SET", "turn/realm/" REALM "/user/logen/sha256-key", "zz",
              NULL);
    CHECK_INT(ours("-a", "-u", "logen", "-r", REALM, "-p", "x", NULL), 0);
    redis_cmd(&rds, out, sizeof out, "SET", "turn/realm/" REALM "/user/logen/sha256-key", "zz",
              NULL);
    if (!CHECK_INT(start_server(&p, extra), 0))
        return;
    CHECK_INT(try_allocate(&p, "bayaz", "magi"), 401);
    CHECK_INT(try_allocate(&p, "logen", "x"), 0); /* MD5 works, the bad SHA-256 key is ignored */
    CHECK(proc_log_contains(&p, "user/bayaz/key is not an MD5 key (32 hex digits): ignored",
                            2000));
    CHECK(proc_log_contains(&p, "turn/realm/" REALM "/user-quota is not a number: ignored",
                            2000));
    CHECK(proc_log_contains(&p, "turn/realm/" REALM "/secret is not a set: ignored", 2000));
    CHECK(proc_log_contains(&p, "allowed-peer-ip: '10.0.0.300'", 2000));
    CHECK(proc_log_contains(&p, "user/logen/sha256-key is not", 2000));
    CHECK_INT(proc_stop(&p, SIGTERM, 5000, NULL), 0); /* alive, and exits cleanly */
    proc_cleanup(&p);
    redis_cmd(&rds, out, sizeof out, "DEL", "turn/realm/" REALM "/user/bayaz/key",
              "turn/realm/" REALM "/user-quota", "turn/realm/" REALM "/secret",
              "turn/realm/" REALM "/allowed-peer-ip", NULL);
    ours("-d", "-u", "logen", "-r", REALM, NULL, NULL, NULL);
}

/* A realm's allowed-peer-ip and denied-peer-ip sets, on top of the server's policy. */
static void realm_peer_ranges(void)
{
    struct turnc t;
    union addr lo, pub;

    addr_parse(&lo, "127.0.0.1", 9);
    addr_parse(&pub, "198.51.100.20", 9);
    redis_cmd(&rds, out, sizeof out, "SADD", "turn/realm/" REALM "/allowed-peer-ip",
              "127.0.0.1", NULL);
    redis_cmd(&rds, out, sizeof out, "SADD", "turn/realm/" REALM "/denied-peer-ip",
              "198.51.100.0/24", NULL);
    CHECK_INT(ours("-a", "-u", "shivers", "-r", REALM, "-p", "ice", NULL), 0);
    usleep(1200000); /* the realm's record of an earlier test expires */
    turnc_open(&t, SOCK_DGRAM, "127.0.0.1", srv.port, "shivers", "ice");
    CHECK_INT(turnc_allocate(&t), 0);
    CHECK_INT(turnc_permit(&t, &lo), 0);   /* loopback: denied by default, allowed here */
    CHECK_INT(turnc_permit(&t, &pub), 403); /* public: allowed by default, denied here */
    turnc_close(&t);
    redis_cmd(&rds, out, sizeof out, "DEL", "turn/realm/" REALM "/allowed-peer-ip",
              "turn/realm/" REALM "/denied-peer-ip", NULL);
}

/* A realm's total-quota and max-bps (coturn's realm options) in place of the server's: one
 * allocation in the realm at a time, and 2,000 bytes a second through it. */
static void realm_limits(void)
{
    static const uint8_t payload[500];
    struct turnc a, b;
    union addr peer;
    uint8_t buf[1024];
    int pfd, arrived = 0;

    redis_cmd(&rds, out, sizeof out, "SET", "turn/realm/" REALM "/total-quota", "1", NULL);
    redis_cmd(&rds, out, sizeof out, "SET", "turn/realm/" REALM "/max-bps", "2000", NULL);
    redis_cmd(&rds, out, sizeof out, "SADD", "turn/realm/" REALM "/allowed-peer-ip",
              "127.0.0.1", NULL);
    CHECK_INT(ours("-a", "-u", "dogman", "-r", REALM, "-p", "teeth", NULL), 0);
    CHECK_INT(ours("-a", "-u", "tul", "-r", REALM, "-p", "duru", NULL), 0);
    usleep(1200000); /* the realm's record of an earlier test expires */
    pfd = client_udp_bound("127.0.0.1", &peer);
    turnc_open(&a, SOCK_DGRAM, "127.0.0.1", srv.port, "dogman", "teeth");
    turnc_open(&b, SOCK_DGRAM, "127.0.0.1", srv.port, "tul", "duru");
    CHECK_INT(turnc_allocate(&a), 0);
    CHECK_INT(turnc_allocate(&b), 486); /* another user, but the realm's one is taken */
    CHECK_INT(turnc_bind(&a, 0x4000, &peer), 0);
    /* 20,000 bytes at once: the bucket lets about a second's worth (2,000 bytes) through. */
    for (int i = 0; i < 40; i++)
        turnc_channel_send(&a, 0x4000, payload, sizeof payload);
    while (client_recv(pfd, 0, buf, sizeof buf, 300) == (ssize_t)sizeof payload)
        arrived++;
    printf("  realm max-bps 2000: %d of 40 datagrams of 500 bytes relayed at once\n", arrived);
    CHECK(arrived >= 1 && arrived <= 8);
    CHECK_INT(turnc_refresh(&a, 0), 0);
    turnc_close(&a);
    CHECK_INT(allocate_until(&srv, "tul", "duru", 0, 3000, NULL), 0); /* the quota freed */
    turnc_close(&b);
    close(pfd);
    redis_cmd(&rds, out, sizeof out, "DEL", "turn/realm/" REALM "/total-quota",
              "turn/realm/" REALM "/max-bps", "turn/realm/" REALM "/allowed-peer-ip", NULL);
    ours("-d", "-u", "dogman", "-r", REALM, NULL, NULL, NULL);
    ours("-d", "-u", "tul", "-r", REALM, NULL, NULL, NULL);
}

static void add_origin(struct stun_builder *b, const void *arg)
{
    stun_build_u8(b, STUN_ATTR_REQUESTED_TRANSPORT, STUN_TRANSPORT_UDP);
    stun_build_str(b, STUN_ATTR_ORIGIN, arg);
}

/* ORIGIN: a request from an origin mapped to another realm is challenged with that realm
 * and authenticates with that realm's users. */
static void origin_realm(void)
{
    uint8_t buf[1024];
    struct stun_msg resp;
    struct turnc t;

    CHECK_INT(ours("-O", "-o", "https://Crinna.org/app", "-r", "crinna.org", NULL, NULL, NULL),
              0);
    CHECK_INT(redis_admin(redis_turnadmin_path(), out, sizeof out, "-a", "-N", rds.conn, "-u",
                          "whirrun", "-r", "crinna.org", "-p", "blade", NULL), 0);
    turnc_open(&t, SOCK_DGRAM, "127.0.0.1", srv.port, "whirrun", "blade");
    CHECK_INT(turnc_request(&t, STUN_METHOD_ALLOCATE, add_origin, "https://crinna.org", buf,
                            sizeof buf, &resp),
              0);
    CHECK_STR(t.realm, "crinna.org");
    CHECK_INT(turnc_refresh(&t, 600), 0); /* no ORIGIN: the allocation's realm */
    turnc_close(&t);
    /* Without the origin, the user is unknown in the default realm. */
    CHECK_INT(try_allocate(&srv, "whirrun", "blade"), 401);
}

/* A burst of unauthenticated Allocates, each naming another ORIGIN (as spoofed ones could):
 * all answered 401, while Redis is asked about at most 100 new origins a second per worker. */
static void origin_flood(void)
{
    int fd = client_connect(SOCK_DGRAM, "127.0.0.1", srv.port, NULL), answered = 0;
    uint8_t req[256], buf[512], tid[STUN_TID_LEN];
    struct stun_builder b;
    struct stun_msg resp;
    char origin[64], *calls;
    long long t0 = proc_now_ms();
    long gets;
    size_t len;

    redis_cmd(&rds, out, sizeof out, "CONFIG", "RESETSTAT", NULL);
    for (int i = 0; i < 500 && fd >= 0; i++) {
        crypto_random(tid, sizeof tid);
        stun_build_start(&b, req, sizeof req, stun_type(STUN_METHOD_ALLOCATE, STUN_CLASS_REQUEST),
                         tid);
        stun_build_u8(&b, STUN_ATTR_REQUESTED_TRANSPORT, STUN_TRANSPORT_UDP);
        snprintf(origin, sizeof origin, "https://spoofed-%d.example", i);
        stun_build_str(&b, STUN_ATTR_ORIGIN, origin);
        if (stun_build_end(&b, &len) == 0 &&
            client_transact(fd, 0, req, len, buf, sizeof buf, &resp, 2000) == 0)
            answered += answer_code(&resp) == 401;
    }
    close(fd);
    redis_cmd(&rds, out, sizeof out, "INFO", "commandstats", NULL);
    calls = strstr(out, "cmdstat_get:calls=");
    gets = calls ? strtol(calls + 18, NULL, 10) : 0;
    CHECK_INT(answered, 500);
    CHECK(gets <= 2 * 100 * ((proc_now_ms() - t0) / 1000 + 2));
    printf("  500 spoofed origins in %lld ms: %ld GETs to Redis\n", proc_now_ms() - t0, gets);
}

static int tcp_allocate(const struct proc *p, const char *user, const char *pass)
{
    return turnc_try_allocate(SOCK_STREAM, "127.0.0.1", p->port, user, pass);
}

/* While Redis holds its answers (CLIENT PAUSE), requests wait: over TCP the connection stops
 * reading and resumes with the request; a client that goes away meanwhile is forgotten; past
 * --redis-timeout the lookup gives 500, the connection is made again, and lookups resume. */
static void waiting_requests(void)
{
    const char *extra[] = {"--redis-timeout", "400", NULL};
    long long t0, took;
    struct proc p;
    pid_t child;

    CHECK_INT(ours("-a", "-u", "rudd", "-r", REALM, "-p", "threetrees", NULL), 0);
    CHECK_INT(ours("-a", "-u", "dow", "-r", REALM, "-p", "black", NULL), 0);
    CHECK_INT(ours("-a", "-u", "grim", "-r", REALM, "-p", "harding", NULL), 0);
    if (!CHECK_INT(start_server(&p, extra), 0))
        return;
    /* A pause shorter than the timeout: the TCP request waits and is answered. */
    redis_cmd(&rds, out, sizeof out, "CLIENT", "PAUSE", "250", NULL);
    t0 = proc_now_ms();
    CHECK_INT(tcp_allocate(&p, "rudd", "threetrees"), 0);
    took = proc_now_ms() - t0;
    CHECK(took >= 150 && took < 2000);
    /* A TCP client killed while its request waits: forgotten, nothing else disturbed. */
    redis_cmd(&rds, out, sizeof out, "CLIENT", "PAUSE", "300", NULL);
    child = fork();
    if (child == 0)
        _exit(tcp_allocate(&p, "dow", "black") == 0 ? 0 : 1);
    usleep(120000);
    kill(child, SIGKILL);
    waitpid(child, NULL, 0);
    usleep(400000);
    CHECK_INT(tcp_allocate(&p, "dow", "black"), 0);
    /* Longer than the timeout: 500 after it, the outage said, then all is well again. */
    redis_cmd(&rds, out, sizeof out, "CLIENT", "PAUSE", "1500", NULL);
    t0 = proc_now_ms();
    CHECK_INT(try_allocate(&p, "grim", "harding"), 500);
    took = proc_now_ms() - t0;
    CHECK(took >= 350 && took < 1400);
    printf("  a lookup Redis does not answer: 500 after %lld ms (--redis-timeout 400)\n", took);
    CHECK(proc_log_contains(&p, "no answer within 400 ms", 2000));
    CHECK_INT(allocate_until(&p, "grim", "harding", 0, 8000, NULL), 0);
    CHECK_INT(proc_stop(&p, SIGTERM, 5000, NULL), 0);
    proc_cleanup(&p);
}

int main(void)
{
    if (redis_start(&rds) < 0 || start_server(&srv, NULL) < 0) {
        printf("0 passed, 1 failed\n");
        redis_stop(&rds);
        return 1;
    }
    RUN(users_added_and_deleted);
    RUN(rest_secrets);
    RUN(coturn_written);
    RUN(sha256_keys);
    RUN(malformed_values);
    RUN(realm_peer_ranges);
    RUN(realm_limits);
    RUN(origin_realm);
    RUN(origin_flood);
    RUN(waiting_requests);
    CHECK_INT(proc_stop(&srv, SIGTERM, 5000, NULL), 0);
    proc_cleanup(&srv);
    redis_stop(&rds);
    return check_summary();
}
