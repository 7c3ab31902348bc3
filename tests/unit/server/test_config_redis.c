/* test_config_redis.c — config_load() of the Redis options: defaults, coturn's connection
 * strings as file lines and flags, and the exact errors (which never repeat a password). */
#include "tests/unit/server/config_fx.c"

static void test_redis_defaults(void)
{
    struct fx f;

    fx_load(&f, NULL, NULL);
    CHECK_INT(f.rc, 0);
    CHECK(f.cfg.redis_userdb == NULL && f.cfg.redis_statsdb == NULL);
    CHECK_INT(f.cfg.redis_cache_ttl, 30);
    CHECK_INT(f.cfg.redis_negative_ttl, 5);
    CHECK_INT(f.cfg.redis_stale, 3600);
    CHECK_INT(f.cfg.redis_timeout, 1000);
    fx_done(&f);
}

static const struct load_case load_cases[] = {
    /* coturn's quoted form in a config file; the command line wins. */
    {"redis-userdb=\"ip=127.0.0.1 dbname=3 password=turn connect_timeout=30\"\n",
     {NULL},
     "redis_userdb=ip=127.0.0.1 dbname=3 password=turn connect_timeout=30"},
    {"redis-userdb=\"host=a\"\n", {"-N", "host=b"}, "redis_userdb=host=b"},
    {NULL, {"--redis-statsdb=host=::1 port=7000"}, "redis_statsdb=host=::1 port=7000"},
    {"redis-cache-ttl=1\nredis-negative-ttl=3600\n",
     {"--redis-timeout", "10"},
     "redis_cache_ttl=1\nredis_negative_ttl=3600\nredis_timeout=10"},
    {"redis-stale=604800\n", {NULL}, "redis_stale=604800"},
};

static void test_loads(void)
{
    fx_check_loads(load_cases, sizeof load_cases / sizeof load_cases[0]);
}

static const struct err_case err_cases[] = {
    {"redis-userdb=\"host=x colour=blue\"\n",
     {NULL},
     ":1: redis-userdb: unknown key 'colour' (host, port, dbname, password, user, "
     "connect_timeout or unix_socket)"},
    {NULL, {"-N", "host"}, "-N: 'host' is not key=value"},
    {NULL, {"--redis-userdb", "port=0"}, "--redis-userdb: port '0' is not a port in 1..65535"},
    {NULL, {"-O", "dbname=x"}, "-O: dbname 'x' is not a database number"},
    {NULL,
     {"--redis-statsdb", "connect_timeout=99999"},
     "--redis-statsdb: connect_timeout '99999' is not a number of seconds in 0..3600"},
    {"redis-userdb\n", {NULL}, ":1: redis-userdb: missing value"},
    {NULL, {"--redis-cache-ttl", "0"}, "--redis-cache-ttl: '0' is not a number in 1..3600"},
    {NULL,
     {"--redis-negative-ttl", "3601"},
     "--redis-negative-ttl: '3601' is not a number in 1..3600"},
    {NULL, {"--redis-stale", "-1"}, "--redis-stale: missing value"},
    {NULL, {"--redis-timeout", "9"}, "--redis-timeout: '9' is not a number in 10..60000"},
    {"redis-timeout=1s\n", {NULL}, ":1: redis-timeout: '1s' is not a number in 10..60000"},
};

static void test_errors(void)
{
    fx_check_errors(err_cases, sizeof err_cases / sizeof err_cases[0]);
}

/* A password never appears in a message: only the key that is wrong is named. */
static void test_password_not_echoed(void)
{
    struct fx f;

    fx_load(&f, NULL, "-N", "password=hunter2 pass=hunter2", NULL);
    CHECK_INT(f.rc, CONFIG_ERR);
    CHECK(strstr(f.err, "hunter2") == NULL);
    CHECK(strstr(f.err, "'pass'") != NULL);
}

int main(void)
{
    RUN(test_redis_defaults);
    RUN(test_loads);
    RUN(test_errors);
    RUN(test_password_not_echoed);
    return check_summary();
}
