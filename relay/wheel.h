/* wheel.h — a coarse timer wheel (1 s ticks): many timers for the price of a few pointers. */
#ifndef RELAY_WHEEL_H
#define RELAY_WHEEL_H

#include <stdbool.h>
#include <stdint.h>

/* A timer embedded in the object it times (find the object with container_of-style
 * arithmetic in the callback).  Zero-initialised it is idle. */
struct wheel_timer {
    struct wheel_timer *next;
    struct wheel_timer **pprev;
    uint32_t expires;
};

struct wheel;

/* A wheel whose clock starts at now (seconds, any origin, wrapping not handled: use a
 * monotonic count of seconds since start).  Returns 0 or -1. */
int wheel_new(struct wheel **out, uint32_t now);

/* Frees the wheel; timers still armed are just forgotten (their owners free themselves). */
void wheel_free(struct wheel *w);

/* Arms t to fire at time expires (a time already passed fires at the next advance).  Re-arms
 * it if it was armed.  O(1). */
void wheel_add(struct wheel *w, struct wheel_timer *t, uint32_t expires);

/* Disarms t if armed (on w: a timer is armed on one wheel at a time).  O(1).  The wheel is
 * an argument so that wheel_count() stays exact without a pointer back in every timer. */
void wheel_del(struct wheel *w, struct wheel_timer *t);

static inline bool wheel_armed(const struct wheel_timer *t) { return t->pprev != 0; }

/* Moves the clock to now and calls fire(t, arg) for every timer that expired, each once and
 * disarmed before the call (fire may re-arm it, free it, or arm/disarm other timers, but not
 * advance the wheel).  Order: first the timers armed for a time already passed, then the
 * others by expiry, in no set order within one second; over a jump of 4096 s or more, slot by
 * slot instead (expiry modulo 4096, from the old time on).  A timer that fire arms for a time
 * not after the second being run waits for the next advance.  O(seconds crossed, at most
 * 4096, + timers fired + timers over 4096 s ahead found in the slots crossed). */
void wheel_advance(struct wheel *w, uint32_t now, void (*fire)(struct wheel_timer *t, void *arg),
                   void *arg);

/* Number of armed timers. */
uint32_t wheel_count(const struct wheel *w);

#endif
