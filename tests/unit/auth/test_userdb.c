/* test_userdb.c — the userdb file as turnadmin edits it: lines replaced in place or appended
 * (after a last line without newline too), removed, listed; comments and blanks kept; a file
 * the server would refuse left alone; and the store reading NAME:0xMD5:0xSHA256 lines. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auth/store.h"
#include "auth/userdb.h"
#include "proto/stun_integrity.h"
#include "tests/lib/check.h"

#define MD5  "0x0123456789abcdef0123456789abcdef"
#define SHA  "0x00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"

static char path[64];

static void write_file(const char *text)
{
    FILE *f = fopen(path, "w");

    fputs(text, f);
    fclose(f);
}

static const char *read_file(void)
{
    static char buf[4096];
    FILE *f = fopen(path, "r");
    size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;

    if (f)
        fclose(f);
    buf[n] = '\0';
    return buf;
}

static char names[256];

static void collect(void *arg, const char *name)
{
    (void)arg;
    strcat(names, name);
    strcat(names, ",");
}

static void set_replace_append(void)
{
    char err[256];

    write_file("# users\n\n  alice:old\nbob:pw"); /* blanks, indentation, no final newline */
    CHECK_INT(auth_userdb_set(path, "alice", "new", err, sizeof err), 0);
    CHECK_STR(read_file(), "# users\n\nalice:new\nbob:pw");
    CHECK_INT(auth_userdb_set(path, "carol", MD5, err, sizeof err), 0);
    CHECK_STR(read_file(), "# users\n\nalice:new\nbob:pw\ncarol:" MD5 "\n");
    CHECK_INT(auth_userdb_set(path, "dave", MD5 ":" SHA, err, sizeof err), 0);
    names[0] = '\0';
    CHECK_INT(auth_userdb_list(path, collect, NULL, err, sizeof err), 0);
    CHECK_STR(names, "alice,bob,carol,dave,");
    CHECK_INT(auth_userdb_del(path, "bob", err, sizeof err), 1);
    CHECK_INT(auth_userdb_del(path, "bob", err, sizeof err), 0);
    CHECK_STR(read_file(), "# users\n\nalice:new\ncarol:" MD5 "\ndave:" MD5 ":" SHA "\n");
    /* A user whose name is a prefix of another's is another user. */
    CHECK_INT(auth_userdb_del(path, "ali", err, sizeof err), 0);
}

static void refused(void)
{
    char err[256];

    write_file("alice:x\nalice:y\n");
    CHECK_INT(auth_userdb_set(path, "bob", "pw", err, sizeof err), -1);
    CHECK(strstr(err, ":2: duplicate user") != NULL);
    CHECK_STR(read_file(), "alice:x\nalice:y\n");
    write_file("ok:x\n");
    CHECK_INT(auth_userdb_set(path, "bad", "0xzz", err, sizeof err), -1);
    CHECK_STR(err, "bad hex key");
    CHECK_INT(auth_userdb_set(path, "", "pw", err, sizeof err), -1);
    CHECK_INT(auth_userdb_set(path, "a", "b\nc:d", err, sizeof err), -1);
    CHECK_STR(read_file(), "ok:x\n");
    unlink(path);
    CHECK_INT(auth_userdb_del(path, "ok", err, sizeof err), -1);
    CHECK(strstr(err, "cannot") != NULL);
    /* set creates a missing file */
    CHECK_INT(auth_userdb_set(path, "new", "pw", err, sizeof err), 0);
    CHECK_STR(read_file(), "new:pw\n");
}

/* The store reads both keys from one line, and refuses a half-broken pair. */
static void store_both_keys(void)
{
    struct auth_store *s;
    struct auth_key k[AUTH_MAX_KEYS];
    char err[128];

    auth_store_new(&s, "example.org");
    CHECK_INT(auth_store_add_user(s, "dave:" MD5 ":" SHA, err, sizeof err), 0);
    if (CHECK_INT(auth_store_lookup(s, (const uint8_t *)"dave", 4, 0, k, AUTH_MAX_KEYS), 1)) {
        CHECK(k[0].has_md5 && k[0].has_sha256);
        CHECK_INT(k[0].md5[0], 0x01);
        CHECK_INT(k[0].sha256[31], 0xff);
    }
    CHECK_INT(auth_store_add_user(s, "eve:" MD5 ":0xzz112233445566778899aabbccddeeff0011223344"
                                         "5566778899aabbccddeeff",
                                  err, sizeof err),
              -1);
    CHECK_INT(auth_store_add_user(s, "eve:" MD5 ";" SHA, err, sizeof err), -1);
    auth_store_free(s);
}

int main(void)
{
    snprintf(path, sizeof path, "/tmp/turnpike-userdb-%d.txt", (int)getpid());
    RUN(set_replace_append);
    RUN(refused);
    RUN(store_both_keys);
    unlink(path);
    return check_summary();
}
