/* udp.h — UDP client listeners: batched receive (recvmmsg), batched replies (sendmmsg). */
#ifndef SERVER_UDP_H
#define SERVER_UDP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/addr.h"

struct worker;
struct udp_sock;
struct udp_rx;

/* Datagrams per recvmmsg/sendmmsg call, and the largest datagram taken (a larger one is
 * dropped and counted as oversize: STUN and TURN traffic stays far below it). */
#define UDP_BATCH 32
#define UDP_MAX_DATAGRAM 4096

/* The receive batch (buffers for UDP_BATCH datagrams), one per worker, shared by its
 * listeners and relay endpoints: a worker runs one callback at a time. */
int udp_rx_new(struct udp_rx **out);
void udp_rx_free(struct udp_rx *rx);

/* Receives up to UDP_BATCH datagrams from fd into rx (with their destination addresses when
 * pktinfo).  Returns how many, 0 when none was waiting. */
int udp_rx_recv(struct udp_rx *rx, int fd, bool pktinfo);

/* Relay endpoints receive into a batch of their own (worker.relay_rx) that fills across
 * callbacks and empties at udp_flush_all, which the worker runs at the end of every loop
 * iteration: what many relay sockets receive in one iteration leaves toward the clients in one
 * sendmmsg per listener, not one each.  Receives from fd into the free slots (flushing first
 * when there are none); returns how many came, the first at *first.  With ctl, each datagram's
 * control data is kept (udp_rx_msg). */
int udp_relay_recv(struct worker *w, int fd, bool ctl, int *first);

/* Datagram i of the last batch: its bytes (UDP_RX_HEADROOM writable bytes before them and 4
 * after, for framing in place), length, source, and whether it was cut (larger than
 * UDP_MAX_DATAGRAM). */
#define UDP_RX_HEADROOM 64
uint8_t *udp_rx_data(struct udp_rx *rx, int i);
size_t udp_rx_len(const struct udp_rx *rx, int i);
const union addr *udp_rx_from(const struct udp_rx *rx, int i);
bool udp_rx_truncated(const struct udp_rx *rx, int i);
/* Its message header, with the control data asked for. */
const struct msghdr *udp_rx_msg(const struct udp_rx *rx, int i);

/* The local address datagram i was sent to, with port, from its IP_PKTINFO/IPV6_PKTINFO (only
 * when received with pktinfo).  False when it carried none. */
bool udp_rx_local(const struct udp_rx *rx, int i, uint16_t port, union addr *out);

/* Sends what worker w's listeners have queued (at the end of any receive batch). */
void udp_flush_all(struct worker *w);

/* Opens worker w's SO_REUSEPORT socket on a and starts reading it in w's loop.  A wildcard
 * address (0.0.0.0, ::) asks for each datagram's destination, so that answers leave from the
 * address the request was sent to.  0, or -1 with the reason in err. */
int udp_sock_open(struct udp_sock **out, struct worker *w, const union addr *a, char *err,
                  size_t errlen);
void udp_sock_close(struct udp_sock *s);

/* This worker's socket bound to exactly local (IP and port), or NULL. */
struct udp_sock *udp_sock_find(struct worker *w, const union addr *local);

/* Queues a copy of buf[0..len) to dst, leaving from local address src; queued datagrams go out
 * in one sendmmsg at the end of the receive batch being processed, or at once when the queue is
 * full.  Returns 0, or -1 when the datagram could not be sent (counted as a send drop). */
int udp_sock_send(struct udp_sock *s, const union addr *dst, const union addr *src,
                  const void *buf, size_t len);

/* The same without the copy, for relayed payloads framed in place in the receive batch: buf
 * must stay valid and unchanged until the batch ends, when every receive callback flushes
 * (udp_flush_all) before the batch's buffers are used again. */
int udp_sock_send_ref(struct udp_sock *s, const union addr *dst, const union addr *src,
                      const void *buf, size_t len);

#endif
