/* config_fx.c — the fixture of the config tests, #included by each of them: config_load() on a
 * temporary file and a command line, a dump of every field, and the exact-error runner. */
#include "server/config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "server/config_opts.h"
#include "tests/lib/check.h"

#define MAX_ARGS (2 * CONFIG_MAX_ADDRS + 8)

/* One config_load() run: a temporary config file (when given), the outcome and the message. */
struct fx {
    struct config cfg;
    char path[64]; /* the temporary file, "" when none */
    char err[1024];
    int rc;
};

/* Writes len bytes into a new temporary file whose name goes into path. */
static void tmp_write(char *path, size_t cap, const void *text, size_t len)
{
    int fd;

    snprintf(path, cap, "/tmp/turnpike-config-XXXXXX");
    fd = mkstemp(path);
    if (!CHECK(fd >= 0))
        return;
    CHECK(write(fd, text, len) == (ssize_t)len);
    close(fd);
}

/* Runs config_load() on args (NULL-terminated), after "-c TMPFILE" holding conf, or after
 * "-n" when conf is NULL. */
static int fx_loadv(struct fx *f, const char *conf, const char *const *args)
{
    char *argv[MAX_ARGS + 4];
    int argc = 0;

    memset(f, 0, sizeof *f);
    argv[argc++] = "turnserver";
    if (conf) {
        tmp_write(f->path, sizeof f->path, conf, strlen(conf));
        argv[argc++] = "-c";
        argv[argc++] = f->path;
    } else {
        argv[argc++] = "-n";
    }
    for (; *args && argc < MAX_ARGS + 3; args++)
        argv[argc++] = (char *)*args;
    argv[argc] = NULL;
    f->rc = config_load(&f->cfg, argc, argv, stdout, f->err, sizeof f->err);
    return f->rc;
}

static int __attribute__((sentinel)) fx_load(struct fx *f, const char *conf, ...)
{
    const char *args[MAX_ARGS + 1];
    int n = 0;
    va_list ap;

    va_start(ap, conf);
    while (n < MAX_ARGS && (args[n] = va_arg(ap, const char *)) != NULL)
        n++;
    va_end(ap);
    args[n] = NULL;
    return fx_loadv(f, conf, args);
}

static void fx_done(struct fx *f)
{
    config_free(&f->cfg);
    if (f->path[0])
        unlink(f->path);
}

/* "192.0.2.1,2001:db8::1" */
static void dump_addrs(FILE *m, const union addr *a, size_t n)
{
    char ip[ADDR_STRLEN];

    for (size_t i = 0; i < n; i++)
        fprintf(m, "%s%s", i ? "," : "", addr_format_ip(&a[i], ip, sizeof ip));
}

/* A string field: its value or "(null)". */
static const char *str(const char *s)
{
    return s ? s : "(null)";
}

/* "a,b,c" */
static void dump_strings(FILE *m, char *const *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        fprintf(m, "%s%s", i ? "," : "", v[i]);
}

/* Every field of cfg but file, one "name=value" line each, in a malloc'ed string: two configs
 * are equal when their dumps are. */
static char *dump(const struct config *c)
{
    char *buf = NULL, pub[ADDR_STRLEN], priv[ADDR_STRLEN];
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);

    fprintf(m, "listen=");
    dump_addrs(m, c->listen, c->nlisten);
    fprintf(m, "\nlisten_port=%u\nno_udp=%d\nno_tcp=%d\nrelay=", c->listen_port, c->no_udp,
            c->no_tcp);
    dump_addrs(m, c->relay, c->nrelay);
    fprintf(m, "\nexternal=");
    for (size_t i = 0; i < c->nexternal; i++)
        fprintf(m, "%s%s/%s", i ? "," : "",
                addr_format_ip(&c->external[i].public_ip, pub, sizeof pub),
                addr_format_ip(&c->external[i].private_ip, priv, sizeof priv));
    fprintf(m, "\nrelay_steering=%d", c->relay_steering);
    fprintf(m, "\nrealm=%s\nthreads=%d\npidfile=%s\nlog_file=%s\nverbose=%d\n",
            c->realm ? c->realm : "(null)", c->threads, c->pidfile ? c->pidfile : "(null)",
            c->log_file ? c->log_file : "(null)", c->verbose);
    fprintf(m, "fingerprint=%d\nsoftware_attribute=%d\nno_stun_3489=%d\n", c->fingerprint,
            c->software_attribute, c->no_stun_3489);
    fprintf(m, "no_auth=%d\nlt_cred_mech=%d\nusers=", c->no_auth, c->lt_cred_mech);
    dump_strings(m, c->users, c->nusers);
    fprintf(m, "\nuserdb=%s\nuse_auth_secret=%d\nsecrets=", c->userdb ? c->userdb : "(null)",
            c->use_auth_secret);
    dump_strings(m, c->secrets, c->nsecrets);
    fprintf(m, "\nrest_separator=%c\nstale_nonce=%d\nuser_quota=%d\ntotal_quota=%d\n",
            c->rest_separator, c->stale_nonce, c->user_quota, c->total_quota);
    fprintf(m, "max_allocate_lifetime=%d\nmin_port=%u\nmax_port=%u\nallowed_peers=",
            c->max_allocate_lifetime, c->min_port, c->max_port);
    dump_strings(m, c->allowed_peers, c->nallowed_peers);
    fprintf(m, "\ndenied_peers=");
    dump_strings(m, c->denied_peers, c->ndenied_peers);
    fprintf(m, "\nallow_loopback_peers=%d\nno_multicast_peers=%d\nno_tcp_relay=%d\n",
            c->allow_loopback_peers, c->no_multicast_peers, c->no_tcp_relay);
    fprintf(m, "tls_listen_port=%u\nalt_listen_port=%u\nalt_tls_listen_port=%u\n",
            c->tls_listen_port, c->alt_listen_port, c->alt_tls_listen_port);
    fprintf(m, "no_tls=%d\ndtls=%d\nno_dtls=%d\ncert=%s\npkey=%s\npkey_pwd=%s\n", c->no_tls,
            c->dtls, c->no_dtls, str(c->cert), str(c->pkey), str(c->pkey_pwd));
    fprintf(m, "cipher_list=%s\nec_curve_name=%s\ndh_file=%s\nca_file=%s\n",
            str(c->cipher_list), str(c->ec_curve_name), str(c->dh_file), str(c->ca_file));
    fprintf(m, "tcp_idle_timeout=%d\ntcp_max_buffer=%zu\ntcp_max_conns=%d\n", c->tcp_idle_timeout,
            c->tcp_max_buffer, c->tcp_max_conns);
    fprintf(m, "prometheus=%d\nprometheus_port=%u\nprometheus_addr=%s\nsyslog_facility=%s\n",
            c->prometheus, c->prometheus_port,
            addr_format_ip(&c->prometheus_addr, pub, sizeof pub), str(c->syslog_facility));
    fprintf(m, "max_bps=%zu\nbps_capacity=%zu\nchannel_lifetime=%d\npermission_lifetime=%d\n",
            c->max_bps, c->bps_capacity, c->channel_lifetime, c->permission_lifetime);
    fprintf(m, "max_allocations_per_ip=%d\nunauthorized_ratelimit=%d\ndrain_timeout=%d\n",
            c->max_allocations_per_ip, c->unauthorized_ratelimit, c->drain_timeout);
    fprintf(m, "alternates=");
    for (size_t i = 0; i < c->nalternates; i++)
        fprintf(m, "%s%s", i ? "," : "", addr_format(&c->alternates[i], pub, sizeof pub));
    fprintf(m, "\nproc_user=%s\nproc_group=%s\nrfc5780=%d\n", str(c->proc_user),
            str(c->proc_group), c->rfc5780);
    fprintf(m, "redis_userdb=%s\nredis_statsdb=%s\nredis_cache_ttl=%d\n", str(c->redis_userdb),
            str(c->redis_statsdb), c->redis_cache_ttl);
    fprintf(m, "redis_negative_ttl=%d\nredis_stale=%d\nredis_timeout=%d\n",
            c->redis_negative_ttl, c->redis_stale, c->redis_timeout);
    fclose(m);
    return buf;
}

/* The dump of the defaults with the lines given ("realm=x\nlisten_port=1\n") put in place of
 * the lines of the same names. */
static char *dump_defaults_with(const char *lines)
{
    struct fx f;
    char *base, *out;

    fx_load(&f, NULL, NULL);
    base = dump(&f.cfg);
    fx_done(&f);
    out = malloc(strlen(base) + strlen(lines) + 1);
    out[0] = '\0';
    for (char *line = strtok(base, "\n"); line; line = strtok(NULL, "\n")) {
        size_t key = strcspn(line, "=") + 1;
        const char *repl = lines;

        while (*repl && strncmp(repl, line, key) != 0)
            repl = strchr(repl, '\n') ? strchr(repl, '\n') + 1 : "";
        strncat(out, *repl ? repl : line, *repl ? strcspn(repl, "\n") : strlen(line));
        strcat(out, "\n");
    }
    free(base);
    return out;
}

/* Checks that f loaded and differs from the defaults in the lines given. */
#define CHECK_LOADED(f, lines)                                                                     \
    do {                                                                                           \
        char *want_ = dump_defaults_with(lines), *got_ = dump(&(f)->cfg);                          \
        CHECK_INT((f)->rc, 0);                                                                     \
        CHECK_STR((f)->err, "");                                                                   \
        CHECK_STR(got_, want_);                                                                    \
        free(want_);                                                                               \
        free(got_);                                                                                \
    } while (0)

/* A load that must succeed: a file (NULL: -n), a command line, and the dump lines in which it
 * differs from the defaults. */
struct load_case {
    const char *conf;
    const char *args[8];
    const char *want;
};

/* Runs every case; each must load and differ from the defaults in exactly its lines.  (Not
 * every file including this one has such a table.) */
static __attribute__((unused)) void fx_check_loads(const struct load_case *cases, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        struct fx f;

        fx_loadv(&f, cases[i].conf, cases[i].args);
        if (!CHECK_INT(f.rc, 0))
            printf("  case %zu: %s\n", i, f.err);
        CHECK_LOADED(&f, cases[i].want);
        fx_done(&f);
    }
}

/* A load that must fail: the exact message (a leading ':' stands for "TMPFILE:"). */
struct err_case {
    const char *conf; /* NULL: -n, or nothing at all when args start with -c */
    const char *args[6];
    const char *want;
};

/* Runs every case; each must fail with its message and leave the config freed (all zero).
 * (Not every file including this one has such a table.) */
static __attribute__((unused)) void fx_check_errors(const struct err_case *cases, size_t n)
{
    static const struct config zero;

    for (size_t i = 0; i < n; i++) {
        const struct err_case *t = &cases[i];
        char want[512];
        struct fx f;
        int rc;

        /* -c without a file of ours: run it without the -n that fx_loadv adds. */
        if (!t->conf && strcmp(t->args[0], "-c") == 0) {
            char *argv[] = {"turnserver", (char *)t->args[0], (char *)t->args[1], NULL};

            memset(&f, 0, sizeof f);
            rc = config_load(&f.cfg, 3, argv, stdout, f.err, sizeof f.err);
        } else {
            rc = fx_loadv(&f, t->conf, t->args);
        }
        snprintf(want, sizeof want, "%s%s", t->want[0] == ':' ? f.path : "", t->want);
        CHECK_INT(rc, CONFIG_ERR);
        CHECK_STR(f.err, want);
        CHECK(memcmp(&f.cfg, &zero, sizeof zero) == 0);
        fx_done(&f);
    }
}
