/* log.c — leveled log lines with ISO-8601 timestamps to stdout, a file or syslog. */
#include "server/log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#define LOG_LINE_MAX 1024

/* The destination is chosen once at start-up (and reopened from the main thread on SIGHUP);
 * worker threads only read it.  This is the one piece of process-wide state in server/: a log
 * is by nature shared by every thread, and passing it down every call chain buys nothing. */
static struct {
    int fd;             /* -1 for syslog */
    int owns_fd;        /* a file we opened */
    enum log_level level;
    char path[512];
} log_dest = {.fd = STDERR_FILENO, .level = LOG_LVL_INFO};

static const char *const level_names[] = {
    [LOG_LVL_ERROR] = "ERROR",
    [LOG_LVL_WARN] = "WARN",
    [LOG_LVL_INFO] = "INFO",
    [LOG_LVL_DEBUG] = "DEBUG",
};

static const int level_syslog[] = {
    [LOG_LVL_ERROR] = LOG_ERR,
    [LOG_LVL_WARN] = LOG_WARNING,
    [LOG_LVL_INFO] = LOG_INFO,
    [LOG_LVL_DEBUG] = LOG_DEBUG,
};

static int open_file(const char *path)
{
    return open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
}

static const struct {
    const char *name;
    int facility;
} facilities[] = {
    {"daemon", LOG_DAEMON}, {"user", LOG_USER},     {"local0", LOG_LOCAL0},
    {"local1", LOG_LOCAL1}, {"local2", LOG_LOCAL2}, {"local3", LOG_LOCAL3},
    {"local4", LOG_LOCAL4}, {"local5", LOG_LOCAL5}, {"local6", LOG_LOCAL6},
    {"local7", LOG_LOCAL7},
};

int log_facility(const char *name)
{
    for (size_t i = 0; name && i < sizeof(facilities) / sizeof(facilities[0]); i++)
        if (strcmp(name, facilities[i].name) == 0)
            return facilities[i].facility;
    return -1;
}

int log_open(const char *dest, int facility, enum log_level level)
{
    int fd;

    log_close();
    log_dest.level = level;
    if (strcmp(dest, "stdout") == 0) {
        log_dest.fd = STDOUT_FILENO;
        return 0;
    }
    if (strcmp(dest, "stderr") == 0)
        return 0;
    if (strcmp(dest, "syslog") == 0) {
        openlog("turnserver", LOG_PID | LOG_NDELAY, facility < 0 ? LOG_DAEMON : facility);
        log_dest.fd = -1;
        return 0;
    }
    if (strlen(dest) >= sizeof(log_dest.path)) {
        errno = ENAMETOOLONG;
        return -1;
    }
    fd = open_file(dest);
    if (fd < 0)
        return -1;
    log_dest.fd = fd;
    log_dest.owns_fd = 1;
    strcpy(log_dest.path, dest);
    return 0;
}

int log_reopen(void)
{
    int fd, old;

    if (!log_dest.owns_fd)
        return 0;
    fd = open_file(log_dest.path);
    if (fd < 0)
        return -1;
    /* dup2 swaps the file under the same descriptor number, so a worker writing at this very
     * moment writes to either the old or the new file, never to a closed descriptor. */
    old = log_dest.fd;
    if (dup2(fd, old) < 0) {
        close(fd);
        return -1;
    }
    close(fd);
    return 0;
}

void log_close(void)
{
    if (log_dest.owns_fd)
        close(log_dest.fd);
    else if (log_dest.fd < 0)
        closelog();
    log_dest.fd = STDERR_FILENO;
    log_dest.owns_fd = 0;
    log_dest.path[0] = '\0';
}

int log_is_console(void)
{
    return log_dest.fd == STDOUT_FILENO || log_dest.fd == STDERR_FILENO;
}

int log_enabled(enum log_level level)
{
    return level <= log_dest.level;
}

void log_vmsg(enum log_level level, const char *fmt, va_list ap)
{
    char line[LOG_LINE_MAX];
    struct timeval tv;
    struct tm tm;
    size_t n;
    int r;

    if (!log_enabled(level))
        return;
    if (log_dest.fd < 0) {
        vsnprintf(line, sizeof(line), fmt, ap);
        syslog(level_syslog[level], "%s", line);
        return;
    }
    gettimeofday(&tv, NULL);
    gmtime_r(&tv.tv_sec, &tm);
    n = strftime(line, sizeof(line), "%Y-%m-%dT%H:%M:%S", &tm);
    n += (size_t)snprintf(line + n, sizeof(line) - n, ".%03ldZ %-5s ", (long)tv.tv_usec / 1000,
                          level_names[level]);
    r = vsnprintf(line + n, sizeof(line) - n, fmt, ap);
    if (r < 0)
        r = 0;
    n = (size_t)r >= sizeof(line) - n - 1 ? sizeof(line) - 1 : n + (size_t)r;
    line[n++] = '\n';
    /* One write per line: concurrent lines from several workers never interleave. */
    (void)!write(log_dest.fd, line, n);
}

void log_msg(enum log_level level, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    log_vmsg(level, fmt, ap);
    va_end(ap);
}
