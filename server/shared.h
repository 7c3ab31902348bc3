/* shared.h — the state every worker shares, built from the configuration: auth, relay, TLS. */
#ifndef SERVER_SHARED_H
#define SERVER_SHARED_H

#include <stddef.h>
#include <stdint.h>

#include "server/worker.h"

struct shared;

/* Builds the credential store (users, --userdb, REST secrets), the nonce secret, the relay
 * addresses with their port pools and --external-ip mappings, the peer policy (defaults,
 * operator ranges, our own listening and relay addresses), reservations and quotas, and the
 * TLS and DTLS contexts (--cert and the options around it).  listen holds the n resolved
 * listening addresses (with port).  cfg is borrowed.  Returns 0, or -1 with the reason in err
 * (for TLS, naming the option and file at fault). */
int shared_new(struct shared **out, const struct config *cfg, const union addr *listen,
               size_t n, unsigned nworkers, char *err, size_t errlen);

/* SIGUSR1: new Allocates are refused from now on (300 to an alternate server, else 508). */
void shared_drain(struct shared *s);

/* What the workers read. */
const struct worker_shared *shared_view(const struct shared *s);

/* Records the workers' mailboxes (an array of n, by worker id) once the workers exist and
 * before they start; borrowed. */
void shared_set_mailboxes(struct shared *s, struct mailbox **mailboxes, unsigned n);

/* SIGHUP, with fresh the configuration read again: the configured users, the userdb file, the
 * REST secrets, the peer allow/deny lists and the TLS/DTLS certificates and keys are replaced,
 * each on its own: a part that fails keeps its old state.  done and failed (capacity cap each)
 * get "; "-separated reports ("users; TLS certificate", "userdb: bad.txt:3: ...").  now is
 * the worker clock.  Returns 0, or -1 when a part failed.  Main thread only. */
int shared_reload(struct shared *s, const struct config *fresh, uint32_t now, char *done,
                  char *failed, size_t cap);

/* Frees what reloads replaced, once every worker's heartbeat has passed its replacement:
 * oldest_heartbeat is the lowest of the workers' (UINT32_MAX: they are gone).  Main thread. */
void shared_reclaim(struct shared *s, uint32_t oldest_heartbeat);

/* Logs what the relay will use (addresses, port range, authentication). */
void shared_log(const struct shared *s);

void shared_free(struct shared *s);

#endif
