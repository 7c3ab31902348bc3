/* test_crypto.c — HMAC and digests against published answers, base64, random, CRC-32, keys. */
#include <string.h>

#include "proto/crypto.h"
#include "proto/stun_integrity.h"
#include "tests/lib/check.h"
#include "tests/lib/hex.h"

static void check_hex(const uint8_t *got, const char *want_hex, size_t n)
{
    uint8_t want[CRYPTO_MAX_MD];

    if (CHECK_INT(hex_parse(want_hex, want, sizeof want), n))
        CHECK_MEM(got, want, n);
}

/* RFC 2202 §2, §3 and RFC 4231 §4.3 test case 2 ("Jefe"), and the empty key and message. */
static void test_hmac_known_answers(void)
{
    static const struct {
        enum crypto_alg alg;
        const char *jefe, *empty;
    } kat[] = {
        {CRYPTO_MD5, "750c783e6ab0b503eaa86e310a5db738", "74e6f7298a9c2d168935f58c001bad88"},
        {CRYPTO_SHA1, "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79",
         "fbdb1d1b18aa6c08324b7d64b71fb76370690e1d"},
        {CRYPTO_SHA256, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
         "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad"},
    };
    const char *msg = "what do ya want for nothing?";
    uint8_t out[CRYPTO_MAX_MD];

    for (size_t i = 0; i < sizeof kat / sizeof kat[0]; i++) {
        size_t n = crypto_md_len(kat[i].alg);
        /* The same input in one piece and in three. */
        const struct crypto_buf one = {msg, strlen(msg)};
        const struct crypto_buf three[3] = {{msg, 4}, {msg + 4, 0}, {msg + 4, strlen(msg) - 4}};
        CHECK_INT(crypto_hmac(kat[i].alg, (const uint8_t *)"Jefe", 4, &one, 1, out), 0);
        check_hex(out, kat[i].jefe, n);
        memset(out, 0, sizeof out);
        CHECK_INT(crypto_hmac(kat[i].alg, (const uint8_t *)"Jefe", 4, three, 3, out), 0);
        check_hex(out, kat[i].jefe, n);
        CHECK_INT(crypto_hmac(kat[i].alg, NULL, 0, NULL, 0, out), 0);
        check_hex(out, kat[i].empty, n);
    }
    CHECK_INT(crypto_md_len(CRYPTO_MD5), 16);
    CHECK_INT(crypto_md_len(CRYPTO_SHA1), 20);
    CHECK_INT(crypto_md_len(CRYPTO_SHA256), 32);
    CHECK_INT(crypto_hmac((enum crypto_alg)7, (const uint8_t *)"k", 1, NULL, 0, out), -1);
}

/* FIPS 180 and RFC 1321 answers for "abc". */
static void test_digest_known_answers(void)
{
    const struct crypto_buf abc[2] = {{"a", 1}, {"bc", 2}};
    uint8_t out[CRYPTO_MAX_MD];

    CHECK_INT(crypto_digest(CRYPTO_MD5, abc, 2, out), 0);
    check_hex(out, "900150983cd24fb0d6963f7d28e17f72", 16);
    CHECK_INT(crypto_digest(CRYPTO_SHA1, abc, 2, out), 0);
    check_hex(out, "a9993e364706816aba3e25717850c26c9cd0d89d", 20);
    CHECK_INT(crypto_digest(CRYPTO_SHA256, abc, 2, out), 0);
    check_hex(out, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", 32);
    CHECK_INT(crypto_digest((enum crypto_alg)7, abc, 2, out), -1);
}

/* RFC 4648 §10. */
static void test_base64_vectors(void)
{
    static const char *const plain[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
    static const char *const coded[] = {"",         "Zg==",     "Zm8=",    "Zm9v",
                                        "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
    char text[16];
    uint8_t bin[16];

    for (size_t i = 0; i < 7; i++) {
        size_t n = strlen(plain[i]), c = strlen(coded[i]);
        CHECK_INT(crypto_base64_encode((const uint8_t *)plain[i], n, text, c + 1), (int)c);
        CHECK_STR(text, coded[i]);
        CHECK_INT(crypto_base64_encode((const uint8_t *)plain[i], n, text, c), -1);
        /* Decoding fits in exactly the decoded length: padding never spills. */
        memset(bin, 0xee, sizeof bin);
        CHECK_INT(crypto_base64_decode(coded[i], c, bin, n), (int)n);
        CHECK_MEM(bin, plain[i], n);
        CHECK_INT(bin[n], 0xee);
        if (n > 0)
            CHECK_INT(crypto_base64_decode(coded[i], c, bin, n - 1), -1);
    }
}

static void test_base64_rejects(void)
{
    static const char *const bad[] = {"Zg=",  "Zg",   "Z===", "Zm9v Yg==", " Zm9v", "Zm9v\n",
                                      "Z=g=", "Zm=v", "Zm9*", "====",      "Zg==Zg=="};
    uint8_t bin[16];

    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK_INT(crypto_base64_decode(bad[i], strlen(bad[i]), bin, sizeof bin), -1);
}

/* The REST API password (DESIGN.md §4): base64(HMAC-SHA1(secret, username)), round trip. */
static void test_base64_of_a_mac(void)
{
    const struct crypto_buf user = {"1700000000:alice", 16};
    uint8_t mac[20], back[20];
    char text[29];

    CHECK_INT(crypto_hmac(CRYPTO_SHA1, (const uint8_t *)"secret", 6, &user, 1, mac), 0);
    CHECK_INT(crypto_base64_encode(mac, sizeof mac, text, sizeof text), 28);
    CHECK_INT(crypto_base64_decode(text, 28, back, sizeof back), 20);
    CHECK_MEM(back, mac, 20);
}

static void test_random_and_equal(void)
{
    uint8_t a[32], b[32];

    memset(a, 0, sizeof a);
    memset(b, 0, sizeof b);
    CHECK_INT(crypto_random(a, sizeof a), 0);
    CHECK_INT(crypto_random(b, sizeof b), 0);
    CHECK(!crypto_equal(a, b, sizeof a)); /* 2^-256 */
    CHECK(crypto_equal(a, a, sizeof a));
    CHECK(crypto_equal(a, b, 0));
    memcpy(b, a, sizeof a);
    b[31] ^= 1;
    CHECK(!crypto_equal(a, b, sizeof a));
    CHECK(crypto_equal(a, b, 31));
    CHECK_INT(crypto_random(a, 0), 0);
}

/* The CRC-32 check value of "123456789" (ISO-HDLC), and FINGERPRINT = CRC xor 0x5354554e. */
static void test_crc32(void)
{
    CHECK_INT(stun_crc32((const uint8_t *)"123456789", 9), 0xcbf43926);
    CHECK_INT(stun_crc32(NULL, 0), 0);
    CHECK_INT(stun_fingerprint((const uint8_t *)"123456789", 9), 0xcbf43926 ^ 0x5354554e);
}

/* Long-term keys are the digest of "user:realm:password" (RFC 8489 §9.2.2). */
static void test_keys(void)
{
    uint8_t k[32], d[32];
    const struct crypto_buf joined = {"u:r:p", 5}, uh = {"u:r", 3};

    CHECK_INT(stun_key_md5("u", "r", "p", k), STUN_OK);
    crypto_digest(CRYPTO_MD5, &joined, 1, d);
    CHECK_MEM(k, d, 16);
    CHECK_INT(stun_key_sha256("u", "r", "p", k), STUN_OK);
    crypto_digest(CRYPTO_SHA256, &joined, 1, d);
    CHECK_MEM(k, d, 32);
    CHECK_INT(stun_userhash("u", "r", k), STUN_OK);
    crypto_digest(CRYPTO_SHA256, &uh, 1, d);
    CHECK_MEM(k, d, 32);
}

int main(void)
{
    RUN(test_hmac_known_answers);
    RUN(test_digest_known_answers);
    RUN(test_base64_vectors);
    RUN(test_base64_rejects);
    RUN(test_base64_of_a_mac);
    RUN(test_random_and_equal);
    RUN(test_crc32);
    RUN(test_keys);
    return check_summary();
}
