/* udp.h — UDP client listeners: batched receive (recvmmsg), batched replies (sendmmsg). */
#ifndef SERVER_UDP_H
#define SERVER_UDP_H

#include <stddef.h>

#include "proto/addr.h"

struct worker;
struct udp_sock;
struct udp_rx;

/* Datagrams per recvmmsg/sendmmsg call, and the largest datagram taken (a larger one is
 * dropped and counted as oversize: STUN and TURN traffic stays far below it). */
#define UDP_BATCH 32
#define UDP_MAX_DATAGRAM 4096

/* The receive batch (buffers for UDP_BATCH datagrams), one per worker, shared by its sockets:
 * a worker runs one callback at a time. */
int udp_rx_new(struct udp_rx **out);
void udp_rx_free(struct udp_rx *rx);

/* Opens worker w's SO_REUSEPORT socket on a and starts reading it in w's loop.  A wildcard
 * address (0.0.0.0, ::) asks for each datagram's destination, so that answers leave from the
 * address the request was sent to.  0, or -1 with the reason in err. */
int udp_sock_open(struct udp_sock **out, struct worker *w, const union addr *a, char *err,
                  size_t errlen);
void udp_sock_close(struct udp_sock *s);

/* Queues a copy of buf[0..len) to dst, leaving from local address src; queued datagrams go out
 * in one sendmmsg at the end of the receive batch being processed, or at once when the queue is
 * full.  Returns 0, or -1 when the datagram could not be sent (counted as a send drop). */
int udp_sock_send(struct udp_sock *s, const union addr *dst, const union addr *src,
                  const void *buf, size_t len);

#endif
