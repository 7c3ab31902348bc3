/* hex.c — test helper: hex text to bytes. */
#include "tests/lib/hex.h"

#include "proto/hex.h"


size_t hex_parse(const char *hex, uint8_t *out, size_t cap)
{
    size_t n = 0;
    int hi = -1;

    for (; *hex != '\0'; hex++) {
        if (*hex == ' ' || *hex == '\n' || *hex == '\t')
            continue;
        int d = hex_value(*hex);
        if (d < 0)
            return (size_t)-1;
        if (hi < 0) {
            hi = d;
            continue;
        }
        if (n == cap)
            return (size_t)-1;
        out[n++] = (uint8_t)(hi << 4 | d);
        hi = -1;
    }
    return hi < 0 ? n : (size_t)-1;
}
