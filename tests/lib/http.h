/* http.h — the HTTP side of the server under test: GET a page, read a metric from it. */
#ifndef TESTS_LIB_HTTP_H
#define TESTS_LIB_HTTP_H

#include <stddef.h>
#include <stdint.h>

/* Sends "GET path HTTP/1.0" to ip:port and reads the answer to its end within timeout_ms.
 * Returns the status code with the body (NUL-terminated, cut to cap - 1 bytes) in body, or
 * -1 when nothing well-formed came back. */
int http_get(const char *ip, uint16_t port, const char *path, char *body, size_t cap,
             int timeout_ms);

/* The value of the sample series (name and labels as the page writes them:
 * "turnpike_relayed_bytes_total{direction=\"client_to_peer\"}") in a Prometheus text page,
 * or -1 when the page has no such line. */
double http_metric(const char *page, const char *series);

#endif
