/* test_auth.c — RFC 8489 §9.2.4 on built requests: every branch, both keys, both MACs. */
#include <stdio.h>
#include <string.h>

#include "auth/auth.h"
#include "proto/crypto.h"
#include "proto/stun_integrity.h"
#include "tests/lib/check.h"
#include "tests/lib/stun_vectors.h"

#define REALM    "example.org"
#define NOW      1700000000u
#define LIFETIME 600u

static const uint8_t tid[STUN_TID_LEN] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
/* PASSWORD-ALGORITHMS as the server offers it: SHA-256, then MD5. */
static const uint8_t offer[8] = {0, 2, 0, 0, 0, 1, 0, 0};

struct fixture {
    struct auth a;
    union addr client;
};

/* alice has a password (both keys), bob an MD5 key only, carol a SHA-256 key only. */
static void setup(struct fixture *f, bool sha256)
{
    uint8_t key[STUN_KEY_SHA256_LEN];
    char line[128];

    memset(f, 0, sizeof *f);
    CHECK_INT(auth_store_new(&f->a.store, REALM), 0);
    f->a.realm = REALM;
    memcpy(f->a.nonce_secret, "a secret of thirty-two bytes....", AUTH_NONCE_SECRET_LEN);
    f->a.nonce_lifetime = LIFETIME;
    f->a.sha256 = sha256;
    CHECK_INT(addr_parse(&f->client, "192.0.2.10:5000", 0), 0);
    CHECK_INT(auth_store_add_user(f->a.store, "alice:apple", NULL, 0), 0);
    CHECK_INT(stun_key_md5("bob", REALM, "banana", key), STUN_OK);
    strcpy(line, "bob:0x");
    for (size_t i = 0; i < STUN_KEY_MD5_LEN; i++)
        sprintf(line + 6 + 2 * i, "%02x", key[i]);
    CHECK_INT(auth_store_add_user(f->a.store, line, NULL, 0), 0);
    CHECK_INT(stun_key_sha256("carol", REALM, "cherry", key), STUN_OK);
    strcpy(line, "carol:0x");
    for (size_t i = 0; i < STUN_KEY_SHA256_LEN; i++)
        sprintf(line + 8 + 2 * i, "%02x", key[i]);
    CHECK_INT(auth_store_add_user(f->a.store, line, NULL, 0), 0);
}

static void teardown(struct fixture *f)
{
    auth_store_free(f->a.store);
}

/* ---- a client's request, described by a table row ------------------------------------- */

enum nonce_kind {
    NONCE_FRESH,    /* ours, for this client, with the features the server offers */
    NONCE_NONE,     /* no NONCE attribute */
    NONCE_PLAIN,    /* ours, no feature bits */
    NONCE_STALE,    /* ours, LIFETIME + 1 seconds old */
    NONCE_FUTURE,   /* ours, made a second from now */
    NONCE_OTHER_IP, /* ours, for another client */
    NONCE_FOREIGN,  /* RFC 5769's */
};

enum algs_kind { ALGS_NONE, ALGS_OFFER, ALGS_REORDERED, ALGS_MD5_ONLY };

/* Integrity attributes a request carries. */
enum { MI_NONE = 0, MI = 1, MI256 = 2, MI_BOTH = 3 };

#define SHA STUN_PWALG_SHA256
#define MD5 STUN_PWALG_MD5

/* A client's request.  Zero is the usual: REALM ours, a fresh nonce, no algorithms. */
struct req {
    const char *user;  /* USERNAME value, or NULL */
    const char *hash;  /* a name sent as USERHASH, or NULL */
    const char *realm; /* REALM value when not ours */
    bool no_realm;     /* send no REALM */
    enum nonce_kind nonce;
    bool sha; /* an RFC 8489 client: the offer echoed, SHA-256 chosen and keyed */
    enum algs_kind algs;
    uint16_t alg;   /* PASSWORD-ALGORITHM, or 0 for none */
    const char *pw; /* the password the client believes */
    uint16_t key;   /* SHA: it derives the SHA-256 key; otherwise the MD5 key */
    int mi;         /* which integrity attributes it sends */
    bool bad_mi;    /* its MESSAGE-INTEGRITY uses a wrong key */
    bool bad_mi256; /* its MESSAGE-INTEGRITY-SHA256 uses a wrong key */
};

static void make_nonce(const struct fixture *f, enum nonce_kind kind, char *out)
{
    uint32_t features = 0, when = NOW;
    union addr who = f->client;

    if (f->a.sha256)
        features = AUTH_FEATURE_PASSWORD_ALGORITHMS | AUTH_FEATURE_USERNAME_ANONYMITY;
    if (kind == NONCE_PLAIN)
        features = 0;
    if (kind == NONCE_STALE)
        when = NOW - LIFETIME - 1;
    if (kind == NONCE_FUTURE)
        when = NOW + 1;
    if (kind == NONCE_OTHER_IP)
        CHECK_INT(addr_parse(&who, "192.0.2.11", 5000), 0);
    if (kind == NONCE_FOREIGN)
        strcpy(out, VEC_NONCE_5769);
    else
        CHECK(auth_nonce_make(f->a.nonce_secret, features, when, &who, out, AUTH_NONCE_MAX + 1) >
              0);
}

static const char *req_realm(const struct req *q)
{
    return q->realm != NULL ? q->realm : REALM;
}

/* The client's key: from the name it sends (or hashes) and the realm it sends. */
static size_t client_key(const struct req *q, uint8_t key[STUN_KEY_SHA256_LEN])
{
    const char *name = q->user != NULL ? q->user : q->hash != NULL ? q->hash : "";
    const char *password = q->pw != NULL ? q->pw : "";

    if (q->key == SHA || q->sha) {
        CHECK_INT(stun_key_sha256(name, req_realm(q), password, key), STUN_OK);
        return STUN_KEY_SHA256_LEN;
    }
    CHECK_INT(stun_key_md5(name, req_realm(q), password, key), STUN_OK);
    return STUN_KEY_MD5_LEN;
}

static void add_algorithms(struct stun_builder *b, const struct req *q)
{
    static const uint8_t reordered[8] = {0, 1, 0, 0, 0, 2, 0, 0};
    static const uint8_t md5_only[4] = {0, 1, 0, 0};
    uint16_t chosen = q->sha ? SHA : q->alg;
    uint8_t alg[4] = {(uint8_t)(chosen >> 8), (uint8_t)chosen, 0, 0};

    if (q->algs == ALGS_OFFER || q->sha)
        stun_build_attr(b, STUN_ATTR_PASSWORD_ALGORITHMS, offer, sizeof offer);
    if (q->algs == ALGS_REORDERED)
        stun_build_attr(b, STUN_ATTR_PASSWORD_ALGORITHMS, reordered, sizeof reordered);
    if (q->algs == ALGS_MD5_ONLY)
        stun_build_attr(b, STUN_ATTR_PASSWORD_ALGORITHMS, md5_only, sizeof md5_only);
    if (chosen != 0)
        stun_build_attr(b, STUN_ATTR_PASSWORD_ALGORITHM, alg, sizeof alg);
}

/* An Allocate request as q describes it, decoded into m (which borrows buf). */
static bool build(const struct fixture *f, const struct req *q, uint8_t *buf, size_t cap,
                  struct stun_msg *m)
{
    uint8_t key[STUN_KEY_SHA256_LEN], hash[STUN_USERHASH_LEN], wrong[STUN_KEY_SHA256_LEN];
    char nonce[AUTH_NONCE_MAX + 1];
    struct stun_builder b;
    size_t len = 0, keylen = client_key(q, key);

    memcpy(wrong, key, sizeof wrong);
    wrong[0] ^= 0x80;
    stun_build_start(&b, buf, cap, stun_type(STUN_METHOD_ALLOCATE, STUN_CLASS_REQUEST), tid);
    stun_build_u8(&b, STUN_ATTR_REQUESTED_TRANSPORT, STUN_TRANSPORT_UDP);
    if (q->user != NULL)
        stun_build_str(&b, STUN_ATTR_USERNAME, q->user);
    if (q->hash != NULL) {
        CHECK_INT(stun_userhash(q->hash, req_realm(q), hash), STUN_OK);
        stun_build_attr(&b, STUN_ATTR_USERHASH, hash, sizeof hash);
    }
    if (!q->no_realm)
        stun_build_str(&b, STUN_ATTR_REALM, req_realm(q));
    if (q->nonce != NONCE_NONE) {
        make_nonce(f, q->nonce, nonce);
        stun_build_str(&b, STUN_ATTR_NONCE, nonce);
    }
    add_algorithms(&b, q);
    if (q->mi & MI)
        stun_build_integrity(&b, q->bad_mi ? wrong : key, keylen);
    if (q->mi & MI256)
        stun_build_integrity_sha256(&b, q->bad_mi256 ? wrong : key, keylen);
    stun_build_fingerprint(&b);
    return CHECK_INT(stun_build_end(&b, &len), STUN_OK) &&
           CHECK_INT(stun_msg_decode(m, buf, len, 0), STUN_OK);
}

/* The server's side: auth_begin, the store lookup, auth_finish.  Returns r->code. */
static int authenticate(const struct fixture *f, const struct stun_msg *m, struct auth_req *r)
{
    struct auth_key keys[AUTH_MAX_KEYS];

    if (auth_begin(&f->a, NULL, m, &f->client, NOW, r) != 0)
        return r->code;
    int n = auth_store_lookup(f->a.store, (const uint8_t *)r->user, r->user_len, NOW, keys,
                              AUTH_MAX_KEYS);
    if (auth_finish(&f->a, m, keys, (size_t)n, r) != 0)
        return r->code;
    return 0;
}

struct row {
    const char *name;
    int code;
    const char *reason; /* the reason phrase of a 400 */
    struct req q;
    uint16_t pwalg;   /* on success */
    const char *user; /* on success, when not q.user */
};

/* Every branch of §9.2.4 in our order; rows that break two rules at once pin the order (the
 * first check wins). */
static const struct row rows[] = {
    /* clang-format off */
    /* No integrity: 401 with a challenge, whatever else is missing. */
    {.name = "no integrity", .code = 401,
     .q = {.user = "alice", .pw = "apple"}},
    {.name = "no integrity, no attribute", .code = 401,
     .q = {.no_realm = 1, .nonce = NONCE_NONE}},
    {.name = "no integrity beats no NONCE", .code = 401,
     .q = {.user = "alice", .nonce = NONCE_NONE}},
    /* A missing USERNAME and USERHASH, REALM or NONCE: 400. */
    {.name = "no USERNAME nor USERHASH", .code = 400, .reason = "Missing USERNAME or USERHASH",
     .q = {.mi = MI}},
    {.name = "no REALM", .code = 400, .reason = "Missing REALM",
     .q = {.user = "alice", .no_realm = 1, .pw = "apple", .mi = MI}},
    {.name = "no NONCE", .code = 400, .reason = "Missing NONCE",
     .q = {.user = "alice", .nonce = NONCE_NONE, .pw = "apple", .mi = MI256}},
    {.name = "no REALM beats a foreign nonce", .code = 400, .reason = "Missing REALM",
     .q = {.user = "alice", .no_realm = 1, .nonce = NONCE_FOREIGN, .mi = MI}},
    /* Another realm: 401. */
    {.name = "realm not ours", .code = 401,
     .q = {.user = "alice", .realm = "example.com", .pw = "apple", .mi = MI}},
    {.name = "realm not ours, same length, beats a stale nonce", .code = 401,
     .q = {.user = "alice", .realm = "example.com", .nonce = NONCE_STALE, .mi = MI}},
    {.name = "realm not ours beats a stale nonce", .code = 401,
     .q = {.user = "alice", .realm = "ex", .nonce = NONCE_STALE, .mi = MI}},
    /* The nonce: 438. */
    {.name = "stale nonce", .code = 438,
     .q = {.user = "alice", .nonce = NONCE_STALE, .pw = "apple", .mi = MI}},
    {.name = "nonce from the future", .code = 438,
     .q = {.user = "alice", .nonce = NONCE_FUTURE, .pw = "apple", .mi = MI}},
    {.name = "nonce for another IP", .code = 438,
     .q = {.user = "alice", .nonce = NONCE_OTHER_IP, .pw = "apple", .mi = MI256}},
    {.name = "nonce not ours", .code = 438,
     .q = {.user = "alice", .nonce = NONCE_FOREIGN, .pw = "apple", .mi = MI}},
    {.name = "stale nonce beats bad algorithms", .code = 438,
     .q = {.user = "alice", .nonce = NONCE_STALE, .alg = SHA, .mi = MI}},
    {.name = "stale nonce beats a wrong password", .code = 438,
     .q = {.user = "alice", .nonce = NONCE_STALE, .pw = "pear", .mi = MI}},
    /* PASSWORD-ALGORITHM(S): 400 unless both, the offer unchanged, and one of it chosen. */
    {.name = "PASSWORD-ALGORITHM alone", .code = 400,
     .reason = "PASSWORD-ALGORITHM and PASSWORD-ALGORITHMS go together",
     .q = {.user = "alice", .alg = SHA, .pw = "apple", .key = SHA, .mi = MI256}},
    {.name = "PASSWORD-ALGORITHMS alone", .code = 400,
     .reason = "PASSWORD-ALGORITHM and PASSWORD-ALGORITHMS go together",
     .q = {.user = "alice", .algs = ALGS_OFFER, .pw = "apple", .mi = MI256}},
    {.name = "PASSWORD-ALGORITHMS reordered", .code = 400,
     .reason = "PASSWORD-ALGORITHMS differs from the offer",
     .q = {.user = "alice", .algs = ALGS_REORDERED, .alg = MD5, .pw = "apple", .mi = MI256}},
    {.name = "PASSWORD-ALGORITHMS stripped of SHA-256", .code = 400,
     .reason = "PASSWORD-ALGORITHMS differs from the offer",
     .q = {.user = "alice", .algs = ALGS_MD5_ONLY, .alg = MD5, .pw = "apple", .mi = MI}},
    {.name = "PASSWORD-ALGORITHM not offered", .code = 400,
     .reason = "PASSWORD-ALGORITHM was not offered",
     .q = {.user = "alice", .algs = ALGS_OFFER, .alg = 3, .pw = "apple", .mi = MI256}},
    {.name = "bad algorithms beat an unknown user", .code = 400,
     .reason = "PASSWORD-ALGORITHM and PASSWORD-ALGORITHMS go together",
     .q = {.user = "nobody", .algs = ALGS_OFFER, .pw = "x", .mi = MI}},
    {.name = "bad algorithms beat an unknown USERHASH", .code = 400,
     .reason = "PASSWORD-ALGORITHM and PASSWORD-ALGORITHMS go together",
     .q = {.hash = "nobody", .alg = SHA, .pw = "x", .key = SHA, .mi = MI256}},
    {.name = "algorithms the nonce never offered", .code = 400,
     .reason = "No password algorithms were offered",
     .q = {.user = "alice", .nonce = NONCE_PLAIN, .sha = 1, .pw = "apple", .mi = MI256}},
    /* Neither attribute: MD5. */
    {.name = "plain nonce, no algorithms: MD5", .pwalg = MD5,
     .q = {.user = "alice", .nonce = NONCE_PLAIN, .pw = "apple", .mi = MI}},
    {.name = "no algorithms: MD5, MESSAGE-INTEGRITY", .pwalg = MD5,
     .q = {.user = "alice", .pw = "apple", .mi = MI}},
    {.name = "no algorithms: MD5, MESSAGE-INTEGRITY-SHA256", .pwalg = MD5,
     .q = {.user = "alice", .pw = "apple", .mi = MI256}},
    {.name = "a SHA-256 key without saying so", .code = 401,
     .q = {.user = "alice", .pw = "apple", .key = SHA, .mi = MI256}},
    /* A chosen algorithm, either MAC. */
    {.name = "SHA-256, MESSAGE-INTEGRITY-SHA256", .pwalg = SHA,
     .q = {.user = "alice", .sha = 1, .pw = "apple", .mi = MI256}},
    {.name = "SHA-256, MESSAGE-INTEGRITY", .pwalg = SHA,
     .q = {.user = "alice", .sha = 1, .pw = "apple", .mi = MI}},
    {.name = "MD5 chosen, MESSAGE-INTEGRITY-SHA256", .pwalg = MD5,
     .q = {.user = "alice", .algs = ALGS_OFFER, .alg = MD5, .pw = "apple", .mi = MI256}},
    /* The user and the key: 401. */
    {.name = "wrong password, MD5", .code = 401,
     .q = {.user = "alice", .pw = "pear", .mi = MI}},
    {.name = "wrong password, SHA-256", .code = 401,
     .q = {.user = "alice", .sha = 1, .pw = "pear", .mi = MI256}},
    {.name = "unknown user", .code = 401,
     .q = {.user = "nobody", .pw = "apple", .mi = MI}},
    {.name = "empty USERNAME", .code = 401,
     .q = {.user = "", .pw = "apple", .mi = MI}},
    {.name = "USERHASH, SHA-256", .pwalg = SHA, .user = "alice",
     .q = {.hash = "alice", .sha = 1, .pw = "apple", .mi = MI256}},
    {.name = "USERHASH, MD5", .pwalg = MD5, .user = "alice",
     .q = {.hash = "alice", .pw = "apple", .mi = MI}},
    {.name = "USERHASH unknown", .code = 401,
     .q = {.hash = "nobody", .sha = 1, .pw = "apple", .mi = MI256}},
    {.name = "USERNAME and USERHASH: USERNAME counts", .pwalg = MD5,
     .q = {.user = "alice", .hash = "nobody", .pw = "apple", .mi = MI}},
    {.name = "MD5 key only, SHA-256 chosen", .code = 401,
     .q = {.user = "bob", .sha = 1, .pw = "banana", .mi = MI256}},
    {.name = "MD5 key only, MD5 chosen", .pwalg = MD5,
     .q = {.user = "bob", .algs = ALGS_OFFER, .alg = MD5, .pw = "banana", .mi = MI256}},
    {.name = "MD5 key only, RFC 5389 client", .pwalg = MD5,
     .q = {.user = "bob", .pw = "banana", .mi = MI}},
    {.name = "SHA-256 key only, RFC 5389 client", .code = 401,
     .q = {.user = "carol", .pw = "cherry", .mi = MI}},
    {.name = "SHA-256 key only, SHA-256 chosen", .pwalg = SHA,
     .q = {.user = "carol", .sha = 1, .pw = "cherry", .mi = MI}},
    /* Both MACs: MESSAGE-INTEGRITY-SHA256 decides. */
    {.name = "both MACs, MESSAGE-INTEGRITY wrong", .pwalg = SHA,
     .q = {.user = "alice", .sha = 1, .pw = "apple", .mi = MI_BOTH, .bad_mi = 1}},
    {.name = "both MACs, MESSAGE-INTEGRITY-SHA256 wrong", .code = 401,
     .q = {.user = "alice", .sha = 1, .pw = "apple", .mi = MI_BOTH, .bad_mi256 = 1}},
    /* clang-format on */
};

static void check_row(const struct row *w, const struct fixture *f)
{
    uint8_t buf[512], key[STUN_KEY_SHA256_LEN];
    struct stun_msg m;
    struct auth_req r;

    if (!build(f, &w->q, buf, sizeof buf, &m))
        return;
    int code = authenticate(f, &m, &r);
    if (!CHECK_INT(code, w->code)) {
        fprintf(stderr, "    row: %s (reason %s)\n", w->name, r.reason ? r.reason : "-");
        return;
    }
    if (code == 400 || code == 401 || code == 438) {
        /* 400 answers carry no challenge (§9.2.4); 401 and 438 do, with the RFC's phrase. */
        CHECK_INT(r.challenge, code != 400);
        if (code == 400 && CHECK(r.reason != NULL))
            CHECK_STR(r.reason, w->reason);
        if (code != 400)
            CHECK(r.reason == NULL);
        return;
    }
    CHECK_INT(r.pwalg, w->pwalg);
    CHECK_INT(r.sha256_mi, (w->q.mi & MI256) != 0);
    CHECK_STR(r.user, w->user != NULL ? w->user : w->q.user);
    CHECK_INT(r.user_len, strlen(r.user));
    size_t keylen = client_key(&w->q, key);
    if (CHECK_INT(r.key_len, keylen))
        CHECK_MEM(r.key, key, keylen);
}

static void test_request_table(void)
{
    struct fixture f;

    setup(&f, true);
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
        check_row(&rows[i], &f);
    teardown(&f);
}

/* ---- the server's answers --------------------------------------------------------------- */

/* Builds the challenge a server answers r with and decodes it into m (borrowing buf). */
static bool challenge(const struct fixture *f, const struct stun_msg *req, int code, uint8_t *buf,
                      size_t cap, struct stun_msg *m)
{
    struct stun_builder b;
    size_t len = 0;

    stun_build_response(&b, buf, cap, req, STUN_CLASS_ERROR);
    stun_build_error(&b, code, NULL);
    auth_challenge(&f->a, NULL, &b, &f->client, NOW);
    return CHECK_INT(stun_build_end(&b, &len), STUN_OK) &&
           CHECK_INT(stun_msg_decode(m, buf, len, 0), STUN_OK);
}

static void check_challenge(bool sha256, bool secrets, uint32_t want_features)
{
    uint8_t reqbuf[256], buf[256];
    struct stun_msg req, m;
    struct fixture f;
    struct req q = {.user = "alice", .no_realm = true, .nonce = NONCE_NONE};
    const uint8_t *val;
    size_t len;
    uint32_t features = 0xdead;

    setup(&f, sha256);
    if (secrets)
        CHECK_INT(auth_store_add_secret(f.a.store, "k"), 0);
    if (!build(&f, &q, reqbuf, sizeof reqbuf, &req) ||
        !challenge(&f, &req, 401, buf, sizeof buf, &m))
        goto out;
    if (CHECK_INT(stun_msg_get_bytes(&m, STUN_ATTR_REALM, &val, &len), STUN_OK)) {
        CHECK_INT(len, strlen(REALM));
        CHECK_MEM(val, REALM, len);
    }
    if (CHECK_INT(stun_msg_get_bytes(&m, STUN_ATTR_NONCE, &val, &len), STUN_OK)) {
        CHECK_INT(auth_nonce_check(f.a.nonce_secret, val, len, NOW, LIFETIME, &f.client, &features),
                  AUTH_NONCE_OK);
        CHECK_INT(features, want_features);
        CHECK_MEM(val, "obMatJos2", 9);
    }
    int found = stun_msg_get_bytes(&m, STUN_ATTR_PASSWORD_ALGORITHMS, &val, &len);
    CHECK_INT(found, sha256 ? STUN_OK : STUN_E_ABSENT);
    if (found == STUN_OK && CHECK_INT(len, sizeof offer))
        CHECK_MEM(val, offer, sizeof offer);
    CHECK(stun_msg_find(&m, STUN_ATTR_USERNAME) == NULL);
    CHECK_INT(m.integrity, -1);
out:
    teardown(&f);
}

static void test_challenge_contents(void)
{
    check_challenge(true, false,
                    AUTH_FEATURE_PASSWORD_ALGORITHMS | AUTH_FEATURE_USERNAME_ANONYMITY);
    /* REST names cannot be found by USERHASH: anonymity is not offered with secrets. */
    check_challenge(true, true, AUTH_FEATURE_PASSWORD_ALGORITHMS);
    /* Without SHA-256: a cookie with no bits, and no PASSWORD-ALGORITHMS. */
    check_challenge(false, false, 0);
    check_challenge(false, true, 0);
}

static void test_challenge_without_room(void)
{
    struct fixture f;
    struct stun_builder b;
    uint8_t buf[48];
    size_t len;

    setup(&f, true);
    stun_build_start(&b, buf, sizeof buf, stun_type(STUN_METHOD_ALLOCATE, STUN_CLASS_ERROR), tid);
    stun_build_error(&b, 401, NULL);
    auth_challenge(&f.a, NULL, &b, &f.client, NOW);
    CHECK_INT(stun_build_end(&b, &len), STUN_E_NOSPACE);
    teardown(&f);
}

/* A client that speaks RFC 8489 end to end: first request, 401, retry with what the
 * challenge says (USERHASH since anonymity is offered, the first algorithm offered, the
 * offer echoed), success, and a response it can verify. */
static void test_rfc8489_exchange(void)
{
    uint8_t first[128], answer[256], retry[512], ok[256], key[STUN_KEY_SHA256_LEN];
    uint8_t hash[STUN_USERHASH_LEN];
    struct stun_msg req, m, resp;
    struct stun_builder b;
    struct auth_req r;
    struct fixture f;
    struct req q = {.user = "alice", .no_realm = true, .nonce = NONCE_NONE};
    const uint8_t *realm, *nonce, *algs;
    size_t realm_len, nonce_len, algs_len, len = 0;
    char realm_s[64], nonce_s[AUTH_NONCE_MAX + 1];

    setup(&f, true);
    if (!build(&f, &q, first, sizeof first, &req))
        goto out;
    CHECK_INT(authenticate(&f, &req, &r), 401);
    if (!CHECK(r.challenge) || !challenge(&f, &req, r.code, answer, sizeof answer, &m))
        goto out;
    if (!CHECK_INT(stun_msg_get_bytes(&m, STUN_ATTR_REALM, &realm, &realm_len), 0) ||
        !CHECK_INT(stun_msg_get_bytes(&m, STUN_ATTR_NONCE, &nonce, &nonce_len), 0) ||
        !CHECK_INT(stun_msg_get_bytes(&m, STUN_ATTR_PASSWORD_ALGORITHMS, &algs, &algs_len), 0))
        goto out;
    snprintf(realm_s, sizeof realm_s, "%.*s", (int)realm_len, (const char *)realm);
    snprintf(nonce_s, sizeof nonce_s, "%.*s", (int)nonce_len, (const char *)nonce);
    CHECK_INT(nonce_s[12], 'D'); /* both feature bits: 0x000003 */
    CHECK_INT(algs[0] << 8 | algs[1], STUN_PWALG_SHA256);

    CHECK_INT(stun_key_sha256("alice", realm_s, "apple", key), STUN_OK);
    CHECK_INT(stun_userhash("alice", realm_s, hash), STUN_OK);
    stun_build_start(&b, retry, sizeof retry, stun_type(STUN_METHOD_ALLOCATE, STUN_CLASS_REQUEST),
                     tid);
    stun_build_u8(&b, STUN_ATTR_REQUESTED_TRANSPORT, STUN_TRANSPORT_UDP);
    stun_build_attr(&b, STUN_ATTR_USERHASH, hash, sizeof hash);
    stun_build_str(&b, STUN_ATTR_REALM, realm_s);
    stun_build_str(&b, STUN_ATTR_NONCE, nonce_s);
    stun_build_attr(&b, STUN_ATTR_PASSWORD_ALGORITHMS, algs, algs_len);
    stun_build_attr(&b, STUN_ATTR_PASSWORD_ALGORITHM, algs, 4);
    stun_build_integrity_sha256(&b, key, sizeof key);
    if (!CHECK_INT(stun_build_end(&b, &len), 0) ||
        !CHECK_INT(stun_msg_decode(&req, retry, len, 0), 0))
        goto out;
    if (!CHECK_INT(authenticate(&f, &req, &r), 0))
        goto out;
    CHECK_STR(r.user, "alice");

    stun_build_response(&b, ok, sizeof ok, &req, STUN_CLASS_SUCCESS);
    stun_build_u32(&b, STUN_ATTR_LIFETIME, 600);
    auth_sign(&r, &b);
    stun_build_fingerprint(&b);
    if (CHECK_INT(stun_build_end(&b, &len), 0) &&
        CHECK_INT(stun_msg_decode(&resp, ok, len, 0), 0)) {
        CHECK_INT(resp.integrity, -1);
        CHECK_INT(stun_check_integrity_sha256(&resp, key, sizeof key), STUN_OK);
    }
out:
    teardown(&f);
}

/* auth_sign answers with the integrity attribute the request used, keyed as it was. */
static void test_sign_matches_request(void)
{
    static const struct req reqs[] = {
        {.user = "alice", .pw = "apple", .mi = MI},
        {.user = "alice", .pw = "apple", .mi = MI256},
        {.user = "alice", .sha = 1, .pw = "apple", .mi = MI},
        {.user = "alice", .sha = 1, .pw = "apple", .mi = MI_BOTH},
    };
    uint8_t buf[512], out[256], key[STUN_KEY_SHA256_LEN];
    struct stun_msg req, resp;
    struct stun_builder b;
    struct auth_req r;
    struct fixture f;
    size_t len;

    setup(&f, true);
    for (size_t i = 0; i < sizeof reqs / sizeof reqs[0]; i++) {
        size_t keylen = client_key(&reqs[i], key);
        if (!build(&f, &reqs[i], buf, sizeof buf, &req) ||
            !CHECK_INT(authenticate(&f, &req, &r), 0))
            continue;
        stun_build_response(&b, out, sizeof out, &req, STUN_CLASS_SUCCESS);
        auth_sign(&r, &b);
        if (!CHECK_INT(stun_build_end(&b, &len), 0) ||
            !CHECK_INT(stun_msg_decode(&resp, out, len, 0), 0))
            continue;
        bool sha = (reqs[i].mi & MI256) != 0;
        CHECK_INT(resp.integrity_sha256 >= 0, sha);
        CHECK_INT(resp.integrity >= 0, !sha);
        int rc = sha ? stun_check_integrity_sha256(&resp, key, keylen)
                     : stun_check_integrity(&resp, key, keylen);
        CHECK_INT(rc, STUN_OK);
    }
    teardown(&f);
}

/* REST credentials through the whole check, USERNAME only (they cannot be hashed back). */
static void test_rest_credentials(void)
{
    static const char *const names[] = {"4000000000:alice", "1700000000:bob", "1699999999:eve"};
    struct fixture f;
    uint8_t mac[20], buf[512];
    char password[32];
    struct stun_msg m;
    struct auth_req r;

    setup(&f, true);
    CHECK_INT(auth_store_add_secret(f.a.store, "old secret"), 0);
    CHECK_INT(auth_store_add_secret(f.a.store, "new secret"), 0);
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        /* Either secret will do while both are active (rotation). */
        const char *secret = i % 2 == 0 ? "new secret" : "old secret";
        const struct crypto_buf part = {names[i], strlen(names[i])};
        CHECK_INT(crypto_hmac(CRYPTO_SHA1, (const uint8_t *)secret, strlen(secret), &part, 1, mac),
                  0);
        CHECK_INT(crypto_base64_encode(mac, sizeof mac, password, sizeof password), 28);
        struct req q = {.user = names[i], .sha = true, .pw = password, .mi = MI256};
        if (build(&f, &q, buf, sizeof buf, &m))
            CHECK_INT(authenticate(&f, &m, &r), i < 2 ? 0 : 401); /* the last one expired */
    }
    teardown(&f);
}

/* An unknown USERHASH is refused by auth_begin itself: there is no name to look up. */
static void test_unknown_userhash_in_begin(void)
{
    struct fixture f;
    uint8_t buf[512];
    struct stun_msg m;
    struct auth_req r;
    struct req q = {.hash = "nobody", .pw = "x", .mi = MI};

    setup(&f, true);
    if (build(&f, &q, buf, sizeof buf, &m)) {
        CHECK_INT(auth_begin(&f.a, NULL, &m, &f.client, NOW, &r), -1);
        CHECK_INT(r.code, 401);
        CHECK(r.challenge);
        CHECK_INT(r.user_len, 0);
    }
    q.hash = "alice";
    if (build(&f, &q, buf, sizeof buf, &m)) {
        CHECK_INT(auth_begin(&f.a, NULL, &m, &f.client, NOW, &r), 0);
        CHECK_STR(r.user, "alice");
        CHECK_INT(r.user_len, 5);
    }
    teardown(&f);
}

static void test_finish_after_failed_begin(void)
{
    struct fixture f;
    uint8_t buf[512];
    struct stun_msg m;
    struct auth_req r;
    struct auth_key keys[AUTH_MAX_KEYS];
    struct req q = {.user = "alice", .nonce = NONCE_STALE, .pw = "apple", .mi = MI};

    setup(&f, true);
    if (build(&f, &q, buf, sizeof buf, &m)) {
        CHECK_INT(auth_begin(&f.a, NULL, &m, &f.client, NOW, &r), -1);
        CHECK_INT(r.code, 438);
        /* Even with alice's keys at hand, a refused request stays refused. */
        CHECK_INT(auth_store_lookup(f.a.store, (const uint8_t *)"alice", 5, NOW, keys, 8), 1);
        CHECK_INT(auth_finish(&f.a, &m, keys, 1, &r), -1);
        CHECK_INT(r.code, 438);
        CHECK_INT(r.key_len, 0);
    }
    teardown(&f);
}

int main(void)
{
    RUN(test_request_table);
    RUN(test_challenge_contents);
    RUN(test_challenge_without_room);
    RUN(test_rfc8489_exchange);
    RUN(test_sign_matches_request);
    RUN(test_rest_credentials);
    RUN(test_unknown_userhash_in_begin);
    RUN(test_finish_after_failed_begin);
    return check_summary();
}
