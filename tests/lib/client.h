/* client.h — a small STUN/TURN test client built on proto/: sockets, requests, answers. */
#ifndef TESTS_LIB_CLIENT_H
#define TESTS_LIB_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "proto/addr.h"
#include "proto/stun.h"

/* A socket connected to the server at ip:port.  type is SOCK_DGRAM or SOCK_STREAM; a local
 * IP may be given (NULL: any).  Returns the descriptor or -1. */
int client_connect(int type, const char *ip, uint16_t port, const char *local_ip);

/* The local address of fd. */
union addr client_local(int fd);

/* Writes all of buf; 0 or -1. */
int client_send_all(int fd, const void *buf, size_t len);

/* Receives one datagram (UDP) or one STUN/ChannelData frame (TCP, by frame_stream_len) within
 * timeout_ms.  Returns its length, 0 when a stream was closed by the server, -1 on timeout or
 * error. */
ssize_t client_recv(int fd, int stream, uint8_t *buf, size_t cap, int timeout_ms);

/* Builds a Binding request with a random transaction ID into buf (fingerprint: add one) and
 * returns its length. */
size_t client_binding_request(uint8_t *buf, size_t cap, bool fingerprint);

/* Sends req and waits for a decoded answer with the same transaction ID, retransmitting on
 * UDP every 500 ms, up to timeout_ms.  The answer is decoded into *resp from buf.  Returns 0
 * or -1 (nothing, or nothing decodable). */
int client_transact(int fd, int stream, const uint8_t *req, size_t reqlen, uint8_t *buf,
                    size_t cap, struct stun_msg *resp, int timeout_ms);

/* True when nothing at all arrives on fd within ms (for "must not be answered"). */
bool client_silent(int fd, int ms);

/* A UDP socket bound to ip at a free port (a peer of the test's own); *bound gets its
 * address.  Returns the descriptor or -1. */
int client_udp_bound(const char *ip, union addr *bound);

/* True when nothing listens on UDP addr any more: a datagram sent there from a connected
 * socket comes back as ICMP port unreachable (ECONNREFUSED on the next receive). */
bool client_udp_closed(const union addr *addr);

#endif
