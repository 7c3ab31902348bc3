/* hex.h — test helper: hex text ("00 01 a1 47", spaces and newlines allowed) to bytes. */
#ifndef TESTS_LIB_HEX_H
#define TESTS_LIB_HEX_H

#include <stddef.h>
#include <stdint.h>

/* Writes the bytes spelled by hex into out (capacity cap), skipping whitespace.  Returns the
 * number of bytes, or (size_t)-1 on a non-hex character, an odd digit count or a small cap. */
size_t hex_parse(const char *hex, uint8_t *out, size_t cap);

#endif
