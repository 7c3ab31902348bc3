/* lgnet.h — the load generator's sockets: batched UDP from many source addresses, and TCP or
 * TLS streams cut into STUN/ChannelData frames. */
#ifndef TESTS_BENCH_LGNET_H
#define TESTS_BENCH_LGNET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "proto/addr.h"

#define LGNET_BATCH 64
/* Largest frame sent or received (payloads are limited to LG_MAX_PAYLOAD, below). */
#define LGNET_FRAME 2048

/* ---- UDP ---------------------------------------------------------------------------------- */

/* Opens a non-blocking UDP socket bound to a (port 0: any) with 4 MiB buffers.  shared: a
 * wildcard IPv4 socket that sends from many loopback source addresses (lgnet_txq_slot's src)
 * and reports each datagram's destination address; it is tied to the loopback interface when
 * the system lets us (SO_BINDTODEVICE), so nothing from outside reaches it.  Returns the
 * descriptor or -1 with a message in err. */
int lgnet_udp_open(const union addr *a, bool shared, char *err, size_t errlen);

/* A batch of datagrams to send, on one or several sockets, flushed with one sendmmsg per run
 * of consecutive datagrams of one socket.  Embeddable; lgnet_txq_init before use. */
struct lgnet_txq {
    unsigned n;
    uint64_t sent, failed;
    int fd[LGNET_BATCH];
    struct mmsghdr msgs[LGNET_BATCH];
    struct iovec iov[LGNET_BATCH];
    union addr dst[LGNET_BATCH];
    uint8_t ctl[LGNET_BATCH][64] __attribute__((aligned(8)));
    uint8_t data[LGNET_BATCH][LGNET_FRAME];
};

void lgnet_txq_init(struct lgnet_txq *q);

/* A buffer of LGNET_FRAME bytes for the next datagram to dst on fd, leaving from src's IP when
 * src is not NULL (a shared socket).  The datagram is queued by lgnet_txq_commit(len); a full
 * queue is flushed first. */
uint8_t *lgnet_txq_slot(struct lgnet_txq *q, int fd, const union addr *dst, const union addr *src);
void lgnet_txq_commit(struct lgnet_txq *q, size_t len);

/* Sends everything queued.  A datagram the kernel refuses is counted in failed, not retried. */
void lgnet_txq_flush(struct lgnet_txq *q);

/* A received batch.  Embeddable; lgnet_rxq_init before use. */
struct lgnet_rxq {
    struct mmsghdr msgs[LGNET_BATCH];
    struct iovec iov[LGNET_BATCH];
    union addr from[LGNET_BATCH];
    uint8_t ctl[LGNET_BATCH][64] __attribute__((aligned(8)));
    uint8_t data[LGNET_BATCH][LGNET_FRAME];
};

void lgnet_rxq_init(struct lgnet_rxq *q);

/* Receives up to LGNET_BATCH datagrams from fd without blocking; returns how many (0 when
 * none).  Datagram i is q->data[i][0..q->msgs[i].msg_len) from q->from[i]. */
int lgnet_rxq_recv(struct lgnet_rxq *q, int fd);

/* The IPv4 destination address datagram i was sent to (shared sockets), or false. */
bool lgnet_rxq_dst(const struct lgnet_rxq *q, int i, union addr *out);

/* ---- streams ------------------------------------------------------------------------------ */

struct lgnet_tls;
struct lgnet_stream;

/* A TLS client context that accepts any server certificate (the benchmark's self-signed one),
 * kept until the process exits. */
int lgnet_tls_new(struct lgnet_tls **out);

/* Starts a non-blocking connection from local (port 0) to server, over TLS when tls is not
 * NULL.  Returns 0 and *out, or -1.  The descriptor is lgnet_stream_fd(). */
int lgnet_stream_open(struct lgnet_stream **out, const union addr *server, const union addr *local,
                      struct lgnet_tls *tls);
void lgnet_stream_close(struct lgnet_stream *s);
int lgnet_stream_fd(const struct lgnet_stream *s);

/* True once connected (and the TLS handshake done): frames may be queued. */
bool lgnet_stream_ready(const struct lgnet_stream *s);

/* Makes progress after readiness: finishes the connection or TLS handshake, then reads and
 * calls on_frame for each whole frame (STUN message or padded ChannelData), which it borrows
 * for the call only.  Returns 0, or -1 when the connection failed, was closed or sent what is
 * not STUN/TURN. */
int lgnet_stream_input(struct lgnet_stream *s,
                       void (*on_frame)(void *arg, const uint8_t *frame, size_t len), void *arg);

/* Room for len more bytes in the output buffer, or NULL when it is full (the caller drops the
 * frame).  Bytes written there are sent by lgnet_stream_flush. */
uint8_t *lgnet_stream_reserve(struct lgnet_stream *s, size_t len);

/* Writes what it can of the output buffer.  Returns 0, or -1 on a failed connection. */
int lgnet_stream_flush(struct lgnet_stream *s);

/* True when the stream needs writability to go on (connecting, TLS, unsent output). */
bool lgnet_stream_wants_write(const struct lgnet_stream *s);

#endif
