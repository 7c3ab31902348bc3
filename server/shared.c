/* shared.c — the state every worker shares, built from the configuration: auth, relay, TLS. */
#include "server/shared.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/auth.h"
#include "proto/crypto.h"
#include "server/log.h"
#include "server/net.h"
#include "server/peer.h"
#include "server/rstore.h"
#include "server/steer.h"
#include "server/tls.h"

/* Ceilings per allocation: a WebRTC client needs a handful of each; these only stop abuse. */
#define MAX_PERMISSIONS 256
#define MAX_CHANNELS 256
#define MAX_RESERVATIONS 4096
#define MAX_TCP_CONNECTIONS 64 /* RFC 6062 peer connections per allocation */

/* A policy replaced by a reload, freed once every worker has passed a tick after `since`. */
struct retired {
    struct retired *next;
    struct relay_policy *policy;
    uint32_t since;
};

struct shared {
    const struct config *cfg;
    union addr listen[WORKER_MAX_LISTEN];
    size_t nlisten;
    struct retired *retired;
    struct worker_shared view;
    struct auth auth;
    struct relay_shared relay;
    struct relay_control control;
    struct tls *tls;  /* TLS listeners' context, or NULL */
    struct tls *dtls; /* DTLS sockets' context, or NULL */
    struct steer *steer; /* --relay-steering, or NULL */
};

static int fail(char *err, size_t errlen, const char *what)
{
    snprintf(err, errlen, "%s", what);
    return -1;
}

static int setup_auth(struct shared *s, char *err, size_t errlen)
{
    const struct config *cfg = s->cfg;
    struct auth *a = &s->auth;
    char why[256];

    if (cfg->no_auth)
        return 0;
    if (auth_store_new(&a->store, cfg->realm) < 0)
        return fail(err, errlen, "out of memory");
    for (size_t i = 0; i < cfg->nusers; i++) {
        if (auth_store_add_user(a->store, cfg->users[i], why, sizeof(why)) < 0) {
            snprintf(err, errlen, "--user: %s", why);
            return -1;
        }
    }
    if (cfg->userdb && auth_store_load_file(a->store, cfg->userdb, err, errlen) < 0)
        return -1;
    if (cfg->use_auth_secret) {
        for (size_t i = 0; i < cfg->nsecrets; i++)
            if (auth_store_add_secret(a->store, cfg->secrets[i]) < 0)
                return fail(err, errlen, "out of memory");
        auth_store_set_rest_separator(a->store, cfg->rest_separator);
    }
    a->realm = cfg->realm;
    a->nonce_lifetime = (uint32_t)cfg->stale_nonce;
    a->sha256 = true;
    a->external_users = cfg->redis_userdb != NULL;
    if (crypto_random(a->nonce_secret, sizeof(a->nonce_secret)) < 0)
        return fail(err, errlen, "no random numbers for the nonce secret");
    s->view.auth = a;
    return 0;
}

/* The relay IPs: --relay-ip, else the listening IPs, else (wildcard) every local address. */
static size_t relay_ips(const struct config *cfg, const union addr *listen, size_t n,
                        union addr *out, size_t max)
{
    size_t k = 0;

    if (cfg->nrelay) {
        for (size_t i = 0; i < cfg->nrelay && k < max; i++)
            out[k++] = cfg->relay[i];
        return k;
    }
    for (size_t i = 0; i < n; i++)
        if (addr_is_any(&listen[i]))
            return net_local_addrs(out, max);
    for (size_t i = 0; i < n && k < max; i++) {
        out[k] = listen[i];
        addr_set_port(&out[k++], 0);
    }
    return k;
}

/* The --external-ip that applies to relay IP ip: the one naming it, else one for its whole
 * family. */
static void external_of(const struct config *cfg, struct relay_addr *ra)
{
    ra->external.sa.sa_family = AF_UNSPEC;
    for (size_t i = 0; i < cfg->nexternal; i++) {
        const struct config_external *x = &cfg->external[i];
        if (x->private_ip.sa.sa_family == AF_UNSPEC &&
            x->public_ip.sa.sa_family == ra->ip.sa.sa_family &&
            ra->external.sa.sa_family == AF_UNSPEC)
            ra->external = x->public_ip;
        if (addr_ip_equal(&x->private_ip, &ra->ip)) {
            ra->external = x->public_ip;
            return;
        }
    }
}

/* A listening address of ours, at each client port: the listening port, the alternative one
 * and the TLS/DTLS ones. */
static void add_listener(struct relay_policy *p, const struct config *cfg, const union addr *a)
{
    const uint16_t ports[] = {cfg->listen_port, cfg->alt_listen_port, cfg->tls_listen_port,
                              cfg->alt_tls_listen_port};

    for (size_t i = 0; i < sizeof(ports) / sizeof(ports[0]); i++) {
        union addr x = *a;

        if (ports[i] == 0)
            continue;
        addr_set_port(&x, ports[i]);
        relay_policy_add_listener(p, &x);
    }
}

/* The peer policy of cfg's ranges, with our own listening addresses and relay IPs; built
 * unshared, so that a reload can build the next one while the workers use the current. */
static int build_policy(const struct shared *s, const struct config *cfg,
                        struct relay_policy **out, char *err, size_t errlen)
{
    const struct relay_shared *r = &s->relay;
    union addr locals[CONFIG_MAX_ADDRS];
    struct relay_policy *p;
    size_t nlocal;

    if (relay_policy_new(&p) < 0)
        return fail(err, errlen, "out of memory");
    for (size_t i = 0; i < cfg->nallowed_peers; i++)
        if (relay_policy_allow(p, cfg->allowed_peers[i], err, errlen) < 0)
            goto fail;
    for (size_t i = 0; i < cfg->ndenied_peers; i++)
        if (relay_policy_deny(p, cfg->denied_peers[i], err, errlen) < 0)
            goto fail;
    relay_policy_allow_loopback(p, cfg->allow_loopback_peers);
    /* Our own listening addresses are never peers; with a wildcard, that is every local
     * address at the listening port. */
    nlocal = net_local_addrs(locals, CONFIG_MAX_ADDRS);
    for (size_t i = 0; i < s->nlisten; i++) {
        if (!addr_is_any(&s->listen[i])) {
            add_listener(p, s->cfg, &s->listen[i]);
            continue;
        }
        for (size_t k = 0; k < nlocal; k++)
            if (locals[k].sa.sa_family == s->listen[i].sa.sa_family)
                add_listener(p, s->cfg, &locals[k]);
    }
    for (size_t i = 0; i < r->naddrs; i++)
        relay_policy_add_relay_ip(p, &r->addrs[i].ip, s->cfg->min_port, s->cfg->max_port);
    *out = p;
    return 0;
fail:
    relay_policy_free(p);
    return -1;
}

static int setup_policy(struct shared *s, char *err, size_t errlen)
{
    struct relay_policy *p;

    if (build_policy(s, s->cfg, &p, err, errlen) < 0)
        return -1;
    atomic_store(&s->relay.policy, p);
    return 0;
}

static int setup_relay(struct shared *s, const union addr *listen, size_t n, char *err,
                       size_t errlen)
{
    const struct config *cfg = s->cfg;
    struct relay_shared *r = &s->relay;
    union addr ips[RELAY_MAX_ADDRS];
    size_t nips = relay_ips(cfg, listen, n, ips, RELAY_MAX_ADDRS);

    for (size_t i = 0; i < nips; i++) {
        struct relay_addr *ra = &r->addrs[r->naddrs];
        ra->ip = ips[i];
        external_of(cfg, ra);
        if (relay_ports_new(&ra->ports, cfg->min_port, cfg->max_port) < 0)
            return fail(err, errlen, "out of memory");
        r->naddrs++;
    }
    if (r->naddrs == 0)
        return fail(err, errlen, "no relay address: give --relay-ip");
    if (relay_reservations_new(&r->reservations, MAX_RESERVATIONS) < 0 ||
        relay_quota_new(&r->quota) < 0)
        return fail(err, errlen, "out of memory");
    r->default_lifetime = 600;
    r->max_lifetime = (uint32_t)cfg->max_allocate_lifetime;
    /* RFC 8656 fixes 300 s and 600 s; coturn lets operators change them, and so do we. */
    r->permission_lifetime = cfg->permission_lifetime ? (uint32_t)cfg->permission_lifetime : 300;
    r->channel_lifetime = cfg->channel_lifetime ? (uint32_t)cfg->channel_lifetime : 600;
    r->user_quota = (uint32_t)cfg->user_quota;
    r->total_quota = (uint32_t)cfg->total_quota;
    r->max_permissions = MAX_PERMISSIONS;
    r->max_channels = MAX_CHANNELS;
    r->max_tcp_connections = MAX_TCP_CONNECTIONS;
    r->no_tcp_relay = cfg->no_tcp_relay;
    r->max_bps = cfg->max_bps;
    r->bps_capacity = cfg->bps_capacity;
    r->max_per_ip = (uint32_t)cfg->max_allocations_per_ip;
    if (r->max_per_ip && relay_quota_new(&r->ip_quota) < 0)
        return fail(err, errlen, "out of memory");
    for (size_t i = 0; i < cfg->nalternates && i < 8; i++)
        r->alternates[r->nalternates++] = cfg->alternates[i];
    r->control = &s->control;
    return setup_policy(s, err, errlen);
}

/* The TLS and DTLS contexts, when a certificate is given and they are not switched off.  The
 * key is read from the --cert file when --pkey is not given, as coturn does. */
static int setup_tls(struct shared *s, char *err, size_t errlen)
{
    const struct config *cfg = s->cfg;
    bool tls = !cfg->no_tls, dtls = cfg->dtls && !cfg->no_dtls;

    if (!tls && !dtls)
        return 0;
    if (cfg->cert == NULL) {
        log_info("no --cert and --pkey: no TLS%s listener", dtls ? " or DTLS" : "");
        return 0;
    }
    if ((tls && tls_new(&s->tls, cfg, false, err, errlen) < 0) ||
        (dtls && tls_new(&s->dtls, cfg, true, err, errlen) < 0))
        return -1;
    s->view.tls = s->tls;
    s->view.dtls = s->dtls;
    return 0;
}

/* --relay-steering: opened now, while the process may still load BPF programs. */
static int setup_steering(struct shared *s, unsigned nworkers, char *err, size_t errlen)
{
    union addr ips[RELAY_MAX_ADDRS];

    if (!s->cfg->relay_steering)
        return 0;
    for (size_t i = 0; i < s->relay.naddrs; i++)
        ips[i] = s->relay.addrs[i].ip;
    if (steer_new(&s->steer, ips, s->relay.naddrs, s->cfg->min_port, s->cfg->max_port,
                  nworkers, err, errlen) < 0)
        return -1;
    s->view.steer = s->steer;
    return 0;
}

int shared_new(struct shared **out, const struct config *cfg, const union addr *listen,
               size_t n, unsigned nworkers, char *err, size_t errlen)
{
    struct shared *s = calloc(1, sizeof(*s));

    if (s == NULL)
        return fail(err, errlen, "out of memory");
    s->cfg = cfg;
    s->relay.nworkers = nworkers;
    for (size_t i = 0; i < n && i < WORKER_MAX_LISTEN; i++)
        s->listen[s->nlisten++] = listen[i];
    s->view.cfg = cfg;
    s->view.relay = &s->relay;
    if (setup_auth(s, err, errlen) < 0 || setup_relay(s, listen, n, err, errlen) < 0 ||
        setup_tls(s, err, errlen) < 0 ||
        rstore_shared_new(&s->view.rstore, cfg, err, errlen) < 0 ||
        setup_steering(s, nworkers, err, errlen) < 0) {
        shared_free(s);
        return -1;
    }
    *out = s;
    return 0;
}

const struct worker_shared *shared_view(const struct shared *s)
{
    return &s->view;
}

void shared_drain(struct shared *s)
{
    atomic_store(&s->control.draining, true);
}

void shared_set_mailboxes(struct shared *s, struct mailbox **mailboxes, unsigned n)
{
    s->view.mailboxes = mailboxes;
    s->view.nworkers = n;
}

/* Appends "; what: why" to the report (capacity cap). */
static void report(char *out, size_t cap, const char *what, const char *why)
{
    size_t n = strlen(out);

    snprintf(out + n, cap - n, "%s%s%s%s", n ? "; " : "", what, why ? ": " : "", why ? why : "");
}

/* Users and REST secrets from fresh, the userdb file again. */
static void reload_auth(struct shared *s, const struct config *fresh, char *done, char *failed,
                        size_t cap)
{
    char why[512];

    if (s->auth.store == NULL)
        return;
    if (auth_store_set_users(s->auth.store, fresh->users, fresh->nusers, why, sizeof(why)) < 0)
        report(failed, cap, "users", why);
    else
        report(done, cap, "users", NULL);
    if (s->cfg->userdb) {
        if (auth_store_load_file(s->auth.store, s->cfg->userdb, why, sizeof(why)) < 0)
            report(failed, cap, "userdb", why);
        else
            report(done, cap, "userdb", NULL);
    }
    if (s->cfg->use_auth_secret) {
        if (auth_store_set_secrets(s->auth.store, fresh->secrets, fresh->nsecrets) < 0)
            report(failed, cap, "REST secrets", "cannot be set");
        else
            report(done, cap, "REST secrets", NULL);
    }
}

/* The peer policy from fresh; the old one is retired, not freed: a worker may be using it. */
static void reload_policy(struct shared *s, const struct config *fresh, uint32_t now,
                          char *done, char *failed, size_t cap)
{
    struct relay_policy *p;
    struct retired *r;
    char why[512];

    if (build_policy(s, fresh, &p, why, sizeof(why)) < 0) {
        report(failed, cap, "peer addresses", why);
        return;
    }
    r = malloc(sizeof(*r));
    if (r == NULL) {
        relay_policy_free(p);
        report(failed, cap, "peer addresses", "out of memory");
        return;
    }
    r->policy = atomic_exchange(&s->relay.policy, p);
    r->since = now;
    r->next = s->retired;
    s->retired = r;
    report(done, cap, "peer addresses", NULL);
}

static void reload_tls(struct shared *s, const struct config *fresh, char *done, char *failed,
                       size_t cap)
{
    char why[512];

    for (int i = 0; i < 2; i++) {
        struct tls *t = i == 0 ? s->tls : s->dtls;
        const char *what = i == 0 ? "TLS certificate" : "DTLS certificate";
        if (t == NULL)
            continue;
        if (tls_reload(t, fresh, why, sizeof(why)) < 0)
            report(failed, cap, what, why);
        else
            report(done, cap, what, NULL);
    }
}

int shared_reload(struct shared *s, const struct config *fresh, uint32_t now, char *done,
                  char *failed, size_t cap)
{
    done[0] = failed[0] = '\0';
    reload_auth(s, fresh, done, failed, cap);
    reload_policy(s, fresh, now, done, failed, cap);
    reload_tls(s, fresh, done, failed, cap);
    return failed[0] ? -1 : 0;
}

void shared_reclaim(struct shared *s, uint32_t oldest_heartbeat)
{
    struct retired **pp = &s->retired;

    while (*pp) {
        struct retired *r = *pp;
        /* A tick a second after the swap ran between callbacks, after the swap: whatever
         * a worker read before the swap it is done with by then. */
        if (oldest_heartbeat > r->since) {
            *pp = r->next;
            relay_policy_free(r->policy);
            free(r);
        } else {
            pp = &r->next;
        }
    }
}

void shared_log(const struct shared *s)
{
    const struct config *cfg = s->cfg;
    char line[1024];
    size_t n = 0;

    for (size_t i = 0; i < s->relay.naddrs && n < sizeof(line) - 2 * ADDR_STRLEN - 8; i++) {
        char a[ADDR_STRLEN], x[ADDR_STRLEN];
        const struct relay_addr *ra = &s->relay.addrs[i];
        n += (size_t)snprintf(line + n, sizeof(line) - n, "%s%s", i ? " " : "",
                              addr_format_ip(&ra->ip, a, sizeof(a)));
        if (ra->external.sa.sa_family != AF_UNSPEC)
            n += (size_t)snprintf(line + n, sizeof(line) - n, "(as %s)",
                                  addr_format_ip(&ra->external, x, sizeof(x)));
    }
    log_info("relay addresses %s, ports %u-%u%s", line, cfg->min_port, cfg->max_port,
             s->steer ? ", steered to one socket per worker (BPF sk_lookup)" : "");
    if (cfg->no_auth)
        log_warn("--no-auth: THIS IS AN OPEN RELAY. Anyone who reaches this server can relay "
                 "traffic through it. Use it only on a closed network.");
    else if (cfg->nusers == 0 && cfg->userdb == NULL && cfg->nsecrets == 0 &&
             cfg->redis_userdb == NULL)
        log_warn("no user, userdb or REST secret is configured: every Allocate gets 401");
    else
        log_info("long-term credentials, realm '%s': %zu users%s%s%s", cfg->realm,
                 cfg->nusers, cfg->userdb ? " + userdb" : "",
                 cfg->redis_userdb ? " + Redis users" : "",
                 cfg->use_auth_secret ? " + REST secrets" : "");
    if (cfg->allow_loopback_peers)
        log_warn("--allow-loopback-peers: clients may relay to this host's loopback addresses");
    for (int i = 0; i < 2; i++) {
        const struct tls *t = i == 0 ? s->tls : s->dtls;

        if (t == NULL)
            continue;
        tls_describe(t, line, sizeof(line));
        log_info("%s on port %u%s%.0u: %s", i == 0 ? "TLS (TCP)" : "DTLS (UDP)",
                 cfg->tls_listen_port, cfg->alt_tls_listen_port ? " and " : "",
                 cfg->alt_tls_listen_port, line);
    }
}

/* At shutdown, a reservation nobody redeemed: close the socket that held its port. */
static void release_held(const union addr *addr, void *held, void *arg)
{
    (void)addr;
    peer_unhold(arg, held);
}

void shared_free(struct shared *s)
{
    if (s == NULL)
        return;
    rstore_shared_free(s->view.rstore);
    auth_store_free(s->auth.store);
    for (size_t i = 0; i < s->relay.naddrs; i++)
        relay_ports_free(s->relay.addrs[i].ports);
    relay_policy_free(atomic_load(&s->relay.policy));
    shared_reclaim(s, UINT32_MAX);
    relay_reservations_free(s->relay.reservations, release_held, NULL);
    relay_quota_free(s->relay.quota);
    relay_quota_free(s->relay.ip_quota);
    tls_free(s->tls);
    tls_free(s->dtls);
    steer_free(s->steer);
    free(s);
}
