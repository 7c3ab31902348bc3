/* redisconf.h — coturn's Redis connection strings: "host=H port=P dbname=N password=S ...". */
#ifndef AUTH_REDISCONF_H
#define AUTH_REDISCONF_H

#include <stddef.h>
#include <stdint.h>

#define AUTH_REDISCONF_STR 256

/* Where a Redis database is and how to log in.  Defaults: 127.0.0.1, port 6379, database 0,
 * no password, no user name, the caller's connect timeout. */
struct auth_redisconf {
    char host[AUTH_REDISCONF_STR];
    uint16_t port;
    char unix_socket[108];              /* non-empty: connect to this socket, not host:port */
    unsigned db;                        /* SELECT db */
    char user[AUTH_REDISCONF_STR];      /* Redis 6 ACL user for AUTH, "" for none */
    char password[AUTH_REDISCONF_STR];  /* AUTH [user] password, "" for none */
    unsigned connect_timeout;           /* seconds, 0 = the caller's default */
};

/* Parses a space-separated list of key=value words, with coturn's names and synonyms:
 * host (ip, addr, ipaddr, hostaddr), port (p), dbname (db, database), password (pwd, passwd,
 * secret), user (uname, name, username), connect_timeout (timeout), and unix_socket (socket).
 * A later word wins over an earlier one.  Returns 0, or -1 with the reason in err (an unknown
 * key, a word without '=', a value out of range or too long); the message never repeats a
 * password. */
int auth_redisconf_parse(struct auth_redisconf *c, const char *s, char *err, size_t errlen);

/* "127.0.0.1:6379 db 2" or "unix:/run/redis.sock db 0", for log lines (no password). */
void auth_redisconf_describe(const struct auth_redisconf *c, char *out, size_t cap);

#endif
