/* schema.c — the Redis key schema: key names, and the values checked before they are used. */
#include "auth/schema.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "proto/hex.h"

static int fit(int n, size_t cap)
{
    return n < 0 || (size_t)n >= cap ? -1 : n;
}

int auth_schema_user(char *buf, size_t cap, const char *realm, const char *name,
                     const char *leaf)
{
    return fit(snprintf(buf, cap, "turn/realm/%s/user/%s/%s", realm, name, leaf), cap);
}

int auth_schema_realm(char *buf, size_t cap, const char *realm, const char *leaf)
{
    return fit(snprintf(buf, cap, "turn/realm/%s/%s", realm, leaf), cap);
}

int auth_schema_origin(char *buf, size_t cap, const char *origin)
{
    return fit(snprintf(buf, cap, "turn/origin/%s", origin), cap);
}

int auth_schema_alloc(char *buf, size_t cap, const char *realm, const char *name,
                      const char *id, const char *leaf)
{
    return fit(snprintf(buf, cap, "turn/realm/%s/user/%s/allocation/%s/%s", realm, name, id,
                        leaf),
               cap);
}

int auth_schema_origin_canonic(const char *origin, char *out, size_t cap)
{
    const char *sep = strstr(origin, "://"), *auth, *end, *host_end;
    size_t n = 0;
    bool has_port;

    if (sep == NULL)
        return fit(snprintf(out, cap, "%s", origin), cap);
    auth = sep + 3;
    end = auth + strcspn(auth, "/?#");
    /* The port follows the host: after the brackets of an IPv6 literal, else after a ':'. */
    host_end = auth < end && *auth == '[' ? memchr(auth, ']', (size_t)(end - auth)) : auth;
    has_port = host_end != NULL && memchr(host_end, ':', (size_t)(end - host_end)) != NULL;
    if ((size_t)(end - origin) + 7 > cap)
        return -1;
    for (const char *p = origin; p < end; p++)
        out[n++] = (char)tolower((unsigned char)*p);
    out[n] = '\0';
    if (!has_port && (size_t)(sep - origin) == 4 && strncmp(out, "http", 4) == 0)
        strcpy(out + n, ":80");
    else if (!has_port && (size_t)(sep - origin) == 5 && strncmp(out, "https", 5) == 0)
        strcpy(out + n, ":443");
    return (int)strlen(out);
}

bool auth_schema_md5(const char *v, size_t len, uint8_t out[16])
{
    if (len >= 2 && v[0] == '0' && (v[1] == 'x' || v[1] == 'X')) {
        v += 2;
        len -= 2;
    }
    return hex_decode(v, len, out, 16) == 0;
}

enum auth_schema_sha256 auth_schema_sha256(const char *v, size_t len, const uint8_t md5[16],
                                           uint8_t out[32])
{
    uint8_t bound[16];

    if (len != AUTH_SCHEMA_SHA256_VALUE_LEN || v[64] != ':' || hex_decode(v, 64, out, 32) < 0 ||
        hex_decode(v + 65, 32, bound, sizeof bound) < 0)
        return AUTH_SCHEMA_SHA256_MALFORMED;
    return memcmp(bound, md5, sizeof bound) == 0 ? AUTH_SCHEMA_SHA256_OK
                                                 : AUTH_SCHEMA_SHA256_STALE;
}

void auth_schema_sha256_value(const uint8_t sha256[32], const uint8_t md5[16], char *out)
{
    hex_encode(sha256, 32, out);
    out[64] = ':';
    hex_encode(md5, 16, out + 65);
}

bool auth_schema_count(const char *v, size_t len, uint32_t *out)
{
    uint64_t x = 0;

    if (len == 0 || len > 10)
        return false;
    for (size_t i = 0; i < len; i++) {
        if (v[i] < '0' || v[i] > '9')
            return false;
        x = x * 10 + (uint64_t)(v[i] - '0');
    }
    if (x > UINT32_MAX)
        return false;
    *out = (uint32_t)x;
    return true;
}
