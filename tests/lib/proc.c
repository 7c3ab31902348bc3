/* proc.c — the server under test as a child process: free ports, temp dir, start, stop by PID. */
#include "tests/lib/proc.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "proto/addr.h"

#define MAX_ARGS 64

long long proc_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static bool port_free_on(const char *ip, int type, uint16_t port)
{
    union addr a;
    int fd, ok;

    addr_parse(&a, ip, port);
    fd = socket(a.sa.sa_family, type, 0);
    if (fd < 0)
        return a.sa.sa_family == AF_INET6; /* no IPv6 here: nothing to collide with */
    ok = bind(fd, &a.sa, addr_len(&a)) == 0;
    close(fd);
    return ok;
}

/* Free for UDP and TCP on every address the server under test may bind. */
static bool free_everywhere(uint16_t port)
{
    return port_free_on("127.0.0.1", SOCK_DGRAM, port) &&
           port_free_on("127.0.0.1", SOCK_STREAM, port) && port_free_on("::1", SOCK_DGRAM, port) &&
           port_free_on("::1", SOCK_STREAM, port) && port_free_on("0.0.0.0", SOCK_DGRAM, port) &&
           port_free_on("0.0.0.0", SOCK_STREAM, port);
}

uint16_t proc_free_port(void)
{
    for (int attempt = 0; attempt < 200; attempt++) {
        union addr a;
        socklen_t len = sizeof(a);
        uint16_t port;
        int fd = socket(AF_INET, SOCK_STREAM, 0);

        addr_parse(&a, "127.0.0.1", 0);
        if (fd < 0 || bind(fd, &a.sa, addr_len(&a)) < 0 || getsockname(fd, &a.sa, &len) < 0) {
            if (fd >= 0)
                close(fd);
            continue;
        }
        close(fd);
        port = addr_port(&a);
        if (port < 65535 && free_everywhere(port) && free_everywhere((uint16_t)(port + 1)))
            return port;
    }
    return 0;
}

const char *proc_server_path(void)
{
    const char *s = getenv("TURNPIKE_SERVER");

    return s && *s ? s : "build/turnserver";
}

bool proc_sanitized(void)
{
    const char *s = getenv("TURNPIKE_SANITIZED");

    return s && strcmp(s, "1") == 0;
}

static int spawn(struct proc *p, char **argv)
{
    char tmpl[] = "/tmp/turnpike-test-XXXXXX";
    int fd;

    if (mkdtemp(tmpl) == NULL)
        return -1;
    snprintf(p->dir, sizeof(p->dir), "%s", tmpl);
    snprintf(p->log, sizeof(p->log), "%s/server.log", p->dir);
    fd = open(p->log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0)
        return -1;
    p->pid = fork();
    if (p->pid < 0) {
        close(fd);
        return -1;
    }
    if (p->pid == 0) {
        dup2(fd, STDOUT_FILENO);
        dup2(fd, STDERR_FILENO);
        if (chdir(p->dir) < 0)
            _exit(126);
        execv(argv[0], argv);
        fprintf(stderr, "exec %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    close(fd);
    return 0;
}

/* An absolute path of the binary: the child runs in its temporary directory. */
static char *binary_path(char *buf, size_t cap)
{
    const char *b = proc_server_path();

    if (b[0] == '/' || realpath(b, buf) == NULL)
        snprintf(buf, cap, "%s", b);
    return buf;
}

int proc_start(struct proc *p, const char *const *args)
{
    return proc_start_conf(p, NULL, args);
}

int proc_start_conf(struct proc *p, const char *conf, const char *const *args)
{
    char bin[4096], portbuf[8], subst[MAX_ARGS][256];
    char *argv[MAX_ARGS + 8];
    int n = 0;

    memset(p, 0, sizeof(*p));
    p->port = proc_free_port();
    snprintf(portbuf, sizeof(portbuf), "%u", p->port);
    argv[n++] = binary_path(bin, sizeof(bin));
    argv[n++] = conf ? "-c" : "-n";
    if (conf)
        argv[n++] = (char *)conf;
    argv[n++] = "--log-file";
    argv[n++] = "stdout";
    argv[n++] = "--listening-port";
    argv[n++] = portbuf;
    for (int i = 0; args && args[i] && i < MAX_ARGS; i++) {
        const char *at = strstr(args[i], "{port}");
        if (at)
            snprintf(subst[i], sizeof(subst[i]), "%.*s%u%s", (int)(at - args[i]), args[i],
                     p->port, at + 6);
        else
            snprintf(subst[i], sizeof(subst[i]), "%s", args[i]);
        argv[n++] = subst[i];
    }
    argv[n] = NULL;
    if (p->port == 0 || spawn(p, argv) < 0) {
        fprintf(stderr, "cannot start %s: %s\n", bin, strerror(errno));
        return -1;
    }
    if (!proc_log_contains(p, "listening on", 10000)) {
        fprintf(stderr, "server did not become ready:\n");
        proc_dump_log(p);
        proc_cleanup(p);
        return -1;
    }
    return 0;
}

static int wait_exit(struct proc *p, int timeout_ms, int *elapsed_ms)
{
    long long start = proc_now_ms();
    int status;

    for (;;) {
        pid_t r = waitpid(p->pid, &status, WNOHANG);
        long long el = proc_now_ms() - start;
        if (r == p->pid) {
            if (elapsed_ms)
                *elapsed_ms = (int)el;
            p->pid = 0;
            return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        }
        if (el > timeout_ms) {
            kill(p->pid, SIGKILL);
            waitpid(p->pid, &status, 0);
            p->pid = 0;
            if (elapsed_ms)
                *elapsed_ms = (int)el;
            return -1;
        }
        usleep(5000);
    }
}

int proc_run(struct proc *p, const char *const *argv, int timeout_ms)
{
    char bin[4096];
    char *av[MAX_ARGS + 1];
    int n = 0, rc;

    memset(p, 0, sizeof(*p));
    av[n++] = binary_path(bin, sizeof(bin));
    for (int i = 1; argv[i] && n < MAX_ARGS; i++)
        av[n++] = (char *)argv[i];
    av[n] = NULL;
    if (spawn(p, av) < 0)
        return -1;
    rc = wait_exit(p, timeout_ms, NULL);
    return rc;
}

static void remove_dir(struct proc *p)
{
    char cmd[128];

    if (p->dir[0] == '\0' || strncmp(p->dir, "/tmp/turnpike-test-", 19) != 0)
        return;
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", p->dir);
    if (system(cmd) != 0)
        fprintf(stderr, "cannot remove %s\n", p->dir);
    p->dir[0] = '\0';
}

int proc_stop(struct proc *p, int sig, int timeout_ms, int *elapsed_ms)
{
    int rc = -1;

    if (p->pid > 0) {
        kill(p->pid, sig);
        rc = wait_exit(p, timeout_ms, elapsed_ms);
    }
    if (rc != 0 && p->log[0])
        proc_dump_log(p);
    return rc;
}

void proc_cleanup(struct proc *p)
{
    if (p->pid > 0)
        proc_stop(p, SIGKILL, 2000, NULL);
    remove_dir(p);
}

bool proc_log_contains(const struct proc *p, const char *needle, int timeout_ms)
{
    long long end = proc_now_ms() + timeout_ms;
    size_t cap = 4 << 20;
    char *buf = malloc(cap);
    bool found = false;

    do {
        FILE *f = fopen(p->log, "r");
        if (f && buf) {
            size_t n = fread(buf, 1, cap - 1, f);
            buf[n] = '\0';
            found = strstr(buf, needle) != NULL;
        }
        if (f)
            fclose(f);
        if (found || (p->pid > 0 && kill(p->pid, 0) < 0))
            break;
        usleep(10000);
    } while (proc_now_ms() < end);
    free(buf);
    return found;
}

long proc_log_number(const struct proc *p, const char *key)
{
    char line[2048];
    long v = -1;
    FILE *f = fopen(p->log, "r");

    if (f == NULL)
        return -1;
    while (fgets(line, sizeof(line), f)) {
        const char *at = strstr(line, key);

        if (at)
            v = strtol(at + strlen(key), NULL, 10);
    }
    fclose(f);
    return v;
}

void proc_dump_log(const struct proc *p)
{
    char line[1024];
    FILE *f = fopen(p->log, "r");

    if (f == NULL)
        return;
    fprintf(stderr, "---- server log (%s)\n", p->log);
    while (fgets(line, sizeof(line), f))
        fprintf(stderr, "| %s", line);
    fprintf(stderr, "----\n");
    fclose(f);
}

long proc_rss_kib(const struct proc *p)
{
    char path[64], line[256];
    long kib = -1;
    FILE *f;

    snprintf(path, sizeof(path), "/proc/%d/status", (int)p->pid);
    f = fopen(path, "r");
    if (f == NULL)
        return -1;
    while (fgets(line, sizeof(line), f))
        if (sscanf(line, "VmRSS: %ld kB", &kib) == 1)
            break;
    fclose(f);
    return kib;
}

int proc_capture(const char *cmd, int timeout_s, char *out, size_t cap)
{
    char full[2048];
    size_t n = 0;
    FILE *f;
    int st;

    snprintf(full, sizeof(full), "timeout -k 2 %d %s 2>&1", timeout_s, cmd);
    f = popen(full, "r");
    if (f == NULL)
        return -1;
    /* Read to the end (a writer that blocks on a full pipe would never finish), sliding the
     * window forward by half whenever it fills. */
    for (;;) {
        size_t r;
        if (n + 1 == cap) {
            memmove(out, out + cap / 2, n - cap / 2);
            n -= cap / 2;
        }
        r = fread(out + n, 1, cap - 1 - n, f);
        if (r == 0)
            break;
        n += r;
    }
    out[n] = '\0';
    st = pclose(f);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}
