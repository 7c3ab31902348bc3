/* redis.c — a redis-server child for the tests, and a blocking hiredis client to it. */
#include "tests/lib/redis.h"

#include <errno.h>
#include <fcntl.h>
#include <hiredis/hiredis.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/lib/proc.h"

#define MAX_WORDS 16

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Appends reply to out as redis_cmd() describes. */
static void render(const redisReply *x, char *out, size_t cap)
{
    size_t n = strlen(out);
    char **v;

    switch (x->type) {
    case REDIS_REPLY_INTEGER:
        snprintf(out + n, cap - n, "%lld", x->integer);
        return;
    case REDIS_REPLY_NIL:
        snprintf(out + n, cap - n, "(nil)");
        return;
    case REDIS_REPLY_ARRAY:
        v = calloc(x->elements + 1, sizeof *v);
        for (size_t i = 0; v && i < x->elements; i++)
            v[i] = x->element[i]->str ? x->element[i]->str : "(nil)";
        if (v)
            qsort(v, x->elements, sizeof *v, cmp_str);
        for (size_t i = 0; v && i < x->elements; i++) {
            n = strlen(out);
            snprintf(out + n, cap - n, "%s%s", i ? "\n" : "", v[i]);
        }
        free(v);
        return;
    default:
        snprintf(out + n, cap - n, "%s", x->str ? x->str : "");
        return;
    }
}

int redis_cmd(const struct redis_srv *r, char *out, size_t cap, ...)
{
    struct timeval tv = {.tv_sec = 2};
    const char *argv[MAX_WORDS];
    redisContext *c = redisConnectWithTimeout("127.0.0.1", r->port, tv);
    redisReply *x = NULL;
    va_list ap;
    int n = 0;

    out[0] = '\0';
    va_start(ap, cap);
    while (n < MAX_WORDS && (argv[n] = va_arg(ap, const char *)) != NULL)
        n++;
    va_end(ap);
    if (c != NULL && !c->err) {
        redisSetTimeout(c, tv);
        x = redisCommandArgv(c, n, argv, NULL);
    }
    if (x != NULL)
        render(x, out, cap);
    if (x)
        freeReplyObject(x);
    if (c)
        redisFree(c);
    return x != NULL ? 0 : -1;
}

static int spawn(struct redis_srv *r)
{
    char port[8], log[96];
    int fd;

    snprintf(port, sizeof port, "%u", r->port);
    snprintf(log, sizeof log, "%s/redis.log", r->dir);
    fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
    r->pid = fork();
    if (r->pid < 0)
        return -1;
    if (r->pid == 0) {
        dup2(fd, STDOUT_FILENO);
        dup2(fd, STDERR_FILENO);
        execlp("redis-server", "redis-server", "--port", port, "--bind", "127.0.0.1",
               "--dir", r->dir, "--save", "", "--appendonly", "no", "--protected-mode", "no",
               (char *)NULL);
        fprintf(stderr, "exec redis-server: %s\n", strerror(errno));
        _exit(127);
    }
    if (fd >= 0)
        close(fd);
    for (long long end = proc_now_ms() + 5000; proc_now_ms() < end; usleep(20000)) {
        char pong[16];
        if (redis_cmd(r, pong, sizeof pong, "PING", NULL) == 0 && strcmp(pong, "PONG") == 0)
            return 0;
        if (waitpid(r->pid, NULL, WNOHANG) == r->pid) {
            r->pid = 0;
            break;
        }
    }
    fprintf(stderr, "redis-server did not start on port %u (see %s)\n", r->port, log);
    return -1;
}

int redis_start(struct redis_srv *r)
{
    return redis_start_on(r, proc_free_port());
}

int redis_start_on(struct redis_srv *r, uint16_t port)
{
    char tmpl[] = "/tmp/turnpike-redis-XXXXXX";

    memset(r, 0, sizeof *r);
    if (mkdtemp(tmpl) == NULL)
        return -1;
    snprintf(r->dir, sizeof r->dir, "%s", tmpl);
    r->port = port;
    snprintf(r->conn, sizeof r->conn, "host=127.0.0.1 port=%u dbname=0", r->port);
    return spawn(r);
}

static void reap(struct redis_srv *r, int sig, int ms)
{
    if (r->pid <= 0)
        return;
    kill(r->pid, sig);
    for (int waited = 0; waited < ms; waited += 10) {
        if (waitpid(r->pid, NULL, WNOHANG) == r->pid) {
            r->pid = 0;
            return;
        }
        usleep(10000);
    }
    kill(r->pid, SIGKILL);
    waitpid(r->pid, NULL, 0);
    r->pid = 0;
}

void redis_kill(struct redis_srv *r)
{
    reap(r, SIGKILL, 2000);
}

int redis_restart(struct redis_srv *r)
{
    reap(r, SIGKILL, 2000);
    return spawn(r);
}

void redis_stop(struct redis_srv *r)
{
    char cmd[128];

    reap(r, SIGTERM, 2000);
    if (strncmp(r->dir, "/tmp/turnpike-redis-", 20) == 0) {
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", r->dir);
        if (system(cmd) != 0)
            fprintf(stderr, "cannot remove %s\n", r->dir);
    }
    r->dir[0] = '\0';
}

const char *redis_turnadmin_path(void)
{
    static char path[PATH_MAX];
    char server[PATH_MAX];

    if (realpath(proc_server_path(), server) == NULL)
        snprintf(server, sizeof server, "%s", proc_server_path());
    snprintf(path, sizeof path, "%s/turnadmin", dirname(server));
    return path;
}

int redis_admin(const char *tool, char *out, size_t cap, ...)
{
    char cmd[2048];
    size_t n = (size_t)snprintf(cmd, sizeof cmd, "'%s'", tool);
    const char *w;
    va_list ap;

    va_start(ap, cap);
    while ((w = va_arg(ap, const char *)) != NULL && n < sizeof cmd - 4) {
        n += (size_t)snprintf(cmd + n, sizeof cmd - n, " '");
        for (; *w && n < sizeof cmd - 6; w++)
            n += (size_t)snprintf(cmd + n, sizeof cmd - n, *w == '\'' ? "'\\''" : "%c", *w);
        n += (size_t)snprintf(cmd + n, sizeof cmd - n, "'");
    }
    va_end(ap);
    return proc_capture(cmd, 10, out, cap);
}
