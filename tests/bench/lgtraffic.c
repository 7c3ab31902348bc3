/* lgtraffic.c — the load generator's echo traffic: closed loop or paced sends, every echo
 * numbered and timed, losses found by a timeout sweep, round trips in a histogram. */
#include <stdlib.h>
#include <string.h>

#include "proto/frame.h"
#include "proto/stun_build.h"
#include "tests/bench/lg.h"

#define ECHO_PENDING 1
#define ECHO_DONE    2
/* Payload: sequence number (8 bytes), allocation (4), this magic (4), then filler. */
#define PAYLOAD_MAGIC 0x54504b42u
/* Echoes in the ring at most: sent but neither back nor declared lost.  At half a million
 * echoes a second and the default one-second timeout it is half full; past it the oldest echo
 * is declared lost early. */
#define RING_SIZE (1u << 20)
/* Paced sends per loop turn at most, so that a stalled turn does not become a wall of
 * datagrams; a generator that cannot keep up shows it as an offered rate below the asked. */
#define BURST_MAX 4096

int lg_traffic_init(struct lg *lg)
{
    struct lg_traffic *t = &lg->tr;

    memset(t, 0, sizeof(*t));
    t->ring = calloc(RING_SIZE, sizeof(*t->ring));
    t->ready = calloc(lg->o.nallocs, sizeof(*t->ready));
    if (t->ring == NULL || t->ready == NULL)
        return -1;
    t->mask = RING_SIZE - 1;
    for (uint32_t i = 0; i < lg->o.nallocs; i++)
        if (lg->allocs[i].step == STEP_READY)
            t->ready[t->nready++] = i;
    for (size_t k = 0; k < sizeof(t->payload); k++)
        t->payload[k] = (uint8_t)(k * 7 + 1);
    return t->nready > 0 ? 0 : -1;
}

static size_t frame_echo(struct lg *lg, uint32_t i, uint64_t seq, uint8_t *frame)
{
    const struct lg_alloc *a = &lg->allocs[i];
    uint32_t magic = PAYLOAD_MAGIC;
    uint8_t *p = lg->tr.payload;
    struct stun_builder b;
    uint8_t tid[STUN_TID_LEN] = {0};
    size_t len;

    memcpy(p, &seq, 8);
    memcpy(p + 8, &i, 4);
    memcpy(p + 12, &magic, 4);
    if (!lg->o.send_ind) {
        frame_chandata_hdr(frame, a->chan, (uint16_t)lg->o.size);
        memcpy(frame + FRAME_CHANDATA_HDR, p, lg->o.size);
        return FRAME_CHANDATA_HDR + lg->o.size;
    }
    memcpy(tid, &seq, 8);
    stun_build_start(&b, frame, LGNET_FRAME, stun_type(STUN_METHOD_SEND, STUN_CLASS_INDICATION),
                     tid);
    stun_build_addr(&b, STUN_ATTR_XOR_PEER_ADDRESS, &lg->o.peer);
    stun_build_attr(&b, STUN_ATTR_DATA, p, lg->o.size);
    return stun_build_end(&b, &len) == 0 ? len : 0;
}

/* Declares the oldest pending echo lost (or skips a finished one) and moves the tail on. */
static uint32_t retire_tail(struct lg *lg, bool *was_lost)
{
    struct lg_traffic *t = &lg->tr;
    struct lg_echo *e = &t->ring[t->tail++ & t->mask];

    *was_lost = e->state == ECHO_PENDING;
    if (*was_lost) {
        t->lost++;
        t->w_lost += e->window;
        lg->allocs[e->alloc].inflight--;
    }
    e->state = 0;
    return e->alloc;
}

static bool send_echo(struct lg *lg, uint32_t i)
{
    struct lg_traffic *t = &lg->tr;
    uint8_t frame[LGNET_FRAME];
    struct lg_echo *e;
    size_t len;
    bool lost;

    if (lg->allocs[i].step != STEP_READY)
        return false;
    if (t->head - t->tail > t->mask)
        retire_tail(lg, &lost); /* the ring is full: the oldest echo has waited long enough */
    len = frame_echo(lg, i, t->head, frame);
    if (len == 0 || lg_send(lg, i, frame, len) < 0) {
        t->unsendable++;
        return false;
    }
    e = &t->ring[t->head++ & t->mask];
    e->sent = lg->now;
    e->alloc = i;
    e->state = ECHO_PENDING;
    e->window = t->window;
    t->sent++;
    t->w_sent += t->window;
    lg->allocs[i].inflight++;
    return true;
}

/* The next allocation in turn that can still carry echoes. */
static uint32_t next_alloc(struct lg *lg)
{
    struct lg_traffic *t = &lg->tr;

    for (size_t k = 0; k < t->nready; k++) {
        uint32_t i = t->ready[t->rr];
        t->rr = (t->rr + 1) % t->nready;
        if (lg->allocs[i].step == STEP_READY)
            return i;
    }
    return UINT32_MAX;
}

/* Closed loop: an echo back or lost makes room for the next, on the same allocation or, when
 * echoes rotate, on the next one in turn. */
static void refill(struct lg *lg, uint32_t i)
{
    if (!lg->tr.sending || lg->o.rate > 0)
        return;
    if (lg->tr.rotate)
        i = next_alloc(lg);
    if (i != UINT32_MAX)
        send_echo(lg, i);
}

void lg_traffic_begin(struct lg *lg)
{
    struct lg_traffic *t = &lg->tr;
    size_t total = t->nready * lg->o.inflight;

    t->sending = true;
    t->t0 = lg->now;
    t->paced = 0;
    if (lg->o.rate > 0)
        return;
    if (lg->o.max_inflight > 0 && total > lg->o.max_inflight) {
        total = lg->o.max_inflight;
        t->rotate = true;
    }
    for (size_t k = 0; k < total; k++)
        send_echo(lg, t->ready[k % t->nready]);
    t->rr = total % t->nready;
}

void lg_traffic_data(struct lg *lg, uint32_t i, const uint8_t *p, size_t len)
{
    struct lg_traffic *t = &lg->tr;
    uint32_t magic, from;
    struct lg_echo *e;
    uint64_t seq;

    if (len < LG_MIN_PAYLOAD) {
        t->malformed++;
        return;
    }
    memcpy(&seq, p, 8);
    memcpy(&from, p + 8, 4);
    memcpy(&magic, p + 12, 4);
    if (magic != PAYLOAD_MAGIC || seq >= t->head) {
        t->malformed++;
        return;
    }
    e = &t->ring[seq & t->mask];
    if (seq < t->tail || e->state != ECHO_PENDING) {
        t->late++; /* already declared lost, or a duplicate */
        return;
    }
    e->state = ECHO_DONE;
    lg->allocs[e->alloc].inflight--;
    if (e->alloc != i || from != i) {
        t->misrouted++; /* came back to another allocation than it left from */
    } else {
        t->done++;
        if (t->window) {
            t->w_done++;
            hist_add(&t->h_rtt, (uint64_t)(lg->now - e->sent) / 1000);
        }
    }
    refill(lg, e->alloc);
}

void lg_traffic_tick(struct lg *lg)
{
    struct lg_traffic *t = &lg->tr;
    int64_t timeout = (int64_t)lg->o.timeout_ms * 1000000;

    while (t->tail < t->head) {
        struct lg_echo *e = &t->ring[t->tail & t->mask];
        uint32_t i;
        bool lost;

        if (e->state == ECHO_PENDING && lg->now - e->sent < timeout)
            break;
        i = retire_tail(lg, &lost);
        if (lost)
            refill(lg, i);
    }
    if (t->sending && lg->o.rate > 0) {
        uint64_t due = (uint64_t)((double)(lg->now - t->t0) * lg->o.rate / 1e9);
        for (unsigned n = 0; t->paced < due && n < BURST_MAX; n++) {
            uint32_t i = next_alloc(lg);
            t->paced++;
            if (i != UINT32_MAX)
                send_echo(lg, i);
        }
    }
}

int64_t lg_traffic_wake(const struct lg *lg)
{
    const struct lg_traffic *t = &lg->tr;
    int64_t next, soonest = lg->now + (int64_t)lg->o.tick_us * 1000;

    if (!t->sending || lg->o.rate <= 0)
        return INT64_MAX;
    next = t->t0 + (int64_t)((double)(t->paced + 1) * 1e9 / lg->o.rate);
    return next > soonest ? next : soonest;
}

void lg_traffic_window(struct lg *lg, bool open)
{
    struct lg_traffic *t = &lg->tr;

    if (open) {
        t->w_sent = t->w_done = t->w_lost = 0;
        hist_reset(&t->h_rtt);
    }
    t->window = open;
}

void lg_traffic_stop(struct lg *lg)
{
    lg->tr.sending = false;
}

bool lg_traffic_drained(const struct lg *lg)
{
    return lg->tr.tail == lg->tr.head;
}

void lg_traffic_settle(struct lg *lg)
{
    bool lost;

    while (lg->tr.tail < lg->tr.head)
        retire_tail(lg, &lost);
}
