/* rconn.c — one asynchronous Redis connection: hiredis's async API on the worker's libevent
 * loop, commands bounded in time, reconnection with backoff, outages logged once. */
#include "auth/rconn.h"

#include <arpa/inet.h>
#include <event2/event.h>
#include <hiredis/adapters/libevent.h>
#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define RING_MAX 2048         /* commands in flight on one connection */
#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 5000
#define DEFAULT_CONNECT_MS 10000
#define MAX_WORDS 64

/* DOWN: waiting for the next attempt.  CONNECTING: an attempt under way (commands are queued
 * behind the login).  UP: connected and logged in. */
enum state { DOWN, CONNECTING, UP };

struct waiting {
    rconn_reply_fn *fn;
    void *arg;
    uint64_t deadline; /* ms, monotonic */
};

struct rconn {
    struct event_base *base;
    struct auth_redisconf conf;
    char target[INET6_ADDRSTRLEN]; /* host, resolved at creation when it resolves */
    char where[300];               /* "userdb 127.0.0.1:6379 db 0" */
    const char *down_note;
    unsigned timeout_ms;
    unsigned connect_ms;
    rconn_log_fn *log;
    struct rconn_group *group;
    redisAsyncContext *ac;
    enum state state;
    unsigned login_pending; /* AUTH and SELECT not answered yet */
    bool down_counted;      /* counted in group->down: an outage is under way */
    uint64_t down_since;
    uint64_t connect_deadline;
    unsigned backoff_ms;
    uint64_t rng;
    struct event *retry;    /* the next attempt */
    struct event *deadline; /* the oldest command's (or the attempt's) time limit */
    struct waiting *ring;   /* commands in flight, oldest first (Redis answers in order) */
    unsigned head, count;
    struct rconn_stats stats;
};

static uint64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

__attribute__((format(printf, 3, 4))) static void say(struct rconn *c, enum rconn_level level,
                                                      const char *fmt, ...)
{
    char msg[512];
    va_list ap;

    if (c->log == NULL)
        return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    c->log(level, msg);
}

static void arm(struct event *ev, uint64_t ms)
{
    struct timeval tv = {.tv_sec = (time_t)(ms / 1000), .tv_usec = (suseconds_t)(ms % 1000) * 1000};

    event_add(ev, &tv);
}

/* ---- the ring of commands in flight --------------------------------------------------------- */

static void push(struct rconn *c, rconn_reply_fn *fn, void *arg)
{
    struct waiting *w = &c->ring[(c->head + c->count) % RING_MAX];

    w->fn = fn;
    w->arg = arg;
    w->deadline = now_ms() + c->timeout_ms;
    if (c->count++ == 0 && c->state == UP)
        arm(c->deadline, c->timeout_ms);
}

/* Every reply, or NULL when hiredis gives up on a command, comes here in the order sent. */
static void on_reply(redisAsyncContext *ac, void *reply, void *privdata)
{
    struct rconn *c = privdata;
    struct waiting w;

    (void)ac;
    if (c->count == 0)
        return;
    w = c->ring[c->head];
    c->head = (c->head + 1) % RING_MAX;
    c->count--;
    if (reply == NULL)
        RCONN_INC(c->stats.failed);
    w.fn(w.arg, reply);
}

/* ---- up and down ---------------------------------------------------------------------------- */

static void schedule_retry(struct rconn *c)
{
    unsigned jitter;

    c->rng ^= c->rng << 13;
    c->rng ^= c->rng >> 7;
    c->rng ^= c->rng << 17;
    jitter = (unsigned)(c->rng % (c->backoff_ms / 4 + 1));
    arm(c->retry, c->backoff_ms + jitter);
    c->backoff_ms = c->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : c->backoff_ms * 2;
}

/* The connection is gone (or never came): note the outage once, try again later. */
static void went_down(struct rconn *c, const char *why)
{
    bool first;

    c->state = DOWN;
    c->login_pending = 0;
    atomic_store(&c->stats.up, false);
    event_del(c->deadline);
    if (!c->down_counted) {
        c->down_counted = true;
        c->down_since = now_ms();
        first = c->group == NULL || atomic_fetch_add(&c->group->down, 1) == 0;
        if (first)
            say(c, RCONN_LOG_WARN, "redis %s: %s; %s until it is back (retrying)", c->where, why,
                c->down_note ? c->down_note : "commands fail");
    } else {
        say(c, RCONN_LOG_DEBUG, "redis %s: still down: %s", c->where, why);
    }
    schedule_retry(c);
}

static void went_up(struct rconn *c)
{
    c->state = UP;
    c->backoff_ms = BACKOFF_MIN_MS;
    RCONN_INC(c->stats.connects);
    atomic_store(&c->stats.up, true);
    if (c->count > 0) {
        uint64_t now = now_ms(), due = c->ring[c->head].deadline;
        arm(c->deadline, due > now ? due - now : 0);
    }
    if (c->down_counted) {
        c->down_counted = false;
        if (c->group == NULL || atomic_fetch_sub(&c->group->down, 1) == 1)
            say(c, RCONN_LOG_INFO, "redis %s: connected again after %.1f s", c->where,
                (double)(now_ms() - c->down_since) / 1000);
        if (c->group)
            atomic_store(&c->group->reached, true);
    } else if (c->group == NULL || !atomic_exchange(&c->group->reached, true)) {
        say(c, RCONN_LOG_INFO, "redis %s: connected", c->where);
    }
}

/* Drops the connection from our side: every command in flight fails (their callbacks run,
 * now or as soon as the hiredis callback we are in returns), and an attempt is scheduled. */
static void drop(struct rconn *c, const char *why)
{
    redisAsyncContext *ac = c->ac;

    if (ac == NULL)
        return;
    c->state = DOWN;
    c->ac = NULL;
    redisAsyncFree(ac);
    went_down(c, why);
}

static void on_connect(const redisAsyncContext *ac, int status)
{
    struct rconn *c = ac->data;

    if (c == NULL || ac != c->ac)
        return;
    if (status != REDIS_OK) {
        /* hiredis frees the context once we return. */
        c->ac = NULL;
        went_down(c, ac->errstr[0] ? ac->errstr : "cannot connect");
        return;
    }
    if (c->login_pending == 0)
        went_up(c);
}

static void on_disconnect(const redisAsyncContext *ac, int status)
{
    struct rconn *c = ac->data;

    (void)status;
    if (c == NULL || ac != c->ac)
        return; /* a drop of ours, already handled */
    c->ac = NULL;
    went_down(c, ac->err && ac->errstr[0] ? ac->errstr : "the server closed the connection");
}

/* AUTH and SELECT: an error answer (wrong password, no such database) ends the attempt. */
static void on_login(void *arg, const struct rconn_reply *reply)
{
    struct rconn *c = arg;
    const redisReply *r = (const redisReply *)reply;
    char why[256];

    if (r == NULL || c->ac == NULL)
        return;
    if (r->type == REDIS_REPLY_ERROR) {
        snprintf(why, sizeof why, "login refused: %s", r->str);
        drop(c, why);
        return;
    }
    if (--c->login_pending == 0 && c->state == CONNECTING &&
        (c->ac->c.flags & REDIS_CONNECTED))
        went_up(c);
}

static int login(struct rconn *c)
{
    char db[16];
    const char *argv[3];
    int argc = 0;

    if (c->conf.password[0]) {
        argv[argc++] = "AUTH";
        if (c->conf.user[0])
            argv[argc++] = c->conf.user;
        argv[argc++] = c->conf.password;
        if (redisAsyncCommandArgv(c->ac, on_reply, c, argc, argv, NULL) != REDIS_OK)
            return -1;
        push(c, on_login, c);
        c->login_pending++;
    }
    if (c->conf.db != 0) {
        snprintf(db, sizeof db, "%u", c->conf.db);
        argv[0] = "SELECT";
        argv[1] = db;
        if (redisAsyncCommandArgv(c->ac, on_reply, c, 2, argv, NULL) != REDIS_OK)
            return -1;
        push(c, on_login, c);
        c->login_pending++;
    }
    return 0;
}

static void attempt(struct rconn *c)
{
    redisAsyncContext *ac = c->conf.unix_socket[0] ? redisAsyncConnectUnix(c->conf.unix_socket)
                                                   : redisAsyncConnect(c->target, c->conf.port);
    char why[256];

    if (ac == NULL || ac->err) {
        snprintf(why, sizeof why, "%s", ac ? ac->errstr : "out of memory");
        if (ac)
            redisAsyncFree(ac);
        went_down(c, why);
        return;
    }
    ac->data = c;
    c->ac = ac;
    c->state = CONNECTING;
    if (redisLibeventAttach(ac, c->base) != REDIS_OK) {
        drop(c, "cannot watch the socket");
        return;
    }
    redisAsyncSetConnectCallback(ac, on_connect);
    redisAsyncSetDisconnectCallback(ac, on_disconnect);
    c->connect_deadline = now_ms() + c->connect_ms;
    arm(c->deadline, c->connect_ms < c->timeout_ms ? c->connect_ms : c->timeout_ms);
    if (login(c) < 0)
        drop(c, "cannot send the login");
}

static void on_retry(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    attempt(arg);
}

/* The oldest command's time limit, or the attempt's: past it, the connection is dropped (a
 * Redis that does not answer is as good as down); otherwise the timer waits for the next. */
static void on_deadline(evutil_socket_t fd, short what, void *arg)
{
    struct rconn *c = arg;
    uint64_t now = now_ms(), next = UINT64_MAX;
    char why[96];

    (void)fd;
    (void)what;
    if (c->count > 0 && c->ring[c->head].deadline <= now) {
        RCONN_INC(c->stats.timeouts);
        snprintf(why, sizeof why, "no answer within %u ms", c->timeout_ms);
        drop(c, why);
        return;
    }
    if (c->state == CONNECTING && c->connect_deadline <= now) {
        drop(c, "connection attempt timed out");
        return;
    }
    if (c->count > 0)
        next = c->ring[c->head].deadline;
    if (c->state == CONNECTING && c->connect_deadline < next)
        next = c->connect_deadline;
    if (next != UINT64_MAX)
        arm(c->deadline, next - now);
}

/* ---- the API -------------------------------------------------------------------------------- */

/* The first address of a host name, so that no attempt blocks a worker on DNS. */
static void resolve(struct rconn *c)
{
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res = NULL;
    unsigned char buf[sizeof(struct in6_addr)];

    snprintf(c->target, sizeof c->target, "%s", c->conf.host);
    if (c->conf.unix_socket[0] || inet_pton(AF_INET, c->conf.host, buf) == 1 ||
        inet_pton(AF_INET6, c->conf.host, buf) == 1)
        return;
    if (getaddrinfo(c->conf.host, NULL, &hints, &res) != 0 || res == NULL) {
        say(c, RCONN_LOG_WARN, "redis %s: cannot resolve '%s' now; each attempt will", c->where,
            c->conf.host);
        return;
    }
    getnameinfo(res->ai_addr, res->ai_addrlen, c->target, sizeof c->target, NULL, 0,
                NI_NUMERICHOST);
    freeaddrinfo(res);
}

int rconn_new(struct rconn **out, struct event_base *base, const struct rconn_opts *o)
{
    struct rconn *c = calloc(1, sizeof *c);
    char desc[256];

    if (c == NULL)
        return -1;
    c->base = base;
    c->conf = *o->conf;
    auth_redisconf_describe(&c->conf, desc, sizeof desc);
    snprintf(c->where, sizeof c->where, "%s %s", o->name, desc);
    c->down_note = o->down_note;
    c->timeout_ms = o->timeout_ms ? o->timeout_ms : 1000;
    c->connect_ms = c->conf.connect_timeout ? c->conf.connect_timeout * 1000 : DEFAULT_CONNECT_MS;
    c->log = o->log;
    c->group = o->group;
    c->backoff_ms = BACKOFF_MIN_MS;
    c->rng = (uint64_t)(uintptr_t)c ^ now_ms() ^ 0x9e3779b97f4a7c15ull;
    c->ring = calloc(RING_MAX, sizeof *c->ring);
    c->retry = evtimer_new(base, on_retry, c);
    c->deadline = evtimer_new(base, on_deadline, c);
    if (c->ring == NULL || c->retry == NULL || c->deadline == NULL) {
        rconn_free(c);
        return -1;
    }
    resolve(c);
    attempt(c);
    *out = c;
    return 0;
}

void rconn_free(struct rconn *c)
{
    if (c == NULL)
        return;
    if (c->ac) {
        redisAsyncContext *ac = c->ac;
        c->ac = NULL;
        c->state = DOWN;
        redisAsyncFree(ac);
    }
    if (c->down_counted && c->group)
        atomic_fetch_sub(&c->group->down, 1);
    if (c->retry)
        event_free(c->retry);
    if (c->deadline)
        event_free(c->deadline);
    free(c->ring);
    explicit_bzero(&c->conf, sizeof c->conf);
    free(c);
}

void rconn_reset(struct rconn *c, const char *why)
{
    drop(c, why);
}

bool rconn_usable(const struct rconn *c)
{
    return c->state != DOWN;
}

int rconn_command(struct rconn *c, rconn_reply_fn *fn, void *arg, int argc, const char **argv,
                  const size_t *argvlen)
{
    if (c->state == DOWN || c->ac == NULL || c->count == RING_MAX)
        return -1;
    if (redisAsyncCommandArgv(c->ac, on_reply, c, argc, argv, argvlen) != REDIS_OK)
        return -1;
    push(c, fn, arg);
    RCONN_INC(c->stats.commands);
    return 0;
}

int rconn_commandv(struct rconn *c, rconn_reply_fn *fn, void *arg, const char *const *argv)
{
    const char *words[MAX_WORDS];
    size_t lens[MAX_WORDS];
    int n = 0;

    for (; argv[n] != NULL; n++) {
        if (n == MAX_WORDS)
            return -1;
        words[n] = argv[n];
        lens[n] = strlen(argv[n]);
    }
    return rconn_command(c, fn, arg, n, words, lens);
}

const struct rconn_stats *rconn_stats(const struct rconn *c)
{
    return &c->stats;
}

/* ---- replies: a struct rconn_reply is a hiredis redisReply seen through these -------------- */

enum rconn_type rconn_reply_type(const struct rconn_reply *reply)
{
    const redisReply *r = (const redisReply *)reply;

    switch (r->type) {
    case REDIS_REPLY_STRING:
        return RCONN_STRING;
    case REDIS_REPLY_INTEGER:
        return RCONN_INTEGER;
    case REDIS_REPLY_ARRAY:
        return RCONN_ARRAY;
    case REDIS_REPLY_STATUS:
        return RCONN_STATUS;
    case REDIS_REPLY_ERROR:
        return RCONN_ERROR;
    default:
        return RCONN_NIL;
    }
}

const char *rconn_reply_str(const struct rconn_reply *reply, size_t *len)
{
    const redisReply *r = (const redisReply *)reply;

    if (r->type != REDIS_REPLY_STRING && r->type != REDIS_REPLY_STATUS &&
        r->type != REDIS_REPLY_ERROR) {
        *len = 0;
        return NULL;
    }
    *len = (size_t)r->len;
    return r->str;
}

long long rconn_reply_int(const struct rconn_reply *reply)
{
    const redisReply *r = (const redisReply *)reply;

    return r->type == REDIS_REPLY_INTEGER ? r->integer : 0;
}

size_t rconn_reply_count(const struct rconn_reply *reply)
{
    const redisReply *r = (const redisReply *)reply;

    return r->type == REDIS_REPLY_ARRAY ? r->elements : 0;
}

const struct rconn_reply *rconn_reply_elem(const struct rconn_reply *reply, size_t i)
{
    const redisReply *r = (const redisReply *)reply;

    if (r->type != REDIS_REPLY_ARRAY || i >= r->elements)
        return NULL;
    return (const struct rconn_reply *)r->element[i];
}
