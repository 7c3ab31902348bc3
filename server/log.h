/* log.h — leveled log lines with ISO-8601 timestamps to stdout, a file or syslog. */
#ifndef SERVER_LOG_H
#define SERVER_LOG_H

#include <stdarg.h>

enum log_level { LOG_LVL_ERROR, LOG_LVL_WARN, LOG_LVL_INFO, LOG_LVL_DEBUG };

/* Opens the destination: "stdout", "stderr", "syslog" (with facility, a LOG_* value of
 * <syslog.h>, as log_facility() gives) or a file path (appended to).  Before the first call
 * (and after a failure) lines go to stderr.  Returns 0 or -1 with errno set.  Not
 * thread-safe: call at start-up, or on reopen from the main thread. */
int log_open(const char *dest, int facility, enum log_level level);

/* The syslog facility called name: "daemon", "user" or "local0".."local7"; -1 for others. */
int log_facility(const char *name);

/* Reopens a file destination (after logrotate moved it away); no-op for the others. */
int log_reopen(void);

void log_close(void);

/* True when lines go to stdout or stderr (so an error need not be repeated there). */
int log_is_console(void);

/* True when lines of this level are written: test it before building costly arguments. */
int log_enabled(enum log_level level);

/* Writes one line "2026-11-21T09:19:00.123Z LEVEL message".  Thread-safe: each line is one
 * write(2).  The message is cut at 1 KiB. */
void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void log_vmsg(enum log_level level, const char *fmt, va_list ap);

#define log_error(...) log_msg(LOG_LVL_ERROR, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_LVL_WARN, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_LVL_INFO, __VA_ARGS__)
#define log_debug(...) \
    do { \
        if (log_enabled(LOG_LVL_DEBUG)) \
            log_msg(LOG_LVL_DEBUG, __VA_ARGS__); \
    } while (0)

#endif
