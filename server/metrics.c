/* metrics.c — the --prometheus HTTP server: /metrics in the Prometheus text format, /healthz and
 * /readyz, served by libevent's evhttp on a thread and an event base of their own. */
#include "server/metrics.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "relay/relay.h"
#include "server/log.h"
#include "server/stats.h"
#include "server/worker.h"

#define HTTP_TIMEOUT     5 /* seconds a connection may take over a request, then it is closed */
#define HTTP_MAX_HEADERS 8192
#define HEARTBEAT_STALE  3  /* seconds: a worker whose last tick is older is not responsive */
#define NAMES_MAX        16 /* the longest list of label values below */

#define LOAD(x) atomic_load_explicit(&(x), memory_order_relaxed)

#define TEXT_FORMAT "text/plain; version=0.0.4; charset=utf-8"
#define TEXT_PLAIN  "text/plain; charset=utf-8"

struct metrics {
    struct metrics_source src;
    union addr addr;
    struct event_base *base;
    struct evhttp *http;
    pthread_t thread;
    bool started;
};

static const char *const transport_labels[RELAY_TRANSPORT_COUNT] = {
    [RELAY_UDP] = "udp", [RELAY_TCP] = "tcp", [RELAY_TLS] = "tls", [RELAY_DTLS] = "dtls"};
static const char *const family_labels[2] = {"ipv4", "ipv6"};
static const char *const tls_outcomes[TLS_COUNT] = {[TLS_HANDSHAKES] = "completed",
                                                    [TLS_FAILED] = "failed",
                                                    [TLS_TIMEOUT] = "timeout",
                                                    [TLS_EVICTED] = "evicted"};

_Static_assert(DROP_COUNT <= NAMES_MAX && RELAY_DROP_COUNT <= NAMES_MAX &&
                   AUTH_COUNT <= NAMES_MAX && CONN_COUNT <= NAMES_MAX && TLS_COUNT <= NAMES_MAX &&
                   DTLS_COUNT <= NAMES_MAX && STEERED_COUNT <= NAMES_MAX,
               "NAMES_MAX is too small");

/* ---- sums ----------------------------------------------------------------------------------- */


/* ---- the exposition format ------------------------------------------------------------------ */

/* The HELP and TYPE lines of a metric (its name without the turnpike_ prefix). */
static void family(struct evbuffer *b, const char *name, const char *type, const char *help)
{
    evbuffer_add_printf(b, "# HELP turnpike_%s %s\n# TYPE turnpike_%s %s\n", name, help, name,
                        type);
}

/* One sample; labels is "" or `key="value",...` (values from fixed tables: no escaping). */
static void sample(struct evbuffer *b, const char *name, const char *labels, uint64_t v)
{
    evbuffer_add_printf(b, "turnpike_%s%s%s%s %llu\n", name, *labels ? "{" : "", labels,
                        *labels ? "}" : "", (unsigned long long)v);
}

static void metric(struct evbuffer *b, const char *name, const char *type, const char *help,
                   uint64_t v)
{
    family(b, name, type, help);
    sample(b, name, "", v);
}

/* A counter with one label: the sample of names[i] is v[i]. */
static void counters_by(struct evbuffer *b, const char *name, const char *help, const char *label,
                        const char *const *names, const _Atomic uint64_t *v, int n)
{
    char labels[96];

    family(b, name, "counter", help);
    for (int i = 0; i < n; i++) {
        snprintf(labels, sizeof(labels), "%s=\"%s\"", label, names[i]);
        sample(b, name, labels, LOAD(v[i]));
    }
}

/* counters_by() over an enum's counters, labelled by its name function (stats_drop_name...). */
#define COUNTERS_BY(b, name, help, label, name_of, v, n)                                           \
    do {                                                                                           \
        const char *names_[NAMES_MAX];                                                             \
        for (int i_ = 0; i_ < (n); i_++)                                                           \
            names_[i_] = name_of(i_);                                                              \
        counters_by(b, name, help, label, names_, v, n);                                           \
    } while (0)

/* Two samples of a counter, by direction. */
static void directions(struct evbuffer *b, const char *name, const char *help, const char *a,
                       uint64_t va, const char *z, uint64_t vz)
{
    char labels[64];

    family(b, name, "counter", help);
    snprintf(labels, sizeof(labels), "direction=\"%s\"", a);
    sample(b, name, labels, va);
    snprintf(labels, sizeof(labels), "direction=\"%s\"", z);
    sample(b, name, labels, vz);
}

/* ---- the page ------------------------------------------------------------------------------- */

static void page_allocations(struct evbuffer *b, const struct relay_stats *r)
{
    char labels[64];

    family(b, "allocations_active", "gauge",
           "Allocations held now, by the client's transport and address family.");
    for (int t = 0; t < RELAY_TRANSPORT_COUNT; t++) {
        for (int f = 0; f < 2; f++) {
            snprintf(labels, sizeof(labels), "transport=\"%s\",family=\"%s\"", transport_labels[t],
                     family_labels[f]);
            sample(b, "allocations_active", labels, LOAD(r->active_by[t][f]));
        }
    }
    metric(b, "allocations_created_total", "counter", "Allocations created.",
           LOAD(r->allocations_created));
    metric(b, "allocations_expired_total", "counter", "Allocations that reached their lifetime.",
           LOAD(r->allocations_expired));
    metric(b, "allocations_deleted_total", "counter",
           "Allocations ended otherwise: Refresh 0, the client's connection closed, shutdown.",
           LOAD(r->allocations_deleted));
    metric(b, "allocation_ports_exhausted_total", "counter",
           "Allocates answered 508 for want of a free relay port.", LOAD(r->ports_exhausted));
}

static void page_relayed(struct evbuffer *b, const struct relay_stats *r)
{
    directions(b, "relayed_packets_total", "Packets relayed (application data, no headers).",
               "client_to_peer", LOAD(r->to_peer_packets), "peer_to_client",
               LOAD(r->to_client_packets));
    directions(b, "relayed_bytes_total", "Bytes of application data relayed.", "client_to_peer",
               LOAD(r->to_peer_bytes), "peer_to_client", LOAD(r->to_client_bytes));
    COUNTERS_BY(b, "relay_dropped_packets_total",
                "Data packets the relay dropped, by reason (bandwidth: --max-bps or "
                "--bps-capacity).",
                "reason", relay_drop_name, r->drop, RELAY_DROP_COUNT);
}

static void page_requests(struct evbuffer *b, const struct stats *s)
{
    char labels[96];

    directions(b, "client_packets_total", "Packets on the client sockets.", "received",
               LOAD(s->rx_packets), "sent", LOAD(s->tx_packets));
    directions(b, "client_bytes_total", "Bytes on the client sockets.", "received",
               LOAD(s->rx_bytes), "sent", LOAD(s->tx_bytes));
    COUNTERS_BY(b, "dropped_messages_total",
                "Client messages dropped unanswered before TURN, by reason.", "reason",
                stats_drop_name, s->drop, DROP_COUNT);
    family(b, "stun_responses_total", "counter",
           "STUN responses sent, by method and code (success or the error code); a series "
           "appears with its first response.");
    for (int m = 0; m < METHOD_COUNT; m++) {
        for (int c = 0; c < REPLY_COUNT; c++) {
            uint64_t v = LOAD(s->answers[m][c]);

            if (v == 0)
                continue;
            snprintf(labels, sizeof(labels), "method=\"%s\",code=\"%s\"", stats_method_name(m),
                     stats_reply_name(c));
            sample(b, "stun_responses_total", labels, v);
        }
    }
    COUNTERS_BY(b, "auth_failures_total",
                "Requests that did not authenticate, by reason (challenged: the first 401 "
                "every client gets).",
                "reason", stats_auth_name, s->auth, AUTH_COUNT);
}

static void page_transports(struct evbuffer *b, const struct stats *s)
{
    COUNTERS_BY(b, "stream_connections_total", "TCP and TLS client connection events, by event.",
                "event", stats_conn_name, s->conn, CONN_COUNT);
    counters_by(b, "tls_handshakes_total",
                "TLS handshakes by outcome (evicted: the oldest in progress, for a new one).",
                "outcome", tls_outcomes, s->tls, TLS_COUNT);
    COUNTERS_BY(b, "dtls_events_total", "DTLS cookie exchanges, sessions and handshakes, by event.",
                "event", stats_dtls_name, s->dtls, DTLS_COUNT);
    COUNTERS_BY(b, "steered_packets_total",
                "Peers' datagrams received through the --relay-steering sockets, by outcome "
                "(no_endpoint: for an address that was no longer a relayed one).",
                "outcome", stats_steered_name, s->steered, STEERED_COUNT);
}

static void page_workers(struct evbuffer *b, const struct metrics_source *src)
{
    char labels[32];

    family(b, "worker_loop_lag_seconds", "gauge",
           "How late each worker's 1 s tick last ran: a loop that cannot keep up runs it late.");
    for (unsigned i = 0; i < src->nworkers; i++) {
        const struct worker *w = src->workers[i];

        snprintf(labels, sizeof(labels), "worker=\"%u\"", i);
        evbuffer_add_printf(b, "turnpike_worker_loop_lag_seconds{%s} %.6f\n", labels,
                            (double)LOAD(w->stats.loop_lag_us) / 1e6);
    }
    family(b, "worker_heartbeat_age_seconds", "gauge",
           "Seconds since each worker's loop last ticked (/healthz fails past 3).");
    for (unsigned i = 0; i < src->nworkers; i++) {
        const struct worker *w = src->workers[i];
        uint64_t beat = LOAD(w->stats.heartbeat), now = worker_now(w);

        snprintf(labels, sizeof(labels), "worker=\"%u\"", i);
        sample(b, "worker_heartbeat_age_seconds", labels, beat && now > beat ? now - beat : 0);
    }
}

static void page_store(struct evbuffer *b, const struct metrics_source *src)
{
    struct metrics_store st = {0};

    if (src->store == NULL)
        return;
    src->store(src->store_arg, &st);
    metric(b, "redis_up", "gauge", "1 when the Redis credential store answers.", st.reachable);
    metric(b, "redis_lookups_total", "counter", "Credential lookups sent to Redis.", st.lookups);
    metric(b, "redis_errors_total", "counter", "Redis lookups that failed.", st.errors);
    metric(b, "redis_cache_hits_total", "counter",
           "Credential lookups answered from the process's cache.", st.cache_hits);
}

/* The whole /metrics page as of now. */
static void page(const struct metrics_source *src, struct evbuffer *b)
{
    struct stats s = {0};
    struct relay_stats r = {0};

    for (unsigned i = 0; i < src->nworkers; i++) {
        stats_sum(&s, &src->workers[i]->stats);
        relay_stats_add(&r, relay_stats(src->workers[i]->relay));
    }
    family(b, "build_info", "gauge", "The running version.");
    sample(b, "build_info", "version=\"" TURNPIKE_VERSION "\"", 1);
    metric(b, "workers", "gauge", "Worker threads.", src->nworkers);
    metric(b, "draining", "gauge", "1 after SIGUSR1: no new allocation, exit when none is left.",
           atomic_load(&src->relay->control->draining));
    page_allocations(b, &r);
    page_relayed(b, &r);
    page_requests(b, &s);
    page_transports(b, &s);
    page_workers(b, src);
    page_store(b, src);
}

/* ---- HTTP ----------------------------------------------------------------------------------- */

static void reply(struct evhttp_request *req, bool ok, const char *type)
{
    struct evkeyvalq *h = evhttp_request_get_output_headers(req);

    evhttp_add_header(h, "Content-Type", type);
    evhttp_add_header(h, "Cache-Control", "no-store");
    evhttp_send_reply(req, ok ? 200 : 503, ok ? "OK" : "Service Unavailable", NULL);
}

static void on_metrics(struct evhttp_request *req, void *arg)
{
    const struct metrics *m = arg;

    page(&m->src, evhttp_request_get_output_buffer(req));
    reply(req, true, TEXT_FORMAT);
}

/* Writes a line for each worker whose loop has not ticked for HEARTBEAT_STALE seconds (or
 * not started); returns how many. */
static int stale_workers(const struct metrics_source *src, struct evbuffer *b)
{
    int stale = 0;

    for (unsigned i = 0; i < src->nworkers; i++) {
        const struct worker *w = src->workers[i];
        uint64_t beat = LOAD(w->stats.heartbeat), now = worker_now(w);

        if (beat != 0 && now <= beat + HEARTBEAT_STALE)
            continue;
        stale++;
        if (beat == 0)
            evbuffer_add_printf(b, "worker %u: its loop has not started\n", i);
        else
            evbuffer_add_printf(b, "worker %u: no heartbeat for %llu s\n", i,
                                (unsigned long long)(now - beat));
    }
    return stale;
}

/* 200 while the process is alive and every worker's loop ticks. */
static void on_healthz(struct evhttp_request *req, void *arg)
{
    const struct metrics *m = arg;
    struct evbuffer *b = evhttp_request_get_output_buffer(req);
    bool ok = stale_workers(&m->src, b) == 0;

    if (ok)
        evbuffer_add_printf(b, "ok: %u workers responsive\n", m->src.nworkers);
    reply(req, ok, TEXT_PLAIN);
}

/* 200 when new clients would be served: the workers (which opened the listeners before they
 * started) tick, no drain, and the credentials can be checked. */
static void on_readyz(struct evhttp_request *req, void *arg)
{
    const struct metrics *m = arg;
    struct evbuffer *b = evhttp_request_get_output_buffer(req);
    int bad = stale_workers(&m->src, b);

    if (atomic_load(&m->src.relay->control->draining)) {
        evbuffer_add_printf(b, "draining: no new allocations (SIGUSR1)\n");
        bad++;
    }
    if (m->src.store) {
        struct metrics_store st = {0};

        m->src.store(m->src.store_arg, &st);
        if (!st.reachable && !st.cached) {
            evbuffer_add_printf(b, "credential store unreachable and nothing cached\n");
            bad++;
        }
    }
    if (bad == 0)
        evbuffer_add_printf(b, "ready\n");
    reply(req, bad == 0, TEXT_PLAIN);
}

static void on_other(struct evhttp_request *req, void *arg)
{
    (void)arg;
    evbuffer_add_printf(evhttp_request_get_output_buffer(req),
                        "not found: try /metrics, /healthz or /readyz\n");
    evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", TEXT_PLAIN);
    evhttp_send_reply(req, 404, "Not Found", NULL);
}

int metrics_new(struct metrics **out, const struct config *cfg, const struct metrics_source *src,
                char *err, size_t errlen)
{
    struct metrics *m = calloc(1, sizeof(*m));
    char ip[ADDR_STRLEN], where[ADDR_STRLEN];

    if (m == NULL || (m->base = event_base_new()) == NULL ||
        (m->http = evhttp_new(m->base)) == NULL) {
        snprintf(err, errlen, "--prometheus: out of memory");
        metrics_free(m);
        return -1;
    }
    m->src = *src;
    m->addr = cfg->prometheus_addr;
    addr_set_port(&m->addr, cfg->prometheus_port);
    evhttp_set_allowed_methods(m->http, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD);
    evhttp_set_timeout(m->http, HTTP_TIMEOUT);
    evhttp_set_max_headers_size(m->http, HTTP_MAX_HEADERS);
    evhttp_set_max_body_size(m->http, 0);
    evhttp_set_cb(m->http, "/metrics", on_metrics, m);
    evhttp_set_cb(m->http, "/healthz", on_healthz, m);
    evhttp_set_cb(m->http, "/readyz", on_readyz, m);
    evhttp_set_gencb(m->http, on_other, m);
    addr_format_ip(&m->addr, ip, sizeof(ip));
    if (evhttp_bind_socket_with_handle(m->http, ip, cfg->prometheus_port) == NULL) {
        snprintf(err, errlen, "--prometheus: cannot listen on %s: %s",
                 addr_format(&m->addr, where, sizeof(where)), strerror(errno));
        metrics_free(m);
        return -1;
    }
    *out = m;
    return 0;
}

static void *metrics_main(void *arg)
{
    struct metrics *m = arg;

    if (event_base_dispatch(m->base) < 0)
        log_error("metrics: event loop failed");
    return NULL;
}

int metrics_start(struct metrics *m)
{
    char where[ADDR_STRLEN];
    sigset_t all, old;
    int r;

    /* The process's signals are the main loop's: the thread starts with all of them blocked. */
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    r = pthread_create(&m->thread, NULL, metrics_main, m);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (r != 0) {
        errno = r;
        return -1;
    }
    m->started = true;
    log_info("metrics on http://%s/metrics, health on /healthz and /readyz",
             addr_format(&m->addr, where, sizeof(where)));
    return 0;
}

void metrics_stop(struct metrics *m)
{
    if (m == NULL || !m->started)
        return;
    /* loopexit, not loopbreak: it also stops a loop that has not started running yet. */
    event_base_loopexit(m->base, NULL);
    pthread_join(m->thread, NULL);
    m->started = false;
}

void metrics_free(struct metrics *m)
{
    if (m == NULL)
        return;
    metrics_stop(m);
    if (m->http)
        evhttp_free(m->http);
    if (m->base)
        event_base_free(m->base);
    free(m);
}
