/* config.c — loads struct config from defaults, a turnserver.conf file and the command line. */
#include "server/config.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "server/config_opts.h"

#define CONFIG_LINE_MAX 4096 /* bytes in one config-file line, newline excluded */

/* What the first pass over the command line finds: the options that decide whether and which
 * file is read, or whether anything is loaded at all. */
struct config_pre {
    const char *file; /* -c FILE */
    bool nofile;      /* -n */
    bool help;
    bool version;
};

/* One option of the command line, as config_arg_next() splits it. */
struct config_arg {
    const struct config_opt *opt;
    const char *value; /* NULL when none was given */
    char key[48];      /* as written, for messages: "--realm" or "-r" */
};

/* ---- the command line ----------------------------------------------------------------------- */

static bool arg_is_option(const char *s)
{
    return s[0] == '-' && s[1] != '\0';
}

/* Splits argv[*i] into option and value: --name, --name=value, --name value, -x, -xVALUE,
 * -x VALUE.  An option that takes a value consumes the next argument unless that is an option
 * itself; a flag never does.  Advances *i past what it used. */
static int config_arg_next(struct config_arg *a, int argc, char **argv, int *i,
                           const struct config_src *src)
{
    const char *s = argv[*i];
    bool is_long = s[0] == '-' && s[1] == '-';
    struct config_src at = *src;

    a->value = NULL;
    if (!arg_is_option(s) || strcmp(s, "--") == 0)
        return config_fail(src, "unexpected argument '%s'", s);
    if (is_long) {
        const char *eq = strchr(s + 2, '=');
        size_t n = eq ? (size_t)(eq - (s + 2)) : strlen(s + 2);

        a->opt = config_opt_long(s + 2, n);
        if (!a->opt)
            return config_fail(src, "unknown option '--%.*s'", (int)n, s + 2);
        snprintf(a->key, sizeof a->key, "--%s", a->opt->name);
        a->value = eq ? eq + 1 : NULL;
    } else {
        a->opt = config_opt_short((unsigned char)s[1]);
        if (!a->opt)
            return config_fail(src, "unknown option '-%c'", s[1]);
        snprintf(a->key, sizeof a->key, "-%c", a->opt->letter);
        a->value = s[2] ? s + 2 : NULL;
    }
    (*i)++;
    at.key = a->key;
    if (config_opt_takes_value(a->opt)) {
        if (!a->value && *i < argc && !arg_is_option(argv[*i]))
            a->value = argv[(*i)++];
        if (!a->value)
            return config_fail(&at, "missing value");
    } else if (a->value && (!is_long || config_opt_cmdline_only(a->opt))) {
        /* "--fingerprint=false" is a value; "-ffalse" or "--help=x" is a mistake. */
        return config_fail(&at, "takes no value");
    }
    return 0;
}

/* The first pass: checks the syntax of the whole command line and records -c, -n, --help and
 * --version, so that the file is chosen (or skipped) before any other option is applied. */
static int config_prescan(struct config_pre *pre, int argc, char **argv,
                          const struct config_src *src)
{
    struct config_arg a;

    memset(pre, 0, sizeof *pre);
    for (int i = 1; i < argc;) {
        if (config_arg_next(&a, argc, argv, &i, src) < 0)
            return CONFIG_ERR;
        if (a.opt->kind == CONFIG_FILE)
            pre->file = a.value;
        else if (a.opt->kind == CONFIG_NOFILE)
            pre->nofile = true;
        else if (a.opt->kind == CONFIG_HELP)
            pre->help = true;
        else if (a.opt->kind == CONFIG_VERSION)
            pre->version = true;
    }
    if (pre->file && pre->nofile)
        return config_fail(src, "-n: cannot be used with -c");
    return 0;
}

/* The second pass: applies every option but those the first pass handled. */
static int config_apply_args(struct config *cfg, int argc, char **argv,
                             const struct config_src *src)
{
    struct config_src at = *src;
    struct config_arg a;

    for (int i = 1; i < argc;) {
        if (config_arg_next(&a, argc, argv, &i, src) < 0)
            return CONFIG_ERR;
        if (config_opt_cmdline_only(a.opt))
            continue;
        at.key = a.key;
        if (config_opt_set(a.opt, cfg, a.value, &at) < 0)
            return CONFIG_ERR;
    }
    return 0;
}

/* ---- the config file ------------------------------------------------------------------------ */

/* Reads one line, its '\n' dropped, into buf.  Returns its length, -1 at the end of the file,
 * or -2 when it does not fit in cap - 1 bytes. */
static long config_read_line(FILE *f, char *buf, size_t cap)
{
    size_t n = 0;
    int c;

    while ((c = getc(f)) != EOF && c != '\n') {
        if (n + 1 >= cap)
            return -2;
        buf[n++] = (char)c;
    }
    if (c == EOF && n == 0)
        return -1;
    buf[n] = '\0';
    return (long)n;
}

static char *skip_space(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    return s;
}

/* Cuts an unquoted value at a '#' that follows whitespace, then drops trailing whitespace.  v
 * points into a line after its key, so v[-1] can be read: "key= #x" is empty, "key=#x" not. */
static void cut_comment(char *v)
{
    char *end;

    for (char *p = v; *p; p++) {
        if (*p == '#' && isspace((unsigned char)p[-1])) {
            *p = '\0';
            break;
        }
    }
    end = v + strlen(v);
    while (end > v && isspace((unsigned char)end[-1]))
        *--end = '\0';
}

/* Finds the value after the key: "key=value", "key value", "key = value", or nothing at all
 * (*value = NULL).  A value in double quotes is taken as it is, '#' and spaces included. */
static int config_line_value(char *p, char **value, const struct config_src *src)
{
    char *close;

    *value = NULL;
    p = skip_space(p);
    if (*p == '=')
        p = skip_space(p + 1);
    else if (*p == '\0' || *p == '#')
        return 0;
    if (*p != '"') {
        cut_comment(p);
        *value = p;
        return 0;
    }
    close = strchr(p + 1, '"');
    if (!close)
        return config_fail(src, "missing closing quote");
    *close = '\0';
    close = skip_space(close + 1);
    if (*close != '\0' && *close != '#')
        return config_fail(src, "text after the closing quote");
    *value = p + 1;
    return 0;
}

/* Applies one line: a comment, a blank, or an option. */
static int config_file_line(struct config *cfg, char *line, size_t len, struct config_src *src)
{
    const struct config_opt *o;
    char *key, *end, *value, sep;

    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)line[i];

        if ((c < 0x20 && c != '\t' && c != '\r') || c == 0x7f)
            return config_fail(src, "not a text line (byte 0x%02x)", c);
    }
    key = skip_space(line);
    if (*key == '\0' || *key == '#')
        return 0;
    end = key + strcspn(key, "= \t\r");
    sep = *end;
    *end = '\0';
    o = config_opt_long(key, strlen(key));
    if (!o)
        return config_fail(src, "unknown option '%s'", key);
    src->key = o->name;
    *end = sep;
    if (config_line_value(end, &value, src) < 0)
        return CONFIG_ERR;
    return config_opt_set(o, cfg, value, src);
}

static int config_read_file(struct config *cfg, FILE *f, struct config_src *src)
{
    char line[CONFIG_LINE_MAX + 1];
    long len;

    while ((len = config_read_line(f, line, sizeof line)) != -1) {
        src->line++;
        src->key = NULL;
        if (len == -2)
            return config_fail(src, "line longer than %d bytes", CONFIG_LINE_MAX);
        /* A UTF-8 byte-order mark, as some editors write, is not part of the first key. */
        if (src->line == 1 && strncmp(line, "\xef\xbb\xbf", 3) == 0) {
            len -= 3;
            memmove(line, line + 3, (size_t)len + 1);
        }
        if (config_file_line(cfg, line, (size_t)len, src) < 0)
            return CONFIG_ERR;
    }
    return 0;
}

/* Reads path, named by -c (flag "-c") or the default one (flag NULL: a missing file is fine). */
static int config_load_file(struct config *cfg, const char *path, const char *flag,
                            const struct config_src *err)
{
    struct config_src src = {.file = path, .err = err->err, .errlen = err->errlen};
    struct config_src at = {.key = flag, .err = err->err, .errlen = err->errlen};
    FILE *f = fopen(path, "r");
    int rc;

    if (!f && !flag && errno == ENOENT)
        return 0;
    if (!f)
        return config_fail(&at, "cannot read '%s': %s", path, strerror(errno));
    rc = config_read_file(cfg, f, &src);
    if (rc == 0 && ferror(f))
        rc = config_fail(&at, "cannot read '%s': %s", path, strerror(errno));
    fclose(f);
    if (rc == 0)
        cfg->file = path;
    return rc;
}

/* ---- checks across options ------------------------------------------------------------------ */

/* Copies into key how the user wrote option o for the value in force: as the command line
 * last gave it ("--max-port"), else by its name ("max-port": the file's key, or the default). */
static void config_key_written(const struct config_opt *o, int argc, char **argv, char *key,
                               size_t cap)
{
    struct config_src quiet = {0}; /* the first pass has already checked the command line */
    struct config_arg a;

    snprintf(key, cap, "%s", o->name);
    for (int i = 1; i < argc;) {
        if (config_arg_next(&a, argc, argv, &i, &quiet) < 0)
            return;
        if (a.opt == o)
            snprintf(key, cap, "%s", a.key);
    }
}

/* The client ports must differ: two of our UDP sockets on one port would share its datagrams
 * (SO_REUSEPORT), two TCP listeners its connections.  The TLS ports count when TLS or DTLS
 * can be on. */
static int config_check_ports(const struct config *cfg, int argc, char **argv,
                              const struct config_src *src)
{
    static const char *const names[] = {"listening-port", "alt-listening-port",
                                        "tls-listening-port", "alt-tls-listening-port"};
    bool secure = cfg->cert && (!cfg->no_tls || (cfg->dtls && !cfg->no_dtls));
    const uint16_t ports[] = {cfg->listen_port, cfg->alt_listen_port,
                              secure ? cfg->tls_listen_port : 0,
                              secure ? cfg->alt_tls_listen_port : 0};
    char a[48], b[48];

    for (int i = 0; i < 4; i++) {
        for (int j = i + 1; j < 4; j++) {
            if (ports[i] == 0 || ports[i] != ports[j])
                continue;
            config_key_written(config_opt_long(names[i], strlen(names[i])), argc, argv, a,
                               sizeof a);
            config_key_written(config_opt_long(names[j], strlen(names[j])), argc, argv, b,
                               sizeof b);
            return config_fail(src, "%s and %s are both %u", a, b, ports[i]);
        }
    }
    return 0;
}

/* --rfc5780 needs a second plain port: --alt-listening-port, else the listening port + 1, as
 * coturn has it.  (Its two listening IPs are checked at start, by nat_check.) */
static int config_rfc5780(struct config *cfg, int argc, char **argv,
                          const struct config_src *src)
{
    char flag[48], alt[48];

    if (!cfg->rfc5780 || cfg->alt_listen_port != 0)
        return 0;
    if (cfg->listen_port == 65535) {
        config_key_written(config_opt_long("rfc5780", 7), argc, argv, flag, sizeof flag);
        config_key_written(config_opt_long("alt-listening-port", 18), argc, argv, alt,
                           sizeof alt);
        return config_fail(src, "%s needs %s when the listening port is 65535", flag, alt);
    }
    cfg->alt_listen_port = (uint16_t)(cfg->listen_port + 1);
    return 0;
}

/* What no single option can check, once the defaults, the file and the command line are in. */
static int config_check(const struct config *cfg, int argc, char **argv,
                        const struct config_src *src)
{
    char min[48], max[48];

    if (config_check_ports(cfg, argc, argv, src) < 0)
        return CONFIG_ERR;

    if (cfg->min_port > cfg->max_port) {
        config_key_written(config_opt_long("min-port", 8), argc, argv, min, sizeof min);
        config_key_written(config_opt_long("max-port", 8), argc, argv, max, sizeof max);
        return config_fail(src, "%s %u is above %s %u", min, cfg->min_port, max, cfg->max_port);
    }
    return 0;
}

/* ---- loading -------------------------------------------------------------------------------- */

static int config_defaults(struct config *cfg, const struct config_src *err)
{
    memset(cfg, 0, sizeof *cfg);
    for (size_t i = 0; i < config_nopts; i++) {
        const struct config_opt *o = &config_opts[i];
        struct config_src src = {.key = o->name, .err = err->err, .errlen = err->errlen};

        if (o->def && config_opt_set(o, cfg, o->def, &src) < 0)
            return CONFIG_ERR;
    }
    return 0;
}

int config_load(struct config *cfg, int argc, char **argv, FILE *out, char *err, size_t errlen)
{
    struct config_src src = {.err = err, .errlen = errlen};
    struct config_pre pre;

    if (errlen > 0)
        err[0] = '\0';
    if (config_defaults(cfg, &src) < 0 || config_prescan(&pre, argc, argv, &src) < 0)
        goto fail;
    if (pre.help || pre.version) {
        if (pre.help)
            config_opts_help(out);
        else
            fprintf(out, "turnpike %s\n", TURNPIKE_VERSION);
        config_free(cfg);
        return CONFIG_DONE;
    }
    if (!pre.nofile && config_load_file(cfg, pre.file ? pre.file : CONFIG_DEFAULT_FILE,
                                        pre.file ? "-c" : NULL, &src) < 0)
        goto fail;
    if (config_apply_args(cfg, argc, argv, &src) < 0 || config_rfc5780(cfg, argc, argv, &src) < 0 ||
        config_check(cfg, argc, argv, &src) < 0)
        goto fail;
    return 0;

fail:
    config_free(cfg);
    return CONFIG_ERR;
}

void config_free(struct config *cfg)
{
    for (size_t i = 0; i < config_nopts; i++)
        config_opt_free(&config_opts[i], cfg);
    memset(cfg, 0, sizeof *cfg);
}
