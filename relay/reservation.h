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

/* Called for a reservation that ends unredeemed, with its address and what the caller stored
 * with it (e.g. the socket that holds the port), so the caller can give both back. */
typedef void relay_reservation_release(const union addr *addr, void *held, void *arg);

/* Frees the table, calling release (when not NULL) for every reservation still in it. */
void relay_reservations_free(struct relay_reservations *r, relay_reservation_release *release,
                             void *arg);

/* Records that relay address addr (with its port) is reserved under token until now +
 * RELAY_RESERVATION_LIFETIME, with held: whatever the caller keeps the port with (opaque
 * here).  Returns 0, or -1 when the table is full (an expired entry keeps its place until
 * relay_reservations_expire() releases it) or already holds token. */
int relay_reservations_add(struct relay_reservations *r, const uint8_t token[RELAY_TOKEN_LEN],
                           const union addr *addr, void *held, uint32_t now);

/* Removes the reservation of token and gives its address and held (when held is not NULL);
 * false when unknown or expired (an expired one stays for relay_reservations_expire()). */
bool relay_reservations_take(struct relay_reservations *r, const uint8_t token[RELAY_TOKEN_LEN],
                             uint32_t now, union addr *addr, void **held);

/* Removes reservations expired at now, calling release for each (without the table's lock
 * held: release may use the table).  Returns how many expired. */
size_t relay_reservations_expire(struct relay_reservations *r, uint32_t now,
                                 relay_reservation_release *release, void *arg);

#endif
