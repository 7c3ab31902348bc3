/* test_turnadmin.c — build/turnadmin: keys as coturn's turnadmin prints them, every command on
 * Redis (listings by SCAN over thousands of keys, a password-protected Redis), the userdb file
 * edited safely (locked, atomic, checked, read by the server), and the errors and exit codes
 * of misuse. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "auth/store.h"
#include "proto/stun_integrity.h"
#include "tests/lib/check.h"
#include "tests/lib/proc.h"
#include "tests/lib/redis.h"
#include "tests/lib/turnc.h"

static struct redis_srv rds;
static char out[65536], dir[64];

#define ADMIN(...) redis_admin(redis_turnadmin_path(), out, sizeof out, __VA_ARGS__, NULL)

/* -k prints what coturn's turnadmin prints; --sha256 the RFC 8489 key. */
static void keys_like_coturn(void)
{
    static const char *const cases[][3] = {
        {"alice", "example.org", "secret"}, {"gorst", "north.gov", "hero"},
        {"a:b", "r", "p:w d"},              {"x", "y", "z"},
    };
    char theirs[256], want[80];
    uint8_t k[32];

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        CHECK_INT(redis_admin("turnadmin", theirs, sizeof theirs, "-k", "-u", cases[i][0], "-r",
                              cases[i][1], "-p", cases[i][2], NULL), 0);
        CHECK_INT(ADMIN("-k", "-u", cases[i][0], "-r", cases[i][1], "-p", cases[i][2]), 0);
        if (!CHECK(strstr(theirs, out) != NULL))
            printf("  ours %s  theirs %s\n", out, theirs);
        stun_key_sha256(cases[i][0], cases[i][1], cases[i][2], k);
        strcpy(want, "0x");
        for (int j = 0; j < 32; j++)
            snprintf(want + 2 + 2 * j, 3, "%02x", k[j]);
        strcat(want, "\n");
        CHECK_INT(ADMIN("--key", "--user", cases[i][0], "--realm", cases[i][1], "--password",
                        cases[i][2], "--sha256"),
                  0);
        CHECK_STR(out, want);
    }
}

/* Every Redis command and what it leaves in Redis, in coturn's keys. */
static void redis_commands(void)
{
    CHECK_INT(ADMIN("-a", "-N", rds.conn, "-u", "alice", "-r", "example.org", "-p", "secret"), 0);
    redis_cmd(&rds, out, sizeof out, "GET", "turn/realm/example.org/user/alice/key", NULL);
    CHECK_STR(out, "543e1aec5d3614f03141652d6ada51b2");
    redis_cmd(&rds, out, sizeof out, "GET", "turn/realm/example.org/user/alice/sha256-key",
              NULL);
    CHECK(strlen(out) == 97 && strcmp(out + 65, "543e1aec5d3614f03141652d6ada51b2") == 0);
    CHECK_INT(ADMIN("-l", "-N", rds.conn, "-r", "example.org"), 0);
    CHECK_STR(out, "alice[example.org]\n");
    CHECK_INT(ADMIN("-s", "s1", "-N", rds.conn, "-r", "example.org"), 0);
    CHECK_INT(ADMIN("--set-secret=s2", "-N", rds.conn, "-r", "example.org"), 0);
    CHECK_INT(ADMIN("-S", "-N", rds.conn), 0); /* every realm's */
    CHECK(strstr(out, "s1[example.org]\n") && strstr(out, "s2[example.org]\n"));
    CHECK_INT(ADMIN("-S", "-N", rds.conn, "-r", "example.org"), 0);
    CHECK(strstr(out, "s1[example.org]\n") && strstr(out, "s2[example.org]\n"));
    CHECK_INT(ADMIN("-S", "-N", rds.conn, "-r", "elsewhere.org"), 0);
    CHECK_STR(out, "");
    CHECK_INT(ADMIN("-X", "s1", "-N", rds.conn, "-r", "example.org"), 0);
    redis_cmd(&rds, out, sizeof out, "SMEMBERS", "turn/realm/example.org/secret", NULL);
    CHECK_STR(out, "s2");
    CHECK_INT(ADMIN("--delete-all-secrets", "-N", rds.conn, "-r", "example.org"), 0);
    redis_cmd(&rds, out, sizeof out, "EXISTS", "turn/realm/example.org/secret", NULL);
    CHECK_STR(out, "0");
    CHECK_INT(ADMIN("-g", "-N", rds.conn, "-r", "example.org", "--user-quota", "3",
                    "--max-bps", "64000"),
              0);
    CHECK_INT(ADMIN("-G", "-N", rds.conn, "-r", "example.org"), 0);
    CHECK_STR(out, "example.org/max-bps = 64000\nexample.org/user-quota = 3\n");
    CHECK_INT(ADMIN("-G", "-N", rds.conn), 0); /* every realm's */
    CHECK_STR(out, "example.org/max-bps = 64000\nexample.org/user-quota = 3\n");
    CHECK_INT(ADMIN("-g", "-N", rds.conn, "-r", "example.org", "--user-quota", "0"), 0);
    redis_cmd(&rds, out, sizeof out, "EXISTS", "turn/realm/example.org/user-quota", NULL);
    CHECK_STR(out, "0");
    CHECK_INT(ADMIN("-O", "-N", rds.conn, "-o", "HTTPS://Example.COM/app", "-r", "example.org"),
              0);
    redis_cmd(&rds, out, sizeof out, "GET", "turn/origin/https://example.com:443", NULL);
    CHECK_STR(out, "example.org");
    CHECK_INT(ADMIN("-I", "-N", rds.conn), 0);
    CHECK_STR(out, "https://example.com:443 ==>> example.org\n");
    CHECK_INT(ADMIN("-R", "-N", rds.conn, "-o", "https://example.com"), 0);
    redis_cmd(&rds, out, sizeof out, "EXISTS", "turn/origin/https://example.com:443", NULL);
    CHECK_STR(out, "0");
    CHECK_INT(ADMIN("-d", "-N", rds.conn, "-u", "alice", "-r", "example.org"), 0);
    redis_cmd(&rds, out, sizeof out, "KEYS", "turn/realm/example.org/user/alice/*", NULL);
    CHECK_STR(out, "");
    /* Deleting what is not there is said, and is no error (as coturn). */
    CHECK_INT(ADMIN("-d", "-N", rds.conn, "-u", "alice", "-r", "example.org"), 0);
    CHECK(strstr(out, "nothing deleted") != NULL);
}

/* Names with glob characters are matched literally; thousands of users are all listed (SCAN
 * goes over many pages, never KEYS). */
static void listings(void)
{
    char name[48];
    int lines = 0;

    ADMIN("-a", "-N", rds.conn, "-u", "star*", "-r", "we[ir]d?", "-p", "x");
    ADMIN("-a", "-N", rds.conn, "-u", "plain", "-r", "weird?", "-p", "x");
    CHECK_INT(ADMIN("-l", "-N", rds.conn, "-r", "we[ir]d?"), 0);
    CHECK_STR(out, "star*[we[ir]d?]\n");
    for (int i = 0; i < 3000; i++) {
        snprintf(name, sizeof name, "turn/realm/many/user/u%04d/key", i);
        redis_cmd(&rds, out, sizeof out, "SET", name, "00112233445566778899aabbccddeeff", NULL);
    }
    CHECK_INT(ADMIN("-l", "-N", rds.conn, "-r", "many"), 0);
    for (char *p = out; (p = strchr(p, '\n')) != NULL; p++)
        lines++;
    CHECK_INT(lines, 3000);
    CHECK(strstr(out, "u0000[many]\n") && strstr(out, "u2999[many]\n"));
    CHECK_INT(ADMIN("-l", "-N", rds.conn), 0); /* every realm */
    CHECK(strstr(out, "plain[weird?]\n") && strstr(out, "u1234[many]\n"));
}

/* A Redis with a password: refused without it (exit 1, Redis's reason), fine with it. */
static void password(void)
{
    char conn[160];

    redis_cmd(&rds, out, sizeof out, "CONFIG", "SET", "requirepass", "s3cret", NULL);
    CHECK_INT(ADMIN("-l", "-N", rds.conn, "-r", "x"), 1);
    CHECK(strstr(out, "NOAUTH") != NULL || strstr(out, "AUTH") != NULL);
    snprintf(conn, sizeof conn, "%s password=wrong", rds.conn);
    CHECK_INT(ADMIN("-l", "-N", conn, "-r", "x"), 1);
    CHECK(strstr(out, "wrong") == NULL); /* the password is never echoed */
    snprintf(conn, sizeof conn, "%s password=s3cret", rds.conn);
    CHECK_INT(ADMIN("-a", "-N", conn, "-u", "p", "-r", "x", "-p", "y"), 0);
    CHECK_INT(ADMIN("-l", "-N", conn, "-r", "x"), 0);
    CHECK_STR(out, "p[x]\n");
    redis_admin(redis_turnadmin_path(), out, sizeof out, "-d", "-N", conn, "-u", "p", "-r", "x",
                NULL);
    /* unset it again, over an authenticated connection */
    snprintf(conn, sizeof conn, "redis-cli -p %u -a s3cret --no-auth-warning CONFIG SET "
                                "requirepass ''", rds.port);
    CHECK_INT(proc_capture(conn, 5, out, sizeof out), 0);
}

/* The userdb file: added, updated in place, deleted; comments and mode kept; the server reads
 * it; ten editors at once lose nothing; a file the server would refuse is left alone. */
static void userdb_file(void)
{
    char path[128], text[4096];
    struct auth_store *s;
    struct auth_key keys[AUTH_MAX_KEYS];
    struct stat st;
    FILE *f;
    size_t n;

    snprintf(path, sizeof path, "%s/users.txt", dir);
    f = fopen(path, "w");
    fputs("# the users\ncarol:plain\n", f);
    fclose(f);
    chmod(path, 0640);
    CHECK_INT(ADMIN("-a", "--userdb", path, "-u", "alice", "-r", "example.org", "-p", "one"), 0);
    CHECK_INT(ADMIN("-a", "-b", path, "-u", "bob", "-r", "example.org", "-p", "two"), 0);
    CHECK_INT(ADMIN("-a", "-b", path, "-u", "alice", "-r", "example.org", "-p", "three"), 0);
    CHECK_INT(ADMIN("-d", "-b", path, "-u", "carol"), 0);
    f = fopen(path, "r");
    n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = '\0';
    CHECK(strncmp(text, "# the users\nalice:0x", 20) == 0);
    CHECK(strstr(text, "\nbob:0x") != NULL && strstr(text, "carol") == NULL);
    CHECK_INT(stat(path, &st), 0);
    CHECK_INT(st.st_mode & 0777, 0640);
    CHECK_INT(ADMIN("-l", "-b", path), 0);
    CHECK_STR(out, "alice\nbob\n");
    /* The server's store reads it, both keys of the new password. */
    auth_store_new(&s, "example.org");
    CHECK_INT(auth_store_load_file(s, path, NULL, 0), 0);
    if (CHECK_INT(auth_store_lookup(s, (const uint8_t *)"alice", 5, 0, keys, AUTH_MAX_KEYS), 1)) {
        uint8_t md5[16], sha[32];
        stun_key_md5("alice", "example.org", "three", md5);
        stun_key_sha256("alice", "example.org", "three", sha);
        CHECK(keys[0].has_md5 && keys[0].has_sha256);
        CHECK_MEM(keys[0].md5, md5, 16);
        CHECK_MEM(keys[0].sha256, sha, 32);
    }
    auth_store_free(s);
    /* Ten at once: each gets the lock in turn, none is lost. */
    for (int i = 0; i < 10; i++) {
        if (fork() == 0) {
            char u[16];
            snprintf(u, sizeof u, "p%d", i);
            _exit(redis_admin(redis_turnadmin_path(), out, sizeof out, "-a", "-b", path, "-u",
                              u, "-r", "example.org", "-p", "x", NULL));
        }
    }
    for (int i = 0, st2; i < 10; i++)
        CHECK(wait(&st2) > 0 && WIFEXITED(st2) && WEXITSTATUS(st2) == 0);
    CHECK_INT(ADMIN("-l", "-b", path), 0);
    CHECK(strstr(out, "p0\n") && strstr(out, "p9\n") && strstr(out, "alice\n"));
    /* A line the server would refuse: named, and the file left as it is. */
    f = fopen(path, "a");
    fputs("broken line\n", f);
    fclose(f);
    CHECK_INT(ADMIN("-a", "-b", path, "-u", "dave", "-r", "example.org", "-p", "x"), 1);
    if (!CHECK(strstr(out, "users.txt:14: missing ':'") != NULL))
        printf("  %s\n", out);
    CHECK_INT(ADMIN("-l", "-b", path), 1);
    CHECK_INT(ADMIN("-l", "-b", "/nonexistent/users.txt"), 1);
    CHECK(strstr(out, "cannot read '/nonexistent/users.txt'") != NULL);
}

/* Misuse: exit 2 and a message saying what is wrong; an unreachable Redis: exit 1. */
static void misuse(void)
{
    static const struct {
        const char *args[10];
        int rc;
        const char *says;
    } cases[] = {
        {{NULL}, 2, "no command"},
        {{"-a", "-d", "-N", "x=1"}, 2, "-a and -d are two commands"},
        {{"-a", "-u", "a", "-p", "p", "-N", "host=h"}, 2, "-a needs -r REALM"},
        {{"-a", "-r", "r", "-p", "p", "-N", "host=h"}, 2, "-a needs -u NAME"},
        {{"-a", "-u", "a", "-r", "r", "-N", "host=h"}, 2, "-a needs -p PASSWORD"},
        {{"-k", "-u", "a", "-r", "r"}, 2, "-k needs -p PASSWORD"},
        {{"-a", "-u", "a", "-r", "r", "-p", "p"}, 2, "-a needs a store"},
        {{"-l", "-N", "host=h", "-b", "f"}, 2, "both given"},
        {{"-s", "x", "-r", "r", "-b", "f"}, 2, "-s needs Redis (-N)"},
        {{"-O", "-r", "r", "-N", "host=h"}, 2, "-O needs -o ORIGIN"},
        {{"-g", "-r", "r", "-N", "host=h"}, 2, "-g needs --max-bps N"},
        {{"-g", "-r", "r", "-N", "host=h", "--user-quota", "-3"}, 2, "is not a number"},
        {{"-l", "-N", "host=h colour=blue"}, 2, "-N: unknown key 'colour'"},
        {{"-l", "--bogus"}, 2, "unknown option '--bogus'"},
        {{"-l", "-N"}, 2, "-N needs a value"},
        {{"-l", "-e", "host=h"}, 2, "no SQL or MongoDB user database"},
        {{"-l", "extra", "-N", "host=h"}, 2, "unexpected argument 'extra'"},
        {{"-l", "-r", "r", "-N", "host=127.0.0.1 port=1"}, 1, "cannot reach Redis at"},
    };

    static char long_user[520];

    memset(long_user, 'n', 509); /* USERNAME holds fewer than 509 bytes */
    CHECK_INT(ADMIN("-a", "-u", long_user, "-r", "r", "-p", "p", "-N", "host=h"), 2);
    CHECK(strstr(out, "user name longer than 508 bytes") != NULL);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *const *a = cases[i].args;
        int rc = redis_admin(redis_turnadmin_path(), out, sizeof out, a[0], a[1], a[2], a[3],
                             a[4], a[5], a[6], a[7], a[8], a[9], NULL);
        if (!CHECK_INT(rc, cases[i].rc) || !CHECK(strstr(out, cases[i].says) != NULL))
            printf("  case %zu: %s\n", i, out);
    }
    CHECK_INT(ADMIN("--help"), 0);
    CHECK(strstr(out, "--set-realm-option") && strstr(out, "Exit status"));
}

int main(void)
{
    char tmpl[] = "/tmp/turnpike-admin-XXXXXX";

    if (redis_start(&rds) < 0 || mkdtemp(tmpl) == NULL) {
        printf("0 passed, 1 failed\n");
        return 1;
    }
    snprintf(dir, sizeof dir, "%s", tmpl);
    RUN(keys_like_coturn);
    RUN(redis_commands);
    RUN(listings);
    RUN(password);
    RUN(userdb_file);
    RUN(misuse);
    redis_stop(&rds);
    snprintf(out, sizeof out, "rm -rf '%s'", dir);
    if (system(out) != 0)
        printf("cannot remove %s\n", dir);
    return check_summary();
}
