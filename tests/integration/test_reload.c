/* test_reload.c — SIGHUP through the real turnserver: the config file read again replaces the
 * users, the REST secrets, the peer deny list and the TLS certificate while a TLS allocation
 * keeps relaying; a part that fails to load, and a config file that does not parse, leave the
 * old state serving; a log file renamed by logrotate is opened again. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "tests/lib/certs.h"
#include "tests/lib/check.h"
#include "tests/lib/client.h"
#include "tests/lib/proc.h"
#include "tests/lib/tlsbridge.h"
#include "tests/lib/turnc.h"

#define USER "alice"
#define PASS_OLD "Sesame-old-41"
#define PASS_NEW "Sesame-new-77"
#define SECRET_OLD "rest-secret-old"
#define SECRET_NEW "rest-secret-new"
#define CHANNEL 0x4001
#define TIMEOUT 3000
#define MESSAGES 300 /* relayed through the TLS allocation, the SIGHUP at the middle one */

static struct certs old_certs, new_certs;
static struct proc srv;
static char conf[128];
static uint16_t tls_port;

/* Writes the config file: the user's password, the REST secret, the certificate set and,
 * when deny is not NULL, a denied peer range; broken adds a line that does not parse. */
static int write_conf(const char *pass, const char *secret, const struct certs *c,
                      const char *deny, bool broken)
{
    FILE *f = fopen(conf, "w");

    if (f == NULL)
        return -1;
    fprintf(f, "# written by test_reload\nlistening-ip=127.0.0.1\nrealm=example.org\n"
               "allow-loopback-peers\nuser=%s:%s\nuse-auth-secret\nstatic-auth-secret=%s\n"
               "tls-listening-port=%u\ncert=%s\npkey=%s\n",
            USER, pass, secret, tls_port, c->cert, c->key);
    if (deny)
        fprintf(f, "denied-peer-ip=%s\n", deny);
    if (broken)
        fprintf(f, "no-such-option=1\n");
    return fclose(f);
}

/* SIGHUP, then waits for the log line that says how it went. */
static bool hup(const char *expect)
{
    kill(srv.pid, SIGHUP);
    return proc_log_contains(&srv, expect, 5000);
}

/* The answer to a fresh allocation of user with pass over UDP: 0 or the error code. */
static int allocate_as(const char *user, const char *pass)
{
    return turnc_try_allocate(SOCK_DGRAM, "127.0.0.1", srv.port, user, pass);
}

/* The same with a REST name valid for an hour, its password made from secret. */
static int allocate_rest(const char *secret)
{
    char name[64], pass[64];

    snprintf(name, sizeof(name), "%ld:app-user", (long)time(NULL) + 3600);
    turnc_rest_password(secret, name, pass, sizeof(pass));
    return allocate_as(name, pass);
}

/* CreatePermission for peer_ip on a fresh UDP allocation of the user with pass: 0 or the
 * error code (-1 when the allocation failed). */
static int permit_code(const char *pass, const char *peer_ip)
{
    struct turnc t;
    union addr peer;
    int code = -1;

    addr_parse(&peer, peer_ip, 5000);
    if (turnc_open(&t, SOCK_DGRAM, "127.0.0.1", srv.port, USER, pass) == 0 &&
        turnc_allocate(&t) == 0)
        code = turnc_permit(&t, &peer);
    turnc_close(&t);
    return code;
}

/* Whether a new TLS client verifying against the CA of c accepts the server's certificate. */
static bool verifies_with(const struct certs *c)
{
    static char out[16384];
    char cmd[512];

    snprintf(cmd, sizeof(cmd),
             "echo | openssl s_client -connect 127.0.0.1:%u -CAfile %s -verify_ip 127.0.0.1",
             tls_port, c->ca);
    proc_capture(cmd, 10, out, sizeof(out));
    return strstr(out, "Verify return code: 0 (ok)") != NULL;
}

/* One message each way between the TLS allocation t and the peer socket pfd; true when both
 * arrived. */
static bool round_trip(struct turnc *t, int pfd, int i)
{
    uint8_t buf[256];
    char msg[32];
    int len = snprintf(msg, sizeof(msg), "message %d", i);
    uint16_t chan = 0;
    bool ok;

    turnc_channel_send(t, CHANNEL, msg, (size_t)len);
    ok = !client_silent(pfd, TIMEOUT) && recv(pfd, buf, sizeof(buf), 0) == len &&
         memcmp(buf, msg, (size_t)len) == 0;
    sendto(pfd, msg, (size_t)len, 0, &t->relayed.sa, addr_len(&t->relayed));
    return turnc_recv(t, buf, sizeof(buf), NULL, &chan, TIMEOUT) == len && ok &&
           chan == CHANNEL;
}

/* Before the reload: the old password, secret and certificate serve, 127.0.0.3 is a peer.
 * A TLS allocation relays MESSAGES round trips with the SIGHUP (new password, secret and
 * certificate, 127.0.0.3 denied) at the middle one; none is lost, and afterwards only the new
 * credentials and certificate serve, and 127.0.0.3 gets 403. */
static void reload_while_relaying(void)
{
    struct tlsbridge b = TLSBRIDGE_INIT;
    struct turnc t;
    union addr peer;
    int pfd = client_udp_bound("127.0.0.1", &peer), relayed = 0;

    CHECK_INT(allocate_as(USER, PASS_OLD), 0);
    CHECK_INT(allocate_rest(SECRET_OLD), 0);
    CHECK_INT(permit_code(PASS_OLD, "127.0.0.3"), 0);
    CHECK(verifies_with(&old_certs));
    CHECK(!verifies_with(&new_certs));
    if (!CHECK(pfd >= 0) ||
        !CHECK(tlsbridge_start(&b, false, "127.0.0.1", tls_port, old_certs.ca) == 0))
        goto out;
    if (!CHECK(turnc_open(&t, SOCK_STREAM, "127.0.0.1", b.port, USER, PASS_OLD) == 0))
        goto out;
    CHECK_INT(turnc_allocate(&t), 0);
    CHECK_INT(turnc_bind(&t, CHANNEL, &peer), 0);
    for (int i = 0; i < MESSAGES; i++) {
        if (i == MESSAGES / 2) {
            CHECK(write_conf(PASS_NEW, SECRET_NEW, &new_certs, "127.0.0.3", false) == 0);
            kill(srv.pid, SIGHUP);
        }
        relayed += round_trip(&t, pfd, i);
    }
    CHECK_INT(relayed, MESSAGES);
    printf("  %d/%d round trips through one TLS allocation across the SIGHUP\n", relayed,
           MESSAGES);
    CHECK(proc_log_contains(&srv, "reloaded: users; REST secrets; peer addresses; TLS "
                                  "certificate", 5000));
    turnc_close(&t);
    CHECK_INT(allocate_as(USER, PASS_OLD), 401);
    CHECK_INT(allocate_as(USER, PASS_NEW), 0);
    CHECK_INT(allocate_rest(SECRET_OLD), 401);
    CHECK_INT(allocate_rest(SECRET_NEW), 0);
    CHECK_INT(permit_code(PASS_NEW, "127.0.0.3"), 403);
    CHECK_INT(permit_code(PASS_NEW, "127.0.0.2"), 0);
    CHECK(verifies_with(&new_certs));
    CHECK(!verifies_with(&old_certs));
out:
    tlsbridge_close(&b, true);
    if (pfd >= 0)
        close(pfd);
}

/* A certificate that does not load: the rest reloads, TLS keeps the current certificate. */
static void bad_certificate_keeps_old(void)
{
    struct certs missing = new_certs;

    snprintf(missing.cert, sizeof(missing.cert), "%s/absent.crt", new_certs.dir);
    CHECK(write_conf(PASS_OLD, SECRET_NEW, &missing, NULL, false) == 0);
    CHECK(hup("not reloaded, the old state stays: TLS certificate"));
    CHECK(verifies_with(&new_certs));
    CHECK_INT(allocate_as(USER, PASS_NEW), 401); /* the users did reload */
    CHECK_INT(permit_code(PASS_OLD, "127.0.0.3"), 0); /* and the deny list */
}

/* A config file that does not parse changes nothing: the users stay as they were. */
static void broken_file_changes_nothing(void)
{
    CHECK(write_conf(PASS_NEW, SECRET_OLD, &new_certs, NULL, true) == 0);
    CHECK(hup("configuration not reloaded, all of the old one stays"));
    CHECK(proc_log_contains(&srv, "unknown option 'no-such-option'", 100));
    CHECK_INT(allocate_as(USER, PASS_OLD), 0);
    CHECK_INT(allocate_as(USER, PASS_NEW), 401);
    CHECK_INT(allocate_rest(SECRET_NEW), 0);
    CHECK(verifies_with(&new_certs));
}

/* True when path holds needle. */
static bool file_contains(const char *path, const char *needle)
{
    static char buf[1 << 16];
    FILE *f = fopen(path, "r");
    size_t n;

    if (f == NULL)
        return false;
    n = fread(buf, 1, sizeof(buf) - 1, f);
    buf[n] = '\0';
    fclose(f);
    return strstr(buf, needle) != NULL;
}

/* logrotate: the log file renamed, SIGHUP, and the server writes to a new file by the old name,
 * nothing more to the renamed one.  Lines carry ISO-8601 UTC timestamps. */
static void log_reopened(void)
{
    /* Relative to the server's working directory, its test directory: the file the test reads. */
    const char *args[] = {"--listening-ip", "127.0.0.1", "--user", "bob:Sesame-1",
                          "--log-file", "server.log", NULL};
    char rotated[160];
    int y, mo, d, h, mi, sec, ms;
    struct proc p;
    FILE *f;

    if (!CHECK_INT(proc_start(&p, args), 0))
        return;
    snprintf(rotated, sizeof(rotated), "%s.1", p.log);
    CHECK_INT(turnc_try_allocate(SOCK_DGRAM, "127.0.0.1", p.port, "bob", "Sesame-1"), 0);
    CHECK(proc_log_contains(&p, "allocation start user=bob", TIMEOUT));
    CHECK_INT(rename(p.log, rotated), 0);
    kill(p.pid, SIGHUP);
    CHECK(proc_log_contains(&p, "SIGHUP: log file reopened", 5000));
    CHECK_INT(turnc_try_allocate(SOCK_DGRAM, "127.0.0.1", p.port, "bob", "Sesame-1"), 0);
    CHECK(proc_log_contains(&p, "allocation start user=bob", TIMEOUT));
    CHECK(file_contains(rotated, "allocation start user=bob"));
    CHECK(!file_contains(rotated, "SIGHUP"));
    f = fopen(p.log, "r");
    CHECK(f != NULL && fscanf(f, "%4d-%2d-%2dT%2d:%2d:%2d.%3dZ", &y, &mo, &d, &h, &mi, &sec,
                             &ms) == 7 && y >= 2024 && mo >= 1 && mo <= 12);
    if (f)
        fclose(f);
    CHECK_INT(proc_stop(&p, SIGTERM, 5000, NULL), 0);
    unlink(rotated);
    proc_cleanup(&p);
}

int main(void)
{
    char dir[] = "/tmp/turnpike-reload-XXXXXX";
    const char *args[] = {NULL};
    int rc = 1;

    if (mkdtemp(dir) == NULL || certs_make(&old_certs) < 0 || certs_make(&new_certs) < 0)
        return 1;
    snprintf(conf, sizeof(conf), "%s/turnserver.conf", dir);
    tls_port = proc_free_port();
    if (write_conf(PASS_OLD, SECRET_OLD, &old_certs, NULL, false) == 0 &&
        proc_start_conf(&srv, conf, args) == 0) {
        RUN(reload_while_relaying);
        RUN(bad_certificate_keeps_old);
        RUN(broken_file_changes_nothing);
        RUN(log_reopened);
        rc = proc_stop(&srv, SIGTERM, 5000, NULL);
        CHECK_INT(rc, 0);
        proc_cleanup(&srv);
    }
    unlink(conf);
    rmdir(dir);
    certs_remove(&old_certs);
    certs_remove(&new_certs);
    return check_summary() || rc != 0;
}
