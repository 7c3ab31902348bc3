/* addr.h — transport addresses (IPv4/IPv6 + port): compare, hash, parse and format. */
#ifndef PROTO_ADDR_H
#define PROTO_ADDR_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* A transport address, small enough to embed (28 bytes) and usable directly as the address
 * argument of the socket calls.  sa.sa_family is AF_INET, AF_INET6, or AF_UNSPEC (no address). */
union addr {
    struct sockaddr sa;
    struct sockaddr_in sin;
    struct sockaddr_in6 sin6;
};

/* Longest string addr_format() writes, NUL included: "[v6-address]:65535". */
#define ADDR_STRLEN (INET6_ADDRSTRLEN + 8)

/* Length to pass to the socket calls for this address's family (0 for AF_UNSPEC). */
socklen_t addr_len(const union addr *a);

/* Port in host order. */
uint16_t addr_port(const union addr *a);
void addr_set_port(union addr *a, uint16_t port);

/* Equality of family, IP and port (addr_equal) or of family and IP only (addr_ip_equal).
 * Scope IDs and flow labels are ignored. */
bool addr_equal(const union addr *a, const union addr *b);
bool addr_ip_equal(const union addr *a, const union addr *b);

/* A hash of IP and port (addr_hash) or of the IP alone (addr_ip_hash), mixed with seed, for
 * hash tables keyed by address. */
uint32_t addr_hash(const union addr *a, uint32_t seed);
uint32_t addr_ip_hash(const union addr *a, uint32_t seed);

/* Sets *out from an IP literal with an optional port: "192.0.2.1", "192.0.2.1:3478",
 * "2001:db8::1", "[2001:db8::1]:3478".  A missing port becomes default_port.  Returns 0, or
 * -1 when s is not such an address (out is then untouched). */
int addr_parse(union addr *out, const char *s, uint16_t default_port);

/* Sets *out from the 4 or 16 raw bytes of an IP in network order and a host-order port. */
void addr_from_bytes(union addr *out, int family, const uint8_t *ip, uint16_t port);

/* Writes "192.0.2.1:3478" or "[2001:db8::1]:3478" into buf (at least ADDR_STRLEN bytes) and
 * returns buf.  addr_format_ip writes the IP alone. */
char *addr_format(const union addr *a, char *buf, size_t cap);
char *addr_format_ip(const union addr *a, char *buf, size_t cap);

/* True for ::ffff:a.b.c.d; addr_unmap() turns such an address into plain IPv4 in place. */
bool addr_is_v4mapped(const union addr *a);
void addr_unmap(union addr *a);

/* True for 0.0.0.0 and ::. */
bool addr_is_any(const union addr *a);

#endif
