/* test_redis_schema.c — coturn's connection strings, the Redis key names and value checks, and
 * the REST keys the Redis store derives. */
#include <stdio.h>
#include <string.h>

#include "auth/redisconf.h"
#include "auth/rest.h"
#include "auth/schema.h"
#include "proto/crypto.h"
#include "proto/hex.h"
#include "tests/lib/check.h"

static void test_conf_defaults(void)
{
    struct auth_redisconf c;
    char d[128];

    CHECK_INT(auth_redisconf_parse(&c, "", NULL, 0), 0);
    CHECK_STR(c.host, "127.0.0.1");
    CHECK_INT(c.port, 6379);
    CHECK_INT(c.db, 0);
    CHECK_STR(c.password, "");
    CHECK_STR(c.user, "");
    CHECK_STR(c.unix_socket, "");
    CHECK_INT(c.connect_timeout, 0);
    auth_redisconf_describe(&c, d, sizeof d);
    CHECK_STR(d, "127.0.0.1:6379 db 0");
}

/* The string, coturn's synonyms, a later word winning, IPv6 and a socket. */
static void test_conf_fields(void)
{
    struct auth_redisconf c;
    char d[128];

    CHECK_INT(auth_redisconf_parse(&c,
                                   "host=10.1.2.3 port=6380 dbname=2 password=pw:x "
                                   "connect_timeout=30",
                                   NULL, 0),
              0);
    CHECK_STR(c.host, "10.1.2.3");
    CHECK_INT(c.port, 6380);
    CHECK_INT(c.db, 2);
    CHECK_STR(c.password, "pw:x");
    CHECK_INT(c.connect_timeout, 30);
    CHECK_INT(auth_redisconf_parse(&c, "  ip=::1\tp=1 database=7 secret=s user=u timeout=0 "
                                       "addr=redis.example ", NULL, 0),
              0);
    CHECK_STR(c.host, "redis.example");
    CHECK_INT(c.port, 1);
    CHECK_INT(c.db, 7);
    CHECK_STR(c.password, "s");
    CHECK_STR(c.user, "u");
    CHECK_INT(auth_redisconf_parse(&c, "hostaddr=::1 pwd=a passwd=b", NULL, 0), 0);
    CHECK_STR(c.password, "b");
    auth_redisconf_describe(&c, d, sizeof d);
    CHECK_STR(d, "[::1]:6379 db 0");
    CHECK_INT(auth_redisconf_parse(&c, "unix_socket=/run/redis/redis.sock db=3", NULL, 0), 0);
    auth_redisconf_describe(&c, d, sizeof d);
    CHECK_STR(d, "unix:/run/redis/redis.sock db 3");
}

static const struct {
    const char *in;
    const char *want;
} conf_errors[] = {
    {"host", "'host' is not key=value"},
    {"host=a colour=blue", "unknown key 'colour' (host, port, dbname, password, user, "
                           "connect_timeout or unix_socket)"},
    {"port=0", "port '0' is not a port in 1..65535"},
    {"port=65536", "port '65536' is not a port in 1..65535"},
    {"p=80x", "p '80x' is not a port in 1..65535"},
    {"dbname=-1", "dbname '-1' is not a database number"},
    {"db=", "db '' is not a database number"},
    {"connect_timeout=3601", "connect_timeout '3601' is not a number of seconds in 0..3600"},
    {"host=", "'host' is empty"},
    {"unix_socket=", "'unix_socket' is empty"},
};

static void test_conf_errors(void)
{
    struct auth_redisconf c = {.port = 42};
    char err[256], longpw[400];

    for (size_t i = 0; i < sizeof conf_errors / sizeof conf_errors[0]; i++) {
        err[0] = '\0';
        CHECK_INT(auth_redisconf_parse(&c, conf_errors[i].in, err, sizeof err), -1);
        CHECK_STR(err, conf_errors[i].want);
    }
    CHECK_INT(c.port, 42); /* untouched on failure */
    /* A password too long: the message names the key, never the value. */
    memset(longpw, 'x', sizeof longpw);
    memcpy(longpw, "password=", 9);
    longpw[sizeof longpw - 1] = '\0';
    CHECK_INT(auth_redisconf_parse(&c, longpw, err, sizeof err), -1);
    CHECK_STR(err, "'password' is longer than 255 characters");
}

static void test_key_names(void)
{
    char k[AUTH_SCHEMA_KEY_MAX], tiny[16];

    CHECK_INT(auth_schema_user(k, sizeof k, "north.gov", "gorst", AUTH_SCHEMA_KEY), 35);
    CHECK_STR(k, "turn/realm/north.gov/user/gorst/key");
    auth_schema_user(k, sizeof k, "r", "u", AUTH_SCHEMA_SHA256);
    CHECK_STR(k, "turn/realm/r/user/u/sha256-key");
    auth_schema_realm(k, sizeof k, "north.gov", AUTH_SCHEMA_SECRET);
    CHECK_STR(k, "turn/realm/north.gov/secret");
    auth_schema_realm(k, sizeof k, "r", AUTH_SCHEMA_DENIED);
    CHECK_STR(k, "turn/realm/r/denied-peer-ip");
    auth_schema_origin(k, sizeof k, "http://crinna.org:80");
    CHECK_STR(k, "turn/origin/http://crinna.org:80");
    auth_schema_alloc(k, sizeof k, "r", "u", "42", "status");
    CHECK_STR(k, "turn/realm/r/user/u/allocation/42/status");
    CHECK_INT(auth_schema_user(tiny, sizeof tiny, "r", "u", "key"), -1);
}

/* coturn's canonical ORIGIN, as its turnadmin -O files it (checked against coturn 4.6). */
static void test_origins(void)
{
    static const struct {
        const char *in, *want;
    } cases[] = {
        {"HTTPS://Example.COM/abc", "https://example.com:443"},
        {"https://a.org:8443", "https://a.org:8443"},
        {"http://[::1]", "http://[::1]:80"},
        {"http://[::1]:8080/a?b", "http://[::1]:8080"},
        {"http://b.org:80/", "http://b.org:80"},
        {"WS://X.org/p", "ws://x.org"},
        {"Example.NET/x", "Example.NET/x"},
        {"http://h.org?q#f", "http://h.org:80"},
    };
    char out[64], tiny[8];

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        CHECK_INT(auth_schema_origin_canonic(cases[i].in, out, sizeof out),
                  (int)strlen(cases[i].want));
        CHECK_STR(out, cases[i].want);
    }
    CHECK_INT(auth_schema_origin_canonic("https://example.com", tiny, sizeof tiny), -1);
}

static void test_md5_values(void)
{
    uint8_t k[16], want[16];

    hex_decode("7da2270ccfa49786e0115366d3a3d14d", 32, want, sizeof want);
    CHECK(auth_schema_md5("7da2270ccfa49786e0115366d3a3d14d", 32, k));
    CHECK_MEM(k, want, 16);
    CHECK(auth_schema_md5("0x7DA2270CCFA49786E0115366D3A3D14D", 34, k));
    CHECK_MEM(k, want, 16);
    CHECK(!auth_schema_md5("7da2270ccfa49786e0115366d3a3d14", 31, k));
    CHECK(!auth_schema_md5("7da2270ccfa49786e0115366d3a3d14d0", 33, k));
    CHECK(!auth_schema_md5("7da2270ccfa49786e0115366d3a3d1zz", 32, k));
    CHECK(!auth_schema_md5("", 0, k));
    CHECK(!auth_schema_md5("0x", 2, k));
}

static void test_sha256_values(void)
{
    uint8_t md5[16], other[16], sha[32], got[32];
    char v[AUTH_SCHEMA_SHA256_VALUE_LEN + 1];

    memset(md5, 0xab, sizeof md5);
    memset(other, 0xcd, sizeof other);
    for (int i = 0; i < 32; i++)
        sha[i] = (uint8_t)i;
    auth_schema_sha256_value(sha, md5, v);
    CHECK_INT(strlen(v), AUTH_SCHEMA_SHA256_VALUE_LEN);
    CHECK_STR(v, "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f:"
                 "abababababababababababababababab");
    CHECK_INT(auth_schema_sha256(v, strlen(v), md5, got), AUTH_SCHEMA_SHA256_OK);
    CHECK_MEM(got, sha, 32);
    /* Bound to another MD5 key: a password changed by a tool that knows no sha256-key. */
    CHECK_INT(auth_schema_sha256(v, strlen(v), other, got), AUTH_SCHEMA_SHA256_STALE);
    v[64] = '-';
    CHECK_INT(auth_schema_sha256(v, strlen(v), md5, got), AUTH_SCHEMA_SHA256_MALFORMED);
    CHECK_INT(auth_schema_sha256(v, 64, md5, got), AUTH_SCHEMA_SHA256_MALFORMED);
    CHECK_INT(auth_schema_sha256("zz", 2, md5, got), AUTH_SCHEMA_SHA256_MALFORMED);
}

static void test_counts(void)
{
    uint32_t n = 7;

    CHECK(auth_schema_count("0", 1, &n) && n == 0);
    CHECK(auth_schema_count("4294967295", 10, &n) && n == UINT32_MAX);
    CHECK(!auth_schema_count("4294967296", 10, &n));
    CHECK(!auth_schema_count("12345678901", 11, &n));
    CHECK(!auth_schema_count("", 0, &n));
    CHECK(!auth_schema_count("-1", 2, &n));
    CHECK(!auth_schema_count(" 1", 2, &n));
    CHECK(!auth_schema_count("ten", 3, &n));
    CHECK(!auth_schema_count("1e3", 3, &n));
    CHECK_INT(n, UINT32_MAX);
}

/* REST keys: the draft's password is base64(HMAC-SHA1(secret, name)); one key per secret;
 * none for an expired name, one not of the form, or no secrets. */
static void test_rest_keys(void)
{
    const char *secrets[] = {"logen", "bloody9"};
    struct auth_key keys[4], want;
    uint8_t mac[20];
    char pw[32];
    const struct crypto_buf part = {"2000000000:ninefingers", 22};
    uint64_t expiry;

    CHECK_INT(auth_rest_keys(secrets, 2, "2000000000:ninefingers", "north.gov", ':',
                             1700000000u, keys, 4),
              2);
    crypto_hmac(CRYPTO_SHA1, (const uint8_t *)"bloody9", 7, &part, 1, mac);
    crypto_base64_encode(mac, sizeof mac, pw, sizeof pw);
    stun_key_md5("2000000000:ninefingers", "north.gov", pw, want.md5);
    CHECK_MEM(keys[1].md5, want.md5, 16);
    CHECK(keys[1].has_md5 && keys[1].has_sha256);
    CHECK_INT(auth_rest_keys(secrets, 2, "2000000000:ninefingers", "north.gov", ':',
                             1700000000u, keys, 1),
              1);
    CHECK_INT(auth_rest_keys(secrets, 2, "1600000000:old", "north.gov", ':', 1700000000u,
                             keys, 4),
              0);
    CHECK_INT(auth_rest_keys(secrets, 2, "gorst", "north.gov", ':', 1700000000u, keys, 4), 0);
    CHECK_INT(auth_rest_keys(secrets, 0, "2000000000", "north.gov", ':', 1700000000u, keys, 4),
              0);
    CHECK(auth_rest_expiry("2000000000", 10, ':', &expiry) && expiry == 2000000000u);
    CHECK(auth_rest_expiry("17#a:b", 6, '#', &expiry) && expiry == 17);
    CHECK(!auth_rest_expiry(":a", 2, ':', &expiry));
    CHECK(!auth_rest_expiry("12345678901234567890:a", 22, ':', &expiry));
}

int main(void)
{
    RUN(test_conf_defaults);
    RUN(test_conf_fields);
    RUN(test_conf_errors);
    RUN(test_key_names);
    RUN(test_origins);
    RUN(test_md5_values);
    RUN(test_sha256_values);
    RUN(test_counts);
    RUN(test_rest_keys);
    return check_summary();
}
