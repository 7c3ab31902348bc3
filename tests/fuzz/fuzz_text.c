/* fuzz_text.c — libFuzzer target: the text parsers an operator's files and Redis values reach.
 *
 * The first byte picks the parser, the rest is its text: a turnserver.conf (through
 * config_load, as -c FILE), a userdb file, one --user line, a Redis connection string, a peer
 * range (allowed and denied), a transport address, and the values read from coturn's Redis
 * schema (an MD5 key, a sha256-key, a realm count, an ORIGIN).  Each must accept or refuse
 * with a message, never read out of bounds, leak or crash; what it accepts must hold up. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "auth/redisconf.h"
#include "auth/schema.h"
#include "auth/store.h"
#include "proto/addr.h"
#include "relay/policy.h"
#include "server/config.h"
#include "server/log.h"
#include "tests/fuzz/fuzz.h"

enum parser {
    P_CONFIG,
    P_USERDB,
    P_USER,
    P_REDISCONF,
    P_RANGE,
    P_ADDR,
    P_SCHEMA,
    P_COUNT /* how many */
};

/* The text as a file the parsers can open by name: an anonymous memory file, /proc/self/fd/N.
 * Returns its descriptor (path in path), or -1. */
static int as_file(const char *text, size_t len, char *path, size_t cap)
{
    int fd = memfd_create("fuzz_text", MFD_CLOEXEC);

    if (fd < 0)
        return -1;
    if (write(fd, text, len) != (ssize_t)len) {
        close(fd);
        return -1;
    }
    snprintf(path, cap, "/proc/self/fd/%d", fd);
    return fd;
}

static void config_file(const char *text, size_t len)
{
    char path[64], err[512], *argv[] = {"turnserver", "-c", path, NULL};
    struct config cfg;
    int fd = as_file(text, len, path, sizeof(path));

    if (fd < 0)
        return;
    if (config_load(&cfg, 3, argv, NULL, err, sizeof(err)) == 0)
        config_free(&cfg);
    else
        REQUIRE(memchr(err, '\0', sizeof(err)) != NULL && err[0] != '\0');
    close(fd);
}

static void userdb_file(const char *text, size_t len)
{
    char path[64], err[512];
    struct auth_store *s;
    struct auth_key keys[4];
    int fd = as_file(text, len, path, sizeof(path));

    if (fd < 0)
        return;
    if (auth_store_new(&s, "fuzz.example") == 0) {
        if (auth_store_load_file(s, path, err, sizeof(err)) < 0)
            REQUIRE(err[0] != '\0');
        auth_store_lookup(s, (const uint8_t *)"alice", 5, 0, keys, 4);
        auth_store_free(s);
    }
    close(fd);
}

static void user_line(const char *text)
{
    char err[512], name[600];
    struct auth_store *s;
    struct auth_key keys[4];
    size_t n = strcspn(text, ":");

    if (auth_store_new(&s, "fuzz.example") < 0)
        return;
    if (auth_store_add_user(s, text, err, sizeof(err)) == 0 && n < sizeof(name)) {
        /* What was taken is found again by its name. */
        memcpy(name, text, n);
        REQUIRE(auth_store_lookup(s, (const uint8_t *)name, n, 0, keys, 4) >= 1);
    }
    auth_store_free(s);
}

static void redis_conf(const char *text)
{
    struct auth_redisconf c;
    char err[512];

    if (auth_redisconf_parse(&c, text, err, sizeof(err)) < 0)
        REQUIRE(err[0] != '\0');
}

static void peer_range(const char *text)
{
    static const char *const probes[] = {"0.0.0.0", "10.1.2.3", "127.0.0.1", "192.0.2.1",
                                         "255.255.255.255", "::", "::1", "2001:db8::7",
                                         "::ffff:10.1.2.3", "fe80::1"};
    struct relay_policy *p;
    char err[512];

    if (relay_policy_new(&p) < 0)
        return;
    if (relay_policy_allow(p, text, err, sizeof(err)) < 0)
        REQUIRE(err[0] != '\0');
    if (relay_policy_deny(p, text, err, sizeof(err)) < 0)
        REQUIRE(err[0] != '\0');
    for (size_t i = 0; i < sizeof(probes) / sizeof(probes[0]); i++) {
        union addr a;
        REQUIRE(addr_parse(&a, probes[i], 5000) == 0);
        relay_policy_allows(p, &a);
    }
    relay_policy_free(p);
}

static void transport_addr(const char *text)
{
    char out[ADDR_STRLEN];
    union addr a, b;

    if (addr_parse(&a, text, 3478) < 0)
        return;
    /* What is formatted parses back to the same address. */
    addr_format(&a, out, sizeof(out));
    REQUIRE(addr_parse(&b, out, 0) == 0 && addr_equal(&a, &b));
}

static void schema_values(const char *text, size_t len)
{
    uint8_t md5[16] = {0}, sha[32];
    char origin[300];
    uint32_t n;

    auth_schema_md5(text, len, md5);
    auth_schema_sha256(text, len, md5, sha);
    if (auth_schema_count(text, len, &n))
        REQUIRE(len > 0 && len <= 10);
    if (auth_schema_origin_canonic(text, origin, sizeof(origin)) == 0)
        REQUIRE(memchr(origin, '\0', sizeof(origin)) != NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text;
    size_t len;
    static bool quiet;

    if (!quiet) /* the parsers' warnings would flood the output */
        quiet = log_open("/dev/null", 0, LOG_LVL_ERROR) == 0;
    if (size < 1 || size > 65536)
        return 0;
    len = size - 1;
    text = malloc(len + 1);
    if (text == NULL)
        return 0;
    memcpy(text, data + 1, len);
    text[len] = '\0';
    switch (data[0] % P_COUNT) {
    case P_CONFIG: config_file(text, len); break;
    case P_USERDB: userdb_file(text, len); break;
    case P_USER: user_line(text); break;
    case P_REDISCONF: redis_conf(text); break;
    case P_RANGE: peer_range(text); break;
    case P_ADDR: transport_addr(text); break;
    case P_SCHEMA: schema_values(text, strlen(text)); break;
    }
    free(text);
    return 0;
}
