/* certs.h — throw-away certificates for the TLS and DTLS tests, made at test time. */
#ifndef TESTS_LIB_CERTS_H
#define TESTS_LIB_CERTS_H

/* A temporary directory holding what etc/make-test-certs.sh makes (a CA and a certificate
 * for 127.0.0.1, ::1 and localhost), plus the files the failure tests need. */
struct certs {
    char dir[64];
    char ca[96];       /* ca.crt */
    char cert[96];     /* server.crt */
    char key[96];      /* server.key */
    char enc_key[96];  /* server.key encrypted with CERTS_PASSWORD */
    char other_key[96]; /* a key that does not match server.crt */
    char combined[96]; /* server.crt and server.key in one file */
};

#define CERTS_PASSWORD "test-pkey-pwd"

/* Makes them (runs etc/make-test-certs.sh, then openssl).  0, or -1 after printing why. */
int certs_make(struct certs *c);

/* Removes the directory. */
void certs_remove(struct certs *c);

#endif
