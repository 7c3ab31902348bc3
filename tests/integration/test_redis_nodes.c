/* test_redis_nodes.c — two turnservers on different ports sharing one Redis: a user added once
 * works on both, --user-quota 1 holds across both, and allocation status is in Redis (keys
 * with the lifetime as TTL, the channels coturn's subscribers listen to). */
#include <fcntl.h>
#include <stdbool.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/lib/check.h"
#include "tests/lib/proc.h"
#include "tests/lib/redis.h"
#include "tests/lib/turnc.h"

#define REALM "north.gov"

static struct redis_srv rds;
static struct proc a, b;
static char out[8192];

static int start_node(struct proc *p)
{
    const char *args[] = {"--listening-ip", "127.0.0.1", "--realm", REALM, "--redis-userdb",
                          rds.conn, "--redis-statsdb", rds.conn, "--user-quota", "1",
                          "--redis-cache-ttl", "1", "-m", "2", NULL};

    return proc_start(p, args);
}

static int add_user(const char *user, const char *pass)
{
    return redis_admin(redis_turnadmin_path(), out, sizeof out, "-a", "-N", rds.conn, "-u",
                       user, "-r", REALM, "-p", pass, NULL);
}

/* A subscriber to every allocation event, its output in a file (redis-cli psubscribe). */
static pid_t subscribe(const char *file)
{
    char port[8];
    pid_t pid;
    int fd = open(file, O_WRONLY | O_CREAT | O_TRUNC, 0644);

    snprintf(port, sizeof port, "%u", rds.port);
    pid = fork();
    if (pid == 0) {
        dup2(fd, STDOUT_FILENO);
        execlp("redis-cli", "redis-cli", "-p", port, "psubscribe",
               "turn/realm/*/user/*/allocation/*", (char *)NULL);
        _exit(127);
    }
    close(fd);
    usleep(300000); /* subscribed before the events */
    return pid;
}

static bool file_has(const char *file, const char *needle, int ms)
{
    long long end = proc_now_ms() + ms;

    do {
        FILE *f = fopen(file, "r");
        char buf[16384];
        size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;

        if (f)
            fclose(f);
        buf[n] = '\0';
        if (strstr(buf, needle))
            return true;
        usleep(50000);
    } while (proc_now_ms() < end);
    return false;
}

/* Waits up to 2 s for a command to answer want: what a node sent on its own connection (a
 * slot given back, a status deleted) may reach Redis a moment after the node answered its
 * client, and the other node asks on another connection.  True when it did. */
static bool redis_until(const char *want, const char *cmd, const char *key)
{
    long long end = proc_now_ms() + 2000;

    do {
        redis_cmd(&rds, out, sizeof out, cmd, key, NULL);
        if (strcmp(out, want) == 0)
            return true;
        usleep(20000);
    } while (proc_now_ms() < end);
    return false;
}

#define SLOTS(user) "turn/realm/" REALM "/user/" user "/allocations"

static void one_user_both_nodes(void)
{
    struct turnc t;

    CHECK_INT(add_user("gorst", "hero"), 0);
    CHECK_INT(add_user("logen", "ninefingers"), 0);
    turnc_open(&t, SOCK_DGRAM, "127.0.0.1", a.port, "gorst", "hero");
    CHECK_INT(turnc_allocate(&t), 0);
    CHECK_INT(turnc_refresh(&t, 0), 0);
    turnc_close(&t);
    CHECK(redis_until("0", "ZCARD", SLOTS("gorst")));
    turnc_open(&t, SOCK_DGRAM, "127.0.0.1", b.port, "gorst", "hero");
    CHECK_INT(turnc_allocate(&t), 0);
    CHECK_INT(turnc_refresh(&t, 0), 0);
    turnc_close(&t);
    CHECK(redis_until("0", "ZCARD", SLOTS("gorst")));
}

/* --user-quota 1 over both nodes: a second allocation on the other node is 486 until the
 * first ends; another user is not held back. */
static void quota_across_nodes(void)
{
    struct turnc on_a, on_b, other;

    turnc_open(&on_a, SOCK_DGRAM, "127.0.0.1", a.port, "gorst", "hero");
    turnc_open(&on_b, SOCK_DGRAM, "127.0.0.1", b.port, "gorst", "hero");
    turnc_open(&other, SOCK_DGRAM, "127.0.0.1", b.port, "logen", "ninefingers");
    CHECK_INT(turnc_allocate(&on_a), 0);
    CHECK_INT(turnc_allocate(&on_b), 486);
    CHECK_INT(turnc_allocate(&other), 0);
    redis_cmd(&rds, out, sizeof out, "ZCARD", "turn/realm/" REALM "/user/gorst/allocations",
              NULL);
    CHECK_STR(out, "1");
    /* Another Allocate on the same 5-tuple: 437, asking for no second slot. */
    CHECK_INT(turnc_allocate(&on_a), 437);
    redis_cmd(&rds, out, sizeof out, "ZCARD", "turn/realm/" REALM "/user/gorst/allocations",
              NULL);
    CHECK_STR(out, "1");
    CHECK_INT(turnc_refresh(&on_a, 0), 0);
    CHECK(redis_until("0", "ZCARD", SLOTS("gorst")));
    CHECK_INT(turnc_allocate(&on_b), 0);
    redis_cmd(&rds, out, sizeof out, "ZCARD", "turn/realm/" REALM "/user/gorst/allocations",
              NULL);
    CHECK_STR(out, "1");
    CHECK_INT(turnc_refresh(&on_b, 0), 0);
    CHECK_INT(turnc_refresh(&other, 0), 0);
    CHECK(redis_until("0", "ZCARD", SLOTS("gorst")));
    CHECK(redis_until("0", "ZCARD", SLOTS("logen")));
    CHECK(redis_until("", "KEYS", "turn/realm/" REALM "/user/*/allocation/*/status"));
    turnc_close(&on_a);
    turnc_close(&on_b);
    turnc_close(&other);
}

/* Status keys with the lifetime as TTL, and the events on coturn's channels. */
static void status_published(void)
{
    char file[96], pattern[128], key[256];
    struct turnc t;
    pid_t sub;
    long ttl;

    snprintf(file, sizeof file, "%s/events", a.dir);
    sub = subscribe(file);
    turnc_open(&t, SOCK_DGRAM, "127.0.0.1", b.port, "logen", "ninefingers");
    CHECK_INT(turnc_allocate(&t), 0);
    snprintf(pattern, sizeof pattern, "turn/realm/%s/user/logen/allocation/*/status", REALM);
    for (long long end = proc_now_ms() + 2000; proc_now_ms() < end; usleep(20000)) {
        redis_cmd(&rds, out, sizeof out, "KEYS", pattern, NULL);
        if (out[0])
            break;
    }
    if (CHECK(strncmp(out, "turn/realm/", 11) == 0 && strchr(out, '\n') == NULL)) {
        snprintf(key, sizeof key, "%.200s", out);
        CHECK(redis_until("new lifetime=600", "GET", key));
        redis_cmd(&rds, out, sizeof out, "TTL", key, NULL);
        ttl = strtol(out, NULL, 10);
        CHECK(ttl > 590 && ttl <= 600);
        CHECK_INT(turnc_refresh(&t, 1200), 0);
        CHECK(redis_until("refreshed lifetime=1200", "GET", key));
        CHECK(file_has(file, "new lifetime=600", 2000));
        CHECK(file_has(file, "refreshed lifetime=1200", 2000));
        CHECK_INT(turnc_refresh(&t, 0), 0);
        CHECK(file_has(file, "deleted", 2000));
        CHECK(file_has(file, "/total_traffic", 2000));
        CHECK(file_has(file, "rcvp=0, rcvb=0, sentp=0, sentb=0", 2000));
        CHECK(redis_until("0", "EXISTS", key));
    }
    turnc_close(&t);
    kill(sub, SIGTERM);
    waitpid(sub, NULL, 0);
}

int main(void)
{
    if (redis_start(&rds) < 0 || start_node(&a) < 0 || start_node(&b) < 0) {
        printf("0 passed, 1 failed\n");
        proc_cleanup(&a);
        redis_stop(&rds);
        return 1;
    }
    RUN(one_user_both_nodes);
    RUN(quota_across_nodes);
    RUN(status_published);
    CHECK_INT(proc_stop(&a, SIGTERM, 5000, NULL), 0);
    CHECK_INT(proc_stop(&b, SIGTERM, 5000, NULL), 0);
    proc_cleanup(&a);
    proc_cleanup(&b);
    redis_stop(&rds);
    return check_summary();
}
