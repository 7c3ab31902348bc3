/* redis.h — a redis-server for the tests: a free port, a temporary directory, no persistence;
 * stopped by PID, killed and restarted on the same port for outage tests; commands. */
#ifndef TESTS_LIB_REDIS_H
#define TESTS_LIB_REDIS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct redis_srv {
    pid_t pid;
    uint16_t port;
    char dir[64];
    char conn[96]; /* "host=127.0.0.1 port=PORT dbname=0", for -N and --redis-userdb */
};

/* Starts redis-server on a free port (127.0.0.1 only, --save '' --appendonly no) in a new
 * temporary directory, and waits up to 5 s for it to answer PING.  0, or -1 after saying
 * why (redis-server missing: the Makefile's test packages install it). */
int redis_start(struct redis_srv *r);

/* The same on a port chosen by the caller (a server was told of it before). */
int redis_start_on(struct redis_srv *r, uint16_t port);

/* SIGKILL, as a crash: the server is gone at once. */
void redis_kill(struct redis_srv *r);

/* Starts it again on the same port and directory (empty: nothing was saved).  0 or -1. */
int redis_restart(struct redis_srv *r);

/* Stops it (SIGTERM, then SIGKILL after 2 s) and removes the directory. */
void redis_stop(struct redis_srv *r);

/* Runs one command, its words NULL-terminated, and writes the reply as text into out: a
 * string or status as it is, an integer in decimal, nil as "(nil)", an array's elements
 * sorted and joined by '\n', an error as "ERR ...".  Returns 0, or -1 when Redis did not
 * answer. */
int redis_cmd(const struct redis_srv *r, char *out, size_t cap, ...)
    __attribute__((sentinel));

/* The turnadmin beside the server under test (build/turnadmin, build/san/turnadmin). */
const char *redis_turnadmin_path(void);

/* Runs tool (a path, or "turnadmin" for coturn's) with the words given (NULL-terminated),
 * each quoted for the shell, for at most 10 s; its stdout and stderr go to out.  Returns its
 * exit status, or -1. */
int redis_admin(const char *tool, char *out, size_t cap, ...) __attribute__((sentinel));

#endif
