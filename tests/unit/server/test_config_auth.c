/* test_config_auth.c — config_load() of the authentication and allocation options: defaults,
 * repeatable lists, user lines and keys, peer ranges, the port order, exact errors. */
#include "tests/unit/server/config_fx.c"

#define MD5_KEY "0123456789abcdef0123456789ABCDEF"
#define SHA_KEY "00112233445566778899aabbccddeeff00112233445566778899AABBCCDDEEFF"

static void test_auth_defaults(void)
{
    struct fx f;

    fx_load(&f, NULL, NULL);
    CHECK_INT(f.rc, 0);
    CHECK(!f.cfg.no_auth && !f.cfg.lt_cred_mech && !f.cfg.use_auth_secret);
    CHECK(f.cfg.users == NULL && f.cfg.nusers == 0);
    CHECK(f.cfg.userdb == NULL);
    CHECK(f.cfg.secrets == NULL && f.cfg.nsecrets == 0);
    CHECK_INT(f.cfg.rest_separator, ':');
    CHECK_INT(f.cfg.stale_nonce, 600);
    CHECK_INT(f.cfg.user_quota, 0);
    CHECK_INT(f.cfg.total_quota, 0);
    CHECK_INT(f.cfg.max_allocate_lifetime, 3600);
    CHECK_INT(f.cfg.min_port, 49152);
    CHECK_INT(f.cfg.max_port, 65535);
    CHECK(f.cfg.allowed_peers == NULL && f.cfg.nallowed_peers == 0);
    CHECK(f.cfg.denied_peers == NULL && f.cfg.ndenied_peers == 0);
    CHECK(!f.cfg.allow_loopback_peers && !f.cfg.no_multicast_peers);
    fx_done(&f);
}

/* Files and command lines of these options, and the dump lines they give. */
static const struct load_case load_cases[] = {
    /* A user line is split at its first ':'; the rest, colons and '#' included, is the
     * password, and only a value starting with 0x is a key. */
    {"user=a:b:c\nuser=\"d:e # f\"\nuser=g:0X12\n", {NULL}, "users=a:b:c,d:e # f,g:0X12"},
    {"user=a:0x" MD5_KEY "\n", {"-u", "b:0x" SHA_KEY}, "users=a:0x" MD5_KEY ",b:0x" SHA_KEY},
    /* Both keys of one password, as turnadmin -a writes a userdb file. */
    {NULL, {"-u", "c:0x" MD5_KEY ":0x" SHA_KEY}, "users=c:0x" MD5_KEY ":0x" SHA_KEY},
    /* Lists: the file's values, then the command line's, in the order given. */
    {"user=a:1\nuser=b:2\n",
     {"-u", "c:3", "--user", "d:4", "--user=e:5"},
     "users=a:1,b:2,c:3,d:4,e:5"},
    {"static-auth-secret=old\n",
     {"--static-auth-secret", "new", "--static-auth-secret=newer"},
     "secrets=old,new,newer"},
    {"allowed-peer-ip=10.0.0.1\nallowed-peer-ip 10.0.1.0/24\n",
     {"--allowed-peer-ip", "::ffff:10.0.2.0/120"},
     "allowed_peers=10.0.0.1,10.0.1.0/24,::ffff:10.0.2.0/120"},
    {"denied-peer-ip=203.0.113.7\n",
     {"--denied-peer-ip", "198.51.100.0-198.51.100.9", "--denied-peer-ip", "2001:db8::/32"},
     "denied_peers=203.0.113.7,198.51.100.0-198.51.100.9,2001:db8::/32"},
    /* Single values: the command line wins, also over the order of the ports in the file. */
    {"min-port=60000\nmax-port=50000\n", {"--min-port", "40000"}, "min_port=40000\nmax_port=50000"},
    {"min-port=50000\nmax-port=50000\n", {NULL}, "min_port=50000\nmax_port=50000"},
    {"stale-nonce=86400\nuser-quota=0\n",
     {"--stale-nonce", "120", "--total-quota", "0"},
     "stale_nonce=120"},
    {"max-allocate-lifetime=86400\n", {NULL}, "max_allocate_lifetime=86400"},
    {"userdb=/a\n", {"-b", "/b"}, "userdb=/b"},
    /* The separator: any printable ASCII character, '#' and '-' too. */
    {"rest-api-separator=#\n", {NULL}, "rest_separator=#"},
    {"rest-api-separator=\"#\" # quoted\n", {NULL}, "rest_separator=#"},
    {NULL, {"--rest-api-separator", "-"}, "rest_separator=-"},
    {NULL, {"--rest-api-separator=~"}, "rest_separator=~"},
    /* Flags: the bare name, a boolean word, and their letters. */
    {"no-auth\nlt-cred-mech\n", {"-z", "--no-auth=false"}, "lt_cred_mech=1"},
    {"use-auth-secret=yes\nallow-loopback-peers on\nno-multicast-peers=1\n",
     {NULL},
     "use_auth_secret=1\nallow_loopback_peers=1\nno_multicast_peers=1"},
};

static void test_loads(void)
{
    fx_check_loads(load_cases, sizeof load_cases / sizeof load_cases[0]);
}

static const struct err_case auth_err_cases[] = {
    /* users */
    {"user=alice\n", {NULL}, ":1: user: no ':' between the user name and the password"},
    {NULL, {"-u", "alice"}, "-u: no ':' between the user name and the password"},
    {NULL, {"-u", ":pw"}, "-u: empty user name"},
    {NULL, {"--user", "alice:"}, "--user: user 'alice': empty password"},
    {"user\n", {NULL}, ":1: user: missing value"},
    {NULL, {"--user="}, "--user: missing value"},
    {"# keys\nuser=bob:0x0123456789abcdef0123456789abcde\n",
     {NULL},
     ":2: user: user 'bob': the key after 0x must be 32 (MD5) or 64 (SHA-256) hex digits"},
    {NULL,
     {"-u", "bob:0x" MD5_KEY "0"},
     "-u: user 'bob': the key after 0x must be 32 (MD5) or 64 (SHA-256) hex digits"},
    {NULL,
     {"-u", "bob:0x0123456789abcdef0123456789abcdeg"},
     "-u: user 'bob': the key after 0x must be 32 (MD5) or 64 (SHA-256) hex digits"},
    {NULL,
     {"-u", "bob:0x" MD5_KEY ":0x" MD5_KEY},
     "-u: user 'bob': the key after 0x must be 32 (MD5) or 64 (SHA-256) hex digits"},
    {NULL,
     {"-u", "bob:0x" SHA_KEY "f"},
     "-u: user 'bob': the key after 0x must be 32 (MD5) or 64 (SHA-256) hex digits"},
    {NULL,
     {"-u", "bob:0x"},
     "-u: user 'bob': the key after 0x must be 32 (MD5) or 64 (SHA-256) hex digits"},
    /* A bad line after good ones: the lists filled so far are freed (ASan checks it). */
    {"user=a:1\nuser=b:2\nstatic-auth-secret=s\nuser=c\n",
     {NULL},
     ":4: user: no ':' between the user name and the password"},
    {"userdb\n", {NULL}, ":1: userdb: missing value"},
    /* REST API */
    {"static-auth-secret=\n", {NULL}, ":1: static-auth-secret: missing value"},
    {"static-auth-secret=\"\"\n", {NULL}, ":1: static-auth-secret: missing value"},
    {NULL, {"--static-auth-secret"}, "--static-auth-secret: missing value"},
    {NULL,
     {"--rest-api-separator", "::"},
     "--rest-api-separator: '::' is not one printable ASCII character"},
    {"rest-api-separator=ab\n",
     {NULL},
     ":1: rest-api-separator: 'ab' is not one printable ASCII character"},
    {"rest-api-separator=\" \"\n",
     {NULL},
     ":1: rest-api-separator: ' ' is not one printable ASCII character"},
    {NULL,
     {"--rest-api-separator", "\xc3\xa9"},
     "--rest-api-separator: '\xc3\xa9' is not one printable ASCII character"},
    {"rest-api-separator\n", {NULL}, ":1: rest-api-separator: missing value"},
    /* numbers */
    {NULL, {"--stale-nonce", "29"}, "--stale-nonce: '29' is not a number in 30..86400"},
    {NULL, {"--stale-nonce", "86401"}, "--stale-nonce: '86401' is not a number in 30..86400"},
    {NULL, {"--user-quota", "-1"}, "--user-quota: missing value"},
    {NULL, {"--user-quota=-1"}, "--user-quota: '-1' is not a number in 0..1000000"},
    {NULL, {"--user-quota", "1000001"}, "--user-quota: '1000001' is not a number in 0..1000000"},
    {NULL,
     {"--total-quota", "10000001"},
     "--total-quota: '10000001' is not a number in 0..10000000"},
    {NULL,
     {"--max-allocate-lifetime", "59"},
     "--max-allocate-lifetime: '59' is not a number in 60..86400"},
    {"max-allocate-lifetime=86401\n",
     {NULL},
     ":1: max-allocate-lifetime: '86401' is not a number in 60..86400"},
    {NULL, {"--min-port", "1023"}, "--min-port: '1023' is not a number in 1024..65535"},
    {NULL, {"--max-port", "65536"}, "--max-port: '65536' is not a number in 1024..65535"},
    /* the port order, the options named as written where the value in force came from */
    {NULL,
     {"--min-port", "60000", "--max-port", "50000"},
     "--min-port 60000 is above --max-port 50000"},
    {"min-port=60000\nmax-port=50000\n", {NULL}, "min-port 60000 is above max-port 50000"},
    {"min-port=60000\n", {"--max-port=50000"}, "min-port 60000 is above --max-port 50000"},
    {"max-port=50000\n", {"--min-port", "50001"}, "--min-port 50001 is above max-port 50000"},
    {NULL, {"--max-port", "40000"}, "min-port 49152 is above --max-port 40000"},
    /* peer ranges: relay/policy.c's reason after the file line or the flag */
    {"allowed-peer-ip=10.0.0.1/33\n",
     {NULL},
     ":1: allowed-peer-ip: '10.0.0.1/33': bad prefix length"},
    {"# peers\n\ndenied-peer-ip=10.0.0.1/8\n",
     {NULL},
     ":3: denied-peer-ip: '10.0.0.1/8': address has bits set after the prefix"},
    {NULL,
     {"--allowed-peer-ip", "10.0.0.9-10.0.0.1"},
     "--allowed-peer-ip: '10.0.0.9-10.0.0.1': range start is after its end"},
    {NULL,
     {"--allowed-peer-ip", "10.0.0.1-x"},
     "--allowed-peer-ip: '10.0.0.1-x': range end is not an IP address"},
    {NULL,
     {"--denied-peer-ip=10.0.0.1-2001:db8::1"},
     "--denied-peer-ip: '10.0.0.1-2001:db8::1': range mixes IPv4 and IPv6"},
    {NULL,
     {"--denied-peer-ip", "example.com"},
     "--denied-peer-ip: 'example.com': not an IP address"},
    {NULL,
     {"--denied-peer-ip", "x/24"},
     "--denied-peer-ip: 'x/24': CIDR base is not an IP address"},
    {NULL,
     {"--allowed-peer-ip", "192.0.2.1:80"},
     "--allowed-peer-ip: '192.0.2.1:80': not an IP address"},
    {"allowed-peer-ip\n", {NULL}, ":1: allowed-peer-ip: missing value"},
    /* flags */
    {"no-auth=maybe\n", {NULL}, ":1: no-auth: 'maybe' is not true/false, yes/no, on/off or 1/0"},
    {NULL, {"-a1"}, "-a: takes no value"},
    {NULL, {"-za"}, "-z: takes no value"}, /* one -z with the value "a", not -z -a */
};

static void test_auth_errors(void)
{
    fx_check_errors(auth_err_cases, sizeof auth_err_cases / sizeof auth_err_cases[0]);
}

/* USERNAME holds fewer than 509 bytes (RFC 8489 section 14.3): a longer name could never log
 * in, so it is refused when loaded. */
static void test_user_name_length(void)
{
    char value[600];
    struct fx f;

    memset(value, 'n', 508);
    strcpy(value + 508, ":pw");
    fx_load(&f, NULL, "--user", value, NULL);
    CHECK_INT(f.rc, 0);
    CHECK_INT(f.cfg.nusers, 1);
    CHECK_STR(f.cfg.users[0], value);
    fx_done(&f);

    memset(value, 'n', 509);
    strcpy(value + 509, ":pw");
    fx_load(&f, NULL, "--user", value, NULL);
    CHECK_STR(f.err, "--user: user name longer than 508 bytes");
    fx_done(&f);
}

/* A list grows past every power of two from 1 to 128, with the file's lines in order first. */
static void test_long_lists(void)
{
    enum { NFILE = 150 };
    char conf[NFILE * 64] = "", name[32];
    struct fx f;

    for (int i = 0; i < NFILE; i++) {
        snprintf(conf + strlen(conf), sizeof conf - strlen(conf),
                 "user=u%d:p%d\ndenied-peer-ip=198.51.100.%d\n", i, i, i);
    }
    fx_load(&f, conf, "-u", "last:pw", "--denied-peer-ip", "203.0.113.0/24", NULL);
    CHECK_INT(f.rc, 0);
    if (!CHECK_INT(f.cfg.nusers, NFILE + 1) || !CHECK_INT(f.cfg.ndenied_peers, NFILE + 1))
        goto out;
    for (int i = 0; i < NFILE; i++) {
        snprintf(name, sizeof name, "u%d:p%d", i, i);
        CHECK_STR(f.cfg.users[i], name);
        snprintf(name, sizeof name, "198.51.100.%d", i);
        CHECK_STR(f.cfg.denied_peers[i], name);
    }
    CHECK_STR(f.cfg.users[NFILE], "last:pw");
    CHECK_STR(f.cfg.denied_peers[NFILE], "203.0.113.0/24");
out:
    fx_done(&f);
}

/* config_free() releases filled lists (ASan reports any leak) and may run twice. */
static void test_free_lists(void)
{
    static const struct config zero;
    struct fx f;

    fx_load(&f, "user=a:1\nstatic-auth-secret=s1\nallowed-peer-ip=10.0.0.1\n", "-u", "b:2",
            "--static-auth-secret", "s2", "--denied-peer-ip", "10.0.0.2", "-b", "/x", NULL);
    CHECK_INT(f.rc, 0);
    CHECK(f.cfg.nusers == 2 && f.cfg.nsecrets == 2);
    CHECK(f.cfg.nallowed_peers == 1 && f.cfg.ndenied_peers == 1);
    config_free(&f.cfg);
    CHECK(memcmp(&f.cfg, &zero, sizeof zero) == 0);
    config_free(&f.cfg);
    CHECK(memcmp(&f.cfg, &zero, sizeof zero) == 0);
    fx_done(&f);
}

int main(void)
{
    RUN(test_auth_defaults);
    RUN(test_loads);
    RUN(test_auth_errors);
    RUN(test_user_name_length);
    RUN(test_long_lists);
    RUN(test_free_lists);
    return check_summary();
}
