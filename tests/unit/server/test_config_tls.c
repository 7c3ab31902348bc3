/* test_config_tls.c — config_load() of the TLS and DTLS options and ports: values, the ports
 * that must differ, exact errors. */
#include "tests/unit/server/config_fx.c"

/* Files and command lines of these options, and the dump lines they give. */
static const struct load_case load_cases[] = {
    /* The command line wins over the file for single values. */
    {"tls-listening-port=443\n", {"--tls-listening-port", "5350"}, "tls_listen_port=5350"},
    {"cert=/a.pem\npkey=/a.key\n",
     {"--cert", "/b.pem"},
     "cert=/b.pem\npkey=/a.key"},
    /* Flags: --dtls and --no-dtls are both kept; the server lets --no-dtls win. */
    {"dtls\n", {"--no-dtls"}, "dtls=1\nno_dtls=1"},
    {"no-tls=true\ndtls=on\n", {"--dtls=false"}, "no_tls=1"},
    /* A quoted password keeps its spaces and '#'. */
    {"pkey-pwd=\"  a # b  \"\n", {NULL}, "pkey_pwd=  a # b  "},
    /* Ports may be equal when TLS is off (no --cert, or --no-tls without --dtls) ... */
    {"listening-port=5349\n", {NULL}, "listen_port=5349"},
    {"listening-port=5349\ncert=/c.pem\nno-tls\n",
     {NULL},
     "listen_port=5349\ncert=/c.pem\nno_tls=1"},
    {"listening-port=5349\ncert=/c.pem\nno-tls\ndtls\nno-dtls\n",
     {NULL},
     "listen_port=5349\ncert=/c.pem\nno_tls=1\ndtls=1\nno_dtls=1"},
    /* ... and an alternative port of 0 is none, not a port. */
    {"alt-listening-port=0\nalt-tls-listening-port=0\ncert=/c.pem\n", {NULL}, "cert=/c.pem"},
    {NULL,
     {"--cert", "/c.pem", "--alt-listening-port", "3479", "--alt-tls-listening-port", "5350"},
     "cert=/c.pem\nalt_listen_port=3479\nalt_tls_listen_port=5350"},
};

static void test_loads(void)
{
    fx_check_loads(load_cases, sizeof load_cases / sizeof load_cases[0]);
}

static const struct err_case tls_err_cases[] = {
    /* ports */
    {NULL,
     {"--tls-listening-port", "0"},
     "--tls-listening-port: '0' is not a number in 1..65535"},
    {NULL,
     {"--alt-listening-port", "65536"},
     "--alt-listening-port: '65536' is not a number in 0..65535"},
    {"alt-tls-listening-port=-1\n",
     {NULL},
     ":1: alt-tls-listening-port: '-1' is not a number in 0..65535"},
    /* Two of our sockets on one port would share its traffic: named as they were written. */
    {NULL,
     {"--alt-listening-port", "3478"},
     "listening-port and --alt-listening-port are both 3478"},
    {NULL,
     {"-p", "5349", "--cert", "/c.pem"},
     "-p and tls-listening-port are both 5349"},
    {"cert=/c.pem\ntls-listening-port=3478\n",
     {NULL},
     "listening-port and tls-listening-port are both 3478"},
    {"cert=/c.pem\nno-tls\ndtls\n",
     {"--alt-tls-listening-port", "3478"},
     "listening-port and --alt-tls-listening-port are both 3478"},
    {"cert=/c.pem\n",
     {"--alt-listening-port", "5350", "--alt-tls-listening-port", "5350"},
     "--alt-listening-port and --alt-tls-listening-port are both 5350"},
    {NULL,
     {"--cert", "/c.pem", "--tls-listening-port", "5350", "--alt-tls-listening-port=5350"},
     "--tls-listening-port and --alt-tls-listening-port are both 5350"},
    /* values */
    {"cert\n", {NULL}, ":1: cert: missing value"},
    {NULL, {"--pkey"}, "--pkey: missing value"},
    {NULL, {"--pkey-pwd="}, "--pkey-pwd: missing value"},
    {"cipher-list=\"\"\n", {NULL}, ":1: cipher-list: missing value"},
    {NULL, {"--CA-file"}, "--CA-file: missing value"},
    {NULL, {"--ca-file", "/x"}, "unknown option '--ca-file'"},
    {"dtls=sometimes\n", {NULL}, ":1: dtls: 'sometimes' is not true/false, yes/no, on/off or 1/0"},
    {NULL, {"--no-tls", "yes"}, "unexpected argument 'yes'"},
};

static void test_errors(void)
{
    fx_check_errors(tls_err_cases, sizeof tls_err_cases / sizeof tls_err_cases[0]);
}

int main(void)
{
    RUN(test_loads);
    RUN(test_errors);
    return check_summary();
}
