/* test_config_options.c — config_load() of every option a file can set: as a file line, by its
 * long name on the command line (--name VALUE and --name=VALUE) and by its letter. */
#include "tests/unit/server/config_fx.c"

/* Every option that a file can set, as a file line, on the command line by its long name and
 * by its letter, and the dump line it changes. */
static const struct opt_case {
    const char *line;
    const char *lng[3];
    const char *shrt[3];
    const char *want;
} opt_cases[] = {
    {"listening-ip=192.0.2.1",
     {"--listening-ip", "192.0.2.1"},
     {"-L", "192.0.2.1"},
     "listen=192.0.2.1"},
    {"listening-ip=2001:db8::1",
     {"--listening-ip", "2001:db8::1"},
     {"-L", "2001:db8::1"},
     "listen=2001:db8::1"},
    {"listening-port=5000", {"--listening-port", "5000"}, {"-p", "5000"}, "listen_port=5000"},
    {"no-udp", {"--no-udp"}, {NULL}, "no_udp=1"},
    {"no-tcp", {"--no-tcp"}, {NULL}, "no_tcp=1"},
    {"alt-listening-port=3479",
     {"--alt-listening-port", "3479"},
     {NULL},
     "alt_listen_port=3479"},
    {"tls-listening-port=443", {"--tls-listening-port", "443"}, {NULL}, "tls_listen_port=443"},
    {"alt-tls-listening-port=5350",
     {"--alt-tls-listening-port", "5350"},
     {NULL},
     "alt_tls_listen_port=5350"},
    {"no-tls", {"--no-tls"}, {NULL}, "no_tls=1"},
    {"dtls", {"--dtls"}, {NULL}, "dtls=1"},
    {"no-dtls", {"--no-dtls"}, {NULL}, "no_dtls=1"},
    {"relay-ip=198.51.100.7",
     {"--relay-ip", "198.51.100.7"},
     {"-E", "198.51.100.7"},
     "relay=198.51.100.7"},
    {"external-ip=203.0.113.5/10.0.0.5",
     {"--external-ip", "203.0.113.5/10.0.0.5"},
     {"-X", "203.0.113.5/10.0.0.5"},
     "external=203.0.113.5/10.0.0.5"},
    {"external-ip=2001:db8::5",
     {"--external-ip", "2001:db8::5"},
     {"-X", "2001:db8::5"},
     "external=2001:db8::5/(none)"},
    {"relay-steering", {"--relay-steering"}, {NULL}, "relay_steering=1"},
    {"realm=example.org", {"--realm", "example.org"}, {"-r", "example.org"}, "realm=example.org"},
    {"fingerprint", {"--fingerprint"}, {"-f"}, "fingerprint=1"},
    {"software-attribute", {"--software-attribute"}, {NULL}, "software_attribute=1"},
    {"no-stun-backward-compatibility",
     {"--no-stun-backward-compatibility"},
     {NULL},
     "no_stun_3489=1"},
    {"no-auth", {"--no-auth"}, {"-z"}, "no_auth=1"},
    {"lt-cred-mech", {"--lt-cred-mech"}, {"-a"}, "lt_cred_mech=1"},
    {"user=alice:s3cr:et",
     {"--user", "alice:s3cr:et"},
     {"-u", "alice:s3cr:et"},
     "users=alice:s3cr:et"},
    {"user=bob:0x0123456789abcdef0123456789ABCDEF",
     {"--user", "bob:0x0123456789abcdef0123456789ABCDEF"},
     {"-u", "bob:0x0123456789abcdef0123456789ABCDEF"},
     "users=bob:0x0123456789abcdef0123456789ABCDEF"},
    {"user=carol:0x00112233445566778899aabbccddeeff00112233445566778899AABBCCDDEEFF",
     {"--user", "carol:0x00112233445566778899aabbccddeeff00112233445566778899AABBCCDDEEFF"},
     {"-u", "carol:0x00112233445566778899aabbccddeeff00112233445566778899AABBCCDDEEFF"},
     "users=carol:0x00112233445566778899aabbccddeeff00112233445566778899AABBCCDDEEFF"},
    {"userdb=/etc/turnpike/users.txt",
     {"--userdb", "/etc/turnpike/users.txt"},
     {"-b", "/etc/turnpike/users.txt"},
     "userdb=/etc/turnpike/users.txt"},
    {"use-auth-secret", {"--use-auth-secret"}, {NULL}, "use_auth_secret=1"},
    {"static-auth-secret=north wind",
     {"--static-auth-secret", "north wind"},
     {NULL},
     "secrets=north wind"},
    {"rest-api-separator=/", {"--rest-api-separator", "/"}, {NULL}, "rest_separator=/"},
    {"stale-nonce=30", {"--stale-nonce", "30"}, {NULL}, "stale_nonce=30"},
    {"user-quota=1000000", {"--user-quota", "1000000"}, {NULL}, "user_quota=1000000"},
    {"total-quota=10000000", {"--total-quota", "10000000"}, {NULL}, "total_quota=10000000"},
    {"redis-userdb=host=10.0.0.9 port=6380 dbname=2 password=pw connect_timeout=30",
     {"--redis-userdb", "host=10.0.0.9 port=6380 dbname=2 password=pw connect_timeout=30"},
     {"-N", "host=10.0.0.9 port=6380 dbname=2 password=pw connect_timeout=30"},
     "redis_userdb=host=10.0.0.9 port=6380 dbname=2 password=pw connect_timeout=30"},
    {"redis-statsdb=unix_socket=/run/redis.sock",
     {"--redis-statsdb", "unix_socket=/run/redis.sock"},
     {"-O", "unix_socket=/run/redis.sock"},
     "redis_statsdb=unix_socket=/run/redis.sock"},
    {"redis-cache-ttl=3600", {"--redis-cache-ttl", "3600"}, {NULL}, "redis_cache_ttl=3600"},
    {"redis-negative-ttl=1", {"--redis-negative-ttl", "1"}, {NULL}, "redis_negative_ttl=1"},
    {"redis-stale=0", {"--redis-stale", "0"}, {NULL}, "redis_stale=0"},
    {"redis-timeout=60000", {"--redis-timeout", "60000"}, {NULL}, "redis_timeout=60000"},
    {"max-allocate-lifetime=60",
     {"--max-allocate-lifetime", "60"},
     {NULL},
     "max_allocate_lifetime=60"},
    {"min-port=1024", {"--min-port", "1024"}, {NULL}, "min_port=1024"},
    {"max-port=49152", {"--max-port", "49152"}, {NULL}, "max_port=49152"},
    {"allowed-peer-ip=10.1.2.3",
     {"--allowed-peer-ip", "10.1.2.3"},
     {NULL},
     "allowed_peers=10.1.2.3"},
    {"allowed-peer-ip=10.0.0.0-10.0.0.255",
     {"--allowed-peer-ip", "10.0.0.0-10.0.0.255"},
     {NULL},
     "allowed_peers=10.0.0.0-10.0.0.255"},
    {"allowed-peer-ip=fd00::/8",
     {"--allowed-peer-ip", "fd00::/8"},
     {NULL},
     "allowed_peers=fd00::/8"},
    {"denied-peer-ip=203.0.113.0/24",
     {"--denied-peer-ip", "203.0.113.0/24"},
     {NULL},
     "denied_peers=203.0.113.0/24"},
    {"denied-peer-ip=2001:db8::1-2001:db8::ff",
     {"--denied-peer-ip", "2001:db8::1-2001:db8::ff"},
     {NULL},
     "denied_peers=2001:db8::1-2001:db8::ff"},
    {"allow-loopback-peers", {"--allow-loopback-peers"}, {NULL}, "allow_loopback_peers=1"},
    {"no-multicast-peers", {"--no-multicast-peers"}, {NULL}, "no_multicast_peers=1"},
    {"no-tcp-relay", {"--no-tcp-relay"}, {NULL}, "no_tcp_relay=1"},
    /* The second plain port defaults to the listening port + 1 (as in coturn). */
    {"rfc5780", {"--rfc5780"}, {NULL}, "rfc5780=1\nalt_listen_port=3479"},
    {"permission-lifetime=30",
     {"--permission-lifetime", "30"},
     {NULL},
     "permission_lifetime=30"},
    {"channel-lifetime=86400",
     {"--channel-lifetime", "86400"},
     {NULL},
     "channel_lifetime=86400"},
    {"alternate-server=192.0.2.20:3478",
     {"--alternate-server", "192.0.2.20:3478"},
     {NULL},
     "alternates=192.0.2.20:3478"},
    {"alternate-server=[2001:db8::20]:443",
     {"--alternate-server", "[2001:db8::20]:443"},
     {NULL},
     "alternates=[2001:db8::20]:443"},
    {"max-bps=4294967295", {"--max-bps", "4294967295"}, {NULL}, "max_bps=4294967295"},
    {"bps-capacity=1000000000000",
     {"--bps-capacity", "1000000000000"},
     {NULL},
     "bps_capacity=1000000000000"},
    {"max-allocations-per-ip=10",
     {"--max-allocations-per-ip", "10"},
     {NULL},
     "max_allocations_per_ip=10"},
    {"unauthorized-ratelimit=5",
     {"--unauthorized-ratelimit", "5"},
     {NULL},
     "unauthorized_ratelimit=5"},
    {"relay-threads=4", {"--relay-threads", "4"}, {"-m", "4"}, "threads=4"},
    {"log-file=syslog", {"--log-file", "syslog"}, {"-l", "syslog"}, "log_file=syslog"},
    {"verbose", {"--verbose"}, {"-v"}, "verbose=1"},
    {"Verbose", {"--Verbose"}, {"-V"}, "verbose=2"},
    {"pidfile=/run/turnpike.pid",
     {"--pidfile", "/run/turnpike.pid"},
     {NULL},
     "pidfile=/run/turnpike.pid"},
    {"syslog-facility=local7",
     {"--syslog-facility", "local7"},
     {NULL},
     "syslog_facility=local7"},
    {"syslog-facility=user", {"--syslog-facility", "user"}, {NULL}, "syslog_facility=user"},
    {"proc-user=nobody", {"--proc-user", "nobody"}, {NULL}, "proc_user=nobody"},
    {"proc-group=nogroup", {"--proc-group", "nogroup"}, {NULL}, "proc_group=nogroup"},
    {"drain-timeout=86400", {"--drain-timeout", "86400"}, {NULL}, "drain_timeout=86400"},
    {"prometheus", {"--prometheus"}, {NULL}, "prometheus=1"},
    {"prometheus-port=9100", {"--prometheus-port", "9100"}, {NULL}, "prometheus_port=9100"},
    {"prometheus-address=::1",
     {"--prometheus-address", "::1"},
     {NULL},
     "prometheus_addr=::1"},
    {"prometheus-address=0.0.0.0",
     {"--prometheus-address", "0.0.0.0"},
     {NULL},
     "prometheus_addr=0.0.0.0"},
    {"tcp-idle-timeout=300", {"--tcp-idle-timeout", "300"}, {NULL}, "tcp_idle_timeout=300"},
    {"max-tcp-buffer=65536", {"--max-tcp-buffer", "65536"}, {NULL}, "tcp_max_buffer=65536"},
    {"max-tcp-connections=500", {"--max-tcp-connections", "500"}, {NULL}, "tcp_max_conns=500"},
    {"cert=/etc/t/cert.pem", {"--cert", "/etc/t/cert.pem"}, {NULL}, "cert=/etc/t/cert.pem"},
    {"pkey=/etc/t/key.pem", {"--pkey", "/etc/t/key.pem"}, {NULL}, "pkey=/etc/t/key.pem"},
    {"pkey-pwd=p#w d", {"--pkey-pwd", "p#w d"}, {NULL}, "pkey_pwd=p#w d"},
    {"cipher-list=ECDHE+AESGCM",
     {"--cipher-list", "ECDHE+AESGCM"},
     {NULL},
     "cipher_list=ECDHE+AESGCM"},
    {"ec-curve-name=prime256v1",
     {"--ec-curve-name", "prime256v1"},
     {NULL},
     "ec_curve_name=prime256v1"},
    {"dh-file=/etc/t/dh.pem", {"--dh-file", "/etc/t/dh.pem"}, {NULL}, "dh_file=/etc/t/dh.pem"},
    {"CA-file=/etc/t/ca.pem", {"--CA-file", "/etc/t/ca.pem"}, {NULL}, "ca_file=/etc/t/ca.pem"},
};

static void test_every_option(void)
{
    for (size_t i = 0; i < sizeof opt_cases / sizeof opt_cases[0]; i++) {
        const struct opt_case *t = &opt_cases[i];
        char conf[128], joined[128];
        const char *eq[2] = {joined, NULL};
        struct fx f;

        snprintf(conf, sizeof conf, "# one option\n%s\n", t->line);
        fx_load(&f, conf, NULL);
        CHECK_LOADED(&f, t->want);
        CHECK_STR(f.cfg.file, f.path);
        fx_done(&f);

        fx_loadv(&f, NULL, t->lng);
        CHECK_LOADED(&f, t->want);
        fx_done(&f);

        /* --name=value */
        snprintf(joined, sizeof joined, "%s%s%s", t->lng[0], t->lng[1] ? "=" : "",
                 t->lng[1] ? t->lng[1] : "");
        fx_loadv(&f, NULL, eq);
        CHECK_LOADED(&f, t->want);
        fx_done(&f);

        if (t->shrt[0]) {
            fx_loadv(&f, NULL, t->shrt);
            CHECK_LOADED(&f, t->want);
            fx_done(&f);
        }
    }
}

/* The table above must cover every option a file can set. */
static void test_every_option_is_tested(void)
{
    for (size_t i = 0; i < config_nopts; i++) {
        const struct config_opt *o = &config_opts[i];
        bool found = false;

        if (config_opt_cmdline_only(o))
            continue;
        for (size_t j = 0; j < sizeof opt_cases / sizeof opt_cases[0]; j++) {
            const char *line = opt_cases[j].line;
            size_t n = strlen(o->name);

            found |= strncmp(line, o->name, n) == 0 && (line[n] == '=' || line[n] == '\0');
        }
        if (!CHECK(found))
            printf("  no test case for %s\n", o->name);
    }
}

int main(void)
{
    RUN(test_every_option);
    RUN(test_every_option_is_tested);
    return check_summary();
}
