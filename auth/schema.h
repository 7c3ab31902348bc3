/* schema.h — the Redis key schema (coturn's, plus one key of ours): key names and values. */
#ifndef AUTH_SCHEMA_H
#define AUTH_SCHEMA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* coturn's keys, read as coturn's turnadmin writes them:
 *   turn/realm/<realm>/user/<name>/key        string: MD5 key, 32 hex digits
 *   turn/realm/<realm>/user/<name>/password   string: a plain password (older coturn setups)
 *   turn/realm/<realm>/secret                 set: TURN REST API secrets
 *   turn/realm/<realm>/user-quota, /total-quota, /max-bps   string: a decimal number
 *   turn/realm/<realm>/allowed-peer-ip, /denied-peer-ip     set: IP, A-B or IP/N ranges
 *   turn/origin/<origin>                      string: the realm of an ORIGIN
 *   turn/realm/<realm>/user/<name>/allocation/<id>/status   string (statsdb), with a TTL
 * and ours:
 *   turn/realm/<realm>/user/<name>/sha256-key string: "<64 hex SHA-256 key>:<32 hex MD5 key>",
 *       the RFC 8489 SHA-256 key, valid only while the user's MD5 key (from key or password)
 *       is the one after the colon: a password changed or a user deleted by coturn's own
 *       turnadmin, which knows nothing of this key, cannot leave the old SHA-256 key usable.
 *   turn/realm/<realm>/user/<name>/allocations  sorted set (statsdb): the user's allocations
 *       on every node, scored by expiry time, for --user-quota across nodes. */

#define AUTH_SCHEMA_KEY "key"
#define AUTH_SCHEMA_PASSWORD "password"
#define AUTH_SCHEMA_SHA256 "sha256-key"
#define AUTH_SCHEMA_SECRET "secret"
#define AUTH_SCHEMA_USER_QUOTA "user-quota"
#define AUTH_SCHEMA_TOTAL_QUOTA "total-quota"
#define AUTH_SCHEMA_MAX_BPS "max-bps"
#define AUTH_SCHEMA_ALLOWED "allowed-peer-ip"
#define AUTH_SCHEMA_DENIED "denied-peer-ip"
#define AUTH_SCHEMA_ALLOCATIONS "allocations"

/* Room for any key name built here: a realm (< 128 characters), a user (< 513 bytes) or an
 * origin, and the fixed parts. */
#define AUTH_SCHEMA_KEY_MAX 2048
/* Length of a sha256-key value, NUL excluded. */
#define AUTH_SCHEMA_SHA256_VALUE_LEN (64 + 1 + 32)

/* Key names, written NUL-terminated into buf (capacity cap).  Each returns the length, or -1
 * when it does not fit.  user: turn/realm/<realm>/user/<name>/<leaf>; realm:
 * turn/realm/<realm>/<leaf>; origin: turn/origin/<origin>; alloc:
 * turn/realm/<realm>/user/<name>/allocation/<id>/<leaf>. */
int auth_schema_user(char *buf, size_t cap, const char *realm, const char *name,
                     const char *leaf);
int auth_schema_realm(char *buf, size_t cap, const char *realm, const char *leaf);
int auth_schema_origin(char *buf, size_t cap, const char *origin);
int auth_schema_alloc(char *buf, size_t cap, const char *realm, const char *name,
                      const char *id, const char *leaf);

/* An ORIGIN as coturn files it under turn/origin/: "scheme://host[:port]" lower-cased, with
 * anything after the authority dropped and port 80 or 443 added for http and https; a value
 * without "://" stays as it is.  Writes it NUL-terminated into out; its length, or -1 when it
 * does not fit. */
int auth_schema_origin_canonic(const char *origin, char *out, size_t cap);

/* An MD5 key value: 32 hex digits, either case, with or without a leading 0x.  False when
 * malformed (out is then unspecified). */
bool auth_schema_md5(const char *v, size_t len, uint8_t out[16]);

/* What a sha256-key value turned out to be. */
enum auth_schema_sha256 {
    AUTH_SCHEMA_SHA256_OK,
    AUTH_SCHEMA_SHA256_MALFORMED, /* not 64 hex digits, ':', 32 hex digits */
    AUTH_SCHEMA_SHA256_STALE,     /* made with another MD5 key than md5 */
};

/* Checks a sha256-key value against the user's current MD5 key; on OK the key is in out. */
enum auth_schema_sha256 auth_schema_sha256(const char *v, size_t len, const uint8_t md5[16],
                                           uint8_t out[32]);

/* Writes the sha256-key value for a SHA-256 key made alongside MD5 key md5 (out: at least
 * AUTH_SCHEMA_SHA256_VALUE_LEN + 1 bytes). */
void auth_schema_sha256_value(const uint8_t sha256[32], const uint8_t md5[16], char *out);

/* A realm option's value: decimal digits only (no sign, no spaces), at most UINT32_MAX. */
bool auth_schema_count(const char *v, size_t len, uint32_t *out);

#endif
