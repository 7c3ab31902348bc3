/* hex.h — hexadecimal text and bytes (keys in user lines, turnadmin output, test vectors). */
#ifndef PROTO_HEX_H
#define PROTO_HEX_H

#include <stddef.h>
#include <stdint.h>

/* The value of a hex digit (either case), or -1. */
int hex_value(char c);

/* Decodes exactly 2 * n digits at s (len characters, no separators) into out[0..n).  Returns
 * 0, or -1 when len is not 2 * n or a character is not a hex digit (out is then unspecified). */
int hex_decode(const char *s, size_t len, uint8_t *out, size_t n);

/* Writes the 2 * n lower-case digits of in[0..n) and a NUL into out (2 * n + 1 bytes). */
void hex_encode(const uint8_t *in, size_t n, char *out);

#endif
