/* test_hex.c — hex digits, strict decoding, encoding. */
#include <string.h>

#include "proto/hex.h"
#include "tests/lib/check.h"

static void digits(void)
{
    const char *ok = "0123456789abcdefABCDEF";

    for (size_t i = 0; ok[i]; i++)
        CHECK(hex_value(ok[i]) == (i < 16 ? (int)i : (int)i - 6));
    CHECK_INT(hex_value('g'), -1);
    CHECK_INT(hex_value(' '), -1);
    CHECK_INT(hex_value('\0'), -1);
}

static void decode(void)
{
    uint8_t out[4];

    CHECK_INT(hex_decode("00ffA17f", 8, out, 4), 0);
    CHECK_MEM(out, "\x00\xff\xa1\x7f", 4);
    CHECK_INT(hex_decode("00ffA17", 7, out, 4), -1);  /* odd */
    CHECK_INT(hex_decode("00ffA17f00", 10, out, 4), -1); /* too long */
    CHECK_INT(hex_decode("00 fA17f", 8, out, 4), -1); /* no separators */
    CHECK_INT(hex_decode("0xffA17f", 8, out, 4), -1);
    CHECK_INT(hex_decode("", 0, out, 0), 0);
}

static void encode(void)
{
    const uint8_t in[] = {0x00, 0x9a, 0xff, 0x10};
    char out[9];
    uint8_t back[4];

    hex_encode(in, 4, out);
    CHECK_STR(out, "009aff10");
    CHECK_INT(hex_decode(out, strlen(out), back, 4), 0);
    CHECK_MEM(back, in, 4);
    hex_encode(in, 0, out);
    CHECK_STR(out, "");
}

int main(void)
{
    RUN(digits);
    RUN(decode);
    RUN(encode);
    return check_summary();
}
