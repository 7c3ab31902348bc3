/* steer.h — relay-port steering (--relay-steering): a BPF sk_lookup program hands every UDP
 * datagram a peer sends to a relayed address of worker w to one socket of w's, read in batches,
 * instead of waking w once per relay socket.  The relay sockets keep their ports and send as
 * before; one whose address could not be registered is read on its own (peer.c).  Linux 5.9
 * or later; opening needs CAP_BPF and CAP_NET_ADMIN, registering afterwards only the
 * descriptors kept here (and, before Linux 6.5, CAP_BPF too). */
#ifndef SERVER_STEER_H
#define SERVER_STEER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/addr.h"

struct steer;
struct msghdr;

#define STEER_MAX_IPS 32

/* Loads the program, attaches it to this network namespace and opens one steering socket per
 * worker (0..nworkers-1) and address family of the n (at most STEER_MAX_IPS) relay IPs, whose
 * relayed addresses have ports min_port..max_port.  Returns 0, or -1 with the reason in err
 * (everything opened is closed again). */
int steer_new(struct steer **out, const union addr *relay_ips, size_t n, uint16_t min_port,
              uint16_t max_port, unsigned nworkers, char *err, size_t errlen);

/* Detaches the program and closes the sockets.  Accepts NULL. */
void steer_free(struct steer *s);

/* Worker w's steering socket for family (AF_INET, AF_INET6), or -1 when there is none. */
int steer_socket(const struct steer *s, unsigned worker, int family);

/* Every relayed address (one of the relay IPs, a port of the range) has an index below
 * steer_slots(s): steer_index() gives the one of a, false when a is no relayed address.  The
 * caller keeps what it needs per address in a table of that many. */
size_t steer_slots(const struct steer *s);
bool steer_index(const struct steer *s, const union addr *a, uint32_t *idx);

/* From now on what arrives for relayed address idx goes to worker's steering socket of its
 * family.  0, or -1 with errno.  Thread-safe (the kernel's map). */
int steer_add(const struct steer *s, unsigned worker, uint32_t idx);

/* Stops steering relayed address idx (before its socket closes).  Thread-safe. */
void steer_del(const struct steer *s, uint32_t idx);

/* The address a datagram received on a steering socket was sent to, from its control data.
 * False when it carried none. */
bool steer_dst(const struct msghdr *h, union addr *out);

#endif
