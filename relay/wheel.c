/* wheel.c — a one-level timer wheel of 4096 one-second slots with intrusive timer lists. */
#include "relay/wheel.h"

#include <stdlib.h>

/* Layout.  A timer due at second e waits in slot e % 4096.  The wheel covers 68 minutes, more
 * than the longest TURN lifetime (3600 s), so a slot normally holds only timers of the very
 * second it is visited for; a timer further ahead shares a slot with earlier rounds, and since
 * every visit re-checks expires, it is simply put back until its own round comes.  That keeps
 * one level (no cascading between levels) and any delay correct, at the price of one extra
 * visit per 68 minutes of delay.
 *
 * Invariant: every second up to now has been run, so every timer in a slot is due after now;
 * a timer armed for now or earlier goes to the late list, run first by the next advance. */
#define WHEEL_SLOTS 4096u
#define WHEEL_MASK  (WHEEL_SLOTS - 1)

struct wheel {
    uint32_t now;
    uint32_t count;
    struct wheel_timer *late;
    struct wheel_timer *running; /* the list run_list() is emptying */
    struct wheel_timer *slot[WHEEL_SLOTS];
};

int wheel_new(struct wheel **out, uint32_t now)
{
    struct wheel *w = calloc(1, sizeof *w);

    if (w == NULL)
        return -1;
    w->now = now;
    *out = w;
    return 0;
}

void wheel_free(struct wheel *w)
{
    free(w);
}

/* pprev points at the pointer that points at t (a list head or the previous timer's next),
 * which is what makes unlinking O(1) without knowing which list t is on. */
static void link_head(struct wheel_timer **head, struct wheel_timer *t)
{
    t->next = *head;
    if (t->next != NULL)
        t->next->pprev = &t->next;
    t->pprev = head;
    *head = t;
}

static void unlink_timer(struct wheel_timer *t)
{
    *t->pprev = t->next;
    if (t->next != NULL)
        t->next->pprev = t->pprev;
    t->next = NULL;
    t->pprev = NULL;
}

void wheel_add(struct wheel *w, struct wheel_timer *t, uint32_t expires)
{
    if (wheel_armed(t))
        unlink_timer(t);
    else
        w->count++;
    t->expires = expires;
    link_head(expires <= w->now ? &w->late : &w->slot[expires & WHEEL_MASK], t);
}

void wheel_del(struct wheel *w, struct wheel_timer *t)
{
    if (!wheel_armed(t))
        return;
    unlink_timer(t);
    w->count--;
}

/* Runs the list at *head: fires its timers due at or before limit and puts the others back.
 * Why the detour through w->running: the list is first moved onto that head of its own and
 * emptied one timer at a time from the front, so whatever fire does (delete the next timer,
 * re-arm one into this same slot, free itself) only ever edits a well-linked list, and a
 * timer re-armed into *head is not seen again by this run. */
static void run_list(struct wheel *w, struct wheel_timer **head, uint32_t limit,
                     void (*fire)(struct wheel_timer *t, void *arg), void *arg)
{
    if (*head == NULL)
        return;
    w->running = *head;
    w->running->pprev = &w->running;
    *head = NULL;
    while (w->running != NULL) {
        struct wheel_timer *t = w->running;
        unlink_timer(t);
        if (t->expires <= limit) {
            w->count--;
            fire(t, arg);
        } else {
            link_head(head, t); /* a later round of this slot */
        }
    }
}

/* Short steps run second by second, the clock set to each second before its slot, so timers
 * fire in order of expiry.  A jump of a whole turn or more visits every slot once with the
 * clock already at now: each slot then fires all it holds that is due, which is everything
 * due exactly once, in O(slots + fired) whatever the length of the jump. */
void wheel_advance(struct wheel *w, uint32_t now, void (*fire)(struct wheel_timer *t, void *arg),
                   void *arg)
{
    run_list(w, &w->late, w->now, fire, arg);
    if (now <= w->now)
        return; /* no time passed (or the clock went back: not supported, nothing moves) */

    uint32_t span = now - w->now;
    uint32_t first = w->now + 1;
    uint32_t steps = span < WHEEL_SLOTS ? span : WHEEL_SLOTS;

    for (uint32_t i = 0; i < steps; i++) {
        uint32_t second = first + i;
        w->now = span < WHEEL_SLOTS ? second : now;
        run_list(w, &w->slot[second & WHEEL_MASK], w->now, fire, arg);
    }
    w->now = now;
}

uint32_t wheel_count(const struct wheel *w)
{
    return w->count;
}
