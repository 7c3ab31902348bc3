/* server.c — the turnserver process: listening addresses, workers, signals, shutdown. */
#include "server/server.h"

#include <errno.h>
#include <event2/event.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "server/log.h"
#include "server/metrics.h"
#include "server/nat.h"
#include "server/notify.h"
#include "server/rstore.h"
#include "server/shared.h"
#include "server/stats.h"
#include "server/worker.h"

struct server {
    const struct config *cfg;
    union addr listen[WORKER_MAX_LISTEN];
    size_t nlisten;
    struct shared *shared;
    int nworkers;
    struct worker **workers;
    struct mailbox **mailboxes;
    struct metrics *metrics; /* --prometheus, or NULL */
    struct event_base *base;
    struct event *sig_term;
    struct event *sig_int;
    struct event *sig_hup;
    struct event *sig_usr1;
    struct event *drain_timer;
    struct event *reclaim_timer;
    long drain_ticks; /* seconds since SIGUSR1, counted by the drain timer */
    int argc; /* the command line, read again with the config file on SIGHUP */
    char **argv;
};

static int thread_count(const struct config *cfg)
{
    long n = cfg->threads > 0 ? cfg->threads : sysconf(_SC_NPROCESSORS_ONLN);

    return n < 1 ? 1 : (int)n;
}

/* The configured IPs with the listening port, or both wildcards.  A host without IPv6 keeps
 * serving IPv4: the :: wildcard is dropped when the kernel has no IPv6 at all. */
static void resolve_listen(struct server *s)
{
    const struct config *cfg = s->cfg;

    for (size_t i = 0; i < cfg->nlisten; i++)
        s->listen[s->nlisten++] = cfg->listen[i];
    if (s->nlisten == 0) {
        addr_parse(&s->listen[s->nlisten++], "0.0.0.0", 0);
        if (access("/proc/net/if_inet6", F_OK) == 0)
            addr_parse(&s->listen[s->nlisten++], "::", 0);
    }
    for (size_t i = 0; i < s->nlisten; i++)
        addr_set_port(&s->listen[i], cfg->listen_port);
}

static void on_stop_signal(evutil_socket_t sig, short what, void *arg)
{
    struct server *s = arg;

    (void)what;
    log_info("signal %d: shutting down", (int)sig);
    event_base_loopbreak(s->base);
}

/* SIGHUP: the log file reopened, and the parts that can change without a restart read again
 * from the config file and command line (see shared_reload); the rest keeps its start-up
 * value until a restart. */
static void on_hup(evutil_socket_t sig, short what, void *arg)
{
    struct server *s = arg;
    struct config fresh = {0};
    char err[512], done[1024], failed[2048];

    (void)sig;
    (void)what;
    notify_systemd("RELOADING=1");
    if (log_reopen() < 0)
        log_error("SIGHUP: cannot reopen the log file: %s", strerror(errno));
    if (s->argv == NULL) {
        log_info("SIGHUP: log file reopened");
    } else if (config_load(&fresh, s->argc, s->argv, NULL, err, sizeof(err)) != 0) {
        log_error("SIGHUP: configuration not reloaded, all of the old one stays: %s", err);
    } else {
        int rc = shared_reload(s->shared, &fresh, worker_now(s->workers[0]), done, failed,
                               sizeof(done) < sizeof(failed) ? sizeof(done) : sizeof(failed));
        if (done[0])
            log_info("SIGHUP: log file reopened; reloaded: %s", done);
        if (rc < 0)
            log_error("SIGHUP: not reloaded, the old state stays: %s", failed);
        config_free(&fresh);
    }
    notify_systemd("READY=1");
}

/* Once a second: what reloads replaced is freed once every worker has ticked since. */
static void on_reclaim_tick(evutil_socket_t fd, short what, void *arg)
{
    struct server *s = arg;
    uint64_t oldest = UINT32_MAX;

    (void)fd;
    (void)what;
    for (int i = 0; i < s->nworkers; i++) {
        uint64_t h = atomic_load(&s->workers[i]->stats.heartbeat);
        if (h < oldest)
            oldest = h;
    }
    shared_reclaim(s->shared, (uint32_t)oldest);
}

static uint64_t active_allocations(const struct server *s)
{
    uint64_t n = 0;

    for (int i = 0; i < s->nworkers; i++)
        n += atomic_load(&relay_stats(s->workers[i]->relay)->allocations_active);
    return n;
}

/* Once a second while draining: stop when the last allocation is gone, or at the deadline.
 * The ticks are counted rather than wall-clock seconds subtracted, which rounded to whole
 * seconds said "after 3s" at the second tick as often as "after 2s". */
static void on_drain_tick(evutil_socket_t fd, short what, void *arg)
{
    struct server *s = arg;
    uint64_t left = active_allocations(s);
    long waited = ++s->drain_ticks;

    (void)fd;
    (void)what;
    if (left == 0) {
        log_info("drained: no allocation left, shutting down");
        event_base_loopbreak(s->base);
    } else if (s->cfg->drain_timeout && waited >= s->cfg->drain_timeout) {
        log_info("drain timeout after %lds: shutting down with %llu allocations", waited,
                 (unsigned long long)left);
        event_base_loopbreak(s->base);
    }
}

/* SIGUSR1 (as coturn): no new allocation from now on, the existing ones run to their end. */
static void on_drain_signal(evutil_socket_t sig, short what, void *arg)
{
    struct server *s = arg;
    const struct timeval second = {.tv_sec = 1};

    (void)sig;
    (void)what;
    if (s->drain_timer)
        return;
    shared_drain(s->shared);
    notify_systemd("STATUS=draining: no new allocations");
    log_info("SIGUSR1: draining: new Allocates get %s; %llu allocations left; exit when they "
             "end%s", s->cfg->nalternates ? "300 to an alternate server" : "508",
             (unsigned long long)active_allocations(s),
             s->cfg->drain_timeout ? " or at --drain-timeout" : "");
    s->drain_timer = event_new(s->base, -1, EV_PERSIST, on_drain_tick, s);
    if (s->drain_timer == NULL || event_add(s->drain_timer, &second) < 0)
        log_error("cannot watch the drain: stop with SIGTERM");
}

static int add_signals(struct server *s)
{
    const struct timeval second = {.tv_sec = 1};

    s->sig_term = evsignal_new(s->base, SIGTERM, on_stop_signal, s);
    s->sig_int = evsignal_new(s->base, SIGINT, on_stop_signal, s);
    s->sig_hup = evsignal_new(s->base, SIGHUP, on_hup, s);
    s->sig_usr1 = evsignal_new(s->base, SIGUSR1, on_drain_signal, s);
    if (!s->sig_term || !s->sig_int || !s->sig_hup || !s->sig_usr1)
        return -1;
    if (evsignal_add(s->sig_term, NULL) < 0 || evsignal_add(s->sig_int, NULL) < 0 ||
        evsignal_add(s->sig_hup, NULL) < 0 || evsignal_add(s->sig_usr1, NULL) < 0)
        return -1;
    s->reclaim_timer = event_new(s->base, -1, EV_PERSIST, on_reclaim_tick, s);
    if (s->reclaim_timer == NULL || event_add(s->reclaim_timer, &second) < 0)
        return -1;
    return 0;
}

/* --prometheus: the metrics server, bound now (before privileges are dropped) and started
 * with the workers, whose counters it reads. */
static int setup_metrics(struct server *s, char *err, size_t errlen)
{
    struct rstore_shared *redis = shared_view(s->shared)->rstore;
    const struct metrics_source src = {.workers = s->workers,
                                       .nworkers = (unsigned)s->nworkers,
                                       .relay = shared_view(s->shared)->relay,
                                       .store = redis ? rstore_metrics : NULL,
                                       .store_arg = redis};

    if (!s->cfg->prometheus)
        return 0;
    return metrics_new(&s->metrics, s->cfg, &src, err, errlen);
}

int server_new(struct server **out, const struct config *cfg, char *err, size_t errlen)
{
    struct server *s = calloc(1, sizeof(*s));

    if (s == NULL)
        goto nomem;
    s->cfg = cfg;
    if (nat_check(cfg, err, errlen) < 0)
        goto fail;
    resolve_listen(s);
    s->nworkers = thread_count(cfg);
    s->workers = calloc((size_t)s->nworkers, sizeof(*s->workers));
    s->base = event_base_new();
    if (s->workers == NULL || s->base == NULL)
        goto nomem;
    if (add_signals(s) < 0) {
        snprintf(err, errlen, "cannot install signal handlers");
        goto fail;
    }
    if (shared_new(&s->shared, cfg, s->listen, s->nlisten, (unsigned)s->nworkers, err,
                   errlen) < 0)
        goto fail;
    for (int i = 0; i < s->nworkers; i++)
        if (worker_new(&s->workers[i], shared_view(s->shared), i, s->listen, s->nlisten, err,
                       errlen) < 0)
            goto fail;
    s->mailboxes = calloc((unsigned)s->nworkers, sizeof(*s->mailboxes));
    if (s->mailboxes == NULL)
        goto nomem;
    for (int i = 0; i < s->nworkers; i++)
        s->mailboxes[i] = s->workers[i]->mailbox;
    shared_set_mailboxes(s->shared, s->mailboxes, (unsigned)s->nworkers);
    if (setup_metrics(s, err, errlen) < 0)
        goto fail;
    *out = s;
    return 0;
nomem:
    snprintf(err, errlen, "out of memory");
fail:
    server_free(s);
    return -1;
}

void server_set_args(struct server *s, int argc, char **argv)
{
    s->argc = argc;
    s->argv = argv;
}

/* "udp+tcp+tls+dtls", as configured. */
static const char *transports(const struct server *s, char *buf, size_t cap)
{
    const struct worker_shared *sh = shared_view(s->shared);
    const char *names[] = {s->cfg->no_udp ? NULL : "udp", s->cfg->no_tcp ? NULL : "tcp",
                           sh->tls ? "tls" : NULL, sh->dtls ? "dtls" : NULL};
    size_t n = 0;

    buf[0] = '\0';
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (names[i] && n < cap)
            n += (size_t)snprintf(buf + n, cap - n, "%s%s", n ? "+" : "", names[i]);
    return buf;
}

static void log_listening(const struct server *s)
{
    char line[1024], kinds[32];
    size_t n = 0;

    for (size_t i = 0; i < s->nlisten && n < sizeof(line) - ADDR_STRLEN - 2; i++) {
        char a[ADDR_STRLEN];
        n += (size_t)snprintf(line + n, sizeof(line) - n, "%s%s", i ? " " : "",
                              addr_format(&s->listen[i], a, sizeof(a)));
    }
    log_info("listening on %s (%s), %d worker threads", n ? line : "nothing",
             transports(s, kinds, sizeof(kinds)), s->nworkers);
}

int server_run(struct server *s)
{
    sigset_t block, old;
    int rc = 0, started = 0;

    /* Workers inherit a mask without the handled signals, so that the kernel delivers them
     * to this thread, whose loop handles them. */
    sigemptyset(&block);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGHUP);
    sigaddset(&block, SIGUSR1);
    pthread_sigmask(SIG_BLOCK, &block, &old);
    for (; started < s->nworkers; started++) {
        if (worker_start(s->workers[started]) < 0) {
            log_error("cannot start worker %d: %s", started, strerror(errno));
            rc = -1;
            break;
        }
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc == 0 && s->metrics && metrics_start(s->metrics) < 0) {
        log_error("cannot start the metrics thread: %s", strerror(errno));
        rc = -1;
    }
    if (rc == 0) {
        shared_log(s->shared);
        log_listening(s);
        notify_systemd("READY=1");
        event_base_dispatch(s->base);
        notify_systemd("STOPPING=1");
    }
    metrics_stop(s->metrics); /* before the workers it reads stop */
    for (int i = 0; i < started; i++)
        worker_stop(s->workers[i]);
    for (int i = 0; i < started; i++)
        worker_join(s->workers[i]);
    return rc;
}

static void append_nonzero(char *line, size_t cap, size_t *n, const char *group,
                           const char *name, uint64_t v)
{
    if (v == 0 || *n >= cap)
        return;
    *n += (size_t)snprintf(line + *n, cap - *n, " %s.%s=%llu", group, name, (unsigned long long)v);
}

/* The TLS, DTLS and steering counters, on a line of their own: the first one is long already. */
static void log_tls_stats(const struct stats *sum)
{
    char line[512];
    size_t n = 0;

    for (int i = 0; i < TLS_COUNT; i++)
        append_nonzero(line, sizeof(line), &n, "tls", stats_tls_name(i), sum->tls[i]);
    for (int i = 0; i < DTLS_COUNT; i++)
        append_nonzero(line, sizeof(line), &n, "dtls", stats_dtls_name(i), sum->dtls[i]);
    for (int i = 0; i < STEERED_COUNT; i++)
        append_nonzero(line, sizeof(line), &n, "steered", stats_steered_name(i),
                       sum->steered[i]);
    if (n > 0)
        log_info("stats:%s", line);
}

void server_log_stats(const struct server *s)
{
    struct relay_stats relay = {0};
    struct stats sum = {0};
    char line[1536];
    size_t n = 0;

    for (int i = 0; i < s->nworkers; i++) {
        stats_sum(&sum, &s->workers[i]->stats);
        relay_stats_add(&relay, relay_stats(s->workers[i]->relay));
    }
    n += (size_t)snprintf(line, sizeof(line), "stats: rx=%llu tx=%llu binding=%llu",
                          (unsigned long long)sum.rx_packets, (unsigned long long)sum.tx_packets,
                          (unsigned long long)sum.binding_requests);
    for (int i = 0; i < REPLY_COUNT; i++) {
        uint64_t by_code = 0; /* over every method */
        for (int m = 0; m < METHOD_COUNT; m++)
            by_code += sum.answers[m][i];
        append_nonzero(line, sizeof(line), &n, "reply", stats_reply_name(i), by_code);
    }
    for (int i = 0; i < DROP_COUNT; i++)
        append_nonzero(line, sizeof(line), &n, "drop", stats_drop_name(i), sum.drop[i]);
    for (int i = 0; i < CONN_COUNT; i++)
        append_nonzero(line, sizeof(line), &n, "tcp", stats_conn_name(i), sum.conn[i]);
    append_nonzero(line, sizeof(line), &n, "relay", "allocations", relay.allocations_created);
    append_nonzero(line, sizeof(line), &n, "relay", "expired", relay.allocations_expired);
    append_nonzero(line, sizeof(line), &n, "relay", "to_peer", relay.to_peer_packets);
    append_nonzero(line, sizeof(line), &n, "relay", "to_client", relay.to_client_packets);
    for (int d = 0; d < RELAY_DROP_COUNT; d++)
        append_nonzero(line, sizeof(line), &n, "relay.drop", relay_drop_name(d), relay.drop[d]);
    log_info("%s", line);
    log_tls_stats(&sum);
}

void server_free(struct server *s)
{
    if (s == NULL)
        return;
    metrics_free(s->metrics);
    for (int i = 0; s->workers && i < s->nworkers; i++)
        worker_free(s->workers[i]);
    free(s->workers);
    free(s->mailboxes);
    shared_free(s->shared);
    if (s->sig_term)
        event_free(s->sig_term);
    if (s->sig_int)
        event_free(s->sig_int);
    if (s->sig_hup)
        event_free(s->sig_hup);
    if (s->sig_usr1)
        event_free(s->sig_usr1);
    if (s->drain_timer)
        event_free(s->drain_timer);
    if (s->reclaim_timer)
        event_free(s->reclaim_timer);
    if (s->base)
        event_base_free(s->base);
    free(s);
}
