/* config_opts.c — the option machinery: looking rows up, parsing and storing values, --help. */
#include "server/config_opts.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define HELP_WIDTH 100 /* columns */
#define HELP_COL   40  /* where the help text starts */

static const char *const group_titles[CONFIG_NGROUPS] = {
    [CONFIG_GROUP_LISTEN] = "Listeners",
    [CONFIG_GROUP_RELAY] = "Relay addresses",
    [CONFIG_GROUP_STUN] = "STUN",
    [CONFIG_GROUP_AUTH] = "Authentication",
    [CONFIG_GROUP_REDIS] = "Redis (users, secrets and quotas shared by several servers)",
    [CONFIG_GROUP_ALLOC] = "Allocations",
    [CONFIG_GROUP_LIMITS] = "Limits",
    [CONFIG_GROUP_PROCESS] = "Process",
    [CONFIG_GROUP_METRICS] = "Metrics and health",
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

static int set_addr(const struct config_opt *o, struct config *cfg, const char *value,
                    const struct config_src *src)
{
    return parse_ip(field(cfg, o->off), value, src);
}

/* IP:PORT or [IPv6]:PORT, the port not 0: another server's address.  A port was written
 * exactly when two different default ports give the same result (as in parse_ip). */
static int add_endpoint(const struct config_opt *o, struct config *cfg, const char *value,
                        const struct config_src *src)
{
    union addr *list = field(cfg, o->off), a, b;
    size_t *n = field(cfg, o->count_off);

    if (*n == (size_t)o->max)
        return config_fail(src, "more than %lld addresses", o->max);
    if (addr_parse(&a, value, 0) < 0)
        return config_fail(src, "'%s' is not IP:PORT or [IPv6]:PORT", value);
    if (addr_parse(&b, value, 1) < 0 || addr_port(&a) != addr_port(&b) || addr_port(&a) == 0)
        return config_fail(src, "'%s' needs a port: IP:PORT or [IPv6]:PORT", value);
    for (size_t i = 0; i < *n; i++) {
        if (addr_equal(&list[i], &a))
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
    case CONFIG_ADDR:
        return set_addr(o, cfg, value, src);
    case CONFIG_ENDPOINTS:
        return add_endpoint(o, cfg, value, src);
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
