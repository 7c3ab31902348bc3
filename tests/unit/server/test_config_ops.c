/* test_config_ops.c — config_load() of the operations options (issue 6): limits, lifetimes,
 * alternate servers, drain, privileges, syslog facility, metrics; values and exact errors. */
#include "tests/unit/server/config_fx.c"

static void test_defaults(void)
{
    char ip[ADDR_STRLEN];
    struct fx f;

    fx_load(&f, NULL, NULL);
    CHECK_INT(f.rc, 0);
    CHECK(!f.cfg.prometheus && !f.cfg.rfc5780);
    CHECK_INT(f.cfg.prometheus_port, 9641);
    CHECK_STR(addr_format_ip(&f.cfg.prometheus_addr, ip, sizeof ip), "127.0.0.1");
    CHECK_STR(f.cfg.syslog_facility, "daemon");
    CHECK_INT(f.cfg.max_bps, 0);
    CHECK_INT(f.cfg.bps_capacity, 0);
    CHECK_INT(f.cfg.permission_lifetime, 300);
    CHECK_INT(f.cfg.channel_lifetime, 600);
    CHECK_INT(f.cfg.max_allocations_per_ip, 0);
    CHECK_INT(f.cfg.unauthorized_ratelimit, 0);
    CHECK_INT(f.cfg.drain_timeout, 0);
    CHECK_INT(f.cfg.nalternates, 0);
    CHECK(f.cfg.proc_user == NULL && f.cfg.proc_group == NULL);
    fx_done(&f);
}

static const struct load_case load_cases[] = {
    /* Alternates: the file's, then the command line's, in order (the round robin's order). */
    {"alternate-server=192.0.2.1:3478\n",
     {"--alternate-server", "[2001:db8::2]:3479", "--alternate-server=192.0.2.3:3478"},
     "alternates=192.0.2.1:3478,[2001:db8::2]:3479,192.0.2.3:3478"},
    /* One host at two ports is two servers. */
    {NULL,
     {"--alternate-server", "192.0.2.1:3478", "--alternate-server", "192.0.2.1:3479"},
     "alternates=192.0.2.1:3478,192.0.2.1:3479"},
    /* Single values: the command line wins. */
    {"prometheus-address=0.0.0.0\nprometheus-port=9100\n",
     {"--prometheus-address", "::"},
     "prometheus_addr=::\nprometheus_port=9100"},
    {"max-bps=1000\nbps-capacity=5000\n", {"--max-bps", "0"}, "bps_capacity=5000"},
    {"syslog-facility=local0\n", {"--syslog-facility", "local3"}, "syslog_facility=local3"},
    {"prometheus\n", {"--prometheus=false"}, ""},
};

static void test_loads(void)
{
    fx_check_loads(load_cases, sizeof load_cases / sizeof load_cases[0]);
}

static const struct err_case ops_err_cases[] = {
    /* --alternate-server: another server's IP and port, both written. */
    {NULL,
     {"--alternate-server", "192.0.2.1"},
     "--alternate-server: '192.0.2.1' needs a port: IP:PORT or [IPv6]:PORT"},
    {NULL,
     {"--alternate-server", "192.0.2.1:0"},
     "--alternate-server: '192.0.2.1:0' needs a port: IP:PORT or [IPv6]:PORT"},
    {NULL,
     {"--alternate-server", "2001:db8::1"},
     "--alternate-server: '2001:db8::1' needs a port: IP:PORT or [IPv6]:PORT"},
    {NULL,
     {"--alternate-server", "turn.example.com:3478"},
     "--alternate-server: 'turn.example.com:3478' is not IP:PORT or [IPv6]:PORT"},
    {NULL,
     {"--alternate-server", "192.0.2.1:65536"},
     "--alternate-server: '192.0.2.1:65536' is not IP:PORT or [IPv6]:PORT"},
    {"alternate-server=192.0.2.1:3478\n",
     {"--alternate-server", "192.0.2.1:3478"},
     "--alternate-server: '192.0.2.1:3478' is given twice"},
    {"alternate-server\n", {NULL}, ":1: alternate-server: missing value"},
    /* --prometheus-address: one IP, no port (that is --prometheus-port). */
    {NULL,
     {"--prometheus-address", "127.0.0.1:9641"},
     "--prometheus-address: '127.0.0.1:9641' must be an IP address without a port"},
    {"prometheus-address=localhost\n",
     {NULL},
     ":1: prometheus-address: 'localhost' is not an IP address"},
    {NULL, {"--prometheus-port", "0"}, "--prometheus-port: '0' is not a number in 1..65535"},
    {NULL, {"--prometheus", "yes"}, "unexpected argument 'yes'"},
    {"prometheus=sometimes\n",
     {NULL},
     ":1: prometheus: 'sometimes' is not true/false, yes/no, on/off or 1/0"},
    /* --syslog-facility: the facilities a daemon may use, as syslog names them. */
    {NULL,
     {"--syslog-facility", "kern"},
     "--syslog-facility: 'kern' is not daemon, user or local0..local7"},
    {NULL,
     {"--syslog-facility", "LOCAL0"},
     "--syslog-facility: 'LOCAL0' is not daemon, user or local0..local7"},
    {"syslog-facility=local8\n",
     {NULL},
     ":1: syslog-facility: 'local8' is not daemon, user or local0..local7"},
    /* numbers */
    {NULL, {"--max-bps", "4294967296"}, "--max-bps: '4294967296' is not a number in 0..4294967295"},
    {NULL, {"--max-bps", "1M"}, "--max-bps: '1M' is not a number in 0..4294967295"},
    {"bps-capacity=-1\n", {NULL}, ":1: bps-capacity: '-1' is not a number in 0..1000000000000"},
    {NULL,
     {"--permission-lifetime", "29"},
     "--permission-lifetime: '29' is not a number in 30..86400"},
    {NULL,
     {"--channel-lifetime", "86401"},
     "--channel-lifetime: '86401' is not a number in 30..86400"},
    {NULL,
     {"--max-allocations-per-ip", "1000001"},
     "--max-allocations-per-ip: '1000001' is not a number in 0..1000000"},
    {NULL,
     {"--unauthorized-ratelimit", "x"},
     "--unauthorized-ratelimit: 'x' is not a number in 0..1000000"},
    {NULL, {"--drain-timeout", "86401"}, "--drain-timeout: '86401' is not a number in 0..86400"},
    {NULL, {"--proc-user"}, "--proc-user: missing value"},
    {"proc-group=\n", {NULL}, ":1: proc-group: missing value"},
    {"rfc5780=maybe\n", {NULL}, ":1: rfc5780: 'maybe' is not true/false, yes/no, on/off or 1/0"},
};

static void test_errors(void)
{
    fx_check_errors(ops_err_cases, sizeof ops_err_cases / sizeof ops_err_cases[0]);
}

/* At most CONFIG_MAX_ALTERNATES alternate servers, from the file and the command line. */
static void test_max_alternates(void)
{
    char conf[CONFIG_MAX_ALTERNATES * 40] = "", want[128];
    struct fx f;

    for (int i = 0; i < CONFIG_MAX_ALTERNATES; i++)
        snprintf(conf + strlen(conf), sizeof conf - strlen(conf),
                 "alternate-server=192.0.2.%d:3478\n", i + 1);
    fx_load(&f, conf, NULL);
    CHECK_INT(f.rc, 0);
    CHECK_INT(f.cfg.nalternates, CONFIG_MAX_ALTERNATES);
    fx_done(&f);

    fx_load(&f, conf, "--alternate-server", "198.51.100.1:3478", NULL);
    snprintf(want, sizeof want, "--alternate-server: more than %d addresses",
             CONFIG_MAX_ALTERNATES);
    CHECK_STR(f.err, want);
    fx_done(&f);
}

int main(void)
{
    RUN(test_defaults);
    RUN(test_loads);
    RUN(test_errors);
    RUN(test_max_alternates);
    return check_summary();
}
