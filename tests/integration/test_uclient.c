/* test_uclient.c — coturn's turnutils_uclient and turnutils_peer, clients nobody here wrote,
 * relaying through the real turnserver on loopback. */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "proto/crypto.h"
#include "tests/lib/check.h"
#include "tests/lib/coturn.h"
#include "tests/lib/proc.h"

#define USER "alice"
#define PASS "Sesame-9f3b"
#define REALM "example.org"
#define SECRET "rest-secret-for-tests"

static struct proc srv;
static pid_t peer4 = -1, peer6 = -1;
static uint16_t peer_port;

static void run_expect(const char *extra, const char *ip, const char *peer_ip, long n, long m)
{
    const struct coturn_target who = {USER, PASS, peer_port};

    coturn_relay_all(&who, extra, ip, srv.port, peer_ip, n, m);
}

/* Channels (uclient's default), 10 clients with their RTCP allocations, 1000 messages each. */
static void channels_1000x10(void)
{
    run_expect("", "127.0.0.1", "127.0.0.1", 1000, 10);
}

/* Send and Data indications instead of channels. */
static void send_indications(void)
{
    run_expect("-s", "127.0.0.1", "127.0.0.1", 200, 2);
}

/* DONT-FRAGMENT on the Allocate. */
static void dont_fragment(void)
{
    run_expect("-g", "127.0.0.1", "127.0.0.1", 100, 2);
}

/* Client to client: each client's peer is another client's relayed address. */
static void client_to_client(void)
{
    char flags[256];
    struct coturn_run r;

    snprintf(flags, sizeof(flags), "-y -u %s -w %s -n 200 -m 4 -z 2", USER, PASS);
    coturn_uclient(&r, flags, srv.port, "127.0.0.1", 60);
    coturn_all_relayed(&r, 800);
}

/* IPv6 all the way: the server reached on ::1, an IPv6 relay, an IPv6 peer. */
static void ipv6_relay(void)
{
    run_expect("-x", "::1", "::1", 200, 2);
}

/* Dual allocation (RFC 8656 ADDITIONAL-ADDRESS-FAMILY). */
static void dual_allocation(void)
{
    run_expect("-Z", "127.0.0.1", "127.0.0.1", 200, 2);
}

/* TURN over TCP to the server, UDP to the peer. */
static void tcp_client_transport(void)
{
    run_expect("-t", "127.0.0.1", "127.0.0.1", 200, 2);
}

/* TURN REST API: uclient computes the time-limited user name and password from the secret. */
static void rest_secret(void)
{
    char flags[256];
    struct coturn_run r;

    snprintf(flags, sizeof(flags), "-u restuser -W %s -e 127.0.0.1 -r %u -n 100 -m 2 -z 2",
             SECRET, peer_port);
    coturn_uclient(&r, flags, srv.port, "127.0.0.1", 60);
    coturn_all_relayed(&r, 200);
    snprintf(flags, sizeof(flags), "-u restuser -W wrong-secret -e 127.0.0.1 -r %u -n 10",
             peer_port);
    coturn_uclient(&r, flags, srv.port, "127.0.0.1", 60);
    CHECK(r.rc != 0);
    CHECK(strstr(r.out, "Cannot complete Allocation") != NULL);
}

/* A wrong password gets no allocation. */
static void wrong_password(void)
{
    char flags[256];
    struct coturn_run r;

    snprintf(flags, sizeof(flags), "-u %s -w not-the-password -e 127.0.0.1 -r %u -n 10", USER,
             peer_port);
    coturn_uclient(&r, flags, srv.port, "127.0.0.1", 60);
    CHECK(r.rc != 0);
    if (!CHECK(strstr(r.out, "Cannot complete Allocation") != NULL))
        fprintf(stderr, "uclient said:\n%s\n", r.out);
}

/* Open descriptors of a process (each allocation holds one relay socket). */
static int fd_count(pid_t pid)
{
    char cmd[64], out[32];

    snprintf(cmd, sizeof(cmd), "ls /proc/%d/fd | wc -l", (int)pid);
    if (proc_capture(cmd, 5, out, sizeof(out)) != 0)
        return -1;
    return atoi(out);
}

/* The memory an allocation costs: a fresh server, 250 uclient clients holding their
 * allocations (uclient adds RTCP allocations for every other client: about 375, each with a
 * permission and a channel) until killed; resident memory before and once the count of relay
 * sockets stops growing. */
static void rss_per_allocation(void)
{
    const char *args[] = {"--listening-ip", "127.0.0.1", "--realm", REALM,
                          "--user", USER ":" PASS, "--allow-loopback-peers",
                          "--relay-threads", "2", NULL};
    struct proc p;
    char peerport[8], srvport[8];
    long before, during;
    int fds0, fds = 0, last = -1;
    pid_t pid;

    if (!CHECK(proc_start(&p, args) == 0))
        return;
    before = proc_rss_kib(&p);
    fds0 = fd_count(p.pid);
    snprintf(peerport, sizeof(peerport), "%u", peer_port);
    snprintf(srvport, sizeof(srvport), "%u", p.port);
    pid = fork();
    if (pid == 0) {
        int null = open("/dev/null", O_WRONLY);
        dup2(null, 1);
        dup2(null, 2);
        execlp("turnutils_uclient", "turnutils_uclient", "-h", "-u", USER, "-w", PASS, "-e",
               "127.0.0.1", "-r", peerport, "-n", "5", "-m", "250", "-z", "20", "-p", srvport,
               "127.0.0.1", (char *)NULL);
        _exit(127);
    }
    for (int i = 0; i < 60 && (fds != last || fds - fds0 < 350); i++) {
        last = fds;
        usleep(250000);
        fds = fd_count(p.pid);
    }
    during = proc_rss_kib(&p);
    printf("  %d relay sockets open; RSS %ld KiB idle, %ld KiB with them: %.2f KiB per "
           "allocation\n", fds - fds0, before, during,
           fds > fds0 ? (double)(during - before) / (fds - fds0) : 0.0);
    CHECK(fds - fds0 >= 350);
    if (!proc_sanitized())
        CHECK(fds > fds0 && (double)(during - before) / (fds - fds0) < 4.0);
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    CHECK_INT(proc_stop(&p, SIGTERM, 5000, NULL), 0);
    proc_cleanup(&p);
}

int main(void)
{
    char secret_arg[64];
    const char *args[] = {"--listening-ip", "127.0.0.1", "--listening-ip", "::1",
                          "--realm", REALM, "--user", USER ":" PASS,
                          "--use-auth-secret", "--static-auth-secret", secret_arg,
                          "--allow-loopback-peers", "--relay-threads", "2", NULL};
    int rc;

    snprintf(secret_arg, sizeof(secret_arg), "%s", SECRET);
    if (proc_start(&srv, args) < 0) {
        printf("0 passed, 1 failed\n");
        return 1;
    }
    peer_port = proc_free_port();
    peer4 = coturn_peer_start("127.0.0.1", peer_port);
    peer6 = coturn_peer_start("::1", peer_port);
    usleep(300000);
    RUN(channels_1000x10);
    RUN(send_indications);
    RUN(dont_fragment);
    RUN(client_to_client);
    RUN(ipv6_relay);
    RUN(dual_allocation);
    RUN(tcp_client_transport);
    RUN(rest_secret);
    RUN(wrong_password);
    RUN(rss_per_allocation);
    coturn_peer_stop(peer4);
    coturn_peer_stop(peer6);
    rc = proc_stop(&srv, SIGTERM, 5000, NULL);
    proc_cleanup(&srv);
    return check_summary() || rc != 0;
}
