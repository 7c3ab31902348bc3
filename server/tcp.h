/* tcp.h — TCP client listeners and connections: STUN and ChannelData framed on the stream. */
#ifndef SERVER_TCP_H
#define SERVER_TCP_H

#include <stdbool.h>
#include <stddef.h>

#include "proto/addr.h"

struct worker;
struct tcp_listener;
struct tcp_conn;

/* Opens worker w's SO_REUSEPORT TCP listener on a and accepts in w's loop.  Each connection
 * lives on that worker, within --max-tcp-connections, --tcp-idle-timeout and
 * --max-tcp-buffer.  0, or -1 with the reason in err. */
int tcp_listener_open(struct tcp_listener **out, struct worker *w, const union addr *a,
                      char *err, size_t errlen);
void tcp_listener_close(struct tcp_listener *l);

/* Appends buf[0..len) to the connection's output.  0, or -1 when the connection cannot take
 * it.  Answers are produced only for input, and input is not read while the output holds
 * --max-tcp-buffer bytes, so the output stays bounded. */
int tcp_conn_send(struct tcp_conn *c, const void *buf, size_t len);

/* Appends relayed data, unless --max-tcp-buffer bytes are already waiting: then it is dropped
 * and RELAY_IO_FULL returned (relayed UDP may be lost; memory may not grow). */
int tcp_conn_relay(struct tcp_conn *c, const void *buf, size_t len);

/* The connection holds an allocation (or no longer does): while it does, its lifetime rules
 * instead of --tcp-idle-timeout on reads; a client that stops reading still meets the write
 * timeout. */
void tcp_conn_set_allocated(struct tcp_conn *c, bool allocated);

/* Closes the connection at once and frees it (unlinking it from its worker). */
void tcp_conn_close(struct tcp_conn *c);

#endif
