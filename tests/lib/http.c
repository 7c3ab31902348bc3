/* http.c — the HTTP side of the server under test: GET a page, read a metric from it. */
#include "tests/lib/http.h"

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tests/lib/client.h"
#include "tests/lib/proc.h"

#define HTTP_ANSWER_MAX (256 * 1024)

/* Reads until the server closes (HTTP/1.0) or the deadline; returns the bytes read, or -1. */
static ssize_t read_to_end(int fd, char *buf, size_t cap, long long deadline)
{
    size_t got = 0;

    while (got < cap) {
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        long long left = deadline - proc_now_ms();
        ssize_t n;

        if (left <= 0 || poll(&pfd, 1, (int)left) != 1)
            return -1;
        n = recv(fd, buf + got, cap - got, 0);
        if (n < 0)
            return -1;
        if (n == 0)
            return (ssize_t)got;
        got += (size_t)n;
    }
    return -1;
}

int http_get(const char *ip, uint16_t port, const char *path, char *body, size_t cap,
             int timeout_ms)
{
    char req[256], *answer = malloc(HTTP_ANSWER_MAX + 1), *start;
    int fd = client_connect(SOCK_STREAM, ip, port, NULL), status = -1;
    ssize_t n;

    if (cap > 0)
        body[0] = '\0';
    if (fd < 0 || answer == NULL)
        goto out;
    snprintf(req, sizeof(req), "GET %s HTTP/1.0\r\nHost: %s\r\n\r\n", path, ip);
    if (client_send_all(fd, req, strlen(req)) < 0)
        goto out;
    n = read_to_end(fd, answer, HTTP_ANSWER_MAX, proc_now_ms() + timeout_ms);
    if (n < 0)
        goto out;
    answer[n] = '\0';
    start = strstr(answer, "\r\n\r\n");
    if (sscanf(answer, "HTTP/1.%*d %d", &status) != 1 || start == NULL) {
        status = -1;
        goto out;
    }
    snprintf(body, cap, "%s", start + 4);
out:
    if (fd >= 0)
        close(fd);
    free(answer);
    return status;
}

double http_metric(const char *page, const char *series)
{
    size_t len = strlen(series);

    for (const char *line = page; line != NULL; line = strchr(line, '\n')) {
        line += *line == '\n';
        if (strncmp(line, series, len) == 0 && line[len] == ' ')
            return strtod(line + len + 1, NULL);
    }
    return -1;
}
