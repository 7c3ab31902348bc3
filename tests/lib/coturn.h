/* coturn.h — coturn's test tools as clients of the server under test: turnutils_peer, an echo
 * peer, and turnutils_uclient, a TURN client whose totals are read from its output. */
#ifndef TESTS_LIB_COTURN_H
#define TESTS_LIB_COTURN_H

#include <stdint.h>
#include <sys/types.h>

/* Starts turnutils_peer echoing on UDP ip:port; returns its PID or -1. */
pid_t coturn_peer_start(const char *ip, uint16_t port);

/* Stops a peer started above (SIGTERM, then waits).  Accepts -1. */
void coturn_peer_stop(pid_t pid);

/* What one uclient run reported: its exit status, the messages it sent and received, those
 * it counted lost (-1 when it did not say), its wall time, and its output. */
struct coturn_run {
    int rc;
    long sent, received, lost;
    double seconds;
    char out[16384];
};

/* Runs "turnutils_uclient FLAGS -p PORT IP" for at most timeout_s seconds. */
void coturn_uclient(struct coturn_run *r, const char *flags, uint16_t port, const char *ip,
                    int timeout_s);

/* True when the run relayed all of want messages and lost none; otherwise prints its output. */
int coturn_all_relayed(const struct coturn_run *r, long want);

/* Who uclient is and where its peer listens (port on ip passed with each run). */
struct coturn_target {
    const char *user;
    const char *pass;
    uint16_t peer_port;
};

/* Runs uclient with flags, t's credentials, peer_ip:t->peer_port, n messages for each of m
 * clients 2 ms apart, against ip:port, and checks that all n * m came back (as above). */
int coturn_relay_all(const struct coturn_target *t, const char *flags, const char *ip,
                     uint16_t port, const char *peer_ip, long n, long m);

#endif
