/* lg.h — the load generator's state, shared by loadgen.c (options, loop, phases, report),
 * lgsetup.c (TURN handshakes) and lgtraffic.c (echo traffic, loss and round trips). */
#ifndef TESTS_BENCH_LG_H
#define TESTS_BENCH_LG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "proto/addr.h"
#include "proto/stun.h"
#include "tests/bench/hist.h"
#include "tests/bench/lgnet.h"

#define LG_MIN_PAYLOAD 16
#define LG_MAX_PAYLOAD 1400
#define LG_NONCE_MAX   128
#define LG_TEXT_MAX    128
/* Source addresses: allocation i sends from 127.0.(1 + i / 250).(2 + i % 250). */
#define LG_IPS_PER_NET 250
#define LG_MAX_ALLOCS  (LG_IPS_PER_NET * 254)

enum lg_transport { LG_UDP, LG_TCP, LG_TLS };
enum lg_mode { LG_TRAFFIC, LG_ALLOC, LG_IDLE };

/* Where an allocation's set-up stands. */
enum lg_step {
    STEP_WAIT,    /* not started */
    STEP_CONNECT, /* stream transports: connecting (and TLS handshake) */
    STEP_ALLOC0,  /* Allocate without credentials sent, 401 expected */
    STEP_ALLOC1,  /* signed Allocate sent */
    STEP_PERM,    /* CreatePermission sent */
    STEP_CHAN,    /* ChannelBind sent */
    STEP_READY,
    STEP_FAILED,
};

struct lg_opts {
    union addr server;
    union addr peer;
    enum lg_transport transport;
    enum lg_mode mode;
    int family; /* 4 or 6 */
    const char *user, *pass;
    size_t nallocs;
    unsigned inflight;     /* echoes in flight per allocation (closed loop) */
    unsigned max_inflight; /* cap on the total; past it echoes rotate over allocations */
    size_t size;           /* payload bytes */
    double rate;           /* echoes per second; 0: saturation (closed loop) */
    /* In seconds. */
    double warmup, duration, hold, setup_limit;
    unsigned timeout_ms;  /* an echo not back by then is lost */
    unsigned tick_us;     /* pacing granularity at a fixed rate */
    unsigned concurrency; /* set-ups in progress at once */
    bool send_ind;        /* Send/Data indications instead of a channel */
    bool bare;            /* the bare forwarder: no TURN, ChannelData at once */
    bool alloc_only;      /* alloc mode: Allocate handshakes only */
    pid_t server_pid;     /* for CPU time and RSS; 0: none */
    pid_t echo_pid;       /* for the echo peer's CPU time; 0: none */
    const char *label;
};

/* One allocation: one client transport address. */
struct lg_alloc {
    union addr src; /* its own source address (IPv4 on the shared socket) */
    uint32_t ep;    /* its endpoint in lg->eps */
    uint8_t step;   /* enum lg_step */
    uint8_t tries;
    uint16_t chan;
    uint16_t slot; /* in lg->su.slots while being set up */
    uint8_t nonce_len;
    uint32_t inflight;
    int64_t deadline; /* ns: retransmit or give up */
    int64_t t_start;  /* ns: first request sent */
    uint8_t tid[STUN_TID_LEN];
    char nonce[LG_NONCE_MAX];
};

/* A socket: the shared IPv4 UDP socket (eps[0]) or one allocation's own (eps[1 + i]). */
struct lg_ep {
    int fd; /* -1: none */
    bool shared;
    bool dirty;      /* a stream with output to flush */
    uint32_t events; /* its epoll interest */
    struct lgnet_stream *st;
};

struct lg_setup {
    size_t next; /* next allocation to start */
    size_t active, ready, failed;
    uint32_t *slots;        /* o.concurrency entries: allocation in set-up, or UINT32_MAX */
    unsigned last_code;     /* last failure's error code (or 1: timeout, 2: connection) */
    int64_t t_begin, t_end; /* ns: first start, last completion */
    struct hist h_alloc;    /* Allocate handshake, 401 included (µs) */
    struct hist h_setup;    /* Allocate + CreatePermission + ChannelBind (µs) */
};

/* An echo in flight, by sequence number in the ring. */
struct lg_echo {
    int64_t sent; /* ns */
    uint32_t alloc;
    uint8_t state;  /* ECHO_PENDING / ECHO_DONE */
    uint8_t window; /* sent during the measurement window */
};

struct lg_traffic {
    struct lg_echo *ring;
    uint64_t mask, head, tail;
    uint32_t *ready;   /* allocations that carry echoes */
    size_t nready, rr; /* round-robin position in ready */
    bool rotate, sending, window;
    int64_t t0;     /* ns: start of the paced sending */
    uint64_t paced; /* echoes sent since t0 at a fixed rate */
    uint64_t sent, done, lost, late, misrouted, malformed, unsendable;
    uint64_t w_sent, w_done, w_lost; /* within the measurement window */
    struct hist h_rtt;
    uint8_t payload[LG_MAX_PAYLOAD];
};

struct lg {
    struct lg_opts o;
    int epfd;
    int64_t now; /* ns, CLOCK_MONOTONIC, refreshed each loop turn */
    struct lg_alloc *allocs;
    struct lg_ep *eps; /* 1 + o.nallocs */
    uint32_t *dirty;   /* stream endpoints to flush */
    size_t ndirty;
    struct lgnet_txq *txq;
    struct lgnet_rxq *rxq;
    struct lgnet_tls *tls;
    char realm[LG_TEXT_MAX];
    uint8_t key[16];
    bool have_key;
    struct lg_setup su;
    struct lg_traffic tr;
};

/* loadgen.c */
int64_t lg_clock(void);
/* Queues a frame (STUN message or ChannelData, len bytes) from allocation i to the server:
 * into the UDP batch, or a stream's output with ChannelData padding.  0, or -1 when it cannot
 * be queued (a stream's buffer is full, or the allocation has no connection). */
int lg_send(struct lg *lg, uint32_t i, const uint8_t *frame, size_t len);
/* Opens allocation i's connection (stream transports); 0 or -1. */
int lg_connect(struct lg *lg, uint32_t i);

/* lgsetup.c */
/* Starts the set-up of every allocation, o.concurrency at a time. */
int lg_setup_begin(struct lg *lg);
/* Starts more, retransmits, gives up on those past their time. */
void lg_setup_tick(struct lg *lg);
/* A stream of allocation i is connected: its first request goes out. */
void lg_setup_connected(struct lg *lg, uint32_t i);
/* Allocation i's connection died. */
void lg_setup_lost(struct lg *lg, uint32_t i);
/* A STUN response for allocation i. */
void lg_setup_answer(struct lg *lg, uint32_t i, const struct stun_msg *m);
bool lg_setup_done(const struct lg *lg);

/* lgtraffic.c */
int lg_traffic_init(struct lg *lg);
/* Starts sending: the closed loop's first echoes, or the paced clock. */
void lg_traffic_begin(struct lg *lg);
/* Paced sends and the loss sweep; call every loop turn. */
void lg_traffic_tick(struct lg *lg);
/* The next time (ns) a paced send is due, or INT64_MAX. */
int64_t lg_traffic_wake(const struct lg *lg);
/* A returned echo's payload, received by allocation i. */
void lg_traffic_data(struct lg *lg, uint32_t i, const uint8_t *p, size_t len);
/* Opens and closes the measurement window; stops sending. */
void lg_traffic_window(struct lg *lg, bool open);
void lg_traffic_stop(struct lg *lg);
/* True when no echo sent in the window is still pending; settles the rest as lost. */
bool lg_traffic_drained(const struct lg *lg);
void lg_traffic_settle(struct lg *lg);

#endif
