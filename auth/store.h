/* store.h — the embedded credential store: users, the userdb file, TURN REST secrets. */
#ifndef AUTH_STORE_H
#define AUTH_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/stun_integrity.h"

/* A long-term key for one user: MD5 (RFC 5389 and the default) and, when the password is
 * known or a 32-byte key was given, SHA-256 (RFC 8489 PASSWORD-ALGORITHM 2). */
struct auth_key {
    bool has_md5;
    bool has_sha256;
    uint8_t md5[STUN_KEY_MD5_LEN];
    uint8_t sha256[STUN_KEY_SHA256_LEN];
};

/* Both keys of name's password in realm (RFC 8489 §9.2.2); false when the password cannot
 * make them (not valid UTF-8 under OpaqueString), has_md5 and has_sha256 then false. */
bool auth_key_from_password(struct auth_key *k, const char *name, const char *realm,
                            const char *password);

/* Most keys one lookup returns: REST credentials yield one candidate per secret. */
#define AUTH_MAX_KEYS 8

struct auth_store;

/* Creates an empty store for realm (copied). */
int auth_store_new(struct auth_store **out, const char *realm);
void auth_store_free(struct auth_store *s);

/* The longest user name the store takes, in bytes: a client's USERNAME holds fewer than 509
 * (RFC 8489 §14.3), so a longer name could never authenticate.  (Received USERNAMEs are
 * parsed up to STUN_MAX_USERNAME, 763, for RFC 5389 clients.) */
#define AUTH_USER_NAME_MAX 508

/* Adds a user from a "name:password" or "name:0xHEX" line (HEX: a 16-byte MD5 key or a
 * 32-byte SHA-256 key, as printed by turnadmin -k), or "name:0xMD5:0xSHA256" with both keys
 * of one password (as turnadmin -a writes a userdb file).  Returns 0, or -1 with the reason in err
 * ("missing ':'", "bad hex key"). */
int auth_store_add_user(struct auth_store *s, const char *line, char *err, size_t errlen);

/* Replaces the users that came from a userdb file with the lines of path ('#' comments and
 * blank lines ignored; each line as auth_store_add_user takes it).  On any error nothing
 * changes and err names the file and line.  Users added with auth_store_add_user stay.
 * Safe to call while other threads look users up. */
int auth_store_load_file(struct auth_store *s, const char *path, char *err, size_t errlen);

/* SIGHUP: the users given by configuration become exactly these n lines (as
 * auth_store_add_user takes them), and the REST secrets exactly these n secrets.  On an error
 * nothing changes (err says why).  Safe while other threads look users up.  0 or -1. */
int auth_store_set_users(struct auth_store *s, char *const *lines, size_t n, char *err,
                         size_t errlen);
int auth_store_set_secrets(struct auth_store *s, char *const *secrets, size_t n);

/* TURN REST API (draft-uberti-behave-turn-rest): adds a shared secret (several may be active
 * at once, for rotation), and sets the separator between expiry time and user name. */
int auth_store_add_secret(struct auth_store *s, const char *secret);
void auth_store_set_rest_separator(struct auth_store *s, char sep);

/* True when a REST secret has been added.  REST names cannot be found by USERHASH, and a
 * client told that the server offers username anonymity MUST send USERHASH (RFC 8489 §9.2.5),
 * so a server with secrets must not offer it.  Thread-safe. */
bool auth_store_has_secrets(struct auth_store *s);

/* Looks up the keys for a USERNAME (len bytes, not NUL-terminated) in the store's realm at
 * time now (Unix seconds).  With REST secrets, a name "EXPIRY<sep>user" (or a bare "EXPIRY")
 * with EXPIRY >= now yields one key per secret, made from the password
 * base64(HMAC-SHA1(secret, name)); an expired name yields none.  Users of the store are looked
 * up too.  Returns the number of keys written to keys (at most max), 0 for an unknown user.
 * Thread-safe. */
int auth_store_lookup(struct auth_store *s, const uint8_t *user, size_t len, uint32_t now,
                      struct auth_key *keys, size_t max);

/* Finds the user name whose USERHASH (SHA-256 of "user:realm") is hash, among the store's
 * users (not REST names, which cannot be reversed).  Copies it NUL-terminated into name.
 * Returns its length, or -1.  Thread-safe. */
int auth_store_find_userhash(struct auth_store *s, const uint8_t hash[STUN_USERHASH_LEN],
                             char *name, size_t cap);

/* The realm given to auth_store_new. */
const char *auth_store_realm(const struct auth_store *s);

#endif
