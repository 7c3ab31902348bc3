/* store.c — the embedded credential store: users in hash tables, the userdb file, REST secrets. */
#include "auth/store.h"

#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/err.h"
#include "auth/rest.h"
#include "proto/hex.h"

/* User lines are "name:password" or "name:0xHEX".  The name ends at the first ':', as in
 * coturn's user= option and userdb file, so a password may contain ':' and a name may not.
 * A value starting with "0x" is always a key (32 hex digits: MD5, 64: SHA-256), never a
 * password.  From a password both keys are derived (RFC 8489 §9.2.2, §18.5.1.2); from a key
 * only its own algorithm is known, so an MD5-keyed user cannot pass with SHA-256 and the
 * other way round.  Names are taken as bytes: no OpaqueString/SASLprep is applied. */

#define MAX_SECRETS AUTH_MAX_KEYS
#define MIN_BUCKETS 16u
#define STR_(x) #x
#define STR(x) STR_(x)

struct user {
    struct user *next_name; /* chain of a by_name bucket */
    struct user *next_hash; /* chain of a by_hash bucket */
    uint32_t name_hash;
    struct auth_key key;
    uint8_t userhash[STUN_USERHASH_LEN]; /* SHA-256(name ":" realm), for USERHASH */
    size_t len;
    char name[]; /* NUL-terminated */
};

/* One set of users, chained twice: by name and by USERHASH.  nbuckets is a power of two and
 * grows to keep at most one user per bucket on average. */
struct table {
    size_t nbuckets;
    size_t count;
    struct user **by_name;
    struct user **by_hash;
};

/* Lookups take the read lock and copy keys out; a reload builds its table unlocked and swaps
 * it in under the write lock, so a lookup sees the old users or the new, never a mix. */
struct auth_store {
    pthread_rwlock_t lock;
    char *realm;
    struct table *config; /* from auth_store_add_user */
    struct table *file;   /* from the last userdb file loaded */
    char *secrets[MAX_SECRETS];
    size_t nsecrets;
    char sep;
};

/* FNV-1a.  The tables hold the operator's users, not the clients', so a client cannot fill
 * a bucket; an unknown name costs one short chain walk whatever it is. */
static uint32_t name_hash(const char *name, size_t len)
{
    uint32_t h = 2166136261u;

    for (size_t i = 0; i < len; i++)
        h = (h ^ (uint8_t)name[i]) * 16777619u;
    return h;
}

/* A USERHASH is a SHA-256 digest: its first bytes are already uniform. */
static uint32_t userhash_bucket(const uint8_t *hash)
{
    return (uint32_t)hash[0] << 24 | (uint32_t)hash[1] << 16 | (uint32_t)hash[2] << 8 | hash[3];
}

static void user_free(struct user *u)
{
    if (u == NULL)
        return;
    explicit_bzero(&u->key, sizeof u->key);
    free(u);
}

static struct table *table_new(void)
{
    struct table *t = calloc(1, sizeof *t);

    if (t == NULL)
        return NULL;
    t->nbuckets = MIN_BUCKETS;
    t->by_name = calloc(t->nbuckets, sizeof *t->by_name);
    t->by_hash = calloc(t->nbuckets, sizeof *t->by_hash);
    if (t->by_name == NULL || t->by_hash == NULL) {
        free(t->by_name);
        free(t->by_hash);
        free(t);
        return NULL;
    }
    return t;
}

static void table_free(struct table *t)
{
    if (t == NULL)
        return;
    for (size_t i = 0; i < t->nbuckets; i++) {
        struct user *u = t->by_name[i];
        while (u != NULL) {
            struct user *next = u->next_name;
            user_free(u);
            u = next;
        }
    }
    free(t->by_name);
    free(t->by_hash);
    free(t);
}

static void table_link(struct table *t, struct user *u)
{
    size_t mask = t->nbuckets - 1;
    struct user **name_head = &t->by_name[u->name_hash & mask];
    struct user **hash_head = &t->by_hash[userhash_bucket(u->userhash) & mask];

    u->next_name = *name_head;
    *name_head = u;
    u->next_hash = *hash_head;
    *hash_head = u;
}

/* Doubles the bucket arrays and relinks every user.  0, or -1 (the table is unchanged). */
static int table_grow(struct table *t)
{
    struct table bigger = {.nbuckets = t->nbuckets * 2, .count = t->count};

    bigger.by_name = calloc(bigger.nbuckets, sizeof *bigger.by_name);
    bigger.by_hash = calloc(bigger.nbuckets, sizeof *bigger.by_hash);
    if (bigger.by_name == NULL || bigger.by_hash == NULL) {
        free(bigger.by_name);
        free(bigger.by_hash);
        return -1;
    }
    for (size_t i = 0; i < t->nbuckets; i++) {
        struct user *u = t->by_name[i];
        while (u != NULL) {
            struct user *next = u->next_name;
            table_link(&bigger, u);
            u = next;
        }
    }
    free(t->by_name);
    free(t->by_hash);
    *t = bigger;
    return 0;
}

static int table_insert(struct table *t, struct user *u)
{
    if (t->count >= t->nbuckets && table_grow(t) != 0)
        return -1;
    table_link(t, u);
    t->count++;
    return 0;
}

static struct user *table_find(const struct table *t, const char *name, size_t len, uint32_t h)
{
    for (struct user *u = t->by_name[h & (t->nbuckets - 1)]; u != NULL; u = u->next_name) {
        if (u->name_hash == h && u->len == len && memcmp(u->name, name, len) == 0)
            return u;
    }
    return NULL;
}

static struct user *table_find_hash(const struct table *t, const uint8_t *hash)
{
    size_t i = userhash_bucket(hash) & (t->nbuckets - 1);

    for (struct user *u = t->by_hash[i]; u != NULL; u = u->next_hash) {
        if (memcmp(u->userhash, hash, STUN_USERHASH_LEN) == 0)
            return u;
    }
    return NULL;
}

/* Exactly 2 * n hex digits into n bytes. */
static bool parse_hex(const char *s, uint8_t *out, size_t n)
{
    return hex_decode(s, strlen(s), out, n) == 0;
}

static const char *user_set_key(struct user *u, const char *value, const char *realm)
{
    struct auth_key *k = &u->key;

    if (strncmp(value, "0x", 2) == 0) {
        /* Both keys of one password, as turnadmin writes them: 0xMD5:0xSHA256. */
        if (strlen(value) == 2 + 32 + 3 + 64 && strncmp(value + 34, ":0x", 3) == 0) {
            k->has_md5 = hex_decode(value + 2, 32, k->md5, sizeof k->md5) == 0;
            k->has_sha256 = parse_hex(value + 37, k->sha256, sizeof k->sha256);
            return k->has_md5 && k->has_sha256 ? NULL : "bad hex key";
        }
        k->has_md5 = parse_hex(value + 2, k->md5, sizeof k->md5);
        k->has_sha256 = !k->has_md5 && parse_hex(value + 2, k->sha256, sizeof k->sha256);
        return k->has_md5 || k->has_sha256 ? NULL : "bad hex key";
    }
    return auth_key_from_password(k, u->name, realm, value) ? NULL : "cannot derive the key";
}

bool auth_key_from_password(struct auth_key *k, const char *name, const char *realm,
                            const char *password)
{
    k->has_md5 = k->has_sha256 = stun_key_md5(name, realm, password, k->md5) == STUN_OK &&
                                 stun_key_sha256(name, realm, password, k->sha256) == STUN_OK;
    return k->has_md5;
}

/* A new user from a NUL-terminated line, or NULL with the reason in *why. */
static struct user *user_parse(const char *line, const char *realm, const char **why)
{
    const char *colon = strchr(line, ':');

    if (colon == NULL) {
        *why = "missing ':'";
        return NULL;
    }
    size_t len = (size_t)(colon - line);
    *why = len == 0                   ? "empty user name"
           : len > AUTH_USER_NAME_MAX ? "user name longer than " STR(AUTH_USER_NAME_MAX) " bytes"
           : colon[1] == '\0'         ? "empty password"
                                      : NULL;
    if (*why != NULL)
        return NULL;
    struct user *u = calloc(1, sizeof *u + len + 1);
    if (u == NULL) {
        *why = "out of memory";
        return NULL;
    }
    memcpy(u->name, line, len);
    u->len = len;
    u->name_hash = name_hash(u->name, len);
    *why = user_set_key(u, colon + 1, realm);
    if (*why == NULL && stun_userhash(u->name, realm, u->userhash) != STUN_OK)
        *why = "cannot derive the key";
    if (*why != NULL) {
        user_free(u);
        return NULL;
    }
    return u;
}

static int lock_init(pthread_rwlock_t *lock)
{
    pthread_rwlockattr_t attr;
    int rc = pthread_rwlockattr_init(&attr);

    if (rc != 0)
        return rc;
#ifdef __GLIBC__
    /* glibc's rwlocks let readers in first by default: with lookups always under way, a
     * reload could wait for ever.  Let the writer in first. */
    pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
#endif
    rc = pthread_rwlock_init(lock, &attr);
    pthread_rwlockattr_destroy(&attr);
    return rc;
}

int auth_store_new(struct auth_store **out, const char *realm)
{
    struct auth_store *s = calloc(1, sizeof *s);

    if (s == NULL)
        return -1;
    if (lock_init(&s->lock) != 0) {
        free(s);
        return -1;
    }
    s->sep = ':';
    s->realm = strdup(realm);
    s->config = table_new();
    s->file = table_new();
    if (s->realm == NULL || s->config == NULL || s->file == NULL) {
        auth_store_free(s);
        return -1;
    }
    *out = s;
    return 0;
}

/* Wipes and frees n secrets. */
static void secrets_free(char **secrets, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        explicit_bzero(secrets[i], strlen(secrets[i]));
        free(secrets[i]);
    }
}

void auth_store_free(struct auth_store *s)
{
    if (s == NULL)
        return;
    pthread_rwlock_destroy(&s->lock);
    table_free(s->config);
    table_free(s->file);
    secrets_free(s->secrets, s->nsecrets);
    free(s->realm);
    free(s);
}

/* Puts u into t, which takes it: a user already there gets u's key instead, the last word
 * winning as when a command-line flag follows the configuration file.  0, or -1 (out of
 * memory, u freed). */
static int table_put(struct table *t, struct user *u)
{
    struct user *old = table_find(t, u->name, u->len, u->name_hash);

    if (old != NULL) {
        old->key = u->key;
        user_free(u);
        return 0;
    }
    if (table_insert(t, u) != 0) {
        user_free(u);
        return -1;
    }
    return 0;
}

int auth_store_add_user(struct auth_store *s, const char *line, char *err, size_t errlen)
{
    const char *why;
    struct user *u = user_parse(line, s->realm, &why);
    int rc;

    if (u == NULL)
        return auth_err(err, errlen, "%s", why);
    pthread_rwlock_wrlock(&s->lock);
    rc = table_put(s->config, u);
    pthread_rwlock_unlock(&s->lock);
    return rc == 0 ? 0 : auth_err(err, errlen, "out of memory");
}

/* One line of a userdb file (n bytes from getline) into t.  Blanks around the line and a
 * DOS carriage return are ignored; so are blank lines and lines starting with '#'.  Returns
 * NULL, or the reason the line is refused. */
static const char *userdb_line(char *line, size_t n, const char *realm, struct table *t)
{
    const char *why;

    if (strlen(line) != n)
        return "NUL byte in line";
    while (n > 0 && isspace((unsigned char)line[n - 1]))
        n--;
    line[n] = '\0';
    while (*line == ' ' || *line == '\t')
        line++;
    if (*line == '\0' || *line == '#')
        return NULL;
    struct user *u = user_parse(line, realm, &why);
    if (u == NULL)
        return why;
    if (table_find(t, u->name, u->len, u->name_hash) != NULL)
        why = "duplicate user";
    else if (table_insert(t, u) != 0)
        why = "out of memory";
    if (why != NULL)
        user_free(u);
    return why;
}

static int userdb_read(FILE *f, const char *path, const char *realm, struct table *t, char *err,
                       size_t errlen)
{
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    unsigned lineno = 0;
    int rc = 0;

    while (rc == 0 && (n = getline(&line, &cap, f)) >= 0) {
        const char *why = userdb_line(line, (size_t)n, realm, t);
        lineno++;
        if (why != NULL)
            rc = auth_err(err, errlen, "%s:%u: %s", path, lineno, why);
    }
    if (rc == 0 && ferror(f))
        rc = auth_err(err, errlen, "cannot read '%s': %s", path, strerror(errno));
    if (line != NULL)
        explicit_bzero(line, cap);
    free(line);
    return rc;
}

int auth_store_load_file(struct auth_store *s, const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");

    if (f == NULL)
        return auth_err(err, errlen, "cannot read '%s': %s", path, strerror(errno));
    struct table *t = table_new();
    int rc = t != NULL ? userdb_read(f, path, s->realm, t, err, errlen)
                       : auth_err(err, errlen, "out of memory");
    fclose(f);
    if (rc == 0) {
        pthread_rwlock_wrlock(&s->lock);
        struct table *old = s->file;
        s->file = t;
        t = old;
        pthread_rwlock_unlock(&s->lock);
    }
    table_free(t);
    return rc;
}

int auth_store_set_users(struct auth_store *s, char *const *lines, size_t n, char *err,
                         size_t errlen)
{
    struct table *t = table_new();

    if (t == NULL)
        return auth_err(err, errlen, "out of memory");
    for (size_t i = 0; i < n; i++) {
        const char *why;
        struct user *u = user_parse(lines[i], s->realm, &why);
        if (u == NULL || table_put(t, u) != 0) {
            table_free(t);
            return auth_err(err, errlen, "%s", u == NULL ? why : "out of memory");
        }
    }
    pthread_rwlock_wrlock(&s->lock);
    struct table *prev = s->config;
    s->config = t;
    pthread_rwlock_unlock(&s->lock);
    table_free(prev);
    return 0;
}

int auth_store_set_secrets(struct auth_store *s, char *const *secrets, size_t n)
{
    char *fresh[MAX_SECRETS], *old[MAX_SECRETS];
    size_t nold;

    if (n > MAX_SECRETS)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (secrets[i][0] == '\0' || (fresh[i] = strdup(secrets[i])) == NULL) {
            secrets_free(fresh, i);
            return -1;
        }
    }
    pthread_rwlock_wrlock(&s->lock);
    nold = s->nsecrets;
    memcpy(old, s->secrets, nold * sizeof(old[0]));
    memcpy(s->secrets, fresh, n * sizeof(fresh[0]));
    s->nsecrets = n;
    pthread_rwlock_unlock(&s->lock);
    secrets_free(old, nold);
    return 0;
}

int auth_store_add_secret(struct auth_store *s, const char *secret)
{
    char *copy = secret != NULL && secret[0] != '\0' ? strdup(secret) : NULL;
    int rc = -1;

    if (copy == NULL)
        return -1;
    pthread_rwlock_wrlock(&s->lock);
    if (s->nsecrets < MAX_SECRETS) {
        s->secrets[s->nsecrets++] = copy;
        rc = 0;
    }
    pthread_rwlock_unlock(&s->lock);
    if (rc != 0)
        free(copy);
    return rc;
}

/* A NUL separator would make every name a bare expiry: it is ignored. */
void auth_store_set_rest_separator(struct auth_store *s, char sep)
{
    if (sep == '\0')
        return;
    pthread_rwlock_wrlock(&s->lock);
    s->sep = sep;
    pthread_rwlock_unlock(&s->lock);
}

bool auth_store_has_secrets(struct auth_store *s)
{
    pthread_rwlock_rdlock(&s->lock);
    bool yes = s->nsecrets > 0;
    pthread_rwlock_unlock(&s->lock);
    return yes;
}

/* A name with a NUL byte in it is nobody: keys are made from NUL-terminated strings. */
int auth_store_lookup(struct auth_store *s, const uint8_t *user, size_t len, uint32_t now,
                      struct auth_key *keys, size_t max)
{
    char name[STUN_MAX_USERNAME + 1];
    size_t n = 0;

    if (len == 0 || len > STUN_MAX_USERNAME || memchr(user, '\0', len) != NULL)
        return 0;
    memcpy(name, user, len);
    name[len] = '\0';
    uint32_t h = name_hash(name, len);
    pthread_rwlock_rdlock(&s->lock);
    /* The userdb file is what turnadmin edits and SIGHUP reloads: it wins over the
     * configuration when both name a user. */
    const struct user *u = table_find(s->file, name, len, h);
    if (u == NULL)
        u = table_find(s->config, name, len, h);
    if (u != NULL && n < max)
        keys[n++] = u->key;
    n += auth_rest_keys((const char *const *)s->secrets, s->nsecrets, name, s->realm, s->sep,
                        now, keys + n, max - n);
    pthread_rwlock_unlock(&s->lock);
    return (int)n;
}

int auth_store_find_userhash(struct auth_store *s, const uint8_t hash[STUN_USERHASH_LEN],
                             char *name, size_t cap)
{
    int rc = -1;

    pthread_rwlock_rdlock(&s->lock);
    const struct user *u = table_find_hash(s->file, hash);
    if (u == NULL)
        u = table_find_hash(s->config, hash);
    if (u != NULL && u->len < cap) {
        memcpy(name, u->name, u->len + 1);
        rc = (int)u->len;
    }
    pthread_rwlock_unlock(&s->lock);
    return rc;
}

const char *auth_store_realm(const struct auth_store *s)
{
    return s->realm;
}
