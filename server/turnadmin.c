/* turnadmin.c — turnpike's administration tool: long-term keys, users, REST secrets, realm
 * options and origins, in the Redis user database (coturn's key schema) or the userdb file,
 * with coturn's turnadmin flags where the two tools overlap. */
#include <getopt.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/radmin.h"
#include "auth/schema.h"
#include "auth/store.h"
#include "auth/userdb.h"
#include "proto/hex.h"
#include "proto/stun_integrity.h"
#include "server/config.h"

#define EXIT_FAIL 1  /* the store could not be reached, read or written */
#define EXIT_USAGE 2 /* the command line is wrong: nothing was done */
#define TIMEOUT_MS 5000

enum cmd {
    CMD_NONE, CMD_KEY, CMD_ADD, CMD_DEL, CMD_LIST, CMD_SET_SECRET, CMD_SHOW_SECRETS,
    CMD_DEL_SECRET, CMD_DEL_SECRETS, CMD_ADD_ORIGIN, CMD_DEL_ORIGIN, CMD_LIST_ORIGINS,
    CMD_SET_OPTIONS, CMD_LIST_OPTIONS,
};

/* What the command line asked for. */
struct args {
    enum cmd cmd;
    const char *cmd_name; /* the flag that gave the command, for messages */
    const char *redis;    /* -N */
    const char *file;     /* --userdb */
    const char *user, *realm, *password, *origin, *secret;
    bool sha256;
    const char *quota[3]; /* --max-bps, --total-quota, --user-quota as given */
    uint32_t quota_v[3];  /* and their values (option_values) */
};

enum {
    OPT_SHA256 = 256, OPT_DEL_SECRETS, OPT_MAX_BPS, OPT_TOTAL_QUOTA, OPT_USER_QUOTA, OPT_SQL,
};

static const struct option long_opts[] = {
    {"key", no_argument, NULL, 'k'},
    {"add", no_argument, NULL, 'a'},
    {"delete", no_argument, NULL, 'd'},
    {"list", no_argument, NULL, 'l'},
    {"set-secret", required_argument, NULL, 's'},
    {"show-secret", no_argument, NULL, 'S'},
    {"delete-secret", required_argument, NULL, 'X'},
    {"delete-all-secrets", no_argument, NULL, OPT_DEL_SECRETS},
    {"add-origin", no_argument, NULL, 'O'},
    {"del-origin", no_argument, NULL, 'R'},
    {"list-origins", no_argument, NULL, 'I'},
    {"set-realm-option", no_argument, NULL, 'g'},
    {"list-realm-options", no_argument, NULL, 'G'},
    {"redis-userdb", required_argument, NULL, 'N'},
    {"userdb", required_argument, NULL, 'b'},
    {"db", required_argument, NULL, 'b'},
    {"user", required_argument, NULL, 'u'},
    {"realm", required_argument, NULL, 'r'},
    {"password", required_argument, NULL, 'p'},
    {"origin", required_argument, NULL, 'o'},
    {"sha256", no_argument, NULL, OPT_SHA256},
    {"max-bps", required_argument, NULL, OPT_MAX_BPS},
    {"total-quota", required_argument, NULL, OPT_TOTAL_QUOTA},
    {"user-quota", required_argument, NULL, OPT_USER_QUOTA},
    {"psql-userdb", required_argument, NULL, OPT_SQL},
    {"sql-userdb", required_argument, NULL, OPT_SQL},
    {"mysql-userdb", required_argument, NULL, OPT_SQL},
    {"mongo-userdb", required_argument, NULL, OPT_SQL},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

static const char *const option_leaves[3] = {AUTH_SCHEMA_MAX_BPS, AUTH_SCHEMA_TOTAL_QUOTA,
                                             AUTH_SCHEMA_USER_QUOTA};

static void usage(FILE *out)
{
    fprintf(out,
            "Usage: turnadmin COMMAND [OPTION]...\n"
            "turnpike " TURNPIKE_VERSION " administration: long-term keys, and the users, TURN REST "
            "API secrets,\nrealm options and origins of the Redis user database (coturn's keys) "
            "or of a userdb file.\n"
            "\nCommands (one):\n"
            "  -k, --key                  print the key of -u, -r, -p (0x..., MD5; SHA-256 "
            "with --sha256)\n"
            "  -a, --add                  add or update user -u of realm -r with password -p\n"
            "  -d, --delete               delete user -u of realm -r\n"
            "  -l, --list                 list the users (of realm -r; of every realm without "
            "it, Redis only)\n"
            "  -s, --set-secret SECRET    add a REST API secret to realm -r (Redis)\n"
            "  -S, --show-secret          list the REST API secrets (of realm -r) (Redis)\n"
            "  -X, --delete-secret SECRET delete a REST API secret of realm -r (Redis)\n"
            "      --delete-all-secrets   delete every REST API secret of realm -r (Redis)\n"
            "  -O, --add-origin           map ORIGIN -o to realm -r (Redis)\n"
            "  -R, --del-origin           delete the mapping of ORIGIN -o (Redis)\n"
            "  -I, --list-origins         list the origins (mapped to realm -r) (Redis)\n"
            "  -g, --set-realm-option     set realm -r's --max-bps, --total-quota, "
            "--user-quota (0 removes) (Redis)\n"
            "  -G, --list-realm-options   list the realm options (of realm -r) (Redis)\n"
            "\nThe store (one, for every command but -k):\n"
            "  -N, --redis-userdb STRING  Redis: \"host=H port=P dbname=N password=S "
            "connect_timeout=SECONDS\"\n"
            "                             (coturn's connection string; also "
            "unix_socket=PATH, user=ACLUSER)\n"
            "  -b, --userdb FILE          the server's --userdb file (users only), rewritten "
            "safely\n"
            "\nOptions:\n"
            "  -u, --user NAME            user name\n"
            "  -r, --realm REALM          realm (as the server's --realm, or an origin's)\n"
            "  -p, --password PASSWORD    password\n"
            "  -o, --origin ORIGIN        origin, e.g. https://example.com (stored as "
            "coturn does: with its port)\n"
            "      --sha256               -k prints the SHA-256 key (RFC 8489)\n"
            "      --max-bps N, --total-quota N, --user-quota N   values for -g\n"
            "  -h, --help                 print this help\n"
            "\nExit status: 0 done, 1 the store could not be reached, read or written, 2 a "
            "wrong command line.\n");
}

__attribute__((format(printf, 1, 2))) static int usage_error(const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "turnadmin: ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nTry 'turnadmin --help'.\n");
    return EXIT_USAGE;
}

static int set_cmd(struct args *a, enum cmd cmd, const char *name)
{
    if (a->cmd != CMD_NONE && a->cmd != cmd)
        return usage_error("%s and %s are two commands: give one", a->cmd_name, name);
    a->cmd = cmd;
    a->cmd_name = name;
    return 0;
}

static int parse(struct args *a, int argc, char **argv)
{
    static const struct {
        int opt;
        enum cmd cmd;
        const char *name;
    } cmds[] = {
        {'k', CMD_KEY, "-k"},          {'a', CMD_ADD, "-a"},
        {'d', CMD_DEL, "-d"},          {'l', CMD_LIST, "-l"},
        {'s', CMD_SET_SECRET, "-s"},   {'S', CMD_SHOW_SECRETS, "-S"},
        {'X', CMD_DEL_SECRET, "-X"},   {OPT_DEL_SECRETS, CMD_DEL_SECRETS, "--delete-all-secrets"},
        {'O', CMD_ADD_ORIGIN, "-O"},   {'R', CMD_DEL_ORIGIN, "-R"},
        {'I', CMD_LIST_ORIGINS, "-I"}, {'g', CMD_SET_OPTIONS, "-g"},
        {'G', CMD_LIST_OPTIONS, "-G"},
    };
    int c;

    opterr = 0;
    while ((c = getopt_long(argc, argv, ":kadls:SX:ORIgGN:b:u:r:p:o:he:M:J:", long_opts, NULL)) != -1) {
        for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++)
            if (c == cmds[i].opt && set_cmd(a, cmds[i].cmd, cmds[i].name) != 0)
                return EXIT_USAGE;
        switch (c) {
        case 's':
        case 'X': a->secret = optarg; break;
        case 'N': a->redis = optarg; break;
        case 'b': a->file = optarg; break;
        case 'u': a->user = optarg; break;
        case 'r': a->realm = optarg; break;
        case 'p': a->password = optarg; break;
        case 'o': a->origin = optarg; break;
        case OPT_SHA256: a->sha256 = true; break;
        case OPT_MAX_BPS: a->quota[0] = optarg; break;
        case OPT_TOTAL_QUOTA: a->quota[1] = optarg; break;
        case OPT_USER_QUOTA: a->quota[2] = optarg; break;
        case 'e':
        case 'M':
        case 'J':
        case OPT_SQL:
            return usage_error("turnpike has no SQL or MongoDB user database: use -N (Redis) "
                               "or --userdb FILE");
        case 'h': usage(stdout); exit(0);
        case ':': return usage_error("%s needs a value", argv[optind - 1]);
        case '?': return usage_error("unknown option '%s'", argv[optind - 1]);
        default: break;
        }
    }
    if (optind < argc)
        return usage_error("unexpected argument '%s'", argv[optind]);
    if (a->cmd == CMD_NONE)
        return usage_error("no command: give one of -k, -a, -d, -l, -s, -S, -X, -O, -R, -I, "
                           "-g, -G");
    return 0;
}

/* The command's needs: the options it cannot do without, and its store. */
static int check(const struct args *a)
{
    bool need_user = a->cmd == CMD_KEY || a->cmd == CMD_ADD || a->cmd == CMD_DEL;
    /* A userdb file has no realms: deleting or listing its users needs none. */
    bool need_realm = a->cmd == CMD_KEY || a->cmd == CMD_ADD ||
                      (a->cmd == CMD_DEL && a->file == NULL) || a->cmd == CMD_SET_SECRET ||
                      a->cmd == CMD_DEL_SECRET || a->cmd == CMD_DEL_SECRETS ||
                      a->cmd == CMD_ADD_ORIGIN || a->cmd == CMD_SET_OPTIONS;
    bool redis_only = a->cmd >= CMD_SET_SECRET;

    if (need_user && (a->user == NULL || a->user[0] == '\0'))
        return usage_error("%s needs -u NAME", a->cmd_name);
    if (a->user && strlen(a->user) > AUTH_USER_NAME_MAX)
        return usage_error("user name longer than %d bytes: no client could send it",
                           AUTH_USER_NAME_MAX);
    if (need_realm && (a->realm == NULL || a->realm[0] == '\0'))
        return usage_error("%s needs -r REALM (the realm of the keys: the server's --realm)",
                           a->cmd_name);
    if ((a->cmd == CMD_KEY || a->cmd == CMD_ADD) && (a->password == NULL || !a->password[0]))
        return usage_error("%s needs -p PASSWORD", a->cmd_name);
    if ((a->cmd == CMD_ADD_ORIGIN || a->cmd == CMD_DEL_ORIGIN) && !a->origin)
        return usage_error("%s needs -o ORIGIN", a->cmd_name);
    if (a->cmd == CMD_SET_OPTIONS && !a->quota[0] && !a->quota[1] && !a->quota[2])
        return usage_error("-g needs --max-bps N, --total-quota N or --user-quota N");
    if (a->cmd == CMD_KEY)
        return 0;
    if (a->redis && a->file)
        return usage_error("-N and --userdb are both given: choose one store");
    if (!a->redis && !a->file)
        return usage_error("%s needs a store: -N \"host=... port=...\" (Redis) or --userdb "
                           "FILE", a->cmd_name);
    if (redis_only && a->file)
        return usage_error("%s needs Redis (-N): a userdb file holds users only", a->cmd_name);
    if (a->user && strchr(a->user, ':') != NULL && a->file)
        return usage_error("a userdb file's user name cannot hold ':'");
    return 0;
}

/* Both keys of user's password: MD5 (RFC 5389) and SHA-256 (RFC 8489 §9.2.2). */
static int make_keys(const struct args *a, struct auth_key *k)
{
    if (!auth_key_from_password(k, a->user, a->realm, a->password)) {
        fprintf(stderr, "turnadmin: cannot make the key (is the password valid UTF-8?)\n");
        return EXIT_FAIL;
    }
    return 0;
}

static int print_key(const struct args *a)
{
    struct auth_key k;
    char hex[65];
    int rc = make_keys(a, &k);

    if (rc != 0)
        return rc;
    if (a->sha256)
        hex_encode(k.sha256, 32, hex);
    else
        hex_encode(k.md5, 16, hex);
    printf("0x%s\n", hex);
    return 0;
}

static void print_bracketed(void *arg, const char *x, const char *realm)
{
    (void)arg;
    printf("%s[%s]\n", x, realm);
}

static void print_option(void *arg, const char *name, const char *value)
{
    (void)arg;
    printf("%s = %s\n", name, value);
}

static void print_origin(void *arg, const char *origin, const char *realm)
{
    (void)arg;
    printf("%s ==>> %s\n", origin, realm);
}

static void print_name(void *arg, const char *name)
{
    (void)arg;
    printf("%s\n", name);
}

/* The realm options' values into a->quota_v: decimal, at most 2^32 - 1. */
static int option_values(struct args *a)
{
    for (int i = 0; i < 3; i++)
        if (a->quota[i] && !auth_schema_count(a->quota[i], strlen(a->quota[i]), &a->quota_v[i]))
            return usage_error("--%s '%s' is not a number in 0..4294967295", option_leaves[i],
                               a->quota[i]);
    return 0;
}

/* The Redis commands.  rc < 0 means err says why; a deletion that removed nothing is said. */
static int run_redis(const struct args *a, struct radmin *r, char *err, size_t errlen)
{
    struct auth_key k;
    int rc = 0;

    switch (a->cmd) {
    case CMD_ADD:
        if (make_keys(a, &k) != 0)
            return -1;
        rc = radmin_set_user(r, a->realm, a->user, k.md5, k.sha256, err, errlen);
        explicit_bzero(k.sha256, sizeof k.sha256);
        return rc;
    case CMD_DEL:
        rc = radmin_del_user(r, a->realm, a->user, err, errlen);
        if (rc == 0)
            fprintf(stderr, "turnadmin: no user '%s' in realm '%s': nothing deleted\n", a->user,
                    a->realm);
        return rc;
    case CMD_LIST: return radmin_list_users(r, a->realm, print_bracketed, NULL, err, errlen);
    case CMD_SET_SECRET: return radmin_add_secret(r, a->realm, a->secret, err, errlen);
    case CMD_SHOW_SECRETS:
        return radmin_list_secrets(r, a->realm, print_bracketed, NULL, err, errlen);
    case CMD_DEL_SECRET:
        rc = radmin_del_secret(r, a->realm, a->secret, err, errlen);
        if (rc == 0)
            fprintf(stderr, "turnadmin: realm '%s' has no such secret: nothing deleted\n",
                    a->realm);
        return rc;
    case CMD_DEL_SECRETS: return radmin_del_secrets(r, a->realm, err, errlen);
    case CMD_ADD_ORIGIN: return radmin_add_origin(r, a->origin, a->realm, err, errlen);
    case CMD_DEL_ORIGIN:
        rc = radmin_del_origin(r, a->origin, err, errlen);
        if (rc == 0)
            fprintf(stderr, "turnadmin: origin '%s' has no realm: nothing deleted\n", a->origin);
        return rc;
    case CMD_LIST_ORIGINS:
        return radmin_list_origins(r, a->realm, print_origin, NULL, err, errlen);
    case CMD_SET_OPTIONS:
        for (int i = 0; i < 3 && rc == 0; i++)
            if (a->quota[i])
                rc = radmin_set_option(r, a->realm, option_leaves[i], a->quota_v[i], err, errlen);
        return rc;
    case CMD_LIST_OPTIONS:
        return radmin_list_options(r, a->realm, print_option, NULL, err, errlen);
    default: return 0;
    }
}

static int with_redis(const struct args *a)
{
    struct auth_redisconf conf;
    struct radmin *r;
    char err[1024];
    int rc;

    if (auth_redisconf_parse(&conf, a->redis, err, sizeof err) < 0)
        return usage_error("-N: %s", err);
    if (radmin_open(&r, &conf, TIMEOUT_MS, err, sizeof err) < 0) {
        explicit_bzero(&conf, sizeof conf);
        fprintf(stderr, "turnadmin: %s\n", err);
        return EXIT_FAIL;
    }
    explicit_bzero(&conf, sizeof conf);
    err[0] = '\0';
    rc = run_redis(a, r, err, sizeof err);
    radmin_close(r);
    if (rc < 0 && err[0])
        fprintf(stderr, "turnadmin: %s\n", err);
    return rc < 0 ? EXIT_FAIL : 0;
}

/* The userdb file: users only, each line "name:0xMD5:0xSHA256" (both keys of the password in
 * realm -r, which must be the server's --realm). */
static int with_file(const struct args *a)
{
    struct auth_key k;
    char err[1024], value[2 + 32 + 3 + 64 + 1];
    int rc;

    switch (a->cmd) {
    case CMD_ADD:
        if (make_keys(a, &k) != 0)
            return EXIT_FAIL;
        memcpy(value, "0x", 2);
        hex_encode(k.md5, 16, value + 2);
        memcpy(value + 34, ":0x", 3);
        hex_encode(k.sha256, 32, value + 37);
        rc = auth_userdb_set(a->file, a->user, value, err, sizeof err);
        explicit_bzero(value, sizeof value);
        break;
    case CMD_DEL:
        rc = auth_userdb_del(a->file, a->user, err, sizeof err);
        if (rc == 0)
            fprintf(stderr, "turnadmin: no user '%s' in %s: nothing deleted\n", a->user,
                    a->file);
        break;
    default:
        rc = auth_userdb_list(a->file, print_name, NULL, err, sizeof err);
        break;
    }
    if (rc < 0)
        fprintf(stderr, "turnadmin: %s\n", err);
    return rc < 0 ? EXIT_FAIL : 0;
}

int main(int argc, char **argv)
{
    struct args a = {0};
    int rc = parse(&a, argc, argv);

    if (rc == 0)
        rc = check(&a);
    if (rc == 0 && a.cmd == CMD_SET_OPTIONS)
        rc = option_values(&a);
    if (rc != 0)
        return rc;
    if (a.cmd == CMD_KEY)
        return print_key(&a);
    return a.redis ? with_redis(&a) : with_file(&a);
}
