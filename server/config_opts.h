/* config_opts.h — the option table behind config.c: rows (config_table.c), value parsers and
 * --help (config_opts.c). */
#ifndef SERVER_CONFIG_OPTS_H
#define SERVER_CONFIG_OPTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "server/config.h"

/* What an option holds, which decides how its value is parsed and stored. */
enum config_kind {
    CONFIG_FLAG,     /* bool: no value, or true/false, yes/no, on/off, 1/0 */
    CONFIG_LEVEL,    /* int set to .level when given (or true), 0 when false: -v, -V */
    CONFIG_PORT,     /* uint16_t in min..max */
    CONFIG_INT,      /* int in min..max */
    CONFIG_SIZE,     /* size_t in min..max */
    CONFIG_STRING,   /* char *, owned; at most max characters when max > 0 */
    CONFIG_STRINGS,  /* char ** at off, its size_t count at count_off: a repeatable string */
    CONFIG_CHAR,     /* char: exactly one printable ASCII character */
    CONFIG_ADDRS,    /* union addr[CONFIG_MAX_ADDRS] at off, its size_t count at count_off */
    CONFIG_ADDR,     /* one union addr: an IP literal without a port */
    CONFIG_ENDPOINTS,/* union addr[max] at off, count at count_off: IP:PORT, [IPv6]:PORT */
    CONFIG_EXTERNAL, /* struct config_external[CONFIG_MAX_ADDRS] at off, count at count_off */
    CONFIG_FILE,     /* -c FILE: command line only, handled by config.c */
    CONFIG_NOFILE,   /* -n: command line only */
    CONFIG_HELP,     /* --help: command line only */
    CONFIG_VERSION,  /* --version: command line only */
};

/* The --help sections, in the order they are printed. */
enum config_group {
    CONFIG_GROUP_LISTEN,
    CONFIG_GROUP_RELAY,
    CONFIG_GROUP_STUN,
    CONFIG_GROUP_AUTH,
    CONFIG_GROUP_REDIS,
    CONFIG_GROUP_ALLOC,
    CONFIG_GROUP_LIMITS,
    CONFIG_GROUP_PROCESS,
    CONFIG_GROUP_METRICS,
    CONFIG_GROUP_TCP,
    CONFIG_GROUP_TLS,
    CONFIG_NGROUPS,
};

/* Where a value came from, for error messages, and the caller's error buffer. */
struct config_src {
    const char *file; /* config file, or NULL for the command line */
    unsigned line;
    const char *key; /* the option as written ("realm", "--realm", "-r"), or NULL */
    char *err;
    size_t errlen;
};

/* One option: the same row serves the config file, the command line and --help. */
struct config_opt {
    const char *name; /* long name and config-file key; NULL for -c and -n */
    char letter;      /* short option letter, or 0 */
    enum config_kind kind;
    enum config_group group;
    size_t off;         /* offsetof(struct config, field) */
    size_t count_off;   /* lists: offsetof the size_t count */
    long long min, max; /* integers: the accepted range; strings: max characters;
                           CONFIG_ENDPOINTS: max entries */
    int level;          /* CONFIG_LEVEL: the value stored */
    const char *arg;    /* argument name in --help, NULL for flags */
    const char *def;    /* default as text, parsed by config_opt_set(); NULL = none/off */
    const char *help;   /* one sentence for --help */
    /* Checks a value beyond what its kind does (a user line, a peer range) before it is
     * stored: 0, or CONFIG_ERR with the message written through config_fail(src, ...). */
    int (*check)(const char *value, const struct config_src *src);
};

/* The table itself, in config_table.c. */
extern const struct config_opt config_opts[];
extern const size_t config_nopts;

/* Writes "FILE:LINE: KEY: message" (the parts src has) into src->err and returns CONFIG_ERR. */
int config_fail(const struct config_src *src, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* The row whose long name is the len bytes at name, or whose short letter is letter; NULL
 * when there is none.  Long names are case-sensitive (--verbose and --Verbose differ). */
const struct config_opt *config_opt_long(const char *name, size_t len);
const struct config_opt *config_opt_short(int letter);

/* True when the option needs a value (FILE, PORT, ...); flags and actions take none. */
bool config_opt_takes_value(const struct config_opt *o);

/* True for the options that only make sense on the command line (-c, -n, --help, --version). */
bool config_opt_cmdline_only(const struct config_opt *o);

/* Parses value (NULL when the option was given without one) and stores it into cfg: sets a
 * single value, or appends to a list.  Copies what it keeps.  On error writes a message
 * through config_fail(src, ...) and returns CONFIG_ERR, leaving cfg as it was. */
int config_opt_set(const struct config_opt *o, struct config *cfg, const char *value,
                   const struct config_src *src);

/* Frees what config_opt_set() allocated for o in cfg (strings and string lists) and zeroes the
 * fields, so that it may be called again. */
void config_opt_free(const struct config_opt *o, struct config *cfg);

/* Prints the usage: every option by group, with its argument, default and help, wrapped at
 * 100 columns. */
void config_opts_help(FILE *out);

#endif
