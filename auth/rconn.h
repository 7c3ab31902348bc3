/* rconn.h — one asynchronous Redis connection of a worker: login, commands bounded in time,
 * reconnection with backoff, one log line per outage.  The only user of hiredis's async API. */
#ifndef AUTH_RCONN_H
#define AUTH_RCONN_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "auth/redisconf.h"

struct event_base;
struct rconn;
/* A reply, owned by the connection and valid only during the callback it is passed to. */
struct rconn_reply;

/* What a command's callback gets: its reply, or NULL when the command failed (no connection,
 * the connection dropped, or no answer within the timeout).  Called exactly once for every
 * command rconn_command accepted, also from rconn_free. */
typedef void rconn_reply_fn(void *arg, const struct rconn_reply *reply);

enum rconn_level { RCONN_LOG_ERROR, RCONN_LOG_WARN, RCONN_LOG_INFO, RCONN_LOG_DEBUG };
typedef void rconn_log_fn(enum rconn_level level, const char *msg);

/* Shared by every worker's connection to the same database (owned by the caller, zeroed
 * before the first rconn_new), so that an outage seen by all of them is logged once: by the
 * first connection to lose it, and its end by the last to get it back. */
struct rconn_group {
    _Atomic unsigned down; /* connections of the group that are down now */
    _Atomic bool reached;  /* some connection has been up once */
};

struct rconn_opts {
    const struct auth_redisconf *conf; /* copied */
    const char *name;                  /* "userdb", "statsdb": named in the log lines */
    unsigned timeout_ms;               /* --redis-timeout: a command not answered by then
                                          drops the connection and fails */
    const char *down_note;             /* what an outage means, for its log line */
    rconn_log_fn *log;
    struct rconn_group *group;         /* may be NULL: every outage is logged */
};

/* Counters: written by the owner's thread only (RCONN_INC: no locked instruction), read by
 * any thread with atomic loads. */
struct rconn_stats {
    _Atomic uint64_t commands; /* accepted */
    _Atomic uint64_t failed;   /* callbacks without a reply */
    _Atomic uint64_t timeouts; /* connections dropped for an answer late by --redis-timeout */
    _Atomic uint64_t connects; /* logins that succeeded */
    _Atomic bool up;           /* logged in now */
};

#define RCONN_INC(ctr) \
    atomic_store_explicit(&(ctr), atomic_load_explicit(&(ctr), memory_order_relaxed) + 1, \
                          memory_order_relaxed)

/* Creates the connection and starts the first connection attempt in base's loop (the caller's
 * thread owns base; the connection is used only from the thread that runs base).  A host
 * name is resolved here, once.  Redis unreachable is not an error: the connection keeps
 * trying (100 ms, doubling to 5 s).  0, or -1 (no memory). */
int rconn_new(struct rconn **out, struct event_base *base, const struct rconn_opts *o);

/* Fails every command still waiting (their callbacks run now), closes, frees.  Accepts NULL. */
void rconn_free(struct rconn *c);

/* Drops the connection as if Redis had gone (commands in flight fail, an attempt follows
 * with backoff, the outage is logged): for a Redis that answers what it should not. */
void rconn_reset(struct rconn *c, const char *why);

/* True when logged in, or while an attempt is under way (commands then wait for it). */
bool rconn_usable(const struct rconn *c);

/* Sends a command whose words are argv[i] (argvlen[i] bytes each: keys and values are always
 * passed as such words, never formatted into the command).  fn(arg, reply) follows once.
 * Returns 0, or -1 when the connection is down (fn is not called). */
int rconn_command(struct rconn *c, rconn_reply_fn *fn, void *arg, int argc, const char **argv,
                  const size_t *argvlen);

/* The same for words that are NUL-terminated strings (argv NULL-terminated). */
int rconn_commandv(struct rconn *c, rconn_reply_fn *fn, void *arg, const char *const *argv);

const struct rconn_stats *rconn_stats(const struct rconn *c);

/* Replies. */
enum rconn_type { RCONN_NIL, RCONN_STRING, RCONN_INTEGER, RCONN_ARRAY, RCONN_STATUS,
                  RCONN_ERROR };
enum rconn_type rconn_reply_type(const struct rconn_reply *r);
/* STRING, STATUS and ERROR: the bytes (*len of them, NUL-terminated); else NULL. */
const char *rconn_reply_str(const struct rconn_reply *r, size_t *len);
/* INTEGER: the value; else 0. */
long long rconn_reply_int(const struct rconn_reply *r);
/* ARRAY: the number of elements and element i; else 0 and NULL. */
size_t rconn_reply_count(const struct rconn_reply *r);
const struct rconn_reply *rconn_reply_elem(const struct rconn_reply *r, size_t i);

#endif
