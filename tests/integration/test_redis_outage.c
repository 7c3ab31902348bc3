/* test_redis_outage.c — Redis going away under a running turnserver: a relay session keeps
 * relaying without loss and its user keeps authenticating from the cache, new users get 500,
 * the outage is logged once, and when Redis is back everything works again without a
 * restart; and a server started while Redis is down. */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tests/lib/check.h"
#include "tests/lib/client.h"
#include "tests/lib/http.h"
#include "tests/lib/proc.h"
#include "tests/lib/redis.h"
#include "tests/lib/turnc.h"

#define REALM "north.gov"
#define CHANNEL 0x4001
#define BATCH 500

static struct redis_srv rds;
static char out[4096];
static uint16_t metrics_port;

static int add_user(const char *user, const char *pass)
{
    return redis_admin(redis_turnadmin_path(), out, sizeof out, "-a", "-N", rds.conn, "-u",
                       user, "-r", REALM, "-p", pass, NULL);
}

static int start_server(struct proc *p, const char *conn)
{
    char port[8];
    const char *args[] = {"--listening-ip", "127.0.0.1", "--realm", REALM, "--redis-userdb",
                          conn, "--redis-cache-ttl", "1", "--redis-timeout", "300",
                          "--allow-loopback-peers", "-m", "2", "--prometheus",
                          "--prometheus-port", port, NULL};

    metrics_port = proc_free_port();
    snprintf(port, sizeof port, "%u", metrics_port);
    return proc_start(p, args);
}

/* A Redis series of /metrics, or -1. */
static double metric(const char *series)
{
    static char page[65536];

    if (http_get("127.0.0.1", metrics_port, "/metrics", page, sizeof page, 2000) != 200)
        return -1;
    return http_metric(page, series);
}

static int try_allocate(const struct proc *p, const char *user, const char *pass)
{
    return turnc_try_allocate(SOCK_DGRAM, "127.0.0.1", p->port, user, pass);
}

/* How many lines of the server's log contain needle. */
static int log_count(const struct proc *p, const char *needle)
{
    char line[2048];
    int n = 0;
    FILE *f = fopen(p->log, "r");

    while (f && fgets(line, sizeof line, f))
        n += strstr(line, needle) != NULL;
    if (f)
        fclose(f);
    return n;
}

/* n round trips client -> channel -> peer -> back: how many came back whole. */
static int round_trips(struct turnc *t, int pfd, int n)
{
    uint8_t buf[256], msg[100];
    int ok = 0;

    for (int i = 0; i < n; i++) {
        union addr from;
        socklen_t fl = sizeof from;
        uint16_t chan = 0;
        ssize_t got;

        snprintf((char *)msg, sizeof msg, "packet %d", i);
        if (turnc_channel_send(t, CHANNEL, msg, sizeof msg) < 0 || client_silent(pfd, 1000))
            continue;
        got = recvfrom(pfd, buf, sizeof buf, 0, &from.sa, &fl);
        if (got != (ssize_t)sizeof msg || memcmp(buf, msg, sizeof msg) != 0)
            continue;
        sendto(pfd, buf, (size_t)got, 0, &from.sa, fl);
        got = turnc_recv(t, buf, sizeof buf, NULL, &chan, 1000);
        ok += got == (ssize_t)sizeof msg && chan == CHANNEL && memcmp(buf, msg, sizeof msg) == 0;
    }
    return ok;
}

static void outage_mid_session(void)
{
    struct proc srv;
    struct turnc t;
    union addr peer;
    int pfd = client_udp_bound("127.0.0.1", &peer), ok = 0, sent = 0;
    long long t0, recovered_ms;

    CHECK_INT(add_user("alice", "wonder"), 0);
    CHECK_INT(add_user("bob", "builder"), 0);
    if (!CHECK(pfd >= 0) || !CHECK_INT(start_server(&srv, rds.conn), 0))
        return;
    turnc_open(&t, SOCK_DGRAM, "127.0.0.1", srv.port, "alice", "wonder");
    CHECK_INT(turnc_allocate(&t), 0);
    CHECK_INT(turnc_bind(&t, CHANNEL, &peer), 0);
    ok += round_trips(&t, pfd, BATCH);
    sent += BATCH;
    CHECK(metric("turnpike_redis_up") == 1);
    CHECK(metric("turnpike_redis_lookups_total") >= 1);
    CHECK(metric("turnpike_redis_cache_hits_total") >= 1);

    redis_kill(&rds);
    t0 = proc_now_ms();
    ok += round_trips(&t, pfd, BATCH);
    sent += BATCH;
    /* alice's record is stale by now (TTL 1 s): still good while Redis is away. */
    usleep(1100000);
    CHECK_INT(turnc_refresh(&t, 600), 0);
    CHECK_INT(turnc_bind(&t, CHANNEL, &peer), 0);
    /* bob is in Redis but was never looked up: 500, at once and cleanly, as for a stranger. */
    CHECK_INT(try_allocate(&srv, "bob", "builder"), 500);
    CHECK_INT(try_allocate(&srv, "stranger", "x"), 500);
    CHECK(proc_now_ms() - t0 < 5000);
    ok += round_trips(&t, pfd, BATCH);
    sent += BATCH;
    CHECK_INT(log_count(&srv, "until it is back"), 1);
    CHECK_INT(log_count(&srv, "users not in the cache get 500"), 1);
    CHECK(metric("turnpike_redis_up") == 0);
    CHECK(metric("turnpike_redis_errors_total") >= 2);

    /* Back (empty, as nothing was saved): the operator adds the users again. */
    CHECK_INT(redis_restart(&rds), 0);
    t0 = proc_now_ms();
    CHECK_INT(add_user("alice", "wonder"), 0);
    CHECK_INT(add_user("bob", "builder"), 0);
    CHECK_INT(add_user("carol", "singer"), 0);
    /* Each worker reconnects on its own backoff (at most 5 s): wait for both users, whose
     * clients may reach different workers. */
    while ((try_allocate(&srv, "carol", "singer") != 0 ||
            try_allocate(&srv, "bob", "builder") != 0) &&
           proc_now_ms() - t0 < 8000)
        usleep(100000);
    recovered_ms = proc_now_ms() - t0;
    CHECK(recovered_ms < 8000);
    CHECK(proc_log_contains(&srv, "connected again after", 2000));
    CHECK_INT(log_count(&srv, "connected again after"), 1);
    CHECK(metric("turnpike_redis_up") == 1);
    CHECK_INT(turnc_refresh(&t, 600), 0); /* the allocation made before the outage lives on */
    ok += round_trips(&t, pfd, BATCH);
    sent += BATCH;
    CHECK_INT(ok, sent);
    printf("  %d/%d round trips through an outage; new users authenticated %lld ms after "
           "Redis was back\n", ok, sent, recovered_ms);
    turnc_close(&t);
    close(pfd);
    CHECK_INT(proc_stop(&srv, SIGTERM, 5000, NULL), 0);
    proc_cleanup(&srv);
}

/* Down at start-up: the server starts and serves (Binding, 500 for users), and once Redis
 * is up it is used without a restart. */
static void down_at_start(void)
{
    struct redis_srv late;
    uint16_t port = proc_free_port();
    char conn[96];
    struct proc srv;
    long long t0;
    uint8_t req[64], buf[256];
    struct stun_msg resp;
    int fd;

    snprintf(conn, sizeof conn, "host=127.0.0.1 port=%u dbname=0 connect_timeout=2", port);
    if (!CHECK_INT(start_server(&srv, conn), 0))
        return;
    CHECK(proc_log_contains(&srv, "until it is back", 2000));
    fd = client_connect(SOCK_DGRAM, "127.0.0.1", srv.port, NULL);
    CHECK(client_transact(fd, 0, req, client_binding_request(req, sizeof req, true), buf,
                          sizeof buf, &resp, 2000) == 0);
    close(fd);
    CHECK_INT(try_allocate(&srv, "alice", "wonder"), 500);
    if (CHECK_INT(redis_start_on(&late, port), 0)) {
        redis_admin(redis_turnadmin_path(), out, sizeof out, "-a", "-N", late.conn, "-u",
                    "alice", "-r", REALM, "-p", "wonder", NULL);
        t0 = proc_now_ms();
        while (try_allocate(&srv, "alice", "wonder") != 0 && proc_now_ms() - t0 < 8000)
            usleep(100000);
        CHECK(proc_now_ms() - t0 < 8000);
        printf("  Redis up %lld ms before the first user authenticated\n", proc_now_ms() - t0);
        redis_stop(&late);
    }
    CHECK_INT(proc_stop(&srv, SIGTERM, 5000, NULL), 0);
    proc_cleanup(&srv);
}

int main(void)
{
    if (redis_start(&rds) < 0) {
        printf("0 passed, 1 failed\n");
        return 1;
    }
    RUN(outage_mid_session);
    RUN(down_at_start);
    redis_stop(&rds);
    return check_summary();
}
