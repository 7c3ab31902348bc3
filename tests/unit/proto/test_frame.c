/* test_frame.c — demultiplexing, ChannelData, stream framing and zero-copy relay framing. */
#include <stdlib.h>
#include <string.h>

#include "proto/frame.h"
#include "proto/stun_build.h"
#include "tests/lib/check.h"

static const uint8_t tid[STUN_TID_LEN] = {1, 1, 2, 3, 5, 8, 13, 21, 34, 55, 89, 144};

static void test_demux(void)
{
    static const struct {
        int lo, hi;
        enum frame_kind kind;
    } ranges[] = {
        {0, 3, FRAME_STUN},       {4, 19, FRAME_OTHER},     {20, 63, FRAME_DTLS},
        {64, 127, FRAME_CHANDATA}, {128, 255, FRAME_OTHER},
    };

    for (size_t i = 0; i < sizeof ranges / sizeof ranges[0]; i++) {
        for (int b = ranges[i].lo; b <= ranges[i].hi; b++)
            CHECK_INT(frame_demux((uint8_t)b), ranges[i].kind);
    }
}

static void test_chandata_parse(void)
{
    uint8_t buf[16] = {0x40, 0x00, 0x00, 0x05, 'h', 'e', 'l', 'l', 'o', 0, 0, 0};
    uint16_t chan = 0;
    size_t dlen = 0;

    CHECK_INT(frame_chandata_parse(buf, 9, &chan, &dlen), 0);
    CHECK_INT(chan, 0x4000);
    CHECK_INT(dlen, 5);
    CHECK_INT(frame_chandata_parse(buf, 12, &chan, &dlen), 0); /* padding after is fine */
    CHECK_INT(frame_chandata_parse(buf, 8, &chan, &dlen), STUN_E_SHORT);
    CHECK_INT(frame_chandata_parse(buf, 3, &chan, &dlen), STUN_E_SHORT);
    CHECK_INT(frame_chandata_parse(buf, 0, &chan, &dlen), STUN_E_SHORT);
    /* The wire range is 0x4000-0x7FFF; 0x5000 and up are reserved but still ChannelData. */
    static const struct {
        uint16_t chan;
        int want;
    } chans[] = {{0x3fff, STUN_E_CHANNEL}, {0x4fff, 0}, {0x5000, 0}, {0x7fff, 0},
                 {0x8000, STUN_E_CHANNEL}, {0x0001, STUN_E_CHANNEL}};
    for (size_t i = 0; i < sizeof chans / sizeof chans[0]; i++) {
        frame_chandata_hdr(buf, chans[i].chan, 0);
        CHECK_INT(frame_chandata_parse(buf, 4, &chan, &dlen), chans[i].want);
    }
    frame_chandata_hdr(buf, 0x4abc, 0x1234);
    CHECK_MEM(buf, "\x4a\xbc\x12\x34", 4);
}

/* A byte stream made of: a STUN message, a padded ChannelData, an empty one, another STUN. */
static size_t make_stream(uint8_t *s, size_t cap, size_t *lens)
{
    struct stun_builder b;
    size_t n = 0, len = 0;

    stun_build_start(&b, s, cap, stun_type(STUN_METHOD_REFRESH, 0), tid);
    stun_build_u32(&b, STUN_ATTR_LIFETIME, 0);
    stun_build_fingerprint(&b);
    stun_build_end(&b, &len);
    lens[0] = len;
    n += len;
    frame_chandata_hdr(s + n, 0x4001, 5);
    memcpy(s + n + 4, "hello\0\0\0", 8);
    lens[1] = 12;
    n += 12;
    frame_chandata_hdr(s + n, 0x7000, 0);
    lens[2] = 4;
    n += 4;
    stun_build_start(&b, s + n, cap - n, 0x0001, tid);
    stun_build_str(&b, STUN_ATTR_SOFTWARE, "x");
    stun_build_end(&b, &len);
    lens[3] = len;
    return n + len;
}

static void test_stream_concatenated(void)
{
    uint8_t s[256];
    size_t lens[4], total = make_stream(s, sizeof s, lens), off = 0;
    struct stun_msg m;

    for (int i = 0; i < 4; i++) {
        int n = frame_stream_len(s + off, total - off);
        if (!CHECK_INT(n, lens[i]))
            return;
        if (i == 0 || i == 3) {
            CHECK_INT(stun_msg_decode(&m, s + off, (size_t)n, 0), STUN_OK);
        } else {
            uint16_t chan;
            size_t dlen;
            CHECK_INT(frame_chandata_parse(s + off, (size_t)n, &chan, &dlen), 0);
            CHECK_INT(dlen, i == 1 ? 5 : 0);
        }
        off += (size_t)n;
    }
    CHECK_INT(off, total);
    CHECK_INT(frame_stream_len(s + off, 0), STUN_E_INCOMPLETE);
}

/* The answer comes from the header alone: before it is complete, INCOMPLETE; from then on,
 * the frame's whole length, whether or not its body has arrived. */
static void test_stream_partial(void)
{
    uint8_t s[256];
    size_t lens[4], total = make_stream(s, sizeof s, lens);

    for (size_t avail = 0; avail <= lens[0]; avail++) {
        uint8_t *p = malloc(avail + 1); /* exact, for ASan */
        memcpy(p, s, avail);
        CHECK_INT(frame_stream_len(p, avail), avail < 20 ? STUN_E_INCOMPLETE : (int)lens[0]);
        free(p);
    }
    for (size_t avail = 0; avail <= lens[1]; avail++) {
        CHECK_INT(frame_stream_len(s + lens[0], avail),
                  avail < 4 ? STUN_E_INCOMPLETE : (int)lens[1]);
    }
    CHECK(total > lens[0]);
}

static void test_stream_not_a_frame(void)
{
    static const struct {
        const char *bytes;
        size_t n;
        int want;
    } cases[] = {
        {"\x80", 1, STUN_E_NOT_FRAME},                 /* RTP */
        {"\x16\x03\x01\x02\x00\x01\x00\x01", 8, STUN_E_NOT_FRAME}, /* a TLS ClientHello */
        {"\xc0\x00\x00\x00", 4, STUN_E_NOT_FRAME},
        {"\x00\x01\x00\x02", 4, STUN_E_NOT_FRAME},     /* length not a multiple of 4 */
        {"\x00\x01\x00\x00\x21\x13", 6, STUN_E_NOT_FRAME}, /* cookie wrong by its 2nd byte */
        {"\x00\x01\x00\x00\x21\x12\xa4", 7, STUN_E_INCOMPLETE},
        {"\x00\x01\x00", 3, STUN_E_INCOMPLETE},
        {"\x41", 1, STUN_E_INCOMPLETE},
        {"\x7f\xff\xff\xff", 4, 4 + 0x10000},          /* the longest ChannelData */
    };

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        CHECK_INT(frame_stream_len((const uint8_t *)cases[i].bytes, cases[i].n), cases[i].want);
}

static void test_wrap_chandata(void)
{
    uint8_t buf[FRAME_HEADROOM + 16 + 3];
    uint8_t *p = buf + FRAME_HEADROOM, *start = NULL;
    uint16_t chan = 0;
    size_t dlen = 0;

    for (size_t len = 0; len <= 16; len++) {
        memset(buf, 0xee, sizeof buf);
        memset(p, 'd', len);
        size_t padded = (len + 3) / 4 * 4;
        CHECK_INT(frame_wrap_chandata(p, len, 0x4444, 1, &start), 4 + padded);
        CHECK(start == p - 4);
        CHECK_INT(frame_chandata_parse(start, 4 + padded, &chan, &dlen), 0);
        CHECK_INT(chan, 0x4444);
        CHECK_INT(dlen, len);
        for (size_t i = len; i < padded; i++)
            CHECK_INT(p[i], 0);
        CHECK_INT(frame_stream_len(start, 4 + padded), 4 + padded);

        memset(p + len, 0xee, 3);
        CHECK_INT(frame_wrap_chandata(p, len, 0x4fff, 0, &start), 4 + len);
        CHECK_INT(p[len], 0xee); /* datagrams: nothing written after the payload */
        CHECK_INT(start[-1], 0xee);
    }
    CHECK_INT(frame_wrap_chandata(p, 0x10000, 0x4000, 0, &start), 0);
}

static void check_data_indication(const char *peer_s, size_t len)
{
    size_t cap = FRAME_HEADROOM + len + 3;
    uint8_t *buf = malloc(cap), *p = buf + FRAME_HEADROOM, *start = NULL;
    union addr peer, got;
    struct stun_msg m;
    const uint8_t *val;
    size_t vlen;

    addr_parse(&peer, peer_s, 0);
    for (size_t i = 0; i < len; i++)
        p[i] = (uint8_t)(i * 7);
    size_t n = frame_wrap_data_indication(p, len, &peer, tid, &start);
    size_t head = peer.sa.sa_family == AF_INET ? 36 : 48;
    if (!CHECK_INT(n, head + (len + 3) / 4 * 4) || !CHECK(start == p - head))
        goto out;
    if (!CHECK_INT(stun_msg_decode(&m, start, n, 0), STUN_OK))
        goto out;
    CHECK_INT(m.method, STUN_METHOD_DATA);
    CHECK_INT(m.cls, STUN_CLASS_INDICATION);
    CHECK_MEM(m.tid, tid, STUN_TID_LEN);
    CHECK_INT(stun_msg_get_addr(&m, STUN_ATTR_XOR_PEER_ADDRESS, &got), STUN_OK);
    CHECK(addr_equal(&got, &peer));
    if (CHECK_INT(stun_msg_get_bytes(&m, STUN_ATTR_DATA, &val, &vlen), STUN_OK)) {
        CHECK(val == p); /* the payload did not move */
        CHECK_INT(vlen, len);
    }
    CHECK_INT(frame_stream_len(start, n), n);
out:
    free(buf);
}

static void test_wrap_data_indication(void)
{
    static const size_t lens[] = {0, 1, 2, 3, 4, 5, 100, 1200, 65467};

    for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
        check_data_indication("203.0.113.9:40000", lens[i]);
        check_data_indication("[2001:db8:ffff::9]:40000", lens[i]);
    }
}

static void test_wrap_data_indication_limits(void)
{
    size_t cap = FRAME_HEADROOM + 65536 + 3;
    uint8_t *buf = calloc(cap, 1), *start = NULL;
    union addr v4, v6, none;

    addr_parse(&v4, "192.0.2.1:9", 0);
    memset(&none, 0, sizeof none);
    /* IPv4: 12 + 4 bytes of attribute headers and address before the payload, so the
     * longest payload is 0xFFFC - 16 = 65516 bytes. */
    CHECK_INT(frame_wrap_data_indication(buf + FRAME_HEADROOM, 65516, &v4, tid, &start),
              20 + 0xFFFC);
    CHECK_INT(frame_wrap_data_indication(buf + FRAME_HEADROOM, 65517, &v4, tid, &start), 0);
    CHECK(start == buf + FRAME_HEADROOM);
    addr_parse(&v6, "[2001:db8::1]:9", 0);
    CHECK_INT(frame_wrap_data_indication(buf + FRAME_HEADROOM, 65504, &v6, tid, &start),
              20 + 0xFFFC);
    CHECK_INT(frame_wrap_data_indication(buf + FRAME_HEADROOM, 65505, &v6, tid, &start), 0);
    CHECK_INT(frame_wrap_data_indication(buf + FRAME_HEADROOM, 10, &none, tid, &start), 0);
    free(buf);
}

int main(void)
{
    RUN(test_demux);
    RUN(test_chandata_parse);
    RUN(test_stream_concatenated);
    RUN(test_stream_partial);
    RUN(test_stream_not_a_frame);
    RUN(test_wrap_chandata);
    RUN(test_wrap_data_indication);
    RUN(test_wrap_data_indication_limits);
    return check_summary();
}
