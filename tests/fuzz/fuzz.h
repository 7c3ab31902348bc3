/* fuzz.h — what every libFuzzer target here shares: its entry point and REQUIRE, which turns
 * a broken property into a crash libFuzzer reports with the input. */
#ifndef TESTS_FUZZ_FUZZ_H
#define TESTS_FUZZ_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REQUIRE(c)                                                                           \
    do {                                                                                     \
        if (!(c))                                                                            \
            abort();                                                                         \
    } while (0)

#endif
