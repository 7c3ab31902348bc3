/* test_stun_malformed.c — a table of malformed messages, each with the exact status it earns. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/stun.h"
#include "tests/lib/check.h"
#include "tests/lib/hex.h"

#define COOKIE "2112a442"
#define TID "000102030405060708090a0b"
/* A header of type t and length l (4 hex digits each). */
#define HDR(t, l) t l COOKIE TID
#define REQ(l) HDR("0001", l)
#define MI_ZERO "0008 0014 0000000000000000000000000000000000000000"

/* hex, then fill bytes of 'a' appended (for long values), the decode flags and the status.
 * The header's length field is written out by hand and includes the fill. */
struct bad_msg {
    const char *name;
    const char *hex;
    size_t fill;
    unsigned flags;
    int want;
};

static const struct bad_msg table[] = {
    /* The header: STUN_E_SHORT .. STUN_E_LEN_MISMATCH mean "not STUN". */
    {"empty", "", 0, 0, STUN_E_SHORT},
    {"19 bytes", "0001 0000" COOKIE "0001020304050607080910", 0, 0, STUN_E_SHORT},
    {"first bits 01 (ChannelData)", HDR("4001", "0000"), 0, 0, STUN_E_FIRST_BITS},
    {"first bits 10", HDR("8001", "0000"), 0, 0, STUN_E_FIRST_BITS},
    {"first bits 11 (RTP-like)", HDR("c001", "0000"), 0, 0, STUN_E_FIRST_BITS},
    {"wrong cookie", "0001 0000 2112a443" TID, 0, 0, STUN_E_COOKIE},
    {"RFC 3489 message without the flag", "0001 0000 00112233" TID, 0, 0, STUN_E_COOKIE},
    {"length 2", REQ("0002") "0000", 0, 0, STUN_E_LEN_ALIGN},
    {"length 3 with the 3489 flag", "0001 0003 00112233" TID "000000", 0, STUN_DECODE_ALLOW_3489,
     STUN_E_LEN_ALIGN},
    {"length past the end", REQ("0008") "8022 0000", 0, 0, STUN_E_LEN_MISMATCH},
    {"bytes beyond the length", REQ("0000") "8022 0000", 0, 0, STUN_E_LEN_MISMATCH},
    {"length 0xfffc, 4 bytes", REQ("fffc") "8022 0000", 0, 0, STUN_E_LEN_MISMATCH},

    /* Bounds of every attribute, even those that would be ignored. */
    {"value past the end", REQ("0008") "8022 0005 61626364", 0, 0, STUN_E_ATTR_TRUNC},
    {"length 0xffff", REQ("0008") "0006 ffff 61626364", 0, 0, STUN_E_ATTR_TRUNC},
    {"unknown optional past the end", REQ("0008") "c0de 0008 61626364", 0, 0, STUN_E_ATTR_TRUNC},
    {"ignored after MI, past the end", REQ("0020") MI_ZERO "8022 0008 61626364", 0, 0,
     STUN_E_ATTR_TRUNC},
    {"second attribute past the end", REQ("000c") "8022 0000 0006 0008 61626364", 0, 0,
     STUN_E_ATTR_TRUNC},

    /* Lengths the descriptor table forbids. */
    {"MAPPED-ADDRESS 4", REQ("0008") "0001 0004 00011234", 0, 0, STUN_E_ATTR_LEN},
    {"XOR-MAPPED-ADDRESS 12", REQ("0010") "0020 000c 0001123401020304 05060708", 0, 0,
     STUN_E_ATTR_LEN},
    {"XOR-PEER-ADDRESS 24", REQ("001c") "0012 0018 0002123400000000000000000000000000000000 "
                                        "00000000",
     0, 0, STUN_E_ATTR_LEN},
    {"USERNAME 764", REQ("0300") "0006 02fc", 764, 0, STUN_E_ATTR_LEN},
    {"REALM 764", REQ("0300") "0014 02fc", 764, 0, STUN_E_ATTR_LEN},
    {"NONCE 764", REQ("0300") "0015 02fc", 764, 0, STUN_E_ATTR_LEN},
    {"SOFTWARE 764", REQ("0300") "8022 02fc", 764, 0, STUN_E_ATTR_LEN},
    {"MESSAGE-INTEGRITY 16", REQ("0014") "0008 0010 00000000000000000000000000000000", 0, 0,
     STUN_E_ATTR_LEN},
    {"MESSAGE-INTEGRITY-SHA256 12", REQ("0010") "001c 000c 000000000000000000000000", 0, 0,
     STUN_E_ATTR_LEN},
    {"MESSAGE-INTEGRITY-SHA256 36", REQ("0028") "001c 0024", 36, 0, STUN_E_ATTR_LEN},
    {"MESSAGE-INTEGRITY-SHA256 18", REQ("0018") "001c 0012", 20, 0, STUN_E_ATTR_LEN},
    {"FINGERPRINT 8", REQ("000c") "8028 0008 0000000000000000", 0, 0, STUN_E_ATTR_LEN},
    {"USERHASH 31", REQ("0024") "001e 001f", 32, 0, STUN_E_ATTR_LEN},
    {"ERROR-CODE 3", HDR("0111", "0008") "0009 0003 00000400", 0, 0, STUN_E_ATTR_LEN},
    {"ERROR-CODE reason 764", HDR("0111", "0304") "0009 0300 00000400", 764, 0, STUN_E_ATTR_LEN},
    {"UNKNOWN-ATTRIBUTES 3", HDR("0111", "0008") "000a 0003 00010200", 0, 0, STUN_E_ATTR_LEN},
    {"LIFETIME 2", HDR("0003", "0008") "000d 0002 00000000", 0, 0, STUN_E_ATTR_LEN},
    {"CHANNEL-NUMBER 8", HDR("0009", "000c") "000c 0008 4000000000000000", 0, 0,
     STUN_E_ATTR_LEN},
    {"REQUESTED-TRANSPORT 1", HDR("0003", "0008") "0019 0001 11000000", 0, 0, STUN_E_ATTR_LEN},
    {"EVEN-PORT 4", HDR("0003", "0008") "0018 0004 80000000", 0, 0, STUN_E_ATTR_LEN},
    {"DONT-FRAGMENT 4", HDR("0003", "0008") "001a 0004 00000000", 0, 0, STUN_E_ATTR_LEN},
    {"RESERVATION-TOKEN 4", HDR("0003", "0008") "0022 0004 00000000", 0, 0, STUN_E_ATTR_LEN},
    {"ICE-CONTROLLING 4", REQ("0008") "802a 0004 00000000", 0, 0, STUN_E_ATTR_LEN},
    {"ICMP 4", HDR("0017", "0008") "8004 0004 00000000", 0, 0, STUN_E_ATTR_LEN},
    {"CONNECTION-ID 8", HDR("000b", "000c") "002a 0008 0000000000000000", 0, 0, STUN_E_ATTR_LEN},
    {"PASSWORD-ALGORITHMS 0", HDR("0111", "0004") "8002 0000", 0, 0, STUN_E_ATTR_LEN},
    {"PASSWORD-ALGORITHM 6", REQ("000c") "001d 0006 0002 0002 aabb 0000", 0, 0, STUN_E_ATTR_LEN},
    {"ALTERNATE-DOMAIN 256", HDR("0111", "0104") "8003 0100", 256, 0, STUN_E_ATTR_LEN},
    {"USE-CANDIDATE 4", REQ("0008") "0025 0004 00000000", 0, 0, STUN_E_ATTR_LEN},
    {"ADDRESS-ERROR-CODE 2", HDR("0103", "0008") "8001 0002 01000000", 0, 0, STUN_E_ATTR_LEN},

    /* Values the kinds forbid. */
    {"XOR-MAPPED-ADDRESS family 3", REQ("000c") "0020 0008 0003123401020304", 0, 0,
     STUN_E_ATTR_VALUE},
    {"MAPPED-ADDRESS family 2 in 8 bytes", REQ("000c") "0001 0008 0002123401020304", 0, 0,
     STUN_E_ATTR_VALUE},
    {"XOR-RELAYED-ADDRESS family 1 in 20", HDR("0103", "0018") "0016 0014 0001123400000000"
                                                               "0000000000000000 00000000",
     0, 0, STUN_E_ATTR_VALUE},
    {"ERROR-CODE class 2", HDR("0111", "0008") "0009 0004 00000200", 0, 0, STUN_E_ATTR_VALUE},
    {"ERROR-CODE class 7", HDR("0111", "0008") "0009 0004 00000700", 0, 0, STUN_E_ATTR_VALUE},
    {"ERROR-CODE number 100", HDR("0111", "0008") "0009 0004 00000464", 0, 0, STUN_E_ATTR_VALUE},
    {"ADDRESS-ERROR-CODE family 3", HDR("0113", "0008") "8001 0004 03000508", 0, 0,
     STUN_E_ATTR_VALUE},
    {"PASSWORD-ALGORITHMS params past the end", HDR("0111", "0008") "8002 0004 00010004", 0, 0,
     STUN_E_ATTR_VALUE},
    {"PASSWORD-ALGORITHMS params unpadded", HDR("0111", "000c") "8002 0008 00010005 aabbccdd", 0,
     0, STUN_E_ATTR_VALUE},
    {"PASSWORD-ALGORITHM with two entries", REQ("000c") "001d 0008 00010000 00020000", 0, 0,
     STUN_E_ATTR_VALUE},

    /* Structure. */
    {"attribute after FINGERPRINT", REQ("0010") "8028 0004 00000000 8022 0004 61626364", 0, 0,
     STUN_E_AFTER_FINGERPRINT},
    {"ignored attribute after FINGERPRINT", REQ("0024") MI_ZERO "8028 0004 00000000 8022 0000", 0,
     0, STUN_E_AFTER_FINGERPRINT},
    {"wrong FINGERPRINT", REQ("0008") "8028 0004 00000000", 0, 0, STUN_E_FINGERPRINT},
    {"wrong FINGERPRINT beats a bad attribute", REQ("0010") "0001 0004 00011234 8028 0004 "
                                                             "00000000",
     0, 0, STUN_E_FINGERPRINT},
    {"Send request", HDR("0006", "0000"), 0, 0, STUN_E_BAD_CLASS},
    {"Data success response", HDR("0107", "0000"), 0, 0, STUN_E_BAD_CLASS},
    {"Allocate indication", HDR("0013", "0000"), 0, 0, STUN_E_BAD_CLASS},
    {"CreatePermission indication", HDR("0018", "0000"), 0, 0, STUN_E_BAD_CLASS},
    {"ConnectionAttempt request", HDR("000c", "0000"), 0, 0, STUN_E_BAD_CLASS},

    /* Close calls that are fine. */
    {"ignored after MI: bad length is fine", REQ("0020") MI_ZERO "0001 0004 00011234", 0, 0,
     STUN_OK},
    {"duplicate with a bad value is ignored", HDR("0003", "0010") "000d 0004 00000258 000d 0002 "
                                                                  "00000000",
     0, 0, STUN_OK},
    {"unknown comprehension-required type", REQ("0008") "7777 0003 61626300", 0, 0, STUN_OK},
    {"USERNAME 763", REQ("0300") "0006 02fb", 764, 0, STUN_OK},
    {"nonzero padding", REQ("0008") "8022 0001 61ffffff", 0, 0, STUN_OK},
    {"RFC 3489 with the flag", "0001 0000 00112233" TID, 0, STUN_DECODE_ALLOW_3489, STUN_OK},
};

static void test_table(void)
{
    uint8_t *buf = malloc(2048);
    struct stun_msg m;

    if (!CHECK(buf != NULL))
        return;
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
        const struct bad_msg *t = &table[i];
        size_t n = hex_parse(t->hex, buf, 2048);
        if (!CHECK(n != (size_t)-1 && n + t->fill <= 2048))
            continue;
        memset(buf + n, 'a', t->fill);
        /* Copied to an exact-size heap block, so ASan sees any read past the end. */
        uint8_t *exact = malloc(n + t->fill + 1);
        memcpy(exact, buf, n + t->fill);
        int rc = stun_msg_decode(&m, exact, n + t->fill, t->flags);
        if (!CHECK_INT(rc, t->want))
            fprintf(stderr, "    in \"%s\": %s\n", t->name, stun_strerror(rc));
        free(exact);
    }
    free(buf);
}

static void test_table_is_large(void)
{
    size_t bad = 0;

    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
        bad += table[i].want != STUN_OK;
    CHECK(bad >= 40);
}

/* stun_status_is_garbage splits the statuses as stun.h says: header errors and a wrong
 * FINGERPRINT mean "drop", attribute errors mean "answer 400". */
static void test_garbage_split(void)
{
    static const int drop[] = {STUN_E_SHORT,     STUN_E_FIRST_BITS,   STUN_E_COOKIE,
                               STUN_E_LEN_ALIGN, STUN_E_LEN_MISMATCH, STUN_E_FINGERPRINT};
    static const int answer[] = {STUN_E_ATTR_TRUNC, STUN_E_ATTR_LEN, STUN_E_ATTR_VALUE,
                                 STUN_E_TOO_MANY_ATTRS, STUN_E_AFTER_FINGERPRINT,
                                 STUN_E_BAD_CLASS};

    for (size_t i = 0; i < sizeof drop / sizeof drop[0]; i++)
        CHECK(stun_status_is_garbage(drop[i]));
    for (size_t i = 0; i < sizeof answer / sizeof answer[0]; i++)
        CHECK(!stun_status_is_garbage(answer[i]));
    CHECK(!stun_status_is_garbage(STUN_OK));
}

/* Every status has its own description. */
static void test_strerror(void)
{
    static const int all[] = {
        STUN_OK,           STUN_E_SHORT,          STUN_E_FIRST_BITS,        STUN_E_COOKIE,
        STUN_E_LEN_ALIGN,  STUN_E_LEN_MISMATCH,   STUN_E_FINGERPRINT,       STUN_E_ATTR_TRUNC,
        STUN_E_ATTR_LEN,   STUN_E_ATTR_VALUE,     STUN_E_TOO_MANY_ATTRS,    STUN_E_AFTER_FINGERPRINT,
        STUN_E_BAD_CLASS,  STUN_E_NOSPACE,        STUN_E_NO_INTEGRITY,      STUN_E_INTEGRITY,
        STUN_E_INCOMPLETE, STUN_E_NOT_FRAME,      STUN_E_CHANNEL,           STUN_E_CRYPTO,
        STUN_E_ABSENT,
    };
    size_t n = sizeof all / sizeof all[0];

    for (size_t i = 0; i < n; i++) {
        CHECK(strcmp(stun_strerror(all[i]), "unknown error") != 0);
        for (size_t j = 0; j < i; j++)
            CHECK(strcmp(stun_strerror(all[i]), stun_strerror(all[j])) != 0);
    }
    CHECK_STR(stun_strerror(-99), "unknown error");
}

/* On an attribute error the header is decoded, so that a 400 can be sent, and err_attr
 * names the culprit. */
static void test_attr_error_keeps_header(void)
{
    uint8_t buf[64];
    struct stun_msg m;
    size_t n = hex_parse(HDR("0003", "0010") "000d 0004 00000258 0019 0001 11000000", buf,
                         sizeof buf);

    CHECK_INT(stun_msg_decode(&m, buf, n, 0), STUN_E_ATTR_LEN);
    CHECK_INT(m.method, STUN_METHOD_ALLOCATE);
    CHECK_INT(m.cls, STUN_CLASS_REQUEST);
    CHECK_INT(m.tid[11], 0x0b);
    CHECK_INT(m.err_attr, STUN_ATTR_REQUESTED_TRANSPORT);
}

/* Every truncation of a valid message is refused with a header or bounds status, and never
 * read past (the buffer is exactly as long as the prefix). */
static void test_every_prefix(void)
{
    uint8_t full[64];
    struct stun_msg m;
    size_t n = hex_parse(REQ("001c") "8022 0003 616263ff 0020 0008 0001a1470e1ea643 8028 0004 "
                                     "00000000",
                         full, sizeof full);

    for (size_t len = 0; len < n; len++) {
        uint8_t *p = malloc(len + 1);
        memcpy(p, full, len);
        int rc = stun_msg_decode(&m, p, len, 0);
        CHECK_INT(rc, len < STUN_HEADER_LEN ? STUN_E_SHORT : STUN_E_LEN_MISMATCH);
        free(p);
    }
}

int main(void)
{
    RUN(test_table);
    RUN(test_table_is_large);
    RUN(test_garbage_split);
    RUN(test_strerror);
    RUN(test_attr_error_keeps_header);
    RUN(test_every_prefix);
    return check_summary();
}
