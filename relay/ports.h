/* ports.h — the relay port pool of one relay address, shared by every worker without a lock. */
#ifndef RELAY_PORTS_H
#define RELAY_PORTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct relay_ports;

/* Flags for relay_ports_take(). */
enum {
    RELAY_PORTS_EVEN = 1u << 0,     /* an even port (EVEN-PORT) */
    RELAY_PORTS_PAIR = 1u << 1,     /* an even port whose successor is free too; take both
                                       (EVEN-PORT with the R bit: port+1 is reserved) */
};

/* A pool of the ports min..max (inclusive, 1 <= min <= max).  Returns 0, or -1 (no memory, or
 * min and max outside that order). */
int relay_ports_new(struct relay_ports **out, uint16_t min, uint16_t max);
void relay_ports_free(struct relay_ports *p);

/* Takes a free port chosen at random (rnd is the caller's random number: the pool has no
 * random source of its own, which keeps it testable) and returns it, or 0 when none is free
 * that satisfies flags.  A taken port is never handed out again before relay_ports_put().
 * Thread-safe and lock-free (an atomic bitmap); O(max - min) in the worst case, O(1) while the
 * pool is not nearly full. */
uint16_t relay_ports_take(struct relay_ports *p, uint64_t rnd, unsigned flags);

/* Takes this very port if it is free (for a reserved port's owner).  Thread-safe. */
bool relay_ports_take_exact(struct relay_ports *p, uint16_t port);

/* Gives a taken port back.  Thread-safe. */
void relay_ports_put(struct relay_ports *p, uint16_t port);

/* Ports currently free (a snapshot). */
size_t relay_ports_available(const struct relay_ports *p);

#endif
