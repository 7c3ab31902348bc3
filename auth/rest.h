/* rest.h — TURN REST API ephemeral credentials (draft-uberti-behave-turn-rest): keys from secrets. */
#ifndef AUTH_REST_H
#define AUTH_REST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "auth/store.h"

/* The expiry time of a REST user name: the decimal digits before the first sep, or the whole
 * name when it has no sep (the draft's name is "expiry:user", the user part optional).  False
 * when the name does not have that form. */
bool auth_rest_expiry(const char *name, size_t len, char sep, uint64_t *expiry);

/* The candidate keys of REST user name (NUL-terminated) in realm at time now (Unix seconds):
 * none when the name is not of the REST form or has expired, else one per secret, made from
 * the password base64(HMAC-SHA1(secret, name)) as from any password (both MD5 and SHA-256).
 * Writes at most max keys and returns how many. */
size_t auth_rest_keys(const char *const *secrets, size_t nsecrets, const char *name,
                      const char *realm, char sep, uint32_t now, struct auth_key *keys,
                      size_t max);

#endif
