/* test_store.c — the credential store: user lines, the userdb file, REST secrets, USERHASH. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auth/store.h"
#include "proto/crypto.h"
#include "tests/lib/check.h"

#define REALM "example.org"
#define NOW   1700000000u

static struct auth_store *new_store(void)
{
    struct auth_store *s = NULL;

    CHECK_INT(auth_store_new(&s, REALM), 0);
    return s;
}

static int lookup(struct auth_store *s, const char *name, uint32_t now, struct auth_key *keys)
{
    return auth_store_lookup(s, (const uint8_t *)name, strlen(name), now, keys, AUTH_MAX_KEYS);
}

/* The keys a password gives, computed here from RFC 8489 §9.2.2's definition. */
static void password_keys(const char *user, const char *password, struct auth_key *k)
{
    memset(k, 0, sizeof *k);
    CHECK_INT(stun_key_md5(user, REALM, password, k->md5), STUN_OK);
    CHECK_INT(stun_key_sha256(user, REALM, password, k->sha256), STUN_OK);
    k->has_md5 = k->has_sha256 = true;
}

static void check_key(const struct auth_key *got, const struct auth_key *want)
{
    CHECK_INT(got->has_md5, want->has_md5);
    CHECK_INT(got->has_sha256, want->has_sha256);
    if (want->has_md5)
        CHECK_MEM(got->md5, want->md5, sizeof want->md5);
    if (want->has_sha256)
        CHECK_MEM(got->sha256, want->sha256, sizeof want->sha256);
}

/* The store knows name, with exactly the keys password gives. */
static void check_user(struct auth_store *s, const char *name, const char *password)
{
    struct auth_key keys[AUTH_MAX_KEYS], want;

    password_keys(name, password, &want);
    if (!CHECK_INT(lookup(s, name, NOW, keys), 1))
        fprintf(stderr, "    user %s\n", name);
    else
        check_key(&keys[0], &want);
}

static void hex(const uint8_t *p, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++)
        sprintf(out + 2 * i, "%02x", p[i]);
}

static void test_password_user(void)
{
    struct auth_store *s = new_store();
    struct auth_key keys[AUTH_MAX_KEYS];
    char err[128] = "";

    CHECK_STR(auth_store_realm(s), REALM);
    CHECK_INT(auth_store_add_user(s, "alice:wonder land", err, sizeof err), 0);
    check_user(s, "alice", "wonder land");
    /* Case matters, and so does every byte. */
    CHECK_INT(lookup(s, "Alice", NOW, keys), 0);
    CHECK_INT(lookup(s, "alic", NOW, keys), 0);
    CHECK_INT(lookup(s, "alicee", NOW, keys), 0);
    CHECK_INT(auth_store_lookup(s, (const uint8_t *)"alice\0x", 7, NOW, keys, 4), 0);
    CHECK_INT(auth_store_lookup(s, (const uint8_t *)"alice", 0, NOW, keys, 4), 0);
    CHECK_INT(auth_store_lookup(s, (const uint8_t *)"alice", 5, NOW, keys, 0), 0);
    auth_store_free(s);
}

/* The name ends at the first ':'; the password keeps the rest, colons included. */
static void test_split_at_first_colon(void)
{
    struct auth_store *s = new_store();
    struct auth_key keys[AUTH_MAX_KEYS];

    CHECK_INT(auth_store_add_user(s, "bob:pa:ss:word", NULL, 0), 0);
    check_user(s, "bob", "pa:ss:word");
    CHECK_INT(lookup(s, "bob:pa", NOW, keys), 0);
    auth_store_free(s);
}

/* Keys as turnadmin -k prints them: 32 hex digits for MD5, 64 for SHA-256, either case. */
static void test_hex_keys(void)
{
    struct auth_store *s = new_store();
    struct auth_key keys[AUTH_MAX_KEYS], pw, want;
    char line[128], err[128] = "";

    password_keys("carol", "c4r0l", &pw);
    memset(&want, 0, sizeof want);
    memcpy(want.md5, pw.md5, sizeof want.md5);
    want.has_md5 = true;
    strcpy(line, "carol:0x");
    hex(pw.md5, sizeof pw.md5, line + 8);
    CHECK_INT(auth_store_add_user(s, line, err, sizeof err), 0);
    if (CHECK_INT(lookup(s, "carol", NOW, keys), 1))
        check_key(&keys[0], &want);

    memset(&want, 0, sizeof want);
    memcpy(want.sha256, pw.sha256, sizeof want.sha256);
    want.has_sha256 = true;
    strcpy(line, "dave:0x");
    hex(pw.sha256, sizeof pw.sha256, line + 7);
    for (char *p = line + 7; *p != '\0'; p++)
        *p = (char)(*p >= 'a' && *p <= 'f' ? *p - 'a' + 'A' : *p);
    CHECK_INT(auth_store_add_user(s, line, err, sizeof err), 0);
    if (CHECK_INT(lookup(s, "dave", NOW, keys), 1))
        check_key(&keys[0], &want);
    auth_store_free(s);
}

/* A later line for the same user replaces its key. */
static void test_same_user_twice(void)
{
    struct auth_store *s = new_store();

    CHECK_INT(auth_store_add_user(s, "erin:first", NULL, 0), 0);
    CHECK_INT(auth_store_add_user(s, "erin:second", NULL, 0), 0);
    check_user(s, "erin", "second");
    auth_store_free(s);
}

static void test_bad_lines(void)
{
    static char long_name[800];
    static const struct {
        const char *line, *err;
    } rows[] = {
        {"alice", "missing ':'"},
        {"", "missing ':'"},
        {":secret", "empty user name"},
        {"alice:", "empty password"},
        {"alice:0x", "bad hex key"},
        {"alice:0x0123456789abcdef0123456789abcde", "bad hex key"},   /* 31 digits */
        {"alice:0x0123456789abcdef0123456789abcdef0", "bad hex key"}, /* 33 digits */
        {"alice:0x0123456789abcdef0123456789abcdeg", "bad hex key"},  /* not hex */
        {"alice:0x0123456789abcdef 123456789abcdef", "bad hex key"},  /* a blank */
        {long_name, "user name longer than 508 bytes"},
    };
    struct auth_store *s = new_store();
    struct auth_key keys[AUTH_MAX_KEYS];
    char err[128];

    memset(long_name, 'n', 509);
    strcpy(long_name + 509, ":pw");
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        strcpy(err, "untouched");
        CHECK_INT(auth_store_add_user(s, rows[i].line, err, sizeof err), -1);
        CHECK_STR(err, rows[i].err);
    }
    CHECK_INT(lookup(s, "alice", NOW, keys), 0);
    /* 508 bytes is the longest name a client's USERNAME carries, and is accepted. */
    strcpy(long_name + 508, ":pw");
    CHECK_INT(auth_store_add_user(s, long_name, err, sizeof err), 0);
    long_name[508] = '\0';
    CHECK_INT(lookup(s, long_name, NOW, keys), 1);
    /* A small or absent error buffer is fine. */
    CHECK_INT(auth_store_add_user(s, "x", err, 4), -1);
    CHECK_STR(err, "mis");
    CHECK_INT(auth_store_add_user(s, "x", NULL, 0), -1);
    auth_store_free(s);
}

/* A temporary userdb file; path receives its name. */
static void write_file(char *path, const char *text)
{
    static int serial;

    snprintf(path, 64, "/tmp/turnpike-userdb-%d-%d", (int)getpid(), serial++);
    FILE *f = fopen(path, "w");
    if (!CHECK(f != NULL))
        return;
    fputs(text, f);
    fclose(f);
}

static void rewrite_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");

    if (!CHECK(f != NULL))
        return;
    fputs(text, f);
    fclose(f);
}

static void test_userdb_load_and_reload(void)
{
    struct auth_store *s = new_store();
    struct auth_key keys[AUTH_MAX_KEYS];
    char path[64], err[256] = "";

    CHECK_INT(auth_store_add_user(s, "static:one", err, sizeof err), 0);
    write_file(path, "# users of example.org\n"
                     "\n"
                     "alice:apple\n"
                     "   \t\n"
                     "  # an indented comment\n"
                     "  bob:banana  \r\n"
                     "carol:cherry#not a comment\n"
                     "dave:date");
    if (!CHECK_INT(auth_store_load_file(s, path, err, sizeof err), 0))
        fprintf(stderr, "    %s\n", err);
    check_user(s, "alice", "apple");
    check_user(s, "bob", "banana");
    check_user(s, "carol", "cherry#not a comment");
    CHECK_INT(lookup(s, "dave", NOW, keys), 1); /* no newline at the end */
    CHECK_INT(lookup(s, "static", NOW, keys), 1);

    /* Reloaded: the file's users are replaced; users given one by one stay. */
    rewrite_file(path, "alice:avocado\nerin:elderberry\n");
    CHECK_INT(auth_store_load_file(s, path, err, sizeof err), 0);
    check_user(s, "alice", "avocado");
    CHECK_INT(lookup(s, "erin", NOW, keys), 1);
    CHECK_INT(lookup(s, "bob", NOW, keys), 0);
    CHECK_INT(lookup(s, "static", NOW, keys), 1);

    /* The file wins over a user of the same name given one by one. */
    CHECK_INT(auth_store_add_user(s, "erin:other", err, sizeof err), 0);
    check_user(s, "erin", "elderberry");

    /* An empty file empties the file's users. */
    rewrite_file(path, "# nobody\n");
    CHECK_INT(auth_store_load_file(s, path, err, sizeof err), 0);
    CHECK_INT(lookup(s, "alice", NOW, keys), 0);
    check_user(s, "erin", "other");
    unlink(path);
    auth_store_free(s);
}

/* Any bad line refuses the whole file, names it and its line, and changes nothing. */
static void test_userdb_failed_reload_keeps_users(void)
{
    static const char with_nul[] = "zed:z\nyan:y\0\n";
    static const struct {
        const char *text;
        size_t len;      /* 0: strlen(text) */
        const char *err; /* follows "PATH:" */
    } rows[] = {
        {"alice:apple\nbob:banana\nmallory\n", 0, "3: missing ':'"},
        {"alice:apple\n\n# c\nbob:0xabc\nzed:z\n", 0, "4: bad hex key"},
        {"zed:z\nzed:zz\n", 0, "2: duplicate user"},
        {"  :x\n", 0, "1: empty user name"},
        {"zed:\n", 0, "1: empty password"},
        {with_nul, sizeof with_nul - 1, "2: NUL byte in line"},
    };
    struct auth_store *s = new_store();
    struct auth_key keys[AUTH_MAX_KEYS];
    char path[64], bad[64], err[256], expected[300];

    write_file(path, "alice:apple\nbob:banana\n");
    CHECK_INT(auth_store_load_file(s, path, err, sizeof err), 0);
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        FILE *f;
        write_file(bad, "");
        if ((f = fopen(bad, "w")) == NULL)
            continue;
        fwrite(rows[i].text, 1, rows[i].len ? rows[i].len : strlen(rows[i].text), f);
        fclose(f);
        snprintf(expected, sizeof expected, "%s:%s", bad, rows[i].err);
        CHECK_INT(auth_store_load_file(s, bad, err, sizeof err), -1);
        CHECK_STR(err, expected);
        unlink(bad);
    }
    snprintf(expected, sizeof expected,
             "cannot read '/nonexistent/userdb': No such file or directory");
    CHECK_INT(auth_store_load_file(s, "/nonexistent/userdb", err, sizeof err), -1);
    CHECK_STR(err, expected);
    check_user(s, "alice", "apple");
    CHECK_INT(lookup(s, "bob", NOW, keys), 1);
    CHECK_INT(lookup(s, "zed", NOW, keys), 0);
    unlink(path);
    auth_store_free(s);
}

/* The REST key computed step by step with proto/crypto.h, as the draft describes it. */
static void rest_keys_by_hand(const char *secret, const char *name, struct auth_key *k)
{
    uint8_t mac[20];
    char password[64];
    const struct crypto_buf part = {name, strlen(name)};

    CHECK_INT(crypto_hmac(CRYPTO_SHA1, (const uint8_t *)secret, strlen(secret), &part, 1, mac), 0);
    CHECK_INT(crypto_base64_encode(mac, sizeof mac, password, sizeof password), 28);
    password_keys(name, password, k);
}

static void test_rest_secrets(void)
{
    static const char *const secrets[] = {"north-wind-7", "south wind 8", "e"};
    struct auth_store *s = new_store();
    struct auth_key keys[AUTH_MAX_KEYS], want;

    CHECK(!auth_store_has_secrets(s));
    CHECK_INT(lookup(s, "4000000000:alice", NOW, keys), 0);
    for (size_t i = 0; i < 3; i++)
        CHECK_INT(auth_store_add_secret(s, secrets[i]), 0);
    CHECK(auth_store_has_secrets(s));
    static const char *const names[] = {"4000000000:alice", "1700000000:", "1700000001:x:y:z",
                                        "1700000000", "4000000000:\xe3\x83\x9e"};
    for (size_t n = 0; n < sizeof names / sizeof names[0]; n++) {
        if (!CHECK_INT(lookup(s, names[n], NOW, keys), 3))
            continue;
        for (size_t i = 0; i < 3; i++) {
            rest_keys_by_hand(secrets[i], names[n], &want);
            check_key(&keys[i], &want);
        }
    }
    /* Room for one key only: one key. */
    CHECK_INT(auth_store_lookup(s, (const uint8_t *)"4000000000:a", 12, NOW, keys, 1), 1);
    auth_store_free(s);
}

/* One value worked out in the shell, independently of our code:
 *   name=4000000000:alice; secret=north-wind-7
 *   pw=$(printf %s "$name" | openssl dgst -sha1 -hmac "$secret" -binary | base64)
 *     -> tjdn5Jedtlb0Dh3RyN6FcUxFfWs=
 *   printf %s "$name:example.org:$pw" | openssl md5          -> af77d679...
 *   printf %s "$name:example.org:$pw" | openssl dgst -sha256 -> 9a117c16... */
static void test_rest_known_value(void)
{
    static const uint8_t md5[16] = {0xaf, 0x77, 0xd6, 0x79, 0x7f, 0x5b, 0x79, 0xec,
                                    0x48, 0x7f, 0x4c, 0x7a, 0x53, 0x8b, 0xbb, 0x18};
    static const uint8_t sha256[32] = {
        0x9a, 0x11, 0x7c, 0x16, 0xc2, 0x71, 0xa0, 0x30, 0xd5, 0x22, 0x75,
        0x4a, 0x6d, 0x3d, 0xa8, 0xce, 0xbe, 0x87, 0x89, 0x31, 0x93, 0xc6,
        0x9a, 0x75, 0x31, 0x78, 0x21, 0xe1, 0xfb, 0x1f, 0xcb, 0x7a,
    };
    struct auth_store *s = new_store();
    struct auth_key keys[AUTH_MAX_KEYS], want;

    CHECK_INT(auth_store_add_secret(s, "north-wind-7"), 0);
    if (CHECK_INT(lookup(s, "4000000000:alice", NOW, keys), 1)) {
        CHECK_MEM(keys[0].md5, md5, sizeof md5);
        CHECK_MEM(keys[0].sha256, sha256, sizeof sha256);
    }
    /* The same key is what a user added with that password gets. */
    password_keys("4000000000:alice", "tjdn5Jedtlb0Dh3RyN6FcUxFfWs=", &want);
    check_key(&keys[0], &want);
    auth_store_free(s);
}

static void test_rest_expiry_and_shape(void)
{
    static const struct {
        const char *name;
        uint32_t now;
        int keys;
    } rows[] = {
        {"1700000000:alice", 1700000000, 1}, /* expires this very second: still good */
        {"1700000000:alice", 1700000001, 0}, /* expired */
        {"1699999999:alice", NOW, 0},
        {"0:alice", NOW, 0},
        {"9999999999999999999:alice", NOW, 1},  /* 19 digits */
        {"99999999999999999999:alice", NOW, 0}, /* 20: not an expiry we read */
        {":alice", NOW, 0},
        {"alice", NOW, 0},
        {"alice:1800000000", NOW, 0},
        {"+1800000000:alice", NOW, 0},
        {" 1800000000:alice", NOW, 0},
        {"1800000000x:alice", NOW, 0},
        {"18000000 00:alice", NOW, 0},
    };
    struct auth_store *s = new_store();
    struct auth_key keys[AUTH_MAX_KEYS];

    CHECK_INT(auth_store_add_secret(s, "k"), 0);
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        if (!CHECK_INT(lookup(s, rows[i].name, rows[i].now, keys), rows[i].keys))
            fprintf(stderr, "    %s\n", rows[i].name);
    }
    auth_store_free(s);
}

static void test_rest_separator_and_limits(void)
{
    struct auth_store *s = new_store();
    struct auth_key keys[AUTH_MAX_KEYS], want;
    char secret[16];

    CHECK_INT(auth_store_add_secret(s, ""), -1);
    CHECK_INT(auth_store_add_secret(s, NULL), -1);
    CHECK(!auth_store_has_secrets(s));
    for (int i = 0; i < AUTH_MAX_KEYS; i++) {
        snprintf(secret, sizeof secret, "s%d", i);
        CHECK_INT(auth_store_add_secret(s, secret), 0);
    }
    CHECK_INT(auth_store_add_secret(s, "one too many"), -1);
    CHECK_INT(lookup(s, "1800000000:alice", NOW, keys), AUTH_MAX_KEYS);
    auth_store_set_rest_separator(s, '-');
    CHECK_INT(lookup(s, "1800000000:alice", NOW, keys), 0);
    if (CHECK_INT(lookup(s, "1800000000-alice", NOW, keys), AUTH_MAX_KEYS)) {
        rest_keys_by_hand("s7", "1800000000-alice", &want);
        check_key(&keys[7], &want);
    }
    auth_store_set_rest_separator(s, '\0'); /* ignored */
    CHECK_INT(lookup(s, "1800000000-alice", NOW, keys), AUTH_MAX_KEYS);
    auth_store_free(s);
}

/* A REST name that is also a user of the store: the user's key first, then the REST keys. */
static void test_rest_and_user_together(void)
{
    struct auth_store *s = new_store();
    struct auth_key keys[AUTH_MAX_KEYS], want;

    CHECK_INT(auth_store_add_secret(s, "k"), 0);
    CHECK_INT(auth_store_add_user(s, "1800000000:pw", NULL, 0), 0);
    if (CHECK_INT(lookup(s, "1800000000", NOW, keys), 2)) {
        password_keys("1800000000", "pw", &want);
        check_key(&keys[0], &want);
        rest_keys_by_hand("k", "1800000000", &want);
        check_key(&keys[1], &want);
    }
    auth_store_free(s);
}

static void test_userhash(void)
{
    struct auth_store *s = new_store();
    uint8_t hash[STUN_USERHASH_LEN];
    char name[64], path[64];

    CHECK_INT(auth_store_add_user(s, "alice:apple", NULL, 0), 0);
    write_file(path, "bob:banana\n");
    CHECK_INT(auth_store_load_file(s, path, NULL, 0), 0);
    CHECK_INT(stun_userhash("alice", REALM, hash), STUN_OK);
    CHECK_INT(auth_store_find_userhash(s, hash, name, sizeof name), 5);
    CHECK_STR(name, "alice");
    CHECK_INT(auth_store_find_userhash(s, hash, name, 6), 5);
    CHECK_INT(auth_store_find_userhash(s, hash, name, 5), -1); /* no room for the NUL */
    CHECK_INT(stun_userhash("bob", REALM, hash), STUN_OK);
    CHECK_INT(auth_store_find_userhash(s, hash, name, sizeof name), 3);
    CHECK_STR(name, "bob");
    /* The realm is part of the hash. */
    CHECK_INT(stun_userhash("bob", "example.com", hash), STUN_OK);
    CHECK_INT(auth_store_find_userhash(s, hash, name, sizeof name), -1);
    /* A reload drops the old file's hashes and adds the new. */
    rewrite_file(path, "carol:cherry\n");
    CHECK_INT(auth_store_load_file(s, path, NULL, 0), 0);
    CHECK_INT(stun_userhash("bob", REALM, hash), STUN_OK);
    CHECK_INT(auth_store_find_userhash(s, hash, name, sizeof name), -1);
    CHECK_INT(stun_userhash("carol", REALM, hash), STUN_OK);
    CHECK_INT(auth_store_find_userhash(s, hash, name, sizeof name), 5);
    /* REST names cannot be found from their hash. */
    CHECK_INT(auth_store_add_secret(s, "k"), 0);
    CHECK_INT(stun_userhash("1800000000:alice", REALM, hash), STUN_OK);
    CHECK_INT(auth_store_find_userhash(s, hash, name, sizeof name), -1);
    unlink(path);
    auth_store_free(s);
}

/* Enough users to make the tables grow several times: every one is found, by name and hash. */
static void test_many_users(void)
{
    struct auth_store *s = new_store();
    struct auth_key keys[AUTH_MAX_KEYS];
    uint8_t hash[STUN_USERHASH_LEN];
    char line[64], name[64];
    int missing = 0;

    for (int i = 0; i < 1000; i++) {
        snprintf(line, sizeof line, "user%d:pw%d", i, i);
        CHECK_INT(auth_store_add_user(s, line, NULL, 0), 0);
    }
    for (int i = 0; i < 1000; i++) {
        snprintf(name, sizeof name, "user%d", i);
        missing += lookup(s, name, NOW, keys) != 1;
        CHECK_INT(stun_userhash(name, REALM, hash), STUN_OK);
        missing += auth_store_find_userhash(s, hash, line, sizeof line) < 0;
        missing += strcmp(line, name) != 0;
    }
    CHECK_INT(missing, 0);
    auth_store_free(s);
}

/* ---- lookups while the userdb file is reloaded ---------------------------------------- */

#define READERS 4
#define RELOADS 200

struct race {
    struct auth_store *s;
    atomic_bool done;
    struct auth_key a, b, fixed; /* the two versions of "dyn", and "fixed" */
    atomic_int bad;
    atomic_long lookups;
};

static void *reader(void *arg)
{
    struct race *r = arg;
    struct auth_key keys[AUTH_MAX_KEYS];
    uint8_t hash[STUN_USERHASH_LEN];
    char name[32];
    long n = 0;

    CHECK_INT(stun_userhash("dyn", REALM, hash), STUN_OK);
    /* At least a few rounds, then until the writer is done (bounded by RELOADS). */
    while (n < 100 || !atomic_load(&r->done)) {
        int got = lookup(r->s, "dyn", NOW, keys);
        if (got != 1 ||
            (memcmp(keys[0].md5, r->a.md5, 16) != 0 && memcmp(keys[0].md5, r->b.md5, 16) != 0))
            atomic_fetch_add(&r->bad, 1);
        if (lookup(r->s, "fixed", NOW, keys) != 1 || memcmp(keys[0].md5, r->fixed.md5, 16) != 0)
            atomic_fetch_add(&r->bad, 1);
        if (auth_store_find_userhash(r->s, hash, name, sizeof name) != 3)
            atomic_fetch_add(&r->bad, 1);
        n++;
    }
    atomic_fetch_add(&r->lookups, n);
    return NULL;
}

static void test_lookups_during_reloads(void)
{
    static struct race r;
    pthread_t threads[READERS];
    char path[64], other[64], err[256];
    int reload_failures = 0;

    r.s = new_store();
    atomic_init(&r.done, false);
    atomic_init(&r.bad, 0);
    atomic_init(&r.lookups, 0);
    password_keys("dyn", "version-a", &r.a);
    password_keys("dyn", "version-b", &r.b);
    password_keys("fixed", "f", &r.fixed);
    CHECK_INT(auth_store_add_user(r.s, "fixed:f", NULL, 0), 0);
    write_file(path, "dyn:version-a\nfiller1:x\nfiller2:y\n");
    write_file(other, "filler3:z\ndyn:version-b\n");
    CHECK_INT(auth_store_load_file(r.s, path, err, sizeof err), 0);
    for (int i = 0; i < READERS; i++)
        CHECK_INT(pthread_create(&threads[i], NULL, reader, &r), 0);
    for (int i = 0; i < RELOADS; i++)
        reload_failures += auth_store_load_file(r.s, i % 2 ? path : other, err, sizeof err) != 0;
    atomic_store(&r.done, true);
    for (int i = 0; i < READERS; i++)
        pthread_join(threads[i], NULL);
    CHECK_INT(reload_failures, 0);
    CHECK_INT(atomic_load(&r.bad), 0);
    CHECK(atomic_load(&r.lookups) >= READERS * 100);
    unlink(path);
    unlink(other);
    auth_store_free(r.s);
}

/* SIGHUP: the configured users and REST secrets are replaced as a whole; a bad line changes
 * nothing. */
static void test_replace_users_and_secrets(void)
{
    char *first[] = {"alice:one", "bob:two"}, *second[] = {"bob:three", "carol:four"};
    char *bad[] = {"dave:five", "no colon"};
    char *secrets[] = {"s1", "s2"}, *empty[] = {""};
    struct auth_store *s = new_store();
    struct auth_key keys[AUTH_MAX_KEYS];
    char err[128];

    if (s == NULL)
        return;
    CHECK_INT(auth_store_set_users(s, first, 2, err, sizeof err), 0);
    check_user(s, "alice", "one");
    CHECK_INT(auth_store_set_users(s, second, 2, err, sizeof err), 0);
    CHECK_INT(lookup(s, "alice", NOW, keys), 0);
    check_user(s, "bob", "three");
    check_user(s, "carol", "four");
    CHECK_INT(auth_store_set_users(s, bad, 2, err, sizeof err), -1);
    CHECK(strstr(err, "':'") != NULL);
    CHECK_INT(lookup(s, "dave", NOW, keys), 0); /* nothing of the bad set went in */
    check_user(s, "carol", "four");
    CHECK_INT(auth_store_set_secrets(s, secrets, 2), 0);
    CHECK_INT(lookup(s, "2000000000:x", NOW, keys), 2);
    CHECK_INT(auth_store_set_secrets(s, secrets, 1), 0);
    CHECK_INT(lookup(s, "2000000000:x", NOW, keys), 1);
    CHECK_INT(auth_store_set_secrets(s, empty, 1), -1);
    CHECK_INT(lookup(s, "2000000000:x", NOW, keys), 1);
    CHECK_INT(auth_store_set_secrets(s, NULL, 0), 0);
    CHECK_INT(lookup(s, "2000000000:x", NOW, keys), 0);
    auth_store_free(s);
}

int main(void)
{
    RUN(test_password_user);
    RUN(test_replace_users_and_secrets);
    RUN(test_split_at_first_colon);
    RUN(test_hex_keys);
    RUN(test_same_user_twice);
    RUN(test_bad_lines);
    RUN(test_userdb_load_and_reload);
    RUN(test_userdb_failed_reload_keeps_users);
    RUN(test_rest_secrets);
    RUN(test_rest_known_value);
    RUN(test_rest_expiry_and_shape);
    RUN(test_rest_separator_and_limits);
    RUN(test_rest_and_user_together);
    RUN(test_userhash);
    RUN(test_many_users);
    RUN(test_lookups_during_reloads);
    return check_summary();
}
