/* nat.c — RFC 5780 NAT behaviour discovery: other addresses, CHANGE-REQUEST, RESPONSE-PORT. */
#include "server/nat.h"

#include <stdio.h>

#include "server/udp.h"
#include "server/worker.h"

/* CHANGE-REQUEST flags (RFC 5780 §7.2). */
#define CHANGE_IP 0x4u
#define CHANGE_PORT 0x2u

int nat_check(const struct config *cfg, char *err, size_t errlen)
{
    size_t v4 = 0, v6 = 0;

    if (!cfg->rfc5780)
        return 0;
    for (size_t i = 0; i < cfg->nlisten; i++) {
        if (cfg->listen[i].sa.sa_family == AF_INET)
            v4++;
        else
            v6++;
    }
    if (v4 >= 2 || v6 >= 2)
        return 0;
    snprintf(err, errlen, "--rfc5780 needs two --listening-ip addresses of one family (each is "
                          "the other address of the other)");
    return -1;
}

bool nat_other(const struct config *cfg, const union addr *local, union addr *other)
{
    uint16_t port = addr_port(local), to_port;
    const union addr *first = NULL, *next = NULL;
    bool seen = false;

    if (!cfg->rfc5780 || cfg->alt_listen_port == 0)
        return false;
    if (port == cfg->listen_port)
        to_port = cfg->alt_listen_port;
    else if (port == cfg->alt_listen_port)
        to_port = cfg->listen_port;
    else
        return false;
    for (size_t i = 0; i < cfg->nlisten && next == NULL; i++) {
        const union addr *a = &cfg->listen[i];
        if (a->sa.sa_family != local->sa.sa_family)
            continue;
        if (first == NULL)
            first = a;
        if (seen)
            next = a;
        else if (addr_ip_equal(a, local))
            seen = true;
    }
    if (!seen)
        return false;
    if (next == NULL)
        next = first;
    if (addr_ip_equal(next, local))
        return false; /* the only IP of its family */
    *other = *next;
    addr_set_port(other, to_port);
    return true;
}

bool nat_serves(const struct config *cfg, const struct relay_client *c, union addr *other)
{
    return cfg->rfc5780 && (c->transport == RELAY_UDP || c->transport == RELAY_TCP) &&
           nat_other(cfg, &c->local, other);
}

int nat_route(struct worker *w, const struct relay_client *c, const struct stun_msg *m,
              const union addr *other, struct relay_client *to, const char **reason)
{
    uint32_t change = 0;
    uint16_t port = 0;
    bool has_port = stun_msg_get_u16(m, STUN_ATTR_RESPONSE_PORT, &port) == STUN_OK;
    union addr from = c->local;

    *to = *c;
    stun_msg_get_u32(m, STUN_ATTR_CHANGE_REQUEST, &change);
    change &= CHANGE_IP | CHANGE_PORT;
    if (c->transport != RELAY_UDP && (change || has_port)) {
        /* A TCP answer can only go back on its connection (RFC 5780 §6.1). */
        *reason = change ? "CHANGE-REQUEST works over UDP only"
                         : "RESPONSE-PORT works over UDP only";
        return 400;
    }
    if (has_port && port == 0) {
        *reason = "RESPONSE-PORT 0";
        return 400;
    }
    if (has_port)
        addr_set_port(&to->remote, port);
    if (change == 0)
        return 0;
    if (change & CHANGE_IP) {
        uint16_t keep = addr_port(&from);
        from = *other;
        addr_set_port(&from, keep);
    }
    if (change & CHANGE_PORT)
        addr_set_port(&from, addr_port(other));
    to->local = from;
    to->handle = udp_sock_find(w, &from);
    if (to->handle == NULL) {
        *reason = "no socket at the changed address";
        return 500;
    }
    return 0;
}
