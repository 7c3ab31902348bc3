/* radmin.h — turnadmin's Redis side: users, REST secrets, realm options and origins of the
 * user database edited in coturn's key schema (auth/schema.h), synchronously. */
#ifndef AUTH_RADMIN_H
#define AUTH_RADMIN_H

#include <stddef.h>
#include <stdint.h>

#include "auth/redisconf.h"

struct radmin;

/* Connects and logs in (AUTH, SELECT), every step and command bounded by timeout_ms.
 * 0, or -1 with the reason in err ("cannot reach Redis at 127.0.0.1:6379 db 0: Connection
 * refused"). */
int radmin_open(struct radmin **out, const struct auth_redisconf *conf, unsigned timeout_ms,
                char *err, size_t errlen);
void radmin_close(struct radmin *r);

/* Every function below returns 0 (or a count where said), or -1 with the reason in err.  Names,
 * realms, secrets and origins go to Redis as command arguments, never inside a command. */

/* Sets user's MD5 key (turn/.../key) and our sha256-key, and removes a plain password. */
int radmin_set_user(struct radmin *r, const char *realm, const char *user,
                    const uint8_t md5[16], const uint8_t sha256[32], char *err, size_t errlen);

/* Removes user's key, password and sha256-key: the number of keys removed. */
int radmin_del_user(struct radmin *r, const char *realm, const char *user, char *err,
                    size_t errlen);

/* What a listing gives: one entry at a time, in the order found (valid during the call). */
typedef void radmin_line_fn(void *arg, const char *a, const char *b);

/* Users (a) with their realm (b) of realm, or of every realm when realm is NULL; found with
 * SCAN, never KEYS. */
int radmin_list_users(struct radmin *r, const char *realm, radmin_line_fn *fn, void *arg,
                      char *err, size_t errlen);

/* REST secrets of realm's set: add one, remove one (the number removed), remove all, list
 * them (a: secret, b: realm; every realm's when realm is NULL). */
int radmin_add_secret(struct radmin *r, const char *realm, const char *secret, char *err,
                      size_t errlen);
int radmin_del_secret(struct radmin *r, const char *realm, const char *secret, char *err,
                      size_t errlen);
int radmin_del_secrets(struct radmin *r, const char *realm, char *err, size_t errlen);
int radmin_list_secrets(struct radmin *r, const char *realm, radmin_line_fn *fn, void *arg,
                        char *err, size_t errlen);

/* A realm option (user-quota, total-quota, max-bps): value 0 removes it, as in coturn.  The
 * listing gives a: "realm/option", b: its value. */
int radmin_set_option(struct radmin *r, const char *realm, const char *option, uint32_t value,
                      char *err, size_t errlen);
int radmin_list_options(struct radmin *r, const char *realm, radmin_line_fn *fn, void *arg,
                        char *err, size_t errlen);

/* ORIGIN to realm (the origin canonical, as coturn files it): set, remove (the number
 * removed), list (a: origin, b: realm; only realm's when realm is not NULL). */
int radmin_add_origin(struct radmin *r, const char *origin, const char *realm, char *err,
                      size_t errlen);
int radmin_del_origin(struct radmin *r, const char *origin, char *err, size_t errlen);
int radmin_list_origins(struct radmin *r, const char *realm, radmin_line_fn *fn, void *arg,
                        char *err, size_t errlen);

#endif
