/* loadgen.c — the benchmark's TURN load generator: many allocations relaying echoes.
 *
 * N allocations, each from its own client transport address, are set up against a TURN server
 * (Allocate through the 401 challenge, CreatePermission, ChannelBind to the echo peer), then
 * carry numbered, timestamped echoes: a closed loop of --inflight echoes per allocation
 * (saturation), or a paced --rate.  It reports relayed datagrams per second both ways, loss,
 * round-trip percentiles and, given the server's PID, its CPU time per relayed datagram; or
 * the rate of set-ups (--mode alloc); or the server's memory per idle allocation (--mode
 * idle).  One line "RESULT key=value ..." on stdout carries the figures for scripts.
 *
 * Over UDP/IPv4 every allocation sends from its own loopback address (127.0.X.Y) through one
 * wildcard socket, so sends and receives are batched whatever N is; over IPv6 (only ::1 is a
 * loopback address) and over TCP/TLS each allocation has its own socket.  Every phase is
 * bounded in time.  The allocations are left to the server (restart it between runs). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "proto/frame.h"
#include "proto/stun.h"
#include "tests/bench/lg.h"
#include "tests/bench/procstat.h"

#define LG_EVENTS     256
#define LG_UDP_ROUNDS 8
#define NS            1000000000LL

int64_t lg_clock(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * NS + ts.tv_nsec;
}

static double cpu_self_s(void)
{
    struct rusage ru;

    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

/* ---- sockets -------------------------------------------------------------------------------- */

static void set_interest(struct lg *lg, uint32_t k, uint32_t events)
{
    struct lg_ep *ep = &lg->eps[k];
    struct epoll_event ev = {.events = events, .data.u32 = k};

    if (ep->events == events)
        return;
    epoll_ctl(lg->epfd, ep->events ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, ep->fd, &ev);
    ep->events = events;
}

static void close_stream(struct lg *lg, uint32_t k)
{
    struct lg_ep *ep = &lg->eps[k];

    if (ep->st == NULL)
        return;
    epoll_ctl(lg->epfd, EPOLL_CTL_DEL, ep->fd, NULL);
    lgnet_stream_close(ep->st);
    ep->st = NULL;
    ep->fd = -1;
    ep->events = 0;
    lg_setup_lost(lg, k - 1);
}

int lg_connect(struct lg *lg, uint32_t i)
{
    struct lg_alloc *a = &lg->allocs[i];
    struct lg_ep *ep = &lg->eps[a->ep];

    if (lgnet_stream_open(&ep->st, &lg->o.server, &a->src, lg->tls) < 0)
        return -1;
    ep->fd = lgnet_stream_fd(ep->st);
    set_interest(lg, a->ep, EPOLLIN | EPOLLOUT);
    return 0;
}

int lg_send(struct lg *lg, uint32_t i, const uint8_t *frame, size_t len)
{
    struct lg_alloc *a = &lg->allocs[i];
    struct lg_ep *ep = &lg->eps[a->ep];
    size_t padded = (len + 3) & ~(size_t)3;
    uint8_t *p;

    if (lg->o.transport == LG_UDP) {
        p = lgnet_txq_slot(lg->txq, ep->fd, &lg->o.server, ep->shared ? &a->src : NULL);
        memcpy(p, frame, len);
        lgnet_txq_commit(lg->txq, len);
        return 0;
    }
    if (ep->st == NULL || (p = lgnet_stream_reserve(ep->st, padded)) == NULL)
        return -1;
    memcpy(p, frame, len);
    memset(p + len, 0, padded - len); /* ChannelData padding on streams (RFC 8656 §12.5) */
    if (!ep->dirty) {
        ep->dirty = true;
        lg->dirty[lg->ndirty++] = a->ep;
    }
    return 0;
}

/* 127.0.(1 + i / 250).(2 + i % 250), or ::1; port 0. */
static void source_of(const struct lg *lg, uint32_t i, union addr *out)
{
    char ip[32];

    if (lg->o.family == 6) {
        addr_parse(out, "::1", 0);
        return;
    }
    snprintf(ip, sizeof(ip), "127.0.%u.%u", 1 + i / LG_IPS_PER_NET, 2 + i % LG_IPS_PER_NET);
    addr_parse(out, ip, 0);
}

/* The allocation a shared-socket datagram was sent to, by its destination address. */
static uint32_t alloc_by_ip(const struct lg *lg, const union addr *dst)
{
    uint32_t ip = ntohl(dst->sin.sin_addr.s_addr), net = (ip >> 8) & 0xFFFF, host = ip & 0xFF;

    if ((ip >> 24) != 127 || net < 1 || host < 2 || host >= 2 + LG_IPS_PER_NET)
        return UINT32_MAX;
    ip = (net - 1) * LG_IPS_PER_NET + (host - 2);
    return ip < lg->o.nallocs ? ip : UINT32_MAX;
}

static int open_sockets(struct lg *lg)
{
    char err[160];
    union addr any;

    lg->eps = calloc(lg->o.nallocs + 1, sizeof(*lg->eps));
    lg->dirty = calloc(lg->o.nallocs + 1, sizeof(*lg->dirty));
    if (lg->eps == NULL || lg->dirty == NULL)
        return -1;
    for (size_t k = 0; k <= lg->o.nallocs; k++)
        lg->eps[k].fd = -1;
    if (lg->o.transport == LG_UDP && lg->o.family == 4) {
        socklen_t alen = sizeof(any);
        addr_parse(&any, "0.0.0.0", 0);
        lg->eps[0].fd = lgnet_udp_open(&any, true, err, sizeof(err));
        if (lg->eps[0].fd < 0 || getsockname(lg->eps[0].fd, &any.sa, &alen) < 0)
            goto fail;
        lg->eps[0].shared = true;
        set_interest(lg, 0, EPOLLIN);
    }
    for (uint32_t i = 0; i < lg->o.nallocs; i++) {
        struct lg_alloc *a = &lg->allocs[i];
        source_of(lg, i, &a->src);
        a->ep = i + 1;
        if (lg->eps[0].shared) {
            a->ep = 0;
            addr_set_port(&a->src, addr_port(&any));
        } else if (lg->o.transport == LG_UDP) {
            socklen_t alen = sizeof(a->src);
            int fd = lgnet_udp_open(&a->src, false, err, sizeof(err));
            if (fd < 0)
                goto fail;
            getsockname(fd, &a->src.sa, &alen);
            lg->eps[a->ep].fd = fd;
            set_interest(lg, a->ep, EPOLLIN);
        }
    }
    return 0;
fail:
    fprintf(stderr, "loadgen: %s\n", err);
    return -1;
}

/* ---- the loop ------------------------------------------------------------------------------- */

static void dispatch(struct lg *lg, uint32_t i, const uint8_t *buf, size_t len)
{
    struct stun_msg m;
    const uint8_t *data;
    uint16_t chan;
    size_t dlen;

    if (i == UINT32_MAX || len == 0)
        return;
    if (frame_demux(buf[0]) == FRAME_CHANDATA) {
        if (lg->tr.ring && frame_chandata_parse(buf, len, &chan, &dlen) == 0)
            lg_traffic_data(lg, i, buf + FRAME_CHANDATA_HDR, dlen);
        return;
    }
    if (stun_msg_decode(&m, buf, len, 0) != STUN_OK)
        return;
    if (m.cls == STUN_CLASS_INDICATION && m.method == STUN_METHOD_DATA) {
        if (lg->tr.ring && stun_msg_get_bytes(&m, STUN_ATTR_DATA, &data, &dlen) == STUN_OK)
            lg_traffic_data(lg, i, data, dlen);
    } else if (m.cls == STUN_CLASS_SUCCESS || m.cls == STUN_CLASS_ERROR) {
        lg_setup_answer(lg, i, &m);
    }
}

struct frame_ctx {
    struct lg *lg;
    uint32_t alloc;
};

static void on_frame(void *arg, const uint8_t *frame, size_t len)
{
    struct frame_ctx *c = arg;

    dispatch(c->lg, c->alloc, frame, len);
}

static void on_udp(struct lg *lg, uint32_t k)
{
    struct lg_ep *ep = &lg->eps[k];

    for (int round = 0; round < LG_UDP_ROUNDS; round++) {
        int n = lgnet_rxq_recv(lg->rxq, ep->fd);

        lg->now = lg_clock();
        for (int j = 0; j < n; j++) {
            uint32_t i = k - 1;
            union addr dst;
            if (ep->shared)
                i = lgnet_rxq_dst(lg->rxq, j, &dst) ? alloc_by_ip(lg, &dst) : UINT32_MAX;
            dispatch(lg, i, lg->rxq->data[j], lg->rxq->msgs[j].msg_len);
        }
        if (n < LGNET_BATCH)
            return;
    }
}

static void on_stream(struct lg *lg, uint32_t k, uint32_t events)
{
    struct lg_ep *ep = &lg->eps[k];
    struct frame_ctx c = {.lg = lg, .alloc = k - 1};

    if ((events & EPOLLOUT) && lgnet_stream_flush(ep->st) < 0)
        goto dead;
    if (lgnet_stream_input(ep->st, on_frame, &c) < 0)
        goto dead;
    if (lgnet_stream_ready(ep->st))
        lg_setup_connected(lg, k - 1);
    set_interest(lg, k, EPOLLIN | (lgnet_stream_wants_write(ep->st) ? EPOLLOUT : 0));
    return;
dead:
    close_stream(lg, k);
}

static void flush(struct lg *lg)
{
    lgnet_txq_flush(lg->txq);
    for (size_t d = 0; d < lg->ndirty; d++) {
        uint32_t k = lg->dirty[d];
        struct lg_ep *ep = &lg->eps[k];
        ep->dirty = false;
        if (ep->st == NULL)
            continue;
        if (lgnet_stream_flush(ep->st) < 0)
            close_stream(lg, k);
        else
            set_interest(lg, k, EPOLLIN | (lgnet_stream_wants_write(ep->st) ? EPOLLOUT : 0));
    }
    lg->ndirty = 0;
}

/* Runs the loop until the deadline (ns) or until stop(lg) holds. */
static void run(struct lg *lg, int64_t until, bool (*stop)(const struct lg *))
{
    struct epoll_event evs[LG_EVENTS];

    for (;;) {
        int64_t wake;
        struct timespec ts;
        int n;

        lg->now = lg_clock();
        if (lg->now >= until || (stop && stop(lg)))
            return;
        wake = lg->now + 1000000;
        if (lg_traffic_wake(lg) < wake)
            wake = lg_traffic_wake(lg);
        if (until < wake)
            wake = until;
        ts.tv_sec = 0;
        ts.tv_nsec = wake > lg->now ? wake - lg->now : 0;
        n = epoll_pwait2(lg->epfd, evs, LG_EVENTS, &ts, NULL);
        lg->now = lg_clock();
        for (int e = 0; e < n; e++) {
            uint32_t k = evs[e].data.u32;
            if (lg->eps[k].st)
                on_stream(lg, k, evs[e].events);
            else if (lg->eps[k].fd >= 0)
                on_udp(lg, k);
        }
        if (lg->su.slots && !lg_setup_done(lg))
            lg_setup_tick(lg);
        if (lg->tr.ring)
            lg_traffic_tick(lg);
        flush(lg);
    }
}

/* ---- phases and report ---------------------------------------------------------------------- */

static bool setup_finished(const struct lg *lg)
{
    return lg_setup_done(lg);
}

static bool drained(const struct lg *lg)
{
    return lg_traffic_drained(lg);
}

static int setup_all(struct lg *lg)
{
    int64_t t0 = lg_clock();

    lg->now = t0;
    if (lg->o.bare) {
        /* The forwarder needs no handshake: every allocation carries echoes at once. */
        for (uint32_t i = 0; i < lg->o.nallocs; i++) {
            lg->allocs[i].step = STEP_READY;
            lg->allocs[i].chan = (uint16_t)(0x4000 + i % 0x1000);
        }
        lg->su.ready = lg->o.nallocs;
        return 0;
    }
    if (lg_setup_begin(lg) < 0)
        return -1;
    run(lg, t0 + (int64_t)(lg->o.setup_limit * NS), setup_finished);
    fprintf(stderr,
            "loadgen: %zu allocations ready, %zu failed (last code %u), %zu unfinished "
            "in %.2f s\n",
            lg->su.ready, lg->su.failed, lg->su.last_code,
            lg->o.nallocs - lg->su.ready - lg->su.failed, (double)(lg_clock() - t0) / NS);
    return lg->su.ready > 0 ? 0 : -1;
}

static void print_common(const struct lg *lg, const char *mode)
{
    static const char *const tnames[] = {"udp", "tcp", "tls"};

    printf("RESULT label=%s mode=%s transport=%s family=%d allocs=%zu ready=%zu failed=%zu",
           lg->o.label, mode, tnames[lg->o.transport], lg->o.family, lg->o.nallocs, lg->su.ready,
           lg->su.failed);
}

/* Set-up rate and latency; cpu0, busy0 and self0 were read before the set-up began. */
static int phase_alloc(struct lg *lg, int64_t cpu0, int64_t busy0, double self0)
{
    double elapsed = (double)(lg->su.t_end - lg->su.t_begin) / NS;
    int64_t cpu1 = lg->o.server_pid ? procstat_cpu_us(lg->o.server_pid) : -1;
    int64_t busy1 = procstat_busy_us(NULL);
    double self1 = cpu_self_s(), wall = (double)(lg_clock() - lg->su.t_begin) / NS;

    print_common(lg, "alloc");
    printf(" alloc_only=%d concurrency=%u elapsed_s=%.3f rate_per_s=%.0f alloc_p50_us=%llu "
           "alloc_p99_us=%llu alloc_p999_us=%llu setup_p50_us=%llu setup_p99_us=%llu",
           lg->o.alloc_only, lg->o.concurrency, elapsed,
           elapsed > 0 ? (double)lg->su.ready / elapsed : 0.0,
           (unsigned long long)hist_quantile(&lg->su.h_alloc, 0.5),
           (unsigned long long)hist_quantile(&lg->su.h_alloc, 0.99),
           (unsigned long long)hist_quantile(&lg->su.h_alloc, 0.999),
           (unsigned long long)hist_quantile(&lg->su.h_setup, 0.5),
           (unsigned long long)hist_quantile(&lg->su.h_setup, 0.99));
    if (cpu0 >= 0 && cpu1 >= 0 && lg->su.ready > 0)
        printf(" srv_cpu_us_per_alloc=%.1f srv_util_pct=%.0f",
               (double)(cpu1 - cpu0) / (double)lg->su.ready, (double)(cpu1 - cpu0) / 1e4 / wall);
    if (busy0 >= 0 && busy1 >= 0 && wall > 0)
        printf(" busy_pct=%.0f lg_util_pct=%.0f echo_util_pct=0",
               (double)(busy1 - busy0) / 1e4 / wall, 100.0 * (self1 - self0) / wall);
    printf("\n");
    return lg->su.failed == 0 ? 0 : 1;
}

static int phase_idle(struct lg *lg, long rss0)
{
    long rss;

    run(lg, lg_clock() + (int64_t)(lg->o.hold * NS), NULL);
    rss = lg->o.server_pid ? procstat_rss_kib(lg->o.server_pid) : -1;
    print_common(lg, "idle");
    printf(" rss0_kib=%ld rss_kib=%ld", rss0, rss);
    if (rss0 >= 0 && rss >= 0 && lg->su.ready > 0)
        printf(" bytes_per_alloc=%.0f", (double)(rss - rss0) * 1024.0 / (double)lg->su.ready);
    printf("\n");
    return 0;
}

static int phase_traffic(struct lg *lg)
{
    const struct lg_traffic *t = &lg->tr;
    int64_t cpu0, cpu1, w0, w1, echo0, echo1, busy0, busy1;
    double self0, self1, secs, eps;
    int ncpus = 0;

    if (lg_traffic_init(lg) < 0) {
        fprintf(stderr, "loadgen: no allocation to carry traffic\n");
        return 1;
    }
    lg->now = lg_clock();
    lg_traffic_begin(lg);
    run(lg, lg->now + (int64_t)(lg->o.warmup * NS), NULL);
    lg_traffic_window(lg, true);
    cpu0 = lg->o.server_pid ? procstat_cpu_us(lg->o.server_pid) : -1;
    echo0 = lg->o.echo_pid ? procstat_cpu_us(lg->o.echo_pid) : -1;
    busy0 = procstat_busy_us(&ncpus);
    self0 = cpu_self_s();
    w0 = lg_clock();
    run(lg, w0 + (int64_t)(lg->o.duration * NS), NULL);
    w1 = lg_clock();
    cpu1 = lg->o.server_pid ? procstat_cpu_us(lg->o.server_pid) : -1;
    echo1 = lg->o.echo_pid ? procstat_cpu_us(lg->o.echo_pid) : -1;
    busy1 = procstat_busy_us(NULL);
    self1 = cpu_self_s();
    lg_traffic_window(lg, false);
    lg_traffic_stop(lg);
    run(lg, lg_clock() + (int64_t)lg->o.timeout_ms * 1000000 + NS / 20, drained);
    lg_traffic_settle(lg);

    secs = (double)(w1 - w0) / NS;
    eps = (double)t->w_done / secs;
    print_common(lg, "traffic");
    printf(" size=%zu send=%d inflight=%u max_inflight=%u rate=%.0f secs=%.3f eps=%.0f pps=%.0f "
           "offered_eps=%.0f sent=%llu done=%llu lost=%llu loss_pct=%.3f late=%llu "
           "misrouted=%llu malformed=%llu unsendable=%llu p50_us=%llu p99_us=%llu "
           "p999_us=%llu max_us=%llu lg_util_pct=%.0f",
           lg->o.size, lg->o.send_ind, lg->o.inflight, lg->o.max_inflight, lg->o.rate, secs, eps,
           2 * eps, (double)t->w_sent / secs, (unsigned long long)t->w_sent,
           (unsigned long long)t->w_done, (unsigned long long)t->w_lost,
           t->w_sent ? 100.0 * (double)t->w_lost / (double)t->w_sent : 0.0,
           (unsigned long long)t->late, (unsigned long long)t->misrouted,
           (unsigned long long)t->malformed, (unsigned long long)t->unsendable,
           (unsigned long long)hist_quantile(&t->h_rtt, 0.5),
           (unsigned long long)hist_quantile(&t->h_rtt, 0.99),
           (unsigned long long)hist_quantile(&t->h_rtt, 0.999), (unsigned long long)t->h_rtt.max,
           100.0 * (self1 - self0) / secs);
    if (echo0 >= 0 && echo1 >= 0)
        printf(" echo_util_pct=%.0f", (double)(echo1 - echo0) / 1e4 / secs);
    if (busy0 >= 0 && busy1 >= 0)
        printf(" ncpus=%d busy_pct=%.0f", ncpus, (double)(busy1 - busy0) / 1e4 / secs);
    if (cpu0 >= 0 && cpu1 >= 0) {
        printf(" srv_cpu_s=%.3f srv_util_pct=%.0f", (double)(cpu1 - cpu0) / 1e6,
               (double)(cpu1 - cpu0) / 1e4 / secs);
        if (t->w_done > 0)
            printf(" cpu_us_per_dgram=%.3f", (double)(cpu1 - cpu0) / (2.0 * (double)t->w_done));
    }
    printf("\n");
    if (t->w_done == 0)
        fprintf(stderr, "loadgen: no echo came back\n");
    return t->misrouted == 0 && t->malformed == 0 && t->w_done > 0 ? 0 : 1;
}

/* ---- options -------------------------------------------------------------------------------- */

static void usage(void)
{
    fprintf(stderr,
            "usage: loadgen --server IP:PORT --peer IP:PORT [options]\n"
            "  --transport udp|tcp|tls   client transport (default udp); IPv6 by the address\n"
            "  --user NAME --pass PASS   long-term credentials\n"
            "  -n, --allocs N            allocations, each from its own address (default 10)\n"
            "  --inflight W              echoes in flight per allocation (default 1)\n"
            "  --max-inflight T          cap on the total; past it echoes rotate (default none)\n"
            "  --size BYTES              payload size, %d..%d (default 100)\n"
            "  --rate R                  echoes per second, paced; 0: saturation (default 0)\n"
            "  --warmup S --duration S   seconds before and of the measurement (1, 5)\n"
            "  --timeout-ms MS           an echo not back by then is lost (default 1000)\n"
            "  --tick-us US              pacing granularity (default 100)\n"
            "  --send                    Send/Data indications instead of a channel\n"
            "  --bare                    the bare forwarder: no TURN handshakes\n"
            "  --mode traffic|alloc|idle what to measure (default traffic)\n"
            "  --alloc-only              alloc mode: no CreatePermission/ChannelBind\n"
            "  --concurrency C           set-ups in progress at once (default 64)\n"
            "  --hold S                  idle mode: seconds before reading RSS (default 2)\n"
            "  --setup-limit S           longest set-up phase (default 120)\n"
            "  --server-pid PID          read the server's CPU time and RSS\n"
            "  --echo-pid PID            read the echo peer's CPU time\n"
            "  --label TEXT              echoed in the RESULT line\n",
            LG_MIN_PAYLOAD, LG_MAX_PAYLOAD);
}

static int parse_mode(struct lg_opts *o, const char *s)
{
    if (strcmp(s, "traffic") == 0)
        o->mode = LG_TRAFFIC;
    else if (strcmp(s, "alloc") == 0)
        o->mode = LG_ALLOC;
    else if (strcmp(s, "idle") == 0)
        o->mode = LG_IDLE;
    else
        return -1;
    return 0;
}

static int parse_transport(struct lg_opts *o, const char *s)
{
    if (strcmp(s, "udp") == 0)
        o->transport = LG_UDP;
    else if (strcmp(s, "tcp") == 0)
        o->transport = LG_TCP;
    else if (strcmp(s, "tls") == 0)
        o->transport = LG_TLS;
    else
        return -1;
    return 0;
}

static const struct option long_opts[] = {
    {"server", required_argument, NULL, 'S'},
    {"peer", required_argument, NULL, 'P'},
    {"transport", required_argument, NULL, 'T'},
    {"user", required_argument, NULL, 'u'},
    {"pass", required_argument, NULL, 'p'},
    {"allocs", required_argument, NULL, 'n'},
    {"inflight", required_argument, NULL, 'w'},
    {"max-inflight", required_argument, NULL, 'W'},
    {"size", required_argument, NULL, 's'},
    {"rate", required_argument, NULL, 'r'},
    {"warmup", required_argument, NULL, 'a'},
    {"duration", required_argument, NULL, 'd'},
    {"timeout-ms", required_argument, NULL, 'o'},
    {"tick-us", required_argument, NULL, 'k'},
    {"send", no_argument, NULL, 'I'},
    {"bare", no_argument, NULL, 'B'},
    {"mode", required_argument, NULL, 'm'},
    {"alloc-only", no_argument, NULL, 'A'},
    {"concurrency", required_argument, NULL, 'c'},
    {"hold", required_argument, NULL, 'h'},
    {"setup-limit", required_argument, NULL, 'L'},
    {"server-pid", required_argument, NULL, 'x'},
    {"echo-pid", required_argument, NULL, 'e'},
    {"label", required_argument, NULL, 'l'},
    {NULL, 0, NULL, 0},
};

static int parse_opts(struct lg_opts *o, int argc, char **argv)
{
    const char *server = NULL, *peer = NULL;
    int c;

    *o = (struct lg_opts){.nallocs = 10,
                          .inflight = 1,
                          .size = 100,
                          .warmup = 1,
                          .duration = 5,
                          .hold = 2,
                          .setup_limit = 120,
                          .timeout_ms = 1000,
                          .tick_us = 100,
                          .concurrency = 64,
                          .user = "",
                          .pass = "",
                          .label = "-"};
    while ((c = getopt_long(argc, argv, "n:", long_opts, NULL)) != -1) {
        switch (c) {
        case 'S':
            server = optarg;
            break;
        case 'P':
            peer = optarg;
            break;
        case 'T':
            if (parse_transport(o, optarg) < 0)
                return -1;
            break;
        case 'u':
            o->user = optarg;
            break;
        case 'p':
            o->pass = optarg;
            break;
        case 'n':
            o->nallocs = strtoul(optarg, NULL, 10);
            break;
        case 'w':
            o->inflight = (unsigned)strtoul(optarg, NULL, 10);
            break;
        case 'W':
            o->max_inflight = (unsigned)strtoul(optarg, NULL, 10);
            break;
        case 's':
            o->size = strtoul(optarg, NULL, 10);
            break;
        case 'r':
            o->rate = strtod(optarg, NULL);
            break;
        case 'a':
            o->warmup = strtod(optarg, NULL);
            break;
        case 'd':
            o->duration = strtod(optarg, NULL);
            break;
        case 'o':
            o->timeout_ms = (unsigned)strtoul(optarg, NULL, 10);
            break;
        case 'k':
            o->tick_us = (unsigned)strtoul(optarg, NULL, 10);
            break;
        case 'I':
            o->send_ind = true;
            break;
        case 'B':
            o->bare = true;
            break;
        case 'm':
            if (parse_mode(o, optarg) < 0)
                return -1;
            break;
        case 'A':
            o->alloc_only = true;
            break;
        case 'c':
            o->concurrency = (unsigned)strtoul(optarg, NULL, 10);
            break;
        case 'h':
            o->hold = strtod(optarg, NULL);
            break;
        case 'L':
            o->setup_limit = strtod(optarg, NULL);
            break;
        case 'x':
            o->server_pid = (pid_t)strtol(optarg, NULL, 10);
            break;
        case 'e':
            o->echo_pid = (pid_t)strtol(optarg, NULL, 10);
            break;
        case 'l':
            o->label = optarg;
            break;
        default:
            return -1;
        }
    }
    if (!server || !peer || optind != argc || addr_parse(&o->server, server, 0) < 0 ||
        addr_parse(&o->peer, peer, 0) < 0 || addr_port(&o->server) == 0 ||
        o->server.sa.sa_family != o->peer.sa.sa_family)
        return -1;
    o->family = o->server.sa.sa_family == AF_INET6 ? 6 : 4;
    if (o->nallocs < 1 || o->nallocs > LG_MAX_ALLOCS || o->inflight < 1 ||
        o->size < LG_MIN_PAYLOAD || o->size > LG_MAX_PAYLOAD || o->rate < 0 || o->duration <= 0 ||
        o->duration > 600 || o->warmup < 0 || o->warmup > 600 || o->hold < 0 || o->hold > 600 ||
        o->setup_limit <= 0 || o->setup_limit > 3600 || o->timeout_ms < 1 ||
        o->timeout_ms > 10000 || o->tick_us < 1 || o->tick_us > 100000 || o->concurrency < 1 ||
        o->concurrency > 65535 || (o->bare && (o->transport != LG_UDP || o->mode != LG_TRAFFIC)))
        return -1;
    return 0;
}

static int init(struct lg *lg)
{
    struct rlimit rl;

    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    lg->epfd = epoll_create1(EPOLL_CLOEXEC);
    lg->allocs = calloc(lg->o.nallocs, sizeof(*lg->allocs));
    lg->txq = malloc(sizeof(*lg->txq));
    lg->rxq = malloc(sizeof(*lg->rxq));
    if (lg->epfd < 0 || lg->allocs == NULL || lg->txq == NULL || lg->rxq == NULL)
        return -1;
    lgnet_txq_init(lg->txq);
    lgnet_rxq_init(lg->rxq);
    if (lg->o.transport == LG_TLS && lgnet_tls_new(&lg->tls) < 0)
        return -1;
    return open_sockets(lg);
}

int main(int argc, char **argv)
{
    struct lg *lg = calloc(1, sizeof(*lg));
    int64_t cpu0, busy0;
    double self0;
    long rss0;

    if (lg == NULL)
        return 2;
    if (parse_opts(&lg->o, argc, argv) < 0) {
        usage();
        return 2;
    }
    if (init(lg) < 0) {
        fprintf(stderr, "loadgen: cannot set up: %s\n", strerror(errno));
        return 2;
    }
    rss0 = lg->o.server_pid ? procstat_rss_kib(lg->o.server_pid) : -1;
    cpu0 = lg->o.server_pid ? procstat_cpu_us(lg->o.server_pid) : -1;
    busy0 = procstat_busy_us(NULL);
    self0 = cpu_self_s();
    if (setup_all(lg) < 0) {
        fprintf(stderr, "loadgen: no allocation could be set up (last code %u)\n",
                lg->su.last_code);
        return 1;
    }
    switch (lg->o.mode) {
    case LG_ALLOC:
        return phase_alloc(lg, cpu0, busy0, self0);
    case LG_IDLE:
        return phase_idle(lg, rss0);
    default:
        return phase_traffic(lg);
    }
}
