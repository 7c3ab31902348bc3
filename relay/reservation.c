/* reservation.c — RESERVATION-TOKENs: a fixed array of reserved relay addresses under a mutex. */
#include "relay/reservation.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "proto/crypto.h"

struct reservation {
    bool used;
    uint32_t expires; /* expired from this second on */
    uint8_t token[RELAY_TOKEN_LEN];
    union addr addr;
    void *held;
};

/* A linear array: the table holds a few reservations at a time (EVEN-PORT with the R bit is
 * rare), each lookup takes the lock anyway, and O(max) over a small max is cheaper than the
 * bookkeeping of anything cleverer. */
struct relay_reservations {
    pthread_mutex_t lock;
    size_t max;
    struct reservation slots[];
};

int relay_reservations_new(struct relay_reservations **out, size_t max)
{
    struct relay_reservations *r = calloc(1, sizeof *r + max * sizeof r->slots[0]);

    if (r == NULL)
        return -1;
    if (pthread_mutex_init(&r->lock, NULL) != 0) {
        free(r);
        return -1;
    }
    r->max = max;
    *out = r;
    return 0;
}

void relay_reservations_free(struct relay_reservations *r, relay_reservation_release *release,
                             void *arg)
{
    if (r == NULL)
        return;
    for (size_t i = 0; i < r->max && release != NULL; i++)
        if (r->slots[i].used)
            release(&r->slots[i].addr, r->slots[i].held, arg);
    pthread_mutex_destroy(&r->lock);
    free(r);
}

/* The live or expired entry holding token, or NULL.  Tokens are compared in constant time:
 * a token is a bearer credential for a port, so a timing oracle on it must not exist. */
static struct reservation *find(struct relay_reservations *r, const uint8_t *token)
{
    for (size_t i = 0; i < r->max; i++) {
        struct reservation *e = &r->slots[i];
        if (e->used && crypto_equal(e->token, token, RELAY_TOKEN_LEN))
            return e;
    }
    return NULL;
}

int relay_reservations_add(struct relay_reservations *r, const uint8_t token[RELAY_TOKEN_LEN],
                           const union addr *addr, void *held, uint32_t now)
{
    struct reservation *free_slot = NULL;
    int rc = -1;

    pthread_mutex_lock(&r->lock);
    /* An expired entry still holds its slot: only expire() hands its port back, and reusing
     * the slot here would lose that port for good. */
    for (size_t i = 0; i < r->max && free_slot == NULL; i++) {
        if (!r->slots[i].used)
            free_slot = &r->slots[i];
    }
    if (free_slot != NULL && find(r, token) == NULL) {
        free_slot->used = true;
        free_slot->expires = now + RELAY_RESERVATION_LIFETIME;
        memcpy(free_slot->token, token, RELAY_TOKEN_LEN);
        free_slot->addr = *addr;
        free_slot->held = held;
        rc = 0;
    }
    pthread_mutex_unlock(&r->lock);
    return rc;
}

bool relay_reservations_take(struct relay_reservations *r, const uint8_t token[RELAY_TOKEN_LEN],
                             uint32_t now, union addr *addr, void **held)
{
    bool ok = false;

    pthread_mutex_lock(&r->lock);
    struct reservation *e = find(r, token);
    /* An expired entry stays where it is, for expire() to give its port back. */
    if (e != NULL && now < e->expires) {
        *addr = e->addr;
        if (held != NULL)
            *held = e->held;
        e->used = false;
        ok = true;
    }
    pthread_mutex_unlock(&r->lock);
    return ok;
}

/* One entry at a time leaves the table under the lock and is released outside it, so release
 * may take other locks, or even call back into this table, without a deadlock.  The scan
 * resumes where it stopped: O(max) for the whole sweep. */
size_t relay_reservations_expire(struct relay_reservations *r, uint32_t now,
                                 relay_reservation_release *release, void *arg)
{
    size_t n = 0, i = 0;

    for (;;) {
        union addr a;
        void *held = NULL;
        bool found = false;

        pthread_mutex_lock(&r->lock);
        for (; i < r->max && !found; i++) {
            struct reservation *e = &r->slots[i];
            if (e->used && now >= e->expires) {
                a = e->addr;
                held = e->held;
                e->used = false;
                found = true;
            }
        }
        pthread_mutex_unlock(&r->lock);
        if (!found)
            return n;
        n++;
        if (release != NULL)
            release(&a, held, arg);
    }
}
