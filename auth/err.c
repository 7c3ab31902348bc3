/* err.c — auth/'s one way of saying why: a message formatted into the caller's buffer. */
#include "auth/err.h"

#include <stdarg.h>
#include <stdio.h>

int auth_err(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;

    if (err != NULL && errlen > 0) {
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return -1;
}
