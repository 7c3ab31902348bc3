/* test_config.c — config_load(): defaults, file and command-line syntax, precedence, errors. */
#include "tests/unit/server/config_fx.c"

static void test_defaults(void)
{
    struct fx f;

    fx_load(&f, NULL, NULL);
    CHECK_INT(f.rc, 0);
    CHECK(f.cfg.file == NULL);
    CHECK_INT(f.cfg.nlisten, 0);
    CHECK_INT(f.cfg.listen_port, 3478);
    CHECK(!f.cfg.no_udp && !f.cfg.no_tcp);
    CHECK_INT(f.cfg.nrelay, 0);
    CHECK_INT(f.cfg.nexternal, 0);
    CHECK_STR(f.cfg.realm, "turnpike");
    CHECK_INT(f.cfg.threads, 0);
    CHECK(f.cfg.pidfile == NULL);
    CHECK_STR(f.cfg.log_file, "stdout");
    CHECK_INT(f.cfg.verbose, 0);
    CHECK(!f.cfg.fingerprint && !f.cfg.software_attribute && !f.cfg.no_stun_3489);
    CHECK_INT(f.cfg.tcp_idle_timeout, 60);
    CHECK_INT(f.cfg.tcp_max_buffer, 262144);
    CHECK_INT(f.cfg.tcp_max_conns, 10000);
    CHECK_INT(f.cfg.tls_listen_port, 5349);
    CHECK_INT(f.cfg.alt_listen_port, 0);
    CHECK_INT(f.cfg.alt_tls_listen_port, 0);
    CHECK(!f.cfg.no_tls && !f.cfg.dtls && !f.cfg.no_dtls && !f.cfg.no_tcp_relay);
    CHECK(!f.cfg.cert && !f.cfg.pkey && !f.cfg.pkey_pwd && !f.cfg.ec_curve_name);
    CHECK(!f.cfg.dh_file && !f.cfg.ca_file);
    CHECK_STR(f.cfg.cipher_list, "ECDHE+AESGCM:ECDHE+CHACHA20:DHE+AESGCM");
    fx_done(&f);
}

/* The ways of writing one line of a config file, and the dump lines they give. */
static const struct {
    const char *conf;
    const char *want;
} syntax_cases[] = {
    {"realm=a.example\n", "realm=a.example"},
    {"realm a.example\n", "realm=a.example"},
    {"realm = a.example\n", "realm=a.example"},
    {"  \trealm\t=\t a.example \t\r\n", "realm=a.example"},
    {"realm=a.example", "realm=a.example"},
    {"realm=\"a b # c\"\n", "realm=a b # c"},
    {"realm=\"x\"  # quoted, then a comment\n", "realm=x"},
    {"realm=a.example # a comment\n", "realm=a.example"},
    {"realm=a#b\n", "realm=a#b"},
    {"realm a b\n", "realm=a b"},
    {"# a comment\n\n   # an indented comment\n\t\nrealm=x\n", "realm=x"},
    {"\xef\xbb\xbfrealm=x\n", "realm=x"},
    {"realm=x\r\nlistening-port=9\r\n", "realm=x\nlisten_port=9"},
    {"realm=x\nrealm=y\n", "realm=y"},
    {"fingerprint\n", "fingerprint=1"},
    {"fingerprint # on\n", "fingerprint=1"},
    {"fingerprint=true\n", "fingerprint=1"},
    {"fingerprint=YES\n", "fingerprint=1"},
    {"fingerprint = on\n", "fingerprint=1"},
    {"fingerprint 1\n", "fingerprint=1"},
    {"fingerprint\nfingerprint=false\n", "fingerprint=0"},
    {"fingerprint\nfingerprint=no\n", "fingerprint=0"},
    {"fingerprint\nfingerprint=Off\n", "fingerprint=0"},
    {"fingerprint\nfingerprint 0\n", "fingerprint=0"},
    {"Verbose\nverbose\n", "verbose=1"},
    {"verbose\nVerbose\n", "verbose=2"},
    {"Verbose\nVerbose=false\n", "verbose=0"},
    {"listening-ip=192.0.2.1\nlistening-ip 192.0.2.2\n", "listen=192.0.2.1,192.0.2.2"},
    {"external-ip=[2001:db8::9]/2001:db8::1\n", "external=2001:db8::9/2001:db8::1"},
};

static void test_file_syntax(void)
{
    for (size_t i = 0; i < sizeof syntax_cases / sizeof syntax_cases[0]; i++) {
        struct fx f;

        fx_load(&f, syntax_cases[i].conf, NULL);
        if (!CHECK_INT(f.rc, 0))
            printf("  %s -> %s\n", syntax_cases[i].conf, f.err);
        CHECK_LOADED(&f, syntax_cases[i].want);
        fx_done(&f);
    }
}

/* Command lines and the dump lines they give. */
static const struct {
    const char *args[6];
    const char *want;
} cmdline_cases[] = {
    {{"--realm=x"}, "realm=x"},
    {{"--realm", "x"}, "realm=x"},
    {{"-rx"}, "realm=x"},
    {{"-r", "x"}, "realm=x"},
    {{"-p5000", "-m", "2"}, "listen_port=5000\nthreads=2"},
    {{"--fingerprint", "--realm", "x"}, "fingerprint=1\nrealm=x"},
    {{"-f", "--fingerprint=false"}, "fingerprint=0"},
    {{"--fingerprint=yes"}, "fingerprint=1"},
    {{"-V", "--Verbose=off"}, "verbose=0"},
    {{"-p", "1", "--listening-port=2"}, "listen_port=2"},
    {{"--log-file", "-"}, "log_file=-"},
    {{"-L", "192.0.2.1", "-L", "::"}, "listen=192.0.2.1,::"},
};

static void test_cmdline_syntax(void)
{
    for (size_t i = 0; i < sizeof cmdline_cases / sizeof cmdline_cases[0]; i++) {
        struct fx f;

        fx_loadv(&f, NULL, cmdline_cases[i].args);
        if (!CHECK_INT(f.rc, 0))
            printf("  %s -> %s\n", cmdline_cases[i].args[0], f.err);
        CHECK_LOADED(&f, cmdline_cases[i].want);
        fx_done(&f);
    }
}

/* Single values: the command line wins.  Lists: the file's, then the command line's. */
static void test_override_and_accumulate(void)
{
    struct fx f;

    fx_load(&f,
            "realm=a\nlistening-port=4000\nlistening-ip=192.0.2.1\nfingerprint\nVerbose\n"
            "external-ip=203.0.113.1\n",
            "--realm", "b", "-p", "5000", "-L", "192.0.2.2", "--fingerprint=false", "-v", "-X",
            "203.0.113.2/10.0.0.2", NULL);
    CHECK_LOADED(&f, "realm=b\nlisten_port=5000\nlisten=192.0.2.1,192.0.2.2\nfingerprint=0\n"
                     "verbose=1\nexternal=203.0.113.1/(none),203.0.113.2/10.0.0.2");
    fx_done(&f);
}

/* -c is found before the rest, wherever it stands, and may hold its value: -cFILE. */
static void test_config_file_first(void)
{
    const char *conf = "realm=file\nlistening-port=4000\n";
    char path[64], attached[80], err[256];
    struct config cfg;

    tmp_write(path, sizeof path, conf, strlen(conf));
    snprintf(attached, sizeof attached, "-c%s", path);
    {
        char *argv[] = {"turnserver", "--realm", "cli", "-c", path, NULL};

        CHECK_INT(config_load(&cfg, 5, argv, stdout, err, sizeof err), 0);
        CHECK_STR(cfg.realm, "cli");
        CHECK_INT(cfg.listen_port, 4000);
        CHECK_STR(cfg.file, path);
        config_free(&cfg);
    }
    {
        char *argv[] = {"turnserver", attached, NULL};

        CHECK_INT(config_load(&cfg, 2, argv, stdout, err, sizeof err), 0);
        CHECK_STR(cfg.realm, "file");
        config_free(&cfg);
    }
    unlink(path);
}

/* Without -c or -n the default file is read when it exists, and its absence is no error. */
static void test_default_file(void)
{
    char *argv[] = {"turnserver", NULL};
    char err[256];
    struct config cfg;
    int rc = config_load(&cfg, 1, argv, stdout, err, sizeof err);

    if (access(CONFIG_DEFAULT_FILE, F_OK) != 0) {
        CHECK_INT(rc, 0);
        CHECK(cfg.file == NULL);
    } else if (rc == 0) {
        CHECK_STR(cfg.file, CONFIG_DEFAULT_FILE);
    } else {
        CHECK(strncmp(err, CONFIG_DEFAULT_FILE, strlen(CONFIG_DEFAULT_FILE)) == 0);
    }
    config_free(&cfg);
}

/* Failed loads: the exact message (a leading ':' stands for "TMPFILE:"), and cfg freed. */
static const struct err_case err_cases[] = {
    {"listen-port=3478\n", {NULL}, ":1: unknown option 'listen-port'"},
    {"# comment\nlistening-port=abc\n",
     {NULL},
     ":2: listening-port: 'abc' is not a number in 1..65535"},
    {"listening-port=0\n", {NULL}, ":1: listening-port: '0' is not a number in 1..65535"},
    {"listening-port 65536\n", {NULL}, ":1: listening-port: '65536' is not a number in 1..65535"},
    {"listening-port=12x\n", {NULL}, ":1: listening-port: '12x' is not a number in 1..65535"},
    {"listening-port=-1\n", {NULL}, ":1: listening-port: '-1' is not a number in 1..65535"},
    {"realm\n", {NULL}, ":1: realm: missing value"},
    {"realm=\n", {NULL}, ":1: realm: missing value"},
    {"realm= # comment\n", {NULL}, ":1: realm: missing value"},
    {"realm=\"\"\n", {NULL}, ":1: realm: missing value"},
    {"realm=\"abc\n", {NULL}, ":1: realm: missing closing quote"},
    {"realm=\"abc\" x\n", {NULL}, ":1: realm: text after the closing quote"},
    {"fingerprint=maybe\n",
     {NULL},
     ":1: fingerprint: 'maybe' is not true/false, yes/no, on/off or 1/0"},
    {"help\n", {NULL}, ":1: help: only valid on the command line"},
    {"version\n", {NULL}, ":1: version: only valid on the command line"},
    {"realm=x\n\x01\x02garbage\n", {NULL}, ":2: not a text line (byte 0x01)"},
    {"realm=x\n", {"--relay-ip", "1.2.3"}, "--relay-ip: '1.2.3' is not an IP address"},
    {NULL, {"--relay-ip", "1.2.3"}, "--relay-ip: '1.2.3' is not an IP address"},
    {NULL, {"-L", "example.com"}, "-L: 'example.com' is not an IP address"},
    {NULL, {"-E", "192.0.2.1:3478"}, "-E: '192.0.2.1:3478' must be an IP address without a port"},
    {NULL, {"-L", "[::1]:3478"}, "-L: '[::1]:3478' must be an IP address without a port"},
    {NULL, {"-L", "192.0.2.1:0"}, "-L: '192.0.2.1:0' must be an IP address without a port"},
    {NULL, {"-L", "192.0.2.1", "-L", "192.0.2.1"}, "-L: '192.0.2.1' is given twice"},
    {NULL, {"-X", "203.0.113.1/10.0.0.x"}, "-X: '10.0.0.x' is not an IP address"},
    {NULL,
     {"-X", "203.0.113.1/2001:db8::1"},
     "-X: '203.0.113.1/2001:db8::1' maps between IPv4 and IPv6"},
    {NULL, {"-X", "203.0.113.1:9"}, "-X: '203.0.113.1:9' must be an IP address without a port"},
    {NULL, {"--realm"}, "--realm: missing value"},
    {NULL, {"-r"}, "-r: missing value"},
    {NULL, {"--realm="}, "--realm: missing value"},
    {NULL, {"--realm", "-v"}, "--realm: missing value"},
    {NULL,
     {"--fingerprint=maybe"},
     "--fingerprint: 'maybe' is not true/false, yes/no, on/off or 1/0"},
    {NULL, {"-fx"}, "-f: takes no value"},
    {NULL, {"--help=1"}, "--help: takes no value"},
    {NULL, {"--version=x"}, "--version: takes no value"},
    {NULL, {"-nx"}, "-n: takes no value"},
    {NULL, {"--listen-port=3"}, "unknown option '--listen-port'"},
    {NULL, {"--listen-port"}, "unknown option '--listen-port'"},
    {NULL, {"-x"}, "unknown option '-x'"},
    {NULL, {"realm"}, "unexpected argument 'realm'"},
    {NULL, {"--no-udp", "yes"}, "unexpected argument 'yes'"},
    {NULL, {"-"}, "unexpected argument '-'"},
    {NULL, {"--"}, "unexpected argument '--'"},
    {NULL, {"-m", "129"}, "-m: '129' is not a number in 0..128"},
    {NULL, {"--relay-threads", " 1"}, "--relay-threads: ' 1' is not a number in 0..128"},
    {NULL, {"--tcp-idle-timeout", "0"}, "--tcp-idle-timeout: '0' is not a number in 1..86400"},
    {NULL,
     {"--tcp-idle-timeout", "86401"},
     "--tcp-idle-timeout: '86401' is not a number in 1..86400"},
    {NULL,
     {"--max-tcp-buffer", "4095"},
     "--max-tcp-buffer: '4095' is not a number in 4096..67108864"},
    {NULL,
     {"--max-tcp-buffer", "67108865"},
     "--max-tcp-buffer: '67108865' is not a number in 4096..67108864"},
    {NULL,
     {"--max-tcp-connections", "0"},
     "--max-tcp-connections: '0' is not a number in 1..1000000"},
    {NULL,
     {"-p", "99999999999999999999999"},
     "-p: '99999999999999999999999' is not a number in 1..65535"},
    {NULL,
     {"-c", "tests/unit/server/no-such.conf"},
     "-c: cannot read 'tests/unit/server/no-such.conf': No such file or directory"},
    {NULL, {"-c", "/tmp"}, "-c: cannot read '/tmp': Is a directory"},
};

static void test_errors(void)
{
    fx_check_errors(err_cases, sizeof err_cases / sizeof err_cases[0]);
}

static void test_c_and_n(void)
{
    char *argv[] = {"turnserver", "-c", "etc/turnserver.conf", "-n", NULL};
    char err[256];
    struct config cfg;

    CHECK_INT(config_load(&cfg, 4, argv, stdout, err, sizeof err), CONFIG_ERR);
    CHECK_STR(err, "-n: cannot be used with -c");
}

/* Up to CONFIG_MAX_ADDRS addresses per list, from the file and the command line together. */
static void test_max_addrs(void)
{
    char ips[CONFIG_MAX_ADDRS + 1][32], conf[CONFIG_MAX_ADDRS * 40] = "", want[128];
    const char *args[2 * CONFIG_MAX_ADDRS + 3];
    struct fx f;
    int n = 0;

    for (int i = 0; i <= CONFIG_MAX_ADDRS; i++)
        snprintf(ips[i], sizeof ips[i], "10.0.0.%d", i + 1);
    for (int i = 0; i < 20; i++)
        snprintf(conf + strlen(conf), sizeof conf - strlen(conf), "listening-ip=%s\n", ips[i]);
    for (int i = 20; i < CONFIG_MAX_ADDRS; i++) {
        args[n++] = "-L";
        args[n++] = ips[i];
    }
    args[n] = NULL;
    fx_loadv(&f, conf, args);
    CHECK_INT(f.rc, 0);
    CHECK_INT(f.cfg.nlisten, CONFIG_MAX_ADDRS);
    fx_done(&f);

    args[n++] = "--listening-ip";
    args[n++] = ips[CONFIG_MAX_ADDRS];
    args[n] = NULL;
    fx_loadv(&f, conf, args);
    CHECK_INT(f.rc, CONFIG_ERR);
    snprintf(want, sizeof want, "--listening-ip: more than %d addresses", CONFIG_MAX_ADDRS);
    CHECK_STR(f.err, want);
    fx_done(&f);

    conf[0] = '\0';
    for (int i = 0; i <= CONFIG_MAX_ADDRS; i++)
        snprintf(conf + strlen(conf), sizeof conf - strlen(conf), "external-ip=%s\n", ips[i]);
    fx_load(&f, conf, NULL);
    snprintf(want, sizeof want, "%s:%d: external-ip: more than %d addresses", f.path,
             CONFIG_MAX_ADDRS + 1, CONFIG_MAX_ADDRS);
    CHECK_STR(f.err, want);
    fx_done(&f);
}

/* REALM holds fewer than 128 characters (RFC 8489 section 14.9), counted, not bytes. */
static void test_realm_length(void)
{
    char realm[2 * 128 + 1] = "", want[512];
    struct fx f;

    for (int i = 0; i < 127; i++)
        strcat(realm, "\xc3\xa9"); /* é */
    fx_load(&f, NULL, "--realm", realm, NULL);
    CHECK_INT(f.rc, 0);
    CHECK_STR(f.cfg.realm, realm);
    fx_done(&f);

    strcat(realm, "\xc3\xa9");
    fx_load(&f, NULL, "--realm", realm, NULL);
    snprintf(want, sizeof want, "--realm: '%s' is longer than 127 characters", realm);
    CHECK_STR(f.err, want);
    fx_done(&f);
}

/* Lines too long and binary files end in an error naming the line, never in a crash. */
static void test_hostile_files(void)
{
    static char big[10001], noise[65536];
    char want[128];
    struct fx f;
    uint32_t x = 2463534242u;

    memcpy(big, "realm=", 6);
    memset(big + 6, 'a', sizeof big - 7);
    fx_load(&f, big, NULL);
    snprintf(want, sizeof want, "%s:1: line longer than 4096 bytes", f.path);
    CHECK_STR(f.err, want);
    fx_done(&f);

    memset(&f, 0, sizeof f);
    tmp_write(f.path, sizeof f.path, noise, 100); /* zeros */
    {
        char *argv[] = {"turnserver", "-c", f.path, NULL};

        CHECK_INT(config_load(&f.cfg, 3, argv, stdout, f.err, sizeof f.err), CONFIG_ERR);
        snprintf(want, sizeof want, "%s:1: not a text line (byte 0x00)", f.path);
        CHECK_STR(f.err, want);
    }
    fx_done(&f);

    for (size_t i = 0; i < sizeof noise; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        noise[i] = (char)x;
    }
    memset(&f, 0, sizeof f);
    tmp_write(f.path, sizeof f.path, noise, sizeof noise);
    {
        char *argv[] = {"turnserver", "-c", f.path, NULL};

        CHECK_INT(config_load(&f.cfg, 3, argv, stdout, f.err, sizeof f.err), CONFIG_ERR);
        CHECK(strncmp(f.err, f.path, strlen(f.path)) == 0 && f.err[strlen(f.path)] == ':');
    }
    fx_done(&f);
}

/* Runs config_load() with args and returns what it printed, malloc'ed. */
/* True when needle is in text followed by a space or a newline. */
static bool has_word(const char *text, const char *needle)
{
    for (const char *p = strstr(text, needle); p; p = strstr(p + 1, needle)) {
        char next = p[strlen(needle)];

        if (next == ' ' || next == '\n')
            return true;
    }
    return false;
}

static char *capture(char **argv, int argc, int want_rc)
{
    char *buf = NULL, err[256];
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    struct config cfg;

    CHECK_INT(config_load(&cfg, argc, argv, m, err, sizeof err), want_rc);
    CHECK(cfg.realm == NULL);
    fclose(m);
    return buf;
}

static void test_help(void)
{
    /* --help wins over a broken command line's values and reads no file. */
    char *argv[] = {"turnserver", "-c", "no-such.conf", "-p", "abc", "--help", NULL};
    char *out = capture(argv, 6, CONFIG_DONE), *line, needle[80];

    /* Each row names the option, long name with its argument, and letter at the start of a
     * line; the first words of its help stand on the same line. */
    for (size_t i = 0; i < config_nopts; i++) {
        const struct config_opt *o = &config_opts[i];
        int n;

        if (o->name) {
            snprintf(needle, sizeof needle, "--%s%s%s", o->name, o->arg ? " " : "",
                     o->arg ? o->arg : "");
            if (!CHECK(has_word(out, needle)))
                printf("  --help lacks \"%s\"\n", needle);
        }
        if (o->letter) {
            snprintf(needle, sizeof needle, "\n  -%c", o->letter);
            CHECK(has_word(out, needle) || strstr(out, strcat(needle, ",")) != NULL);
        }
        n = strlen(o->help) < 20 ? (int)strlen(o->help) : 20 + (int)strcspn(o->help + 20, " ");
        snprintf(needle, sizeof needle, " %.*s", n, o->help);
        CHECK(strstr(out, needle) != NULL);
    }
    CHECK(strstr(out, "\nListeners:\n  -L, --listening-ip IP") != NULL);
    CHECK(strstr(out, "\nRelay addresses:\n") != NULL);
    CHECK(strstr(out, "\nSTUN:\n") != NULL);
    CHECK(strstr(out, "\nAuthentication:\n  -z, --no-auth ") != NULL);
    CHECK(strstr(out, "\nAllocations:\n      --max-allocate-lifetime SECONDS") != NULL);
    CHECK(strstr(out, "\nLimits:\n      --max-bps BYTES") != NULL);
    CHECK(strstr(out, "\nProcess:\n") != NULL);
    CHECK(strstr(out, "\nMetrics and health:\n      --prometheus ") != NULL);
    CHECK(strstr(out, "\nTCP client connections:\n") != NULL);
    CHECK(strstr(out, "\nTLS and DTLS:\n      --cert FILE") != NULL);
    CHECK(strstr(out, "Default: 3478 (1..65535).") != NULL);
    CHECK(strstr(out, "Default: turnpike.") != NULL);
    CHECK(strstr(out, "Default: ':'.") != NULL);
    for (line = out; *line; line += strcspn(line, "\n") + 1)
        CHECK(strcspn(line, "\n") <= 100);
    free(out);
}

static void test_version(void)
{
    char *argv[] = {"turnserver", "--version", NULL};
    char *out = capture(argv, 2, CONFIG_DONE);

    CHECK_STR(out, "turnpike 0.1.0\n");
    free(out);
}

static void test_free(void)
{
    struct config zero;
    struct fx f;

    memset(&zero, 0, sizeof zero);
    config_free(&zero);
    CHECK(zero.realm == NULL);
    fx_load(&f, NULL, "--pidfile", "/run/x.pid", NULL);
    config_free(&f.cfg);
    config_free(&f.cfg);
    CHECK(f.cfg.realm == NULL && f.cfg.pidfile == NULL && f.cfg.log_file == NULL);
}

/* etc/turnserver.conf: it loads to the defaults as shipped, every option a file can set is
 * documented in it as "#name", and with every such line uncommented it still loads. */
static void test_shipped_conf(void)
{
    char *argv[] = {"turnserver", "-c", "etc/turnserver.conf", NULL};
    char *text = NULL, *line = NULL, *got, *want = dump_defaults_with(""), err[512], needle[64];
    size_t cap = 0, len = 0;
    FILE *in = fopen("etc/turnserver.conf", "r");
    struct config cfg;
    struct fx f;
    ssize_t n;

    if (!CHECK(in != NULL))
        return;
    CHECK_INT(config_load(&cfg, 3, argv, stdout, err, sizeof err), 0);
    got = dump(&cfg);
    CHECK_STR(got, want);
    config_free(&cfg);

    /* Uncomment "#name..." lines; prose comments start with "# ". */
    text = calloc(1, 1);
    while ((n = getline(&line, &cap, in)) > 0) {
        const char *keep = line[0] == '#' && line[1] != ' ' ? line + 1 : line;

        text = realloc(text, len + (size_t)n + 1);
        memcpy(text + len, keep, strlen(keep) + 1);
        len += strlen(keep);
    }
    free(line);
    fclose(in);
    for (size_t i = 0; i < config_nopts; i++) {
        if (config_opt_cmdline_only(&config_opts[i]))
            continue;
        snprintf(needle, sizeof needle, "\n%s", config_opts[i].name);
        if (!CHECK(strstr(text, needle) != NULL))
            printf("  %s is not in etc/turnserver.conf\n", config_opts[i].name);
    }
    fx_load(&f, text, NULL);
    if (!CHECK_INT(f.rc, 0))
        printf("  uncommented: %s\n", f.err);
    fx_done(&f);
    free(text);
    free(got);
    free(want);
}

int main(void)
{
    RUN(test_defaults);
    RUN(test_file_syntax);
    RUN(test_cmdline_syntax);
    RUN(test_override_and_accumulate);
    RUN(test_config_file_first);
    RUN(test_default_file);
    RUN(test_errors);
    RUN(test_c_and_n);
    RUN(test_max_addrs);
    RUN(test_realm_length);
    RUN(test_hostile_files);
    RUN(test_help);
    RUN(test_version);
    RUN(test_free);
    RUN(test_shipped_conf);
    return check_summary();
}
