/* policy.h — which peer addresses a client may relay to (CreatePermission, ChannelBind, Send). */
#ifndef RELAY_POLICY_H
#define RELAY_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/addr.h"

struct relay_policy;

/* A policy with the safe defaults: denied are 0.0.0.0/8, 127.0.0.0/8, 10.0.0.0/8,
 * 172.16.0.0/12, 192.168.0.0/16, 169.254.0.0/16, 224.0.0.0/4 (multicast), 240.0.0.0/4 and
 * 255.255.255.255, ::, ::1, fe80::/10, fc00::/7, ff00::/8 (multicast); an IPv4-mapped
 * (::ffff:a.b.c.d) or IPv4-compatible (::a.b.c.d) address is judged as the IPv4 address it
 * carries.  Returns 0 or -1. */
int relay_policy_new(struct relay_policy **out);
void relay_policy_free(struct relay_policy *p);

/* Adds an operator range: a single IP ("192.0.2.7"), a range "a-b" of one family, or a CIDR
 * block "a/n".  Allowed ranges win over every denial (they are the operator's explicit word),
 * except for the server's own listening addresses.  Returns 0, or -1 with the reason in err. */
int relay_policy_allow(struct relay_policy *p, const char *range, char *err, size_t errlen);
int relay_policy_deny(struct relay_policy *p, const char *range, char *err, size_t errlen);

/* --allow-loopback-peers: 127.0.0.0/8 and ::1 become allowed (tests, single-host set-ups). */
void relay_policy_allow_loopback(struct relay_policy *p, bool allow);

/* Declares an address of the server itself.  A listening address (IP and port) is never a
 * valid peer: relaying to it would feed the server its own output.  A relay IP (port ignored)
 * is a valid peer only on a port within the relay range min..max, where another client's
 * relay lives (relay to relay: both browsers on TURN); any other port of it is denied (the
 * server's own services), unless it is loopback and loopback is allowed. */
int relay_policy_add_listener(struct relay_policy *p, const union addr *a);
int relay_policy_add_relay_ip(struct relay_policy *p, const union addr *ip, uint16_t min,
                              uint16_t max);

/* True when a client may relay to peer (IP and port).  Thread-safe for concurrent readers;
 * the policy must not change while workers read it. */
bool relay_policy_allows(const struct relay_policy *p, const union addr *peer);

/* The same with a second policy's operator ranges judged as p's own (extra's defaults,
 * listeners and relay IPs are not looked at): a realm's allowed and denied ranges on top of
 * the server's.  An allowed range of either wins over a denied one of either, as the
 * operator's word wins over the defaults; p's listeners are never allowed.  extra may be
 * NULL. */
bool relay_policy_allows_with(const struct relay_policy *p, const struct relay_policy *extra,
                              const union addr *peer);

#endif
