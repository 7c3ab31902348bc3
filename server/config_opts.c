/* config_opts.c — the option table: names, kinds, defaults and help; value parsing; --help. */
#include "server/config_opts.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "relay/policy.h"

#define FIELD(f)      .off = offsetof(struct config, f)
#define LIST(f, n)    .off = offsetof(struct config, f), .count_off = offsetof(struct config, n)
#define RANGE(lo, hi) .min = (lo), .max = (hi)

#define HELP_WIDTH 100 /* columns */
#define HELP_COL   40  /* where the help text starts */

#define USER_NAME_MAX 508 /* bytes: USERNAME holds fewer than 509 (RFC 8489 section 14.3) */

static int check_user(const char *value, const struct config_src *src);
static int check_allowed_peer(const char *value, const struct config_src *src);
static int check_denied_peer(const char *value, const struct config_src *src);

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

    /* process */
    {.name = "relay-threads", .letter = 'm', .kind = CONFIG_INT, .group = CONFIG_GROUP_PROCESS,
     FIELD(threads), RANGE(0, 128), .arg = "N", .def = "0",
     .help = "Worker threads; 0 starts one per CPU."},
    {.name = "log-file", .letter = 'l', .kind = CONFIG_STRING, .group = CONFIG_GROUP_PROCESS,
     FIELD(log_file), .arg = "DEST", .def = "stdout",
     .help = "Where log lines go: stdout, stderr, syslog, or a file path (appended to)."},
    {.name = "verbose", .letter = 'v', .kind = CONFIG_LEVEL, .group = CONFIG_GROUP_PROCESS,
     FIELD(verbose), .level = 1, .help = "Verbose logging."},
    {.name = "Verbose", .letter = 'V', .kind = CONFIG_LEVEL, .group = CONFIG_GROUP_PROCESS,
     FIELD(verbose), .level = 2, .help = "Very verbose logging, for debugging."},
    {.name = "pidfile", .kind = CONFIG_STRING, .group = CONFIG_GROUP_PROCESS, FIELD(pidfile),
     .arg = "FILE", .help = "Write the process ID to FILE (default: no file)."},
    {.letter = 'c', .kind = CONFIG_FILE, .group = CONFIG_GROUP_PROCESS, .arg = "FILE",
     .help = "Read options from FILE instead of " CONFIG_DEFAULT_FILE
             " (which is read only when it exists)."},
    {.letter = 'n', .kind = CONFIG_NOFILE, .group = CONFIG_GROUP_PROCESS,
     .help = "Read no config file."},
    {.name = "help", .letter = 'h', .kind = CONFIG_HELP, .group = CONFIG_GROUP_PROCESS,
     .help = "Print this help and exit."},
    {.name = "version", .kind = CONFIG_VERSION, .group = CONFIG_GROUP_PROCESS,
     .help = "Print \"turnpike " TURNPIKE_VERSION "\" and exit."},

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

static const char *const group_titles[CONFIG_NGROUPS] = {
    [CONFIG_GROUP_LISTEN] = "Listeners",
    [CONFIG_GROUP_RELAY] = "Relay addresses",
    [CONFIG_GROUP_STUN] = "STUN",
    [CONFIG_GROUP_AUTH] = "Authentication",
    [CONFIG_GROUP_ALLOC] = "Allocations",
    [CONFIG_GROUP_PROCESS] = "Process",
    [CONFIG_GROUP_TCP] = "TCP client connections",
    [CONFIG_GROUP_TLS] = "TLS and DTLS",
};

int config_fail(const struct config_src *src, const char *fmt, ...)
{
    size_t n = 0;
    va_list ap;

    if (src->errlen == 0)
        return CONFIG_ERR;
    src->err[0] = '\0';
    if (src->file)
        snprintf(src->err, src->errlen, "%s:%u: ", src->file, src->line);
    n = strlen(src->err);
    if (src->key)
        snprintf(src->err + n, src->errlen - n, "%s: ", src->key);
    n = strlen(src->err);
    va_start(ap, fmt);
    vsnprintf(src->err + n, src->errlen - n, fmt, ap);
    va_end(ap);
    return CONFIG_ERR;
}

const struct config_opt *config_opt_long(const char *name, size_t len)
{
    for (size_t i = 0; i < config_nopts; i++) {
        const char *o = config_opts[i].name;

        if (o && strlen(o) == len && memcmp(o, name, len) == 0)
            return &config_opts[i];
    }
    return NULL;
}

const struct config_opt *config_opt_short(int letter)
{
    for (size_t i = 0; i < config_nopts; i++) {
        if (letter != 0 && config_opts[i].letter == letter)
            return &config_opts[i];
    }
    return NULL;
}

bool config_opt_takes_value(const struct config_opt *o)
{
    return o->arg != NULL;
}

bool config_opt_cmdline_only(const struct config_opt *o)
{
    return o->kind >= CONFIG_FILE;
}

/* ---- values --------------------------------------------------------------------------------- */

static void *field(struct config *cfg, size_t off)
{
    return (char *)cfg + off;
}

static int parse_bool(const char *s, bool *out)
{
    static const char *const words[][2] = {
        {"false", "true"}, {"no", "yes"}, {"off", "on"}, {"0", "1"}};

    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++) {
        for (int v = 0; v < 2; v++) {
            if (strcasecmp(s, words[i][v]) == 0) {
                *out = v;
                return 0;
            }
        }
    }
    return -1;
}

/* Decimal digits only: no sign, no spaces, no suffix. */
static int parse_number(const char *s, long long min, long long max, long long *out)
{
    char *end;
    long long v;

    if (!isdigit((unsigned char)s[0]))
        return -1;
    errno = 0;
    v = strtoll(s, &end, 10);
    if (errno != 0 || *end != '\0' || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

/* Characters of UTF-8 text: every byte that does not continue a sequence. */
static size_t utf8_chars(const char *s)
{
    size_t n = 0;

    for (; *s; s++)
        n += ((unsigned char)*s & 0xc0) != 0x80;
    return n;
}

/* An IP literal without a port.  addr_parse() also takes "IP:PORT" and "[IP]:PORT"; a port was
 * written exactly when two different default ports give the same result. */
static int parse_ip(union addr *out, const char *s, const struct config_src *src)
{
    union addr a, b;

    if (addr_parse(&a, s, 0) < 0)
        return config_fail(src, "'%s' is not an IP address", s);
    if (addr_parse(&b, s, 1) == 0 && addr_port(&a) == addr_port(&b))
        return config_fail(src, "'%s' must be an IP address without a port", s);
    *out = a;
    return 0;
}

static int set_number(const struct config_opt *o, struct config *cfg, const char *value,
                      const struct config_src *src)
{
    long long v;

    if (parse_number(value, o->min, o->max, &v) < 0)
        return config_fail(src, "'%s' is not a number in %lld..%lld", value, o->min, o->max);
    if (o->kind == CONFIG_PORT)
        *(uint16_t *)field(cfg, o->off) = (uint16_t)v;
    else if (o->kind == CONFIG_INT)
        *(int *)field(cfg, o->off) = (int)v;
    else
        *(size_t *)field(cfg, o->off) = (size_t)v;
    return 0;
}

static int set_string(const struct config_opt *o, struct config *cfg, const char *value,
                      const struct config_src *src)
{
    char **slot = field(cfg, o->off);
    char *copy;

    if (o->max > 0 && utf8_chars(value) > (size_t)o->max)
        return config_fail(src, "'%s' is longer than %lld characters", value, o->max);
    copy = strdup(value);
    if (!copy)
        return config_fail(src, "out of memory");
    free(*slot);
    *slot = copy;
    return 0;
}

static int add_addr(const struct config_opt *o, struct config *cfg, const char *value,
                    const struct config_src *src)
{
    union addr *list = field(cfg, o->off);
    size_t *n = field(cfg, o->count_off);
    union addr a;

    if (*n == CONFIG_MAX_ADDRS)
        return config_fail(src, "more than %d addresses", CONFIG_MAX_ADDRS);
    if (parse_ip(&a, value, src) < 0)
        return CONFIG_ERR;
    for (size_t i = 0; i < *n; i++) {
        if (addr_ip_equal(&list[i], &a))
            return config_fail(src, "'%s' is given twice", value);
    }
    list[(*n)++] = a;
    return 0;
}

/* Appends a copy of value.  The array holds a power of two of slots, so it is full, and grows
 * to twice that, exactly when the count is 0 or a power of two. */
static int add_string(const struct config_opt *o, struct config *cfg, const char *value,
                      const struct config_src *src)
{
    char ***list = field(cfg, o->off);
    size_t *n = field(cfg, o->count_off);
    char *copy = strdup(value);

    if (!copy)
        return config_fail(src, "out of memory");
    if ((*n & (*n - 1)) == 0) {
        char **grown = realloc(*list, (*n ? 2 * *n : 1) * sizeof **list);

        if (!grown) {
            free(copy);
            return config_fail(src, "out of memory");
        }
        *list = grown;
    }
    (*list)[(*n)++] = copy;
    return 0;
}

/* One printable ASCII character, not a space: a separator inside a user name. */
static int set_char(const struct config_opt *o, struct config *cfg, const char *value,
                    const struct config_src *src)
{
    if (value[1] != '\0' || value[0] <= ' ' || value[0] > '~')
        return config_fail(src, "'%s' is not one printable ASCII character", value);
    *(char *)field(cfg, o->off) = value[0];
    return 0;
}

/* PUBLIC[/PRIVATE]; an IPv6 literal holds no '/', so the first one splits the two. */
static int add_external(const struct config_opt *o, struct config *cfg, const char *value,
                        const struct config_src *src)
{
    struct config_external *list = field(cfg, o->off), x;
    size_t *n = field(cfg, o->count_off);
    char buf[2 * ADDR_STRLEN];
    char *slash;

    if (*n == CONFIG_MAX_ADDRS)
        return config_fail(src, "more than %d addresses", CONFIG_MAX_ADDRS);
    if (strlen(value) >= sizeof buf)
        return config_fail(src, "'%s' is not an IP address", value);
    strcpy(buf, value);
    memset(&x, 0, sizeof x);
    x.private_ip.sa.sa_family = AF_UNSPEC;
    slash = strchr(buf, '/');
    if (slash)
        *slash = '\0';
    if (parse_ip(&x.public_ip, buf, src) < 0 ||
        (slash && parse_ip(&x.private_ip, slash + 1, src) < 0))
        return CONFIG_ERR;
    if (slash && x.public_ip.sa.sa_family != x.private_ip.sa.sa_family)
        return config_fail(src, "'%s' maps between IPv4 and IPv6", value);
    list[(*n)++] = x;
    return 0;
}

int config_opt_set(const struct config_opt *o, struct config *cfg, const char *value,
                   const struct config_src *src)
{
    bool on = true;

    if (config_opt_cmdline_only(o))
        return config_fail(src, "only valid on the command line");
    if (o->kind == CONFIG_FLAG || o->kind == CONFIG_LEVEL) {
        if (value && parse_bool(value, &on) < 0)
            return config_fail(src, "'%s' is not true/false, yes/no, on/off or 1/0", value);
        if (o->kind == CONFIG_FLAG)
            *(bool *)field(cfg, o->off) = on;
        else
            *(int *)field(cfg, o->off) = on ? o->level : 0;
        return 0;
    }
    if (!value || !*value)
        return config_fail(src, "missing value");
    if (o->check && o->check(value, src) < 0)
        return CONFIG_ERR;
    switch (o->kind) {
    case CONFIG_PORT:
    case CONFIG_INT:
    case CONFIG_SIZE:
        return set_number(o, cfg, value, src);
    case CONFIG_STRING:
        return set_string(o, cfg, value, src);
    case CONFIG_STRINGS:
        return add_string(o, cfg, value, src);
    case CONFIG_CHAR:
        return set_char(o, cfg, value, src);
    case CONFIG_ADDRS:
        return add_addr(o, cfg, value, src);
    case CONFIG_EXTERNAL:
        return add_external(o, cfg, value, src);
    default:
        return config_fail(src, "cannot be set");
    }
}

void config_opt_free(const struct config_opt *o, struct config *cfg)
{
    if (o->kind == CONFIG_STRING) {
        char **slot = field(cfg, o->off);

        free(*slot);
        *slot = NULL;
    } else if (o->kind == CONFIG_STRINGS) {
        char ***list = field(cfg, o->off);
        size_t *n = field(cfg, o->count_off);

        for (size_t i = 0; i < *n; i++)
            free((*list)[i]);
        free(*list);
        *list = NULL;
        *n = 0;
    }
}

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
    if (colon - value > USER_NAME_MAX)
        return config_fail(src, "user name longer than %d bytes", USER_NAME_MAX);
    name_len = (int)(colon - value);
    pass = colon + 1;
    if (*pass == '\0')
        return config_fail(src, "user '%.*s': empty password", name_len, value);
    if (strncmp(pass, "0x", 2) != 0)
        return 0;
    /* A key, as turnadmin -k prints it: MD5 (16 bytes) or SHA-256 (32 bytes) in hex. */
    key = pass + 2;
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

/* ---- --help --------------------------------------------------------------------------------- */

/* Writes one word of len bytes at column pos, first going on to a new line indented to col
 * when the word would pass HELP_WIDTH.  Returns the new column. */
static int help_word(FILE *out, const char *word, int len, int pos, int col)
{
    if (pos > col && pos + 1 + len > HELP_WIDTH) {
        fprintf(out, "\n%*s", col, "");
        pos = col;
    } else if (pos > col) {
        fputc(' ', out);
        pos++;
    }
    fwrite(word, 1, (size_t)len, out);
    return pos + len;
}

/* Writes text word by word from column col, where the cursor stands, then tail (when not
 * NULL) as one unbroken word, wrapping at HELP_WIDTH, and ends the line. */
static void help_wrap(FILE *out, const char *text, const char *tail, int col)
{
    int pos = col;

    for (text += strspn(text, " "); *text; text += strspn(text, " ")) {
        int len = (int)strcspn(text, " ");

        pos = help_word(out, text, len, pos, col);
        text += len;
    }
    if (tail)
        help_word(out, tail, (int)strlen(tail), pos, col);
    fputc('\n', out);
}

static void help_row(FILE *out, const struct config_opt *o)
{
    char left[80], tail[80];
    int n;

    if (o->letter && o->name)
        n = snprintf(left, sizeof left, "  -%c, --%s", o->letter, o->name);
    else if (o->letter)
        n = snprintf(left, sizeof left, "  -%c", o->letter);
    else
        n = snprintf(left, sizeof left, "      --%s", o->name);
    if (o->arg)
        snprintf(left + n, sizeof left - (size_t)n, " %s", o->arg);

    if (o->kind == CONFIG_PORT || o->kind == CONFIG_INT || o->kind == CONFIG_SIZE)
        snprintf(tail, sizeof tail, "Default: %s (%lld..%lld).", o->def, o->min, o->max);
    else if (o->kind == CONFIG_CHAR)
        snprintf(tail, sizeof tail, "Default: '%s'.", o->def);
    else if (o->def)
        snprintf(tail, sizeof tail, "Default: %s.", o->def);

    n = fprintf(out, "%s", left);
    if (n + 2 > HELP_COL)
        fprintf(out, "\n%*s", HELP_COL, "");
    else
        fprintf(out, "%*s", HELP_COL - n, "");
    help_wrap(out, o->help, o->def ? tail : NULL, HELP_COL);
}

void config_opts_help(FILE *out)
{
    fprintf(out, "Usage: turnserver [OPTION]...\n");
    help_wrap(out,
              "turnpike " TURNPIKE_VERSION ", a STUN/TURN relay server. Options are read from "
              "the config file, then from the command line, which wins for single values and "
              "adds to repeatable ones. Every long option is also a config-file key: "
              "\"name=value\", \"name value\", or a bare \"name\" for a flag.",
              NULL, 0);
    for (int g = 0; g < CONFIG_NGROUPS; g++) {
        fprintf(out, "\n%s:\n", group_titles[g]);
        for (size_t i = 0; i < config_nopts; i++) {
            if ((int)config_opts[i].group == g)
                help_row(out, &config_opts[i]);
        }
    }
}
