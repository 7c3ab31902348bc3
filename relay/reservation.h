/* reservation.h — RESERVATION-TOKENs: a relay port kept for a later Allocate (RFC 8656 §7.2). */
#ifndef RELAY_RESERVATION_H
#define RELAY_RESERVATION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/addr.h"

#define RELAY_TOKEN_LEN 8
/* How long a reserved port waits for its Allocate (RFC 8656 §7.2 suggests about 30 s). */
#define RELAY_RESERVATION_LIFETIME 30

struct relay_reservations;

/* A table of at most max reservations.  Shared by every worker: the Allocate that redeems a
 * token usually comes from another client port, hence often to another worker.  It is not on
 * the packet path, so a mutex guards it. */
int relay_reservations_new(struct relay_reservations **out, size_t max);

/* Frees the table; the ports still reserved are not given back (the pools go with it). */
void relay_reservations_free(struct relay_reservations *r);

/* Records that relay address addr (with its port) is reserved under token until now +
 * RELAY_RESERVATION_LIFETIME.  Returns 0, or -1 when the table is full (an expired entry keeps
 * its place until relay_reservations_expire() releases it) or already holds token. */
int relay_reservations_add(struct relay_reservations *r, const uint8_t token[RELAY_TOKEN_LEN],
                           const union addr *addr, uint32_t now);

/* Removes the reservation of token and gives its address; false when unknown or expired (an
 * expired one stays for relay_reservations_expire(), which returns its port). */
bool relay_reservations_take(struct relay_reservations *r, const uint8_t token[RELAY_TOKEN_LEN],
                             uint32_t now, union addr *addr);

/* Removes reservations expired at now, calling release(addr, arg) for each so the caller can
 * return the port to its pool (without the table's lock held: release may use the table).
 * Returns how many expired. */
size_t relay_reservations_expire(struct relay_reservations *r, uint32_t now,
                                 void (*release)(const union addr *addr, void *arg), void *arg);

#endif
