/* worker.c — a worker thread: one event loop owning its sockets, connections and counters. */
#include "server/worker.h"

#include <errno.h>
#include <event2/event.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "server/dtls.h"
#include "server/log.h"
#include "server/mailbox.h"
#include "server/ratelimit.h"
#include "server/peer.h"
#include "server/rstore.h"
#include "server/tcp.h"
#include "server/tls.h"
#include "server/udp.h"

/* The plain ports of a: UDP and TCP, as --no-udp and --no-tcp allow. */
static int open_plain(struct worker *w, const union addr *a, char *err, size_t errlen)
{
    if (!w->cfg->no_udp) {
        if (udp_sock_open(&w->udp[w->nudp], w, a, err, errlen) < 0)
            return -1;
        w->nudp++;
    }
    if (!w->cfg->no_tcp) {
        if (tcp_listener_open(&w->tcp[w->ntcp], w, a, err, errlen) < 0)
            return -1;
        w->ntcp++;
    }
    return 0;
}

/* The secure ports of a: TLS over TCP and DTLS over UDP (RFC 8656 §3.1), as configured. */
static int open_secure(struct worker *w, const union addr *a, char *err, size_t errlen)
{
    if (w->shared->tls) {
        if (tcp_listener_open_tls(&w->tls[w->ntls], w, a, w->shared->tls, err, errlen) < 0)
            return -1;
        w->ntls++;
    }
    if (w->dtls && dtls_listen(w->dtls, a, err, errlen) < 0)
        return -1;
    return 0;
}

static int open_listeners(struct worker *w, const union addr *listen, size_t n, char *err,
                          size_t errlen)
{
    const struct config *cfg = w->cfg;
    bool secure = w->shared->tls || w->shared->dtls;

    for (size_t i = 0; i < n; i++) {
        union addr a = listen[i];

        if (open_plain(w, &a, err, errlen) < 0)
            return -1;
        addr_set_port(&a, cfg->alt_listen_port);
        if (cfg->alt_listen_port && open_plain(w, &a, err, errlen) < 0)
            return -1;
        addr_set_port(&a, cfg->tls_listen_port);
        if (secure && open_secure(w, &a, err, errlen) < 0)
            return -1;
        addr_set_port(&a, cfg->alt_tls_listen_port);
        if (secure && cfg->alt_tls_listen_port && open_secure(w, &a, err, errlen) < 0)
            return -1;
    }
    return 0;
}

uint32_t worker_now(const struct worker *w)
{
    struct timespec ts;

    (void)w;
    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    return (uint32_t)ts.tv_sec;
}

static uint64_t monotonic_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* Once a second: the relay's timers, and the loop's health for /healthz and the metrics — a
 * heartbeat, and how late this tick ran (a busy or stuck loop runs it late). */
static void on_tick(evutil_socket_t fd, short what, void *arg)
{
    struct worker *w = arg;
    uint64_t now_us = monotonic_us();

    (void)fd;
    (void)what;
    if (w->last_tick_us)
        atomic_store(&w->stats.loop_lag_us,
                     now_us > w->last_tick_us + 1000000u ? now_us - w->last_tick_us - 1000000u
                                                         : 0);
    w->last_tick_us = now_us;
    atomic_store(&w->stats.heartbeat, worker_now(w));
    relay_tick(w->relay, worker_now(w));
}

int worker_new(struct worker **out, const struct worker_shared *sh, int id,
               const union addr *listen, size_t n, char *err, size_t errlen)
{
    const struct timeval second = {.tv_sec = 1};
    struct worker *w = calloc(1, sizeof(*w));

    if (w == NULL)
        goto nomem;
    w->id = id;
    w->shared = sh;
    w->cfg = sh->cfg;
    LIST_INIT(&w->conns);
    w->base = event_base_new();
    if (w->base == NULL)
        goto nomem;
    if (udp_rx_new(&w->rx) < 0 || udp_rx_new(&w->relay_rx) < 0)
        goto nomem;
    peer_io_init(&w->io, w);
    if (relay_new(&w->relay, sh->relay, &w->io, (unsigned)id, worker_now(w)) < 0 ||
        mailbox_new(&w->mailbox, w->base, w) < 0)
        goto nomem;
    if (sh->cfg->unauthorized_ratelimit > 0 &&
        ratelimit_new(&w->unauthorized, (unsigned)sh->cfg->unauthorized_ratelimit) < 0)
        goto nomem;
    w->tick = event_new(w->base, -1, EV_PERSIST, on_tick, w);
    if (w->tick == NULL || event_add(w->tick, &second) < 0)
        goto nomem;
    if (tls_worker_new(&w->tls_worker, w) < 0 ||
        (sh->dtls && dtls_new(&w->dtls, w, sh->dtls) < 0) || rstore_new(&w->rstore, w) < 0)
        goto nomem;
    if (sh->steer && peer_steering_start(w) < 0)
        goto nomem;
    if (open_listeners(w, listen, n, err, errlen) < 0)
        goto fail;
    *out = w;
    return 0;
nomem:
    snprintf(err, errlen, "worker %d: out of memory", id);
fail:
    worker_free(w);
    return -1;
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;

    log_debug("worker %d running", w->id);
    atomic_store(&w->stats.heartbeat, worker_now(w));
    /* One iteration at a time, so that what the iteration's callbacks queued for UDP clients
     * leaves in one sendmmsg per listener at its end. */
    while (!event_base_got_exit(w->base)) {
        if (event_base_loop(w->base, EVLOOP_ONCE) < 0) {
            log_error("worker %d: event loop failed", w->id);
            break;
        }
        udp_flush_all(w);
    }
    log_debug("worker %d stopped", w->id);
    return NULL;
}

int worker_start(struct worker *w)
{
    int r = pthread_create(&w->thread, NULL, worker_main, w);

    if (r != 0) {
        errno = r;
        return -1;
    }
    w->started = true;
    return 0;
}

void worker_stop(struct worker *w)
{
    /* Not event_base_loopbreak(): a loop that has not started yet clears that flag when it
     * starts, and would run for ever.  loopexit queues an event the loop always sees. */
    event_base_loopexit(w->base, NULL);
}

void worker_join(struct worker *w)
{
    if (w->started)
        pthread_join(w->thread, NULL);
    w->started = false;
}

void worker_free(struct worker *w)
{
    struct tcp_conn *c;

    if (w == NULL)
        return;
    /* First the requests waiting for Redis (they refer to connections) and the Redis
     * connections: the loop has stopped, nothing more would be sent. */
    rstore_free(w->rstore);
    w->rstore = NULL;
    while ((c = LIST_FIRST(&w->conns)) != NULL)
        tcp_conn_close(c);
    dtls_free(w->dtls);
    /* After the connections and sessions (whose allocations go with them), before the
     * sockets. */
    relay_free(w->relay);
    peer_steering_stop(w); /* after the endpoints */
    mailbox_free(w->mailbox);
    ratelimit_free(w->unauthorized);
    if (w->tick)
        event_free(w->tick);
    for (size_t i = 0; i < w->ntcp; i++)
        tcp_listener_close(w->tcp[i]);
    for (size_t i = 0; i < w->ntls; i++)
        tcp_listener_close(w->tls[i]);
    tls_worker_free(w->tls_worker);
    for (size_t i = 0; i < w->nudp; i++)
        udp_sock_close(w->udp[i]);
    udp_rx_free(w->rx);
    udp_rx_free(w->relay_rx);
    if (w->base)
        event_base_free(w->base);
    free(w);
}
