/* test_wheel.c — the timer wheel: order, re-arm, delete, callbacks that edit it, long jumps. */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "relay/wheel.h"
#include "tests/lib/check.h"

#define TURN 4096 /* the wheel's slots: a jump of that many seconds visits each slot once */

/* A timed object.  What its callback does beyond recording the fire is set per test. */
struct obj {
    struct wheel_timer t;
    int id;
    int fires;
    uint32_t fired_at;    /* the now of the advance that fired it */
    uint32_t fired_after; /* the now of the advance before that one */
    uint32_t rearm;       /* > 0: re-arm at now + rearm when fired */
    bool rearm_same;      /* re-arm for the very second being run */
    struct obj *victim;   /* disarm this one when fired */
    struct obj *spawn;    /* arm this one at spawn_at when fired */
    uint32_t spawn_at;
    bool free_me; /* free the object in its callback */
};

/* The test's side of the clock, and a log of what fired. */
struct ctx {
    struct wheel *w;
    uint32_t now;
    uint32_t prev; /* now of the previous advance */
    int log[64];
    int nlog;
    int fired;
    uint32_t last_expires;
    int out_of_order;
    int freed;
};

static void on_fire(struct wheel_timer *t, void *arg)
{
    struct obj *o = (struct obj *)((char *)t - offsetof(struct obj, t));
    struct ctx *c = arg;

    CHECK(!wheel_armed(t));
    o->fires++;
    o->fired_at = c->now;
    o->fired_after = c->prev;
    c->fired++;
    if (c->nlog < 64)
        c->log[c->nlog++] = o->id;
    if (t->expires < c->last_expires)
        c->out_of_order++;
    c->last_expires = t->expires;
    if (o->victim != NULL)
        wheel_del(c->w, &o->victim->t);
    if (o->spawn != NULL)
        wheel_add(c->w, &o->spawn->t, o->spawn_at);
    if (o->rearm > 0)
        wheel_add(c->w, t, c->now + o->rearm);
    if (o->rearm_same)
        wheel_add(c->w, t, t->expires);
    if (o->free_me) {
        c->freed++;
        free(o);
    }
}

static void advance(struct ctx *c, uint32_t now)
{
    c->prev = c->now;
    c->now = now;
    c->last_expires = 0;
    wheel_advance(c->w, now, on_fire, c);
}

static bool start(struct ctx *c, uint32_t now)
{
    memset(c, 0, sizeof *c);
    c->now = now;
    return CHECK_INT(wheel_new(&c->w, now), 0);
}

static void test_fires_in_order_second_by_second(void)
{
    static const uint32_t due[] = {
        1005,           1001, 1003, 1003, 1010, 1002, 1000 + TURN, 1000 + TURN + 1, 1000 + TURN - 1,
        1000 + 2 * TURN};
    enum { N = sizeof due / sizeof due[0] };
    struct obj o[N];
    struct ctx c;

    if (!start(&c, 1000))
        return;
    memset(o, 0, sizeof o);
    for (int i = 0; i < N; i++) {
        o[i].id = i;
        wheel_add(c.w, &o[i].t, due[i]);
        CHECK(wheel_armed(&o[i].t));
    }
    CHECK_INT(wheel_count(c.w), N);
    for (uint32_t now = 1001; now <= 1000 + 2 * TURN + 5; now++) {
        c.last_expires = 0; /* order is checked across advances too: keep it running */
        c.prev = c.now;
        c.now = now;
        wheel_advance(c.w, now, on_fire, &c);
        if (now == 1004)
            CHECK_INT(wheel_count(c.w), N - 4);
    }
    for (int i = 0; i < N; i++) {
        CHECK_INT(o[i].fires, 1);
        CHECK_INT(o[i].fired_at, due[i]);
    }
    for (int i = 1; i < c.nlog; i++)
        CHECK(due[c.log[i - 1]] <= due[c.log[i]]);
    CHECK_INT(c.nlog, N);
    CHECK_INT(wheel_count(c.w), 0);
    wheel_free(c.w);
}

/* A time already passed (or the present second) fires at the next advance, even one that does
 * not move the clock. */
static void test_past_time_fires_at_next_advance(void)
{
    struct obj a = {.id = 1}, b = {.id = 2}, d = {.id = 3};
    struct ctx c;

    if (!start(&c, 100))
        return;
    wheel_add(c.w, &a.t, 50);
    wheel_add(c.w, &b.t, 100);
    wheel_add(c.w, &d.t, 101);
    advance(&c, 100);
    CHECK_INT(a.fires, 1);
    CHECK_INT(b.fires, 1);
    CHECK_INT(d.fires, 0);
    CHECK_INT(wheel_count(c.w), 1);
    advance(&c, 101);
    CHECK_INT(d.fires, 1);
    wheel_add(c.w, &a.t, 0);
    advance(&c, 90); /* the clock going back moves nothing, but the late list still runs */
    CHECK_INT(a.fires, 2);
    advance(&c, 102);
    CHECK_INT(c.fired, 4);
    wheel_free(c.w);
}

static void test_periodic_rearm(void)
{
    struct obj a = {.rearm = 10};
    struct ctx c;

    if (!start(&c, 100))
        return;
    wheel_add(c.w, &a.t, 110);
    for (uint32_t now = 101; now <= 200; now++)
        advance(&c, now);
    CHECK_INT(a.fires, 10);
    CHECK_INT(a.fired_at, 200);
    CHECK(wheel_armed(&a.t));
    CHECK_INT(a.t.expires, 210);
    CHECK_INT(wheel_count(c.w), 1);
    advance(&c, 205 + 3 * TURN); /* a long jump fires it once, and it re-arms after the jump */
    CHECK_INT(a.fires, 11);
    CHECK_INT(a.t.expires, 215 + 3 * TURN);
    wheel_free(c.w);
}

/* A callback arming its timer for the second being run does not loop: it waits for the next
 * advance. */
static void test_rearm_for_the_same_second_waits(void)
{
    struct obj a = {.rearm_same = true};
    struct ctx c;

    if (!start(&c, 0))
        return;
    wheel_add(c.w, &a.t, 5);
    advance(&c, 10);
    CHECK_INT(a.fires, 1);
    CHECK(wheel_armed(&a.t));
    advance(&c, 10);
    CHECK_INT(a.fires, 2);
    advance(&c, 5000);
    CHECK_INT(a.fires, 3);
    a.rearm_same = false;
    advance(&c, 5000);
    CHECK_INT(a.fires, 4);
    advance(&c, 5001);
    CHECK_INT(a.fires, 4);
    CHECK_INT(wheel_count(c.w), 0);
    wheel_free(c.w);
}

static void test_delete_and_move(void)
{
    struct obj a = {.id = 1}, b = {.id = 2}, d = {.id = 3}, idle = {.id = 4};
    struct ctx c;

    if (!start(&c, 0))
        return;
    wheel_add(c.w, &a.t, 10);
    wheel_add(c.w, &b.t, 10);
    wheel_add(c.w, &d.t, 10 + TURN);
    wheel_del(c.w, &b.t);
    CHECK(!wheel_armed(&b.t));
    wheel_del(c.w, &b.t);
    wheel_del(c.w, &idle.t);
    CHECK_INT(wheel_count(c.w), 2);
    wheel_add(c.w, &a.t, 20); /* re-arming moves it */
    CHECK_INT(wheel_count(c.w), 2);
    advance(&c, 15);
    CHECK_INT(a.fires + b.fires + d.fires, 0);
    advance(&c, 20);
    CHECK_INT(a.fires, 1);
    wheel_del(c.w, &d.t);
    advance(&c, 20 + 2 * TURN);
    CHECK_INT(b.fires + d.fires, 0);
    CHECK_INT(wheel_count(c.w), 0);
    wheel_free(c.w);
}

/* The callback of one timer disarms the next timer of the same slot (same second, or a later
 * round): whichever comes first fires, the other never does. */
static void test_callback_deletes_next_in_slot(void)
{
    static const uint32_t second[] = {50, 50 + TURN};
    struct ctx c;

    for (int k = 0; k < 2; k++) {
        struct obj a = {.id = 1}, b = {.id = 2};
        a.victim = &b;
        b.victim = &a;
        if (!start(&c, 0))
            return;
        wheel_add(c.w, &a.t, 50);
        wheel_add(c.w, &b.t, second[k]);
        for (uint32_t now = 1; now <= 60 + 2 * TURN; now += k == 0 ? 1 : 7)
            advance(&c, now);
        CHECK_INT(a.fires + b.fires, 1);
        if (k == 1)
            CHECK_INT(a.fires, 1); /* the earlier round comes first */
        CHECK_INT(wheel_count(c.w), 0);
        wheel_free(c.w);
    }
    /* Three in one second, the second disarming the first and moving the third to a later
     * second, whatever order the three run in: the lists stay whole, the first fires at most
     * once, the third fires last at its new second. */
    struct obj t3[3] = {{.id = 0}, {.id = 1}, {.id = 2}};
    if (!start(&c, 0))
        return;
    for (int i = 0; i < 3; i++)
        wheel_add(c.w, &t3[i].t, 9);
    t3[1].victim = &t3[0];
    t3[1].spawn = &t3[2];
    t3[1].spawn_at = 12;
    advance(&c, 10);
    CHECK_INT(t3[1].fires, 1);
    CHECK(t3[0].fires <= 1 && t3[2].fires <= 1);
    CHECK_INT(wheel_count(c.w), 1);
    CHECK_INT(t3[2].t.expires, 12);
    advance(&c, 12);
    CHECK_INT(t3[2].fired_at, 12);
    CHECK_INT(c.fired, t3[0].fires + 1 + t3[2].fires);
    CHECK_INT(wheel_count(c.w), 0);
    wheel_free(c.w);
}

/* A callback arming another timer for later within the same advance gets it fired in that
 * advance, at its own turn. */
static void test_callback_arms_within_the_advance(void)
{
    struct obj a = {.id = 1}, b = {.id = 2};
    struct ctx c;

    a.spawn = &b;
    a.spawn_at = 7;
    if (!start(&c, 0))
        return;
    wheel_add(c.w, &a.t, 3);
    advance(&c, 100);
    CHECK_INT(a.fires, 1);
    CHECK_INT(b.fires, 1);
    CHECK_INT(c.nlog, 2);
    CHECK_INT(c.log[0], 1);
    CHECK_INT(c.log[1], 2);
    wheel_free(c.w);
}

/* Callbacks that free their object, many in one slot: nothing touches them afterwards. */
static void test_callback_frees_its_object(void)
{
    struct ctx c;

    if (!start(&c, 0))
        return;
    for (int i = 0; i < 100; i++) {
        struct obj *o = calloc(1, sizeof *o);
        if (!CHECK(o != NULL))
            break;
        o->free_me = true;
        wheel_add(c.w, &o->t, (uint32_t)(1 + i % 3));
    }
    advance(&c, 5);
    CHECK_INT(c.freed, 100);
    CHECK_INT(wheel_count(c.w), 0);
    wheel_free(c.w);
}

/* Jumps at and around one turn, and far beyond it: everything due fires exactly once, nothing
 * else does, and the clock ends at the new now. */
static void test_long_jumps(void)
{
    static const uint32_t jumps[] = {TURN - 1, TURN, TURN + 1, 10000, 3 * TURN + 17};
    enum { N = 3000 };
    struct obj *o = calloc(N, sizeof *o);
    struct ctx c;
    uint64_t seed = 77;

    if (!CHECK(o != NULL))
        return;
    for (size_t j = 0; j < sizeof jumps / sizeof jumps[0]; j++) {
        if (!start(&c, 500))
            break;
        memset(o, 0, N * sizeof *o);
        for (int i = 0; i < N; i++) {
            seed = seed * 6364136223846793005ull + 1442695040888963407ull;
            uint32_t expires = 501 + (uint32_t)(seed >> 33) % (2 * jumps[j]);
            wheel_add(c.w, &o[i].t, i < 4 ? 500 + jumps[j] + (uint32_t)i - 1 : expires);
        }
        advance(&c, 500 + jumps[j]);
        int due = 0;
        for (int i = 0; i < N; i++) {
            bool is_due = o[i].t.expires <= 500 + jumps[j];
            due += is_due;
            if (!CHECK_INT(o[i].fires, is_due) || !CHECK(wheel_armed(&o[i].t) == !is_due))
                break;
        }
        CHECK_INT(c.fired, due);
        CHECK_INT(wheel_count(c.w), N - due);
        advance(&c, 500 + 2 * jumps[j]);
        CHECK_INT(c.fired, N);
        for (int i = 0; i < N; i++) {
            if (!CHECK_INT(o[i].fires, 1))
                break;
        }
        CHECK_INT(wheel_count(c.w), 0);
        wheel_free(c.w);
    }
    free(o);
}

/* Timers several turns ahead wait their round, second by second as well as by jumps. */
static void test_timers_many_turns_ahead(void)
{
    struct obj a = {.id = 1}, b = {.id = 2};
    struct ctx c;

    if (!start(&c, 0))
        return;
    wheel_add(c.w, &a.t, 3 * TURN + 5);
    wheel_add(c.w, &b.t, 5);
    for (uint32_t now = 1; now <= 3 * TURN + 4; now++)
        advance(&c, now);
    CHECK_INT(a.fires, 0);
    CHECK_INT(b.fires, 1);
    advance(&c, 3 * TURN + 5);
    CHECK_INT(a.fires, 1);
    CHECK_INT(a.fired_at, 3 * TURN + 5);
    wheel_free(c.w);
}

static uint32_t rnd32(uint64_t *s)
{
    *s = *s * 6364136223846793005ull + 1442695040888963407ull;
    return (uint32_t)(*s >> 33);
}

/* 100,000 timers over two hours, a tenth disarmed and a tenth moved, the clock run by steps of
 * every size: each armed timer fires once, at the first advance whose now reaches it, and
 * within an advance shorter than a turn in order of expiry.  Correctness only, no timing. */
static void test_hundred_thousand_timers(void)
{
    enum { N = 100000 };
    static const uint32_t steps[] = {1, 3, 17, 600, 1, 5000, 2, 4095, 4096, 1};
    struct obj *o = calloc(N, sizeof *o);
    struct ctx c;
    uint64_t seed = 2024;
    int armed = N;

    if (!CHECK(o != NULL) || !start(&c, 1000)) {
        free(o);
        return;
    }
    for (int i = 0; i < N; i++) {
        o[i].id = 1; /* 1: expected to fire once; 0: disarmed before it could */
        wheel_add(c.w, &o[i].t, 1001 + rnd32(&seed) % 7200);
    }
    for (int i = 0; i < N; i++) {
        uint32_t r = rnd32(&seed) % 10;
        if (r == 0) {
            wheel_del(c.w, &o[i].t);
            o[i].id = 0;
            armed--;
        } else if (r == 1) {
            wheel_add(c.w, &o[i].t, 1001 + rnd32(&seed) % 7200);
        }
    }
    CHECK_INT(wheel_count(c.w), armed);
    for (size_t k = 0; c.now < 1000 + 7200 + TURN; k++) {
        uint32_t step = steps[k % (sizeof steps / sizeof steps[0])];
        int before = c.out_of_order;
        advance(&c, c.now + step);
        if (step >= TURN)
            c.out_of_order = before; /* a whole turn at once fires slot by slot */
    }
    int bad = 0;
    for (int i = 0; i < N; i++) {
        bad += o[i].fires != o[i].id;
        if (o[i].fires == 1)
            bad += !(o[i].fired_after < o[i].t.expires && o[i].t.expires <= o[i].fired_at);
    }
    CHECK_INT(bad, 0);
    CHECK_INT(c.fired, armed);
    CHECK_INT(c.out_of_order, 0);
    CHECK_INT(wheel_count(c.w), 0);
    wheel_free(c.w);
    free(o);
}

int main(void)
{
    RUN(test_fires_in_order_second_by_second);
    RUN(test_past_time_fires_at_next_advance);
    RUN(test_periodic_rearm);
    RUN(test_rearm_for_the_same_second_waits);
    RUN(test_delete_and_move);
    RUN(test_callback_deletes_next_in_slot);
    RUN(test_callback_arms_within_the_advance);
    RUN(test_callback_frees_its_object);
    RUN(test_long_jumps);
    RUN(test_timers_many_turns_ahead);
    RUN(test_hundred_thousand_timers);
    return check_summary();
}
