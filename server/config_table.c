/* config_table.c — the option table: every option's name, letter, kind, default and help, and
 * the checks of values beyond their kind (a user line, a peer range). */
#include "server/config_opts.h"

#include <string.h>

#include "auth/redisconf.h"
#include "auth/store.h"
#include "relay/policy.h"
#include "server/log.h"

#define FIELD(f)      .off = offsetof(struct config, f)
#define LIST(f, n)    .off = offsetof(struct config, f), .count_off = offsetof(struct config, n)
#define RANGE(lo, hi) .min = (lo), .max = (hi)


static int check_user(const char *value, const struct config_src *src);
static int check_allowed_peer(const char *value, const struct config_src *src);
static int check_denied_peer(const char *value, const struct config_src *src);
static int check_facility(const char *value, const struct config_src *src);
static int check_redis(const char *value, const struct config_src *src);

/* Ordered as --help and etc/turnserver.conf show them.  Letters and long names follow coturn
 * wherever turnpike has the same option, so that a coturn config file mostly just works. */
/* clang-format off */
const struct config_opt config_opts[] = {
    /* listeners */
    {.name = "listening-ip", .letter = 'L', .kind = CONFIG_ADDRS, .group = CONFIG_GROUP_LISTEN,
     LIST(listen, nlisten), .arg = "IP",
     .help = "Listen on this IPv4 or IPv6 address; repeatable. Without it, every address of "
             "both families is used."},
    {.name = "listening-port", .letter = 'p', .kind = CONFIG_PORT, .group = CONFIG_GROUP_LISTEN,
     FIELD(listen_port), RANGE(1, 65535), .arg = "PORT", .def = "3478",
     .help = "UDP and TCP port for STUN and TURN clients."},
    {.name = "no-udp", .kind = CONFIG_FLAG, .group = CONFIG_GROUP_LISTEN, FIELD(no_udp),
     .help = "Do not listen on UDP."},
    {.name = "no-tcp", .kind = CONFIG_FLAG, .group = CONFIG_GROUP_LISTEN, FIELD(no_tcp),
     .help = "Do not listen on TCP."},
    {.name = "alt-listening-port", .kind = CONFIG_PORT, .group = CONFIG_GROUP_LISTEN,
     FIELD(alt_listen_port), RANGE(0, 65535), .arg = "PORT", .def = "0",
     .help = "A second UDP and TCP port for STUN and TURN clients; 0 for none."},
    {.name = "tls-listening-port", .kind = CONFIG_PORT, .group = CONFIG_GROUP_LISTEN,
     FIELD(tls_listen_port), RANGE(1, 65535), .arg = "PORT", .def = "5349",
     .help = "TLS (TCP) and DTLS (UDP) port for STUN and TURN clients; used when --cert is "
             "given."},
    {.name = "alt-tls-listening-port", .kind = CONFIG_PORT, .group = CONFIG_GROUP_LISTEN,
     FIELD(alt_tls_listen_port), RANGE(0, 65535), .arg = "PORT", .def = "0",
     .help = "A second TLS and DTLS port; 0 for none."},
    {.name = "no-tls", .kind = CONFIG_FLAG, .group = CONFIG_GROUP_LISTEN, FIELD(no_tls),
     .help = "Do not listen on TLS, even with --cert."},
    {.name = "dtls", .kind = CONFIG_FLAG, .group = CONFIG_GROUP_LISTEN, FIELD(dtls),
     .help = "Also serve DTLS 1.2 on the UDP side of the TLS ports (needs --cert)."},
    {.name = "no-dtls", .kind = CONFIG_FLAG, .group = CONFIG_GROUP_LISTEN, FIELD(no_dtls),
     .help = "Do not serve DTLS, even with --dtls."},

    /* relay */
    {.name = "relay-ip", .letter = 'E', .kind = CONFIG_ADDRS, .group = CONFIG_GROUP_RELAY,
     LIST(relay, nrelay), .arg = "IP",
     .help = "Open relayed transport addresses on this IPv4 or IPv6 address; repeatable. "
             "Without it, a relay opens on the address the client reached."},
    {.name = "external-ip", .letter = 'X', .kind = CONFIG_EXTERNAL, .group = CONFIG_GROUP_RELAY,
     LIST(external, nexternal), .arg = "PUBLIC[/PRIVATE]",
     .help = "Behind NAT: advertise PUBLIC instead of the relay address PRIVATE, or instead of "
             "every relay address of its family when PRIVATE is left out; repeatable."},
    {.name = "relay-steering", .kind = CONFIG_FLAG, .group = CONFIG_GROUP_RELAY,
     FIELD(relay_steering),
     .help = "Steer what peers send to the UDP relayed addresses of each worker to one socket "
             "of the worker's with a BPF sk_lookup program, read in batches: cheaper with "
             "thousands of allocations. Linux 5.9 or later; needs CAP_BPF and CAP_NET_ADMIN "
             "(root) at start."},

    /* STUN */
    {.name = "realm", .letter = 'r', .kind = CONFIG_STRING, .group = CONFIG_GROUP_STUN,
     FIELD(realm), RANGE(0, 127), .arg = "REALM", .def = "turnpike",
     .help = "Realm of the long-term credentials, sent in the REALM attribute (RFC 8489 "
             "14.9: fewer than 128 characters)."},
    {.name = "fingerprint", .letter = 'f', .kind = CONFIG_FLAG, .group = CONFIG_GROUP_STUN,
     FIELD(fingerprint), .help = "Add a FINGERPRINT attribute to every response."},
    {.name = "software-attribute", .kind = CONFIG_FLAG, .group = CONFIG_GROUP_STUN,
     FIELD(software_attribute),
     .help = "Add a SOFTWARE attribute naming turnpike and its version to responses."},
    {.name = "no-stun-backward-compatibility", .kind = CONFIG_FLAG, .group = CONFIG_GROUP_STUN,
     FIELD(no_stun_3489),
     .help = "Ignore RFC 3489 Binding requests (those without the magic cookie)."},
    {.name = "rfc5780", .kind = CONFIG_FLAG, .group = CONFIG_GROUP_STUN, FIELD(rfc5780),
     .help = "Answer RFC 5780 NAT behaviour discovery (OTHER-ADDRESS, RESPONSE-ORIGIN, "
             "CHANGE-REQUEST, RESPONSE-PORT); needs two listening IP addresses of one family, "
             "and uses --alt-listening-port (default: the listening port + 1). Off by "
             "default, as in coturn."},

    /* authentication */
    {.name = "no-auth", .letter = 'z', .kind = CONFIG_FLAG, .group = CONFIG_GROUP_AUTH,
     FIELD(no_auth),
     .help = "Relay for anyone, asking no credentials: an open relay, to be kept off the "
             "Internet."},
    {.name = "lt-cred-mech", .letter = 'a', .kind = CONFIG_FLAG, .group = CONFIG_GROUP_AUTH,
     FIELD(lt_cred_mech),
     .help = "Accepted for coturn config files: long-term credentials are on unless --no-auth "
             "is given."},
    {.name = "user", .letter = 'u', .kind = CONFIG_STRINGS, .group = CONFIG_GROUP_AUTH,
     LIST(users, nusers), .arg = "NAME:PASSWORD", .check = check_user,
     .help = "A user of the long-term credentials, as NAME:PASSWORD, or NAME:0xKEY with the "
             "key in 32 (MD5) or 64 (SHA-256) hex digits; repeatable."},
    {.name = "userdb", .letter = 'b', .kind = CONFIG_STRING, .group = CONFIG_GROUP_AUTH,
     FIELD(userdb), .arg = "FILE",
     .help = "Read more users from FILE, a text file of lines written as for --user "
             "(turnpike's own format, not coturn's SQLite database); read again on SIGHUP."},
    {.name = "use-auth-secret", .kind = CONFIG_FLAG, .group = CONFIG_GROUP_AUTH,
     FIELD(use_auth_secret),
     .help = "Accept TURN REST API credentials: user names that carry their expiry time, "
             "with a password derived from a shared secret."},
    {.name = "static-auth-secret", .kind = CONFIG_STRINGS, .group = CONFIG_GROUP_AUTH,
     LIST(secrets, nsecrets), .arg = "SECRET",
     .help = "A shared secret of the TURN REST API; repeatable, so that a new secret can be "
             "rolled out before the old one is dropped."},
    {.name = "rest-api-separator", .kind = CONFIG_CHAR, .group = CONFIG_GROUP_AUTH,
     FIELD(rest_separator), .arg = "CHAR", .def = ":",
     .help = "The character between the expiry time and the user name in a TURN REST API "
             "user name."},
    {.name = "stale-nonce", .kind = CONFIG_INT, .group = CONFIG_GROUP_AUTH,
     FIELD(stale_nonce), RANGE(30, 86400), .arg = "SECONDS", .def = "600",
     .help = "How long a nonce stays good; then the client is told 438 (Stale Nonce) and "
             "takes a new one."},
    {.name = "user-quota", .kind = CONFIG_INT, .group = CONFIG_GROUP_AUTH, FIELD(user_quota),
     RANGE(0, 1000000), .arg = "N", .def = "0",
     .help = "Most allocations one user may hold at once; 0 for no limit."},
    {.name = "total-quota", .kind = CONFIG_INT, .group = CONFIG_GROUP_AUTH, FIELD(total_quota),
     RANGE(0, 10000000), .arg = "N", .def = "0",
     .help = "Most allocations the server holds at once; 0 for no limit."},

    /* Redis */
    {.name = "redis-userdb", .letter = 'N', .kind = CONFIG_STRING, .group = CONFIG_GROUP_REDIS,
     FIELD(redis_userdb), .arg = "\"host=H port=P dbname=N password=S\"", .check = check_redis,
     .help = "Also look users up in Redis, in coturn's key schema (as coturn's turnadmin writes "
             "them): coturn's connection string, with connect_timeout=SECONDS and "
             "unix_socket=PATH. With --use-auth-secret and no --static-auth-secret, the REST "
             "secrets are the realm's set there."},
    {.name = "redis-statsdb", .letter = 'O', .kind = CONFIG_STRING, .group = CONFIG_GROUP_REDIS,
     FIELD(redis_statsdb), .arg = "\"host=H port=P dbname=N password=S\"",
     .check = check_redis,
     .help = "Publish allocation status and traffic to Redis (coturn's keys and channels), and "
             "count --user-quota across every server using the same database."},
    {.name = "redis-cache-ttl", .kind = CONFIG_INT, .group = CONFIG_GROUP_REDIS,
     FIELD(redis_cache_ttl), RANGE(1, 3600), .arg = "SECONDS", .def = "30",
     .help = "How long a user, the realm's secrets and options found in Redis are trusted "
             "before they are asked again (each worker thread keeps its own cache)."},
    {.name = "redis-negative-ttl", .kind = CONFIG_INT, .group = CONFIG_GROUP_REDIS,
     FIELD(redis_negative_ttl), RANGE(1, 3600), .arg = "SECONDS", .def = "5",
     .help = "How long a user not found in Redis stays unknown before it is asked again."},
    {.name = "redis-stale", .kind = CONFIG_INT, .group = CONFIG_GROUP_REDIS,
     FIELD(redis_stale), RANGE(0, 604800), .arg = "SECONDS", .def = "3600",
     .help = "While Redis cannot be reached, users found before keep authenticating this long "
             "past their TTL; users not cached get 500 (Server Error)."},
    {.name = "redis-timeout", .kind = CONFIG_INT, .group = CONFIG_GROUP_REDIS,
     FIELD(redis_timeout), RANGE(10, 60000), .arg = "MILLISECONDS", .def = "1000",
     .help = "Longest wait for any Redis answer; past it the connection is taken as down "
             "(and made again with backoff), and the requests waiting get 500."},

    /* allocations */
    {.name = "max-allocate-lifetime", .kind = CONFIG_INT, .group = CONFIG_GROUP_ALLOC,
     FIELD(max_allocate_lifetime), RANGE(60, 86400), .arg = "SECONDS", .def = "3600",
     .help = "Longest lifetime granted to an allocation; a client asking for more gets this."},
    {.name = "min-port", .kind = CONFIG_PORT, .group = CONFIG_GROUP_ALLOC, FIELD(min_port),
     RANGE(1024, 65535), .arg = "PORT", .def = "49152",
     .help = "Lowest port of relayed transport addresses."},
    {.name = "max-port", .kind = CONFIG_PORT, .group = CONFIG_GROUP_ALLOC, FIELD(max_port),
     RANGE(1024, 65535), .arg = "PORT", .def = "65535",
     .help = "Highest port of relayed transport addresses; not below --min-port."},
    {.name = "allowed-peer-ip", .kind = CONFIG_STRINGS, .group = CONFIG_GROUP_ALLOC,
     LIST(allowed_peers, nallowed_peers), .arg = "RANGE", .check = check_allowed_peer,
     .help = "Let clients relay to the peers in RANGE (an IP, A-B or IP/N), even where a "
             "default or --denied-peer-ip denies them; repeatable."},
    {.name = "denied-peer-ip", .kind = CONFIG_STRINGS, .group = CONFIG_GROUP_ALLOC,
     LIST(denied_peers, ndenied_peers), .arg = "RANGE", .check = check_denied_peer,
     .help = "Do not relay to the peers in RANGE (an IP, A-B or IP/N), besides the loopback, "
             "private, link-local and multicast ranges denied by default; repeatable."},
    {.name = "allow-loopback-peers", .kind = CONFIG_FLAG, .group = CONFIG_GROUP_ALLOC,
     FIELD(allow_loopback_peers),
     .help = "Let clients relay to 127.0.0.0/8 and ::1, for tests and single-host set-ups."},
    {.name = "no-multicast-peers", .kind = CONFIG_FLAG, .group = CONFIG_GROUP_ALLOC,
     FIELD(no_multicast_peers),
     .help = "Accepted for coturn config files: multicast peers are always denied."},
    {.name = "no-tcp-relay", .kind = CONFIG_FLAG, .group = CONFIG_GROUP_ALLOC,
     FIELD(no_tcp_relay),
     .help = "Refuse TCP relay allocations (RFC 6062): an Allocate asking for TCP gets 442."},
    {.name = "permission-lifetime", .kind = CONFIG_INT, .group = CONFIG_GROUP_ALLOC,
     FIELD(permission_lifetime), RANGE(30, 86400), .arg = "SECONDS", .def = "300",
     .help = "How long a permission lasts unless refreshed (RFC 8656 sets 300)."},
    {.name = "channel-lifetime", .kind = CONFIG_INT, .group = CONFIG_GROUP_ALLOC,
     FIELD(channel_lifetime), RANGE(30, 86400), .arg = "SECONDS", .def = "600",
     .help = "How long a channel binding lasts unless refreshed (RFC 8656 sets 600)."},
    {.name = "alternate-server", .kind = CONFIG_ENDPOINTS, .group = CONFIG_GROUP_ALLOC,
     LIST(alternates, nalternates), .max = CONFIG_MAX_ALTERNATES, .arg = "IP:PORT",
     .help = "Send every Allocate on to another server: answer 300 (Try Alternate) with "
             "ALTERNATE-SERVER naming the servers given in turn; repeatable, up to 8."},

    /* limits */
    {.name = "max-bps", .kind = CONFIG_SIZE, .group = CONFIG_GROUP_LIMITS, FIELD(max_bps),
     RANGE(0, 4294967295LL), .arg = "BYTES", .def = "0",
     .help = "Most bytes per second one allocation relays in each direction (client to peer "
             "and peer to client, counted apart); the excess is dropped and counted. 0 for no "
             "limit."},
    {.name = "bps-capacity", .kind = CONFIG_SIZE, .group = CONFIG_GROUP_LIMITS,
     FIELD(bps_capacity), RANGE(0, 1000000000000LL), .arg = "BYTES", .def = "0",
     .help = "Most bytes per second the whole server relays in each direction, shared evenly "
             "between the worker threads; the excess is dropped and counted. 0 for no limit."},
    {.name = "max-allocations-per-ip", .kind = CONFIG_INT, .group = CONFIG_GROUP_LIMITS,
     FIELD(max_allocations_per_ip), RANGE(0, 1000000), .arg = "N", .def = "0",
     .help = "Most allocations the clients behind one IP address may hold at once; more get "
             "486. 0 for no limit."},
    {.name = "unauthorized-ratelimit", .kind = CONFIG_INT, .group = CONFIG_GROUP_LIMITS,
     FIELD(unauthorized_ratelimit), RANGE(0, 1000000), .arg = "N", .def = "0",
     .help = "Most 401 (Unauthorized) answers per second to one client IP address, per worker "
             "thread; requests past that are dropped unanswered and counted. 0 for no limit."},

    /* process */
    {.name = "relay-threads", .letter = 'm', .kind = CONFIG_INT, .group = CONFIG_GROUP_PROCESS,
     FIELD(threads), RANGE(0, 128), .arg = "N", .def = "0",
     .help = "Worker threads; 0 starts one per CPU."},
    {.name = "log-file", .letter = 'l', .kind = CONFIG_STRING, .group = CONFIG_GROUP_PROCESS,
     FIELD(log_file), .arg = "DEST", .def = "stdout",
     .help = "Where log lines go: stdout, stderr, syslog, or a file path (appended to)."},
    {.name = "syslog-facility", .kind = CONFIG_STRING, .group = CONFIG_GROUP_PROCESS,
     FIELD(syslog_facility), .arg = "NAME", .def = "daemon", .check = check_facility,
     .help = "Syslog facility of the log lines with --log-file syslog: daemon, user, or "
             "local0 to local7."},
    {.name = "verbose", .letter = 'v', .kind = CONFIG_LEVEL, .group = CONFIG_GROUP_PROCESS,
     FIELD(verbose), .level = 1, .help = "Verbose logging."},
    {.name = "Verbose", .letter = 'V', .kind = CONFIG_LEVEL, .group = CONFIG_GROUP_PROCESS,
     FIELD(verbose), .level = 2, .help = "Very verbose logging, for debugging."},
    {.name = "pidfile", .kind = CONFIG_STRING, .group = CONFIG_GROUP_PROCESS, FIELD(pidfile),
     .arg = "FILE", .help = "Write the process ID to FILE (default: no file)."},
    {.name = "proc-user", .kind = CONFIG_STRING, .group = CONFIG_GROUP_PROCESS,
     FIELD(proc_user), .arg = "USER",
     .help = "Once the ports are bound, run as this user (started as root; default: stay)."},
    {.name = "proc-group", .kind = CONFIG_STRING, .group = CONFIG_GROUP_PROCESS,
     FIELD(proc_group), .arg = "GROUP",
     .help = "Once the ports are bound, run as this group (default: the --proc-user's "
             "group)."},
    {.name = "drain-timeout", .kind = CONFIG_INT, .group = CONFIG_GROUP_PROCESS,
     FIELD(drain_timeout), RANGE(0, 86400), .arg = "SECONDS", .def = "0",
     .help = "After SIGUSR1 (drain: no new allocation), exit this long after even if "
             "allocations remain; 0 waits for the last one to end."},
    {.letter = 'c', .kind = CONFIG_FILE, .group = CONFIG_GROUP_PROCESS, .arg = "FILE",
     .help = "Read options from FILE instead of " CONFIG_DEFAULT_FILE
             " (which is read only when it exists)."},
    {.letter = 'n', .kind = CONFIG_NOFILE, .group = CONFIG_GROUP_PROCESS,
     .help = "Read no config file."},
    {.name = "help", .letter = 'h', .kind = CONFIG_HELP, .group = CONFIG_GROUP_PROCESS,
     .help = "Print this help and exit."},
    {.name = "version", .kind = CONFIG_VERSION, .group = CONFIG_GROUP_PROCESS,
     .help = "Print \"turnpike " TURNPIKE_VERSION "\" and exit."},

    /* metrics and health */
    {.name = "prometheus", .kind = CONFIG_FLAG, .group = CONFIG_GROUP_METRICS,
     FIELD(prometheus),
     .help = "Serve metrics in the Prometheus text format on /metrics, and health checks on "
             "/healthz and /readyz, over HTTP from a thread of their own."},
    {.name = "prometheus-port", .kind = CONFIG_PORT, .group = CONFIG_GROUP_METRICS,
     FIELD(prometheus_port), RANGE(1, 65535), .arg = "PORT", .def = "9641",
     .help = "TCP port of the metrics and health server."},
    {.name = "prometheus-address", .kind = CONFIG_ADDR, .group = CONFIG_GROUP_METRICS,
     FIELD(prometheus_addr), .arg = "IP", .def = "127.0.0.1",
     .help = "Address the metrics and health server listens on: keep it off the Internet."},

    /* TCP */
    {.name = "tcp-idle-timeout", .kind = CONFIG_INT, .group = CONFIG_GROUP_TCP,
     FIELD(tcp_idle_timeout), RANGE(1, 86400), .arg = "SECONDS", .def = "60",
     .help = "Close a TCP, TLS or DTLS client connection that has been silent this long and "
             "holds no allocation, or whose TLS or DTLS handshake has not finished by then."},
    {.name = "max-tcp-buffer", .kind = CONFIG_SIZE, .group = CONFIG_GROUP_TCP,
     FIELD(tcp_max_buffer), RANGE(4096, 64 << 20), .arg = "BYTES", .def = "262144",
     .help = "Most bytes buffered for one TCP client connection."},
    {.name = "max-tcp-connections", .kind = CONFIG_INT, .group = CONFIG_GROUP_TCP,
     FIELD(tcp_max_conns), RANGE(1, 1000000), .arg = "N", .def = "10000",
     .help = "Most TCP and TLS client connections per worker thread, and as many DTLS "
             "sessions."},

    /* TLS and DTLS */
    {.name = "cert", .kind = CONFIG_STRING, .group = CONFIG_GROUP_TLS, FIELD(cert),
     .arg = "FILE",
     .help = "Certificate chain in PEM form, the server's certificate first. TLS and DTLS "
             "are served only with it (default: none)."},
    {.name = "pkey", .kind = CONFIG_STRING, .group = CONFIG_GROUP_TLS, FIELD(pkey),
     .arg = "FILE", .help = "Private key in PEM form (default: read from the --cert file)."},
    {.name = "pkey-pwd", .kind = CONFIG_STRING, .group = CONFIG_GROUP_TLS, FIELD(pkey_pwd),
     .arg = "PASSWORD", .help = "Password of an encrypted --pkey."},
    {.name = "cipher-list", .kind = CONFIG_STRING, .group = CONFIG_GROUP_TLS,
     FIELD(cipher_list), .arg = "LIST", .def = "ECDHE+AESGCM:ECDHE+CHACHA20:DHE+AESGCM",
     .help = "TLS 1.2 and DTLS ciphers, in OpenSSL's syntax; TLS 1.3 keeps its own suites."},
    {.name = "ec-curve-name", .kind = CONFIG_STRING, .group = CONFIG_GROUP_TLS,
     FIELD(ec_curve_name), .arg = "GROUPS",
     .help = "Key exchange groups, e.g. prime256v1 or X25519:prime256v1 (default: OpenSSL's "
             "list)."},
    {.name = "dh-file", .kind = CONFIG_STRING, .group = CONFIG_GROUP_TLS, FIELD(dh_file),
     .arg = "FILE",
     .help = "DH parameters in PEM form for DHE ciphers (default: chosen by OpenSSL to match "
             "the key)."},
    {.name = "CA-file", .kind = CONFIG_STRING, .group = CONFIG_GROUP_TLS, FIELD(ca_file),
     .arg = "FILE",
     .help = "CA certificates in PEM form: clients are asked for a certificate, need not "
             "send one, and one they send must be signed by these (default: none asked)."},
};
/* clang-format on */

const size_t config_nopts = sizeof config_opts / sizeof config_opts[0];

/* ---- checks beyond the kind ----------------------------------------------------------------- */

/* NAME:PASSWORD or NAME:0xKEY, split at the first ':'.  The messages name the user but never
 * repeat a password or a key, since they end up in logs. */
static int check_user(const char *value, const struct config_src *src)
{
    const char *colon = strchr(value, ':');
    const char *pass, *key;
    int name_len;

    if (!colon)
        return config_fail(src, "no ':' between the user name and the password");
    if (colon == value)
        return config_fail(src, "empty user name");
    if (colon - value > AUTH_USER_NAME_MAX)
        return config_fail(src, "user name longer than %d bytes", AUTH_USER_NAME_MAX);
    name_len = (int)(colon - value);
    pass = colon + 1;
    if (*pass == '\0')
        return config_fail(src, "user '%.*s': empty password", name_len, value);
    if (strncmp(pass, "0x", 2) != 0)
        return 0;
    /* A key, as turnadmin -k prints it: MD5 (16 bytes) or SHA-256 (32 bytes) in hex; or both,
     * 0xMD5:0xSHA256, as turnadmin -a writes them. */
    key = pass + 2;
    if (strlen(key) == 32 + 3 + 64 && strncmp(key + 32, ":0x", 3) == 0 &&
        strspn(key, "0123456789abcdefABCDEF") == 32 &&
        strspn(key + 35, "0123456789abcdefABCDEF") == 64)
        return 0;
    if ((strlen(key) != 32 && strlen(key) != 64) ||
        strspn(key, "0123456789abcdefABCDEF") != strlen(key))
        return config_fail(src,
                           "user '%.*s': the key after 0x must be 32 (MD5) or 64 (SHA-256) "
                           "hex digits",
                           name_len, value);
    return 0;
}

/* Adds range to a policy made for the purpose, only to have relay/policy.c judge it, so that
 * a range the server would refuse at start-up is refused here with the file line or flag. */
static int check_peer_range(const char *value, const struct config_src *src,
                            int (*add)(struct relay_policy *, const char *, char *, size_t))
{
    struct relay_policy *scratch;
    char why[1024];
    int rc;

    if (relay_policy_new(&scratch) < 0)
        return config_fail(src, "out of memory");
    rc = add(scratch, value, why, sizeof why);
    relay_policy_free(scratch);
    return rc < 0 ? config_fail(src, "%s", why) : 0;
}

static int check_allowed_peer(const char *value, const struct config_src *src)
{
    return check_peer_range(value, src, relay_policy_allow);
}

static int check_denied_peer(const char *value, const struct config_src *src)
{
    return check_peer_range(value, src, relay_policy_deny);
}

/* A syslog facility of log.c's list. */
/* A coturn connection string, parsed as the server will parse it. */
static int check_redis(const char *value, const struct config_src *src)
{
    struct auth_redisconf c;
    char why[512];

    if (auth_redisconf_parse(&c, value, why, sizeof why) < 0)
        return config_fail(src, "%s", why);
    explicit_bzero(&c, sizeof c);
    return 0;
}

static int check_facility(const char *value, const struct config_src *src)
{
    if (log_facility(value) < 0)
        return config_fail(src, "'%s' is not daemon, user or local0..local7", value);
    return 0;
}
