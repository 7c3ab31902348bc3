/* fuzz_stream_frame.c — libFuzzer target: cut a byte stream into frames, decode each, rewrap. */
#include <stdlib.h>
#include <string.h>

#include "proto/frame.h"
#include "proto/stun.h"
#include "tests/fuzz/fuzz.h"

static uint8_t relay[FRAME_HEADROOM + 0x10000 + 3];

/* Relays a ChannelData payload the other way as a Data indication and reads it back, as the
 * server does for a peer without a channel. */
static void rewrap(const uint8_t *payload, size_t len, uint16_t chan)
{
    static const uint8_t tid[STUN_TID_LEN] = {7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7};
    uint8_t *p = relay + FRAME_HEADROOM, *start;
    uint8_t ip[16] = {0x20, 0x01, 0x0d, 0xb8, (uint8_t)(chan >> 8), (uint8_t)chan};
    union addr peer, got;
    struct stun_msg m;
    const uint8_t *val;
    size_t vlen;

    addr_from_bytes(&peer, chan & 1 ? AF_INET6 : AF_INET, ip, chan);
    memcpy(p, payload, len);
    size_t n = frame_wrap_data_indication(p, len, &peer, tid, &start);
    if (n == 0) {
        REQUIRE(len > 0xFFFC - 48);
        return;
    }
    REQUIRE(stun_msg_decode(&m, start, n, 0) == STUN_OK);
    REQUIRE(stun_msg_get_addr(&m, STUN_ATTR_XOR_PEER_ADDRESS, &got) == STUN_OK);
    REQUIRE(addr_equal(&got, &peer));
    REQUIRE(stun_msg_get_bytes(&m, STUN_ATTR_DATA, &val, &vlen) == STUN_OK);
    REQUIRE(val == p && vlen == len);
    n = frame_wrap_chandata(p, len, chan, 1, &start);
    REQUIRE(n % 4 == 0 && frame_stream_len(start, n) == (int)n);
}

static void one_frame(const uint8_t *f, size_t n)
{
    struct stun_msg m;
    uint16_t chan;
    size_t dlen;

    if (f[0] >> 6 == 0) {
        int rc = stun_msg_decode(&m, f, n, 0);
        /* The framer already vouched for the header. */
        REQUIRE(rc != STUN_E_SHORT && rc != STUN_E_FIRST_BITS && rc != STUN_E_COOKIE &&
                rc != STUN_E_LEN_ALIGN && rc != STUN_E_LEN_MISMATCH);
        if (rc == STUN_OK)
            stun_msg_find(&m, STUN_ATTR_DATA);
        return;
    }
    REQUIRE(frame_chandata_parse(f, n, &chan, &dlen) == 0);
    REQUIRE(dlen + FRAME_CHANDATA_HDR <= n && n - dlen - FRAME_CHANDATA_HDR < 4);
    rewrap(f + FRAME_CHANDATA_HDR, dlen, chan);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t off = 0;

    if (size > 0)
        frame_demux(data[0]);
    while (off < size) {
        int n = frame_stream_len(data + off, size - off);
        if (n < 0) {
            REQUIRE(n == STUN_E_INCOMPLETE || n == STUN_E_NOT_FRAME);
            REQUIRE(n == STUN_E_NOT_FRAME || size - off < STUN_HEADER_LEN);
            break;
        }
        REQUIRE(n >= FRAME_CHANDATA_HDR && n <= STUN_HEADER_LEN + 0xFFFC);
        if ((size_t)n > size - off)
            break; /* the rest of the frame has not arrived */
        one_frame(data + off, (size_t)n);
        off += (size_t)n;
    }
    return 0;
}
