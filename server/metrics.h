/* metrics.h — the --prometheus HTTP server: /metrics, /healthz and /readyz on a thread and an
 * event loop of their own, reading the workers' counters with atomic loads only. */
#ifndef SERVER_METRICS_H
#define SERVER_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "server/config.h"

struct metrics;
struct relay_shared;
struct worker;

/* What an external credential store (Redis) says of itself, for /readyz and /metrics. */
struct metrics_store {
    bool reachable;      /* its last lookup or ping got an answer */
    bool cached;         /* credentials cached in the process answer while it is unreachable */
    uint64_t lookups;    /* credential lookups sent to the store */
    uint64_t errors;     /* lookups that failed (timeout, connection lost, error reply) */
    uint64_t cache_hits; /* lookups answered from the process's cache */
};

/* Where the numbers come from.  Everything is borrowed and must outlive the metrics server;
 * the workers' counters and relays are read from the metrics thread with atomic loads. */
struct metrics_source {
    struct worker *const *workers;
    unsigned nworkers;
    const struct relay_shared *relay; /* its control->draining */
    /* Fills *out, from any thread, without blocking; NULL when the credentials live in the
     * process (users, userdb, REST secrets), which is always ready and has no counters. */
    void (*store)(void *arg, struct metrics_store *out);
    void *store_arg;
};

/* Makes the HTTP server and binds it to --prometheus-address and --prometheus-port (in the
 * calling thread, so that a port in use stops the start-up with the reason in err).  src is
 * copied; what it points to is borrowed.  Returns 0 or -1. */
int metrics_new(struct metrics **out, const struct config *cfg, const struct metrics_source *src,
                char *err, size_t errlen);

/* Starts the thread that serves the requests.  0 or -1 (errno). */
int metrics_start(struct metrics *m);

/* Stops the thread and waits for it; callable from any thread but the metrics one.  The
 * metrics must be stopped before the workers they read are freed. */
void metrics_stop(struct metrics *m);

/* Closes the socket and frees.  Accepts NULL; stops the thread first if it runs. */
void metrics_free(struct metrics *m);

#endif
