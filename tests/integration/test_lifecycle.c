/* test_lifecycle.c — the process's life as an operator drives it: drain under traffic
 * (SIGUSR1, --drain-timeout), --alternate-server 300 in turn, --proc-user, and the systemd
 * readiness messages on $NOTIFY_SOCKET. */
#include <errno.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "proto/stun_build.h"
#include "tests/lib/check.h"
#include "tests/lib/client.h"
#include "tests/lib/proc.h"
#include "tests/lib/turnc.h"

#define USER "carol"
#define PASS "lifecycle-test-pass"
#define ROUNDS 50 /* packets each way per client per check */

/* Sends ROUNDS packets each way through t's channel 0x4000 to the peer on pfd; true when every
 * one arrived. */
static bool relays_both_ways(struct turnc *t, int pfd)
{
    uint8_t out[300] = {0}, in[2048];
    int up = 0, down = 0;

    for (int i = 0; i < ROUNDS; i++) {
        out[0] = (uint8_t)i;
        turnc_channel_send(t, 0x4000, out, sizeof(out));
        if (client_recv(pfd, 0, in, sizeof(in), 3000) == (ssize_t)sizeof(out) && in[0] == i)
            up++;
        sendto(pfd, out, 200, 0, &t->relayed.sa, addr_len(&t->relayed));
        if (turnc_recv(t, in, sizeof(in), NULL, NULL, 3000) == 200 && in[0] == i)
            down++;
    }
    if (up != ROUNDS || down != ROUNDS)
        printf("  relayed %d of %d to the peer, %d of %d back\n", up, ROUNDS, down, ROUNDS);
    return up == ROUNDS && down == ROUNDS;
}

static int open_relaying(struct turnc *t, int type, uint16_t port, const union addr *peer)
{
    if (turnc_open(t, type, "127.0.0.1", port, USER, PASS) < 0 || turnc_allocate(t) != 0 ||
        turnc_bind(t, 0x4000, peer) != 0)
        return -1;
    return 0;
}

static bool running(const struct proc *p)
{
    return p->pid > 0 && kill(p->pid, 0) == 0 && !proc_log_contains(p, "shutting down", 0);
}

/* SIGUSR1 under traffic: new Allocates get 508, the allocations there keep relaying (none
 * lost) and refreshing, and the process exits by itself, status 0, when the last one ends. */
static void drain_under_traffic(void)
{
    const char *args[] = {"--listening-ip", "127.0.0.1", "--relay-threads", "2", "--user",
                          USER ":" PASS, "--allow-loopback-peers", NULL};
    struct turnc a, b, c;
    union addr peer;
    struct proc p;
    int pfd, elapsed = 0;

    if (!CHECK(proc_start(&p, args) == 0))
        return;
    pfd = client_udp_bound("127.0.0.1", &peer);
    if (!CHECK(pfd >= 0) || !CHECK(open_relaying(&a, SOCK_DGRAM, p.port, &peer) == 0) ||
        !CHECK(open_relaying(&b, SOCK_STREAM, p.port, &peer) == 0))
        goto out;
    CHECK(relays_both_ways(&a, pfd) && relays_both_ways(&b, pfd));
    kill(p.pid, SIGUSR1);
    CHECK(proc_log_contains(&p, "SIGUSR1: draining: new Allocates get 508; 2 allocations left",
                            3000));
    if (CHECK(turnc_open(&c, SOCK_DGRAM, "127.0.0.1", p.port, USER, PASS) == 0))
        CHECK_INT(turnc_allocate(&c), 508);
    turnc_close(&c);
    CHECK(relays_both_ways(&a, pfd));
    CHECK(relays_both_ways(&b, pfd));
    CHECK_INT(turnc_refresh(&a, 600), 0);
    CHECK_INT(turnc_refresh(&a, 0), 0);
    /* One allocation left: the process waits for it (its drain check runs each second). */
    usleep(1500000);
    CHECK(running(&p));
    CHECK(relays_both_ways(&b, pfd));
    CHECK_INT(turnc_refresh(&b, 0), 0);
    CHECK_INT(proc_stop(&p, 0, 5000, &elapsed), 0);
    CHECK(elapsed < 2500);
    CHECK(proc_log_contains(&p, "drained: no allocation left, shutting down", 0));
    CHECK(proc_log_contains(&p, "reply.508=1", 0));
out:
    turnc_close(&a);
    turnc_close(&b);
    if (pfd >= 0)
        close(pfd);
    proc_cleanup(&p);
}

/* --drain-timeout: the process does not wait for the last allocation past it. */
static void drain_timeout(void)
{
    const char *args[] = {"--listening-ip", "127.0.0.1", "--user", USER ":" PASS,
                          "--drain-timeout", "2", NULL};
    struct turnc t;
    struct proc p;
    int elapsed = 0;

    if (!CHECK(proc_start(&p, args) == 0))
        return;
    if (CHECK(turnc_open(&t, SOCK_DGRAM, "127.0.0.1", p.port, USER, PASS) == 0))
        CHECK_INT(turnc_allocate(&t), 0);
    kill(p.pid, SIGUSR1);
    CHECK_INT(proc_stop(&p, 0, 6000, &elapsed), 0);
    CHECK(elapsed >= 1500 && elapsed < 4500);
    CHECK(proc_log_contains(&p, "drain timeout after 2s: shutting down with 1 allocations", 0));
    turnc_close(&t);
    proc_cleanup(&p);
}

static void add_udp_transport(struct stun_builder *b, const void *arg)
{
    (void)arg;
    stun_build_u8(b, STUN_ATTR_REQUESTED_TRANSPORT, STUN_TRANSPORT_UDP);
}

/* An Allocate's answer code, and its ALTERNATE-SERVER into *alt (AF_UNSPEC when none). */
static int allocate_alt(struct turnc *t, union addr *alt)
{
    uint8_t buf[1024];
    struct stun_msg resp;
    int code = turnc_request(t, STUN_METHOD_ALLOCATE, add_udp_transport, NULL, buf, sizeof(buf),
                             &resp);

    memset(alt, 0, sizeof(*alt));
    if (code >= 0 && stun_msg_get_addr(&resp, STUN_ATTR_ALTERNATE_SERVER, alt) != STUN_OK)
        alt->sa.sa_family = AF_UNSPEC;
    return code;
}

/* --alternate-server: every Allocate is answered 300 with the next alternate in turn, IPv4
 * and IPv6 alike, also while draining; Binding is still served here. */
static void alternate_servers(void)
{
    static const char *const alts[] = {"192.0.2.10:3478", "[2001:db8::20]:3479",
                                       "198.51.100.30:443"};
    const char *args[] = {"--listening-ip", "127.0.0.1", "--relay-threads", "2", "--user",
                          USER ":" PASS, "--alternate-server", alts[0], "--alternate-server",
                          alts[1], "--alternate-server", alts[2], NULL};
    char got[ADDR_STRLEN];
    uint8_t req[64], buf[512];
    struct stun_msg resp;
    union addr alt;
    struct turnc t;
    struct proc p;
    int fd;

    if (!CHECK(proc_start(&p, args) == 0))
        return;
    /* Over UDP and TCP, from clients on both workers: one round robin for the server. */
    for (int i = 0; i < 7; i++) {
        if (!CHECK(turnc_open(&t, i % 2 ? SOCK_STREAM : SOCK_DGRAM, "127.0.0.1", p.port, USER,
                              PASS) == 0))
            break;
        CHECK_INT(allocate_alt(&t, &alt), 300);
        CHECK_STR(addr_format(&alt, got, sizeof(got)), alts[i % 3]);
        turnc_close(&t);
    }
    fd = client_connect(SOCK_DGRAM, "127.0.0.1", p.port, NULL);
    CHECK(client_transact(fd, 0, req, client_binding_request(req, sizeof(req), false), buf,
                          sizeof(buf), &resp, 3000) == 0 &&
          resp.cls == STUN_CLASS_SUCCESS);
    close(fd);
    /* Draining with alternates: still 300, not 508.  No allocation is held, so the process
     * exits at its next drain check, a second later. */
    kill(p.pid, SIGUSR1);
    CHECK(proc_log_contains(&p, "new Allocates get 300 to an alternate server", 3000));
    if (CHECK(turnc_open(&t, SOCK_DGRAM, "127.0.0.1", p.port, USER, PASS) == 0)) {
        CHECK_INT(allocate_alt(&t, &alt), 300);
        CHECK_STR(addr_format(&alt, got, sizeof(got)), alts[7 % 3]);
        turnc_close(&t);
    }
    CHECK_INT(proc_stop(&p, 0, 5000, NULL), 0);
    CHECK(proc_log_contains(&p, "reply.300=8", 0));
    proc_cleanup(&p);
}

/* The process's real, effective, saved and file-system user ID, from /proc. */
static long proc_uid(pid_t pid)
{
    char path[64], line[256];
    long uid = -1, euid = -2, suid = -3, fsuid = -4;
    FILE *f;

    snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
    f = fopen(path, "r");
    while (f && fgets(line, sizeof(line), f))
        if (sscanf(line, "Uid: %ld %ld %ld %ld", &uid, &euid, &suid, &fsuid) == 4)
            break;
    if (f)
        fclose(f);
    return uid == euid && uid == suid && uid == fsuid ? uid : -1;
}

/* --proc-user nobody: as root, the server binds, then runs as nobody (all four IDs) and still
 * serves allocations; as anyone else, it cannot become nobody and says so. */
static void proc_user(void)
{
    const char *args[] = {"--listening-ip", "127.0.0.1", "--user", USER ":" PASS,
                          "--proc-user", "nobody", NULL};
    const char *argv[] = {"turnserver", "-n", "--listening-ip", "127.0.0.1", "--proc-user",
                          "nobody", NULL};
    struct passwd *nobody = getpwnam("nobody");
    struct turnc t;
    struct proc p;

    if (!CHECK(nobody != NULL))
        return;
    if (geteuid() != 0) {
        CHECK_INT(proc_run(&p, argv, 5000), 1);
        CHECK(proc_log_contains(&p, "cannot become nobody", 0));
        proc_cleanup(&p);
        return;
    }
    if (!CHECK(proc_start(&p, args) == 0))
        return;
    CHECK_INT(proc_uid(p.pid), nobody->pw_uid);
    CHECK(proc_log_contains(&p, "running as uid", 0));
    if (CHECK(turnc_open(&t, SOCK_DGRAM, "127.0.0.1", p.port, USER, PASS) == 0))
        CHECK_INT(turnc_allocate(&t), 0);
    turnc_close(&t);
    CHECK_INT(proc_stop(&p, SIGTERM, 5000, NULL), 0);
    proc_cleanup(&p);
}

/* Waits up to timeout_ms for one message on fd into buf (NUL-terminated); false if none. */
static bool notify_recv(int fd, char *buf, size_t cap, int timeout_ms)
{
    struct pollfd pfd = {.fd = fd, .events = POLLIN};
    ssize_t n;

    if (poll(&pfd, 1, timeout_ms) != 1 || (n = recv(fd, buf, cap - 1, 0)) < 0)
        return false;
    buf[n] = '\0';
    return true;
}

/* A datagram socket at path (a leading '@': the abstract namespace), as systemd binds. */
static int notify_socket(const char *path)
{
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    size_t len = strlen(path);
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

    memcpy(sun.sun_path, path, len);
    if (path[0] == '@')
        sun.sun_path[0] = '\0';
    if (fd >= 0 && bind(fd, (struct sockaddr *)&sun,
                        (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len)) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* Type=notify: READY=1 once listening, a STATUS line while draining, STOPPING=1 on SIGTERM;
 * on a socket in the file system and in the abstract namespace. */
static void systemd_notify(void)
{
    const char *args[] = {"--listening-ip", "127.0.0.1", "--user", USER ":" PASS, NULL};
    char dir[] = "/tmp/turnpike-notify-XXXXXX", paths[2][128], msg[256];

    if (!CHECK(mkdtemp(dir) != NULL))
        return;
    snprintf(paths[0], sizeof(paths[0]), "%s/notify", dir);
    snprintf(paths[1], sizeof(paths[1]), "@turnpike-test-notify-%d", (int)getpid());
    for (int i = 0; i < 2; i++) {
        int fd = notify_socket(paths[i]);
        struct turnc t;
        struct proc p;

        if (!CHECK(fd >= 0))
            continue;
        setenv("NOTIFY_SOCKET", paths[i], 1);
        if (CHECK(proc_start(&p, args) == 0)) {
            CHECK(notify_recv(fd, msg, sizeof(msg), 5000) && strcmp(msg, "READY=1") == 0);
            if (CHECK(turnc_open(&t, SOCK_DGRAM, "127.0.0.1", p.port, USER, PASS) == 0))
                CHECK_INT(turnc_allocate(&t), 0);
            kill(p.pid, SIGUSR1);
            CHECK(notify_recv(fd, msg, sizeof(msg), 5000));
            CHECK_STR(msg, "STATUS=draining: no new allocations");
            CHECK_INT(proc_stop(&p, SIGTERM, 5000, NULL), 0);
            CHECK(notify_recv(fd, msg, sizeof(msg), 1000));
            CHECK_STR(msg, "STOPPING=1");
            turnc_close(&t);
        }
        unsetenv("NOTIFY_SOCKET");
        proc_cleanup(&p);
        close(fd);
    }
    unlink(paths[0]);
    rmdir(dir);
}

int main(void)
{
    RUN(drain_under_traffic);
    RUN(drain_timeout);
    RUN(alternate_servers);
    RUN(proc_user);
    RUN(systemd_notify);
    return check_summary();
}
