/* certs.c — throw-away certificates for the TLS and DTLS tests, made at test time. */
#include "tests/lib/certs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/lib/proc.h"

static int run(const char *cmd)
{
    char out[2048];

    if (proc_capture(cmd, 30, out, sizeof(out)) == 0)
        return 0;
    fprintf(stderr, "certs: '%s' failed:\n%s\n", cmd, out);
    return -1;
}

int certs_make(struct certs *c)
{
    char cmd[512];

    memset(c, 0, sizeof(*c));
    snprintf(c->dir, sizeof(c->dir), "/tmp/turnpike-certs-XXXXXX");
    if (mkdtemp(c->dir) == NULL) {
        perror("certs: mkdtemp");
        return -1;
    }
    snprintf(c->ca, sizeof(c->ca), "%s/ca.crt", c->dir);
    snprintf(c->cert, sizeof(c->cert), "%s/server.crt", c->dir);
    snprintf(c->key, sizeof(c->key), "%s/server.key", c->dir);
    snprintf(c->enc_key, sizeof(c->enc_key), "%s/server-enc.key", c->dir);
    snprintf(c->other_key, sizeof(c->other_key), "%s/other.key", c->dir);
    snprintf(c->combined, sizeof(c->combined), "%s/combined.pem", c->dir);
    snprintf(cmd, sizeof(cmd), "etc/make-test-certs.sh %s", c->dir);
    if (run(cmd) < 0)
        return -1;
    snprintf(cmd, sizeof(cmd), "openssl pkey -in %s -aes256 -passout pass:%s -out %s", c->key,
             CERTS_PASSWORD, c->enc_key);
    if (run(cmd) < 0)
        return -1;
    snprintf(cmd, sizeof(cmd), "openssl genpkey -algorithm EC -pkeyopt "
             "ec_paramgen_curve:prime256v1 -out %s", c->other_key);
    if (run(cmd) < 0)
        return -1;
    snprintf(cmd, sizeof(cmd), "cat %s %s > %s", c->cert, c->key, c->combined);
    return run(cmd);
}

void certs_remove(struct certs *c)
{
    char cmd[128];

    if (strncmp(c->dir, "/tmp/turnpike-certs-", 20) != 0)
        return;
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", c->dir);
    if (system(cmd) != 0)
        fprintf(stderr, "certs: cannot remove %s\n", c->dir);
    c->dir[0] = '\0';
}
