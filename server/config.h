/* config.h — the server's configuration: defaults, turnserver.conf, command-line flags. */
#ifndef SERVER_CONFIG_H
#define SERVER_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "proto/addr.h"

#define TURNPIKE_VERSION "0.1.0" /* printed by --version and sent in SOFTWARE */

#define CONFIG_MAX_ADDRS 32
#define CONFIG_MAX_ALTERNATES 8 /* --alternate-server entries */
#define CONFIG_DEFAULT_FILE "/etc/turnpike/turnserver.conf"

/* One --external-ip mapping: the address advertised to clients, and the local relay address
 * it stands for (AF_UNSPEC when the mapping applies to every relay address of its family). */
struct config_external {
    union addr public_ip;
    union addr private_ip;
};

/* Everything the process was told.  Loaded once at start-up, then read-only and shared by
 * every thread.  Addresses carry port 0 unless stated.  Strings are owned by the config and
 * freed by config_free(). */
struct config {
    const char *file;            /* config file read, or NULL */

    /* listeners */
    union addr listen[CONFIG_MAX_ADDRS]; /* --listening-ip; none = every address, v4 and v6 */
    size_t nlisten;
    uint16_t listen_port;        /* --listening-port, 3478 */
    bool no_udp;                 /* --no-udp */
    bool no_tcp;                 /* --no-tcp */

    /* relay addresses (used by TURN allocations) */
    union addr relay[CONFIG_MAX_ADDRS]; /* --relay-ip */
    size_t nrelay;
    struct config_external external[CONFIG_MAX_ADDRS]; /* --external-ip PUBLIC[/PRIVATE] */
    size_t nexternal;
    bool relay_steering;         /* --relay-steering: peers' datagrams steered by BPF */

    char *realm;                 /* --realm, default "turnpike" */

    /* process */
    int threads;                 /* --relay-threads / -m; 0 = number of CPUs */
    char *pidfile;               /* --pidfile, NULL = none */
    char *log_file;              /* --log-file: "stdout" (default), "syslog" or a path */
    int verbose;                 /* -v / --verbose: 0 normal, 1 verbose, 2 very verbose (-V) */

    /* STUN behaviour */
    bool fingerprint;            /* --fingerprint: FINGERPRINT on every response */
    bool software_attribute;     /* --software-attribute: SOFTWARE on responses (off) */
    bool no_stun_3489;           /* --no-stun-backward-compatibility: drop RFC 3489 Binding */

    /* authentication (auth/) */
    bool no_auth;                /* --no-auth / -z: an open relay, warned about loudly */
    bool lt_cred_mech;           /* --lt-cred-mech / -a: accepted; it is the default anyway */
    char **users;                /* --user / -u NAME:PASSWORD or NAME:0xHEXKEY, repeatable */
    size_t nusers;
    char *userdb;                /* --userdb / -b FILE: more such lines, reloaded on SIGHUP */
    bool use_auth_secret;        /* --use-auth-secret: TURN REST API credentials */
    char **secrets;              /* --static-auth-secret SECRET, repeatable (rotation) */
    size_t nsecrets;
    char rest_separator;         /* --rest-api-separator CHAR, ':' */
    int stale_nonce;             /* --stale-nonce SECONDS, 600 */
    int user_quota;              /* --user-quota N allocations per user, 0 = no limit */
    int total_quota;             /* --total-quota N allocations in all, 0 = no limit */

    /* Redis: users shared by several nodes, allocation status (auth/redis.h, server/rstore.h) */
    char *redis_userdb;          /* --redis-userdb / -N: a coturn connection string, or NULL */
    char *redis_statsdb;         /* --redis-statsdb / -O: the same, for allocation status */
    int redis_cache_ttl;         /* --redis-cache-ttl seconds a user found is trusted, 30 */
    int redis_negative_ttl;      /* --redis-negative-ttl seconds for an unknown user, 5 */
    int redis_stale;             /* --redis-stale seconds past the TTL while Redis is down */
    int redis_timeout;           /* --redis-timeout milliseconds for every command, 1000 */

    /* allocations (relay/) */
    int max_allocate_lifetime;   /* --max-allocate-lifetime SECONDS, 3600 */
    uint16_t min_port;           /* --min-port, 49152 */
    uint16_t max_port;           /* --max-port, 65535 */
    char **allowed_peers;        /* --allowed-peer-ip IP|A-B|IP/N, repeatable */
    size_t nallowed_peers;
    char **denied_peers;         /* --denied-peer-ip IP|A-B|IP/N, repeatable */
    size_t ndenied_peers;
    bool allow_loopback_peers;   /* --allow-loopback-peers */
    bool no_multicast_peers;     /* --no-multicast-peers: accepted; multicast is always denied */

    /* TLS and DTLS client transports */
    uint16_t tls_listen_port;    /* --tls-listening-port, 5349 */
    uint16_t alt_listen_port;    /* --alt-listening-port, 0 = none */
    uint16_t alt_tls_listen_port;/* --alt-tls-listening-port, 0 = none */
    bool no_tls;                 /* --no-tls */
    bool dtls;                   /* --dtls: DTLS on the TLS port (off by default, as coturn) */
    bool no_dtls;                /* --no-dtls */
    char *cert;                  /* --cert FILE: PEM certificate chain (TLS/DTLS need it) */
    char *pkey;                  /* --pkey FILE: PEM private key */
    char *pkey_pwd;              /* --pkey-pwd: its password */
    char *cipher_list;           /* --cipher-list: TLS 1.2 cipher list (OpenSSL syntax) */
    char *ec_curve_name;         /* --ec-curve-name: key-exchange groups, e.g. X25519:prime256v1 */
    char *dh_file;               /* --dh-file: DH parameters for DHE ciphers */
    char *ca_file;               /* --CA-file: CA bundle (client certificates are not required) */

    /* operations (issue 6) */
    bool prometheus;             /* --prometheus: serve /metrics, /healthz, /readyz */
    uint16_t prometheus_port;    /* --prometheus-port, 9641 */
    union addr prometheus_addr;  /* --prometheus-address, 127.0.0.1 */
    char *syslog_facility;       /* --syslog-facility: daemon (default), local0..local7, user */
    size_t max_bps;              /* --max-bps: bytes/s per allocation and direction, 0 = none */
    size_t bps_capacity;         /* --bps-capacity: bytes/s for the server and direction */
    int channel_lifetime;        /* --channel-lifetime seconds, 600 */
    int permission_lifetime;     /* --permission-lifetime seconds, 300 */
    int max_allocations_per_ip;  /* --max-allocations-per-ip, 0 = no limit */
    int unauthorized_ratelimit;  /* --unauthorized-ratelimit: 401s per second per client IP,
                                    0 = no limit */
    int drain_timeout;           /* --drain-timeout seconds after SIGUSR1, 0 = wait for all */
    union addr alternates[CONFIG_MAX_ALTERNATES]; /* --alternate-server IP:PORT, repeatable */
    size_t nalternates;
    char *proc_user;             /* --proc-user: run as this user after binding */
    char *proc_group;            /* --proc-group */
    bool rfc5780;                /* --rfc5780: NAT behaviour discovery (two listening IPs) */

    /* RFC 6062 TCP relay allocations */
    bool no_tcp_relay;           /* --no-tcp-relay: REQUESTED-TRANSPORT TCP gets 442 */

    /* TCP client connections */
    int tcp_idle_timeout;        /* --tcp-idle-timeout seconds, default 60 */
    size_t tcp_max_buffer;       /* --max-tcp-buffer bytes per connection, default 256 KiB */
    int tcp_max_conns;           /* --max-tcp-connections per worker, default 10000 */
};

/* Outcome of config_load() besides 0. */
enum {
    CONFIG_ERR = -1,   /* err holds the message, exit non-zero */
    CONFIG_DONE = 1,   /* --help or --version was printed to out: exit 0 */
};

/* Fills *cfg from defaults, then the config file (-c FILE; -n none; otherwise
 * CONFIG_DEFAULT_FILE when it exists), then the command line, which wins for single-valued
 * options and adds to repeatable ones.  --help and --version print to out.  On error writes
 * one line into err naming the file and line or the flag, and the offending key and value,
 * e.g. "etc/x.conf:12: unknown option 'listen-port'"; *cfg is then freed already.
 * Returns 0, CONFIG_DONE or CONFIG_ERR. */
int config_load(struct config *cfg, int argc, char **argv, FILE *out, char *err, size_t errlen);

/* Frees what config_load() allocated; accepts a zeroed or freed config. */
void config_free(struct config *cfg);

#endif
