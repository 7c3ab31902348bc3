/* err.h — auth/'s one way of saying why: a message formatted into the caller's buffer. */
#ifndef AUTH_ERR_H
#define AUTH_ERR_H

#include <stddef.h>

/* Writes the message into err (capacity errlen; err may be NULL or errlen 0: nothing is
 * written) and returns -1, so that a failing function can end with "return auth_err(...)". */
int auth_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
