/* frame.c — first-byte demultiplexing, ChannelData, stream framing and zero-copy relay framing. */
#include "proto/frame.h"

#include <string.h>

#include "proto/wire.h"

enum frame_kind frame_demux(uint8_t first_byte)
{
    /* RFC 7983 §7 (which updates RFC 5764 §5.1.2): 0-3 STUN, 20-63 DTLS, 64-79 TURN
     * channels; 16-19 ZRTP and 128-191 RTP/RTCP are not ours.  80-127 are the channels
     * 0x5000-0x7FFF of RFC 5766 clients (see FRAME_CHANNEL_MAX): on a TURN server's port
     * nothing else starts that way. */
    if (first_byte <= 3)
        return FRAME_STUN;
    if (first_byte >= 20 && first_byte <= 63)
        return FRAME_DTLS;
    if (first_byte >= 64 && first_byte <= 127)
        return FRAME_CHANDATA;
    return FRAME_OTHER;
}

int frame_chandata_parse(const uint8_t *buf, size_t len, uint16_t *chan, size_t *dlen)
{
    if (len < FRAME_CHANDATA_HDR)
        return STUN_E_SHORT;
    uint16_t c = wire_get16(buf), n = wire_get16(buf + 2);
    /* RFC 8656 §12: 0x4000-0x7FFF on the wire; which of them are bound is the relay's
     * business. */
    if (c < 0x4000 || c > 0x7FFF)
        return STUN_E_CHANNEL;
    if (len - FRAME_CHANDATA_HDR < n)
        return STUN_E_SHORT;
    *chan = c;
    *dlen = n;
    return 0;
}

void frame_chandata_hdr(uint8_t hdr[FRAME_CHANDATA_HDR], uint16_t chan, uint16_t dlen)
{
    wire_put16(hdr, chan);
    wire_put16(hdr + 2, dlen);
}

/* A STUN header on a stream, judged on as much of it as has arrived: the length field's
 * alignment after 4 bytes, the cookie after 8 (RFC 3489 clients never used streams). */
static int stream_stun_len(const uint8_t *buf, size_t avail)
{
    uint8_t cookie[4];

    wire_put32(cookie, STUN_MAGIC_COOKIE);
    if (avail >= 4 && wire_get16(buf + 2) % 4 != 0)
        return STUN_E_NOT_FRAME;
    for (size_t i = 4; i < avail && i < 8; i++) {
        if (buf[i] != cookie[i - 4])
            return STUN_E_NOT_FRAME;
    }
    if (avail < STUN_HEADER_LEN)
        return STUN_E_INCOMPLETE;
    int n = stun_header_check(buf, STUN_HEADER_LEN, 0);
    return n < 0 ? STUN_E_NOT_FRAME : n;
}

int frame_stream_len(const uint8_t *buf, size_t avail)
{
    if (avail == 0)
        return STUN_E_INCOMPLETE;
    /* On a stream only STUN and TURN can arrive, told apart by the first two bits (RFC 8656
     * §12): 00 STUN, 01 ChannelData. */
    switch (buf[0] >> 6) {
    case 0:
        return stream_stun_len(buf, avail);
    case 1:
        if (avail < FRAME_CHANDATA_HDR)
            return STUN_E_INCOMPLETE;
        /* RFC 8656 §12.5: over TCP and TLS the payload is padded to a multiple of 4. */
        return (int)(FRAME_CHANDATA_HDR + wire_pad4(wire_get16(buf + 2)));
    default:
        return STUN_E_NOT_FRAME;
    }
}

size_t frame_wrap_chandata(uint8_t *p, size_t len, uint16_t chan, int pad, uint8_t **start)
{
    *start = p;
    if (len > 0xFFFF)
        return 0;
    size_t total = pad ? wire_pad4(len) : len;
    memset(p + len, 0, total - len);
    *start = p - FRAME_CHANDATA_HDR;
    frame_chandata_hdr(*start, chan, (uint16_t)len);
    return FRAME_CHANDATA_HDR + total;
}

/* The Data indication of RFC 8656 §11.3 built backwards from the payload: header,
 * XOR-PEER-ADDRESS, then the DATA attribute header right before p and its padding after. */
size_t frame_wrap_data_indication(uint8_t *p, size_t len, const union addr *peer,
                                  const uint8_t tid[STUN_TID_LEN], uint8_t **start)
{
    uint8_t addr_val[20];
    int alen = stun_addr_encode(addr_val, sizeof addr_val, peer, 1, tid);

    *start = p;
    if (alen < 0)
        return 0;
    size_t head = STUN_HEADER_LEN + STUN_ATTR_HEADER_LEN + (size_t)alen + STUN_ATTR_HEADER_LEN;
    size_t body = head - STUN_HEADER_LEN + wire_pad4(len);
    if (len > 0xFFFF || body > 0xFFFC)
        return 0;
    uint8_t *h = p - head;
    wire_put16(h, stun_type(STUN_METHOD_DATA, STUN_CLASS_INDICATION));
    wire_put16(h + 2, (uint16_t)body);
    wire_put32(h + 4, STUN_MAGIC_COOKIE);
    memcpy(h + 8, tid, STUN_TID_LEN);
    wire_put16(h + 20, STUN_ATTR_XOR_PEER_ADDRESS);
    wire_put16(h + 22, (uint16_t)alen);
    memcpy(h + 24, addr_val, (size_t)alen);
    wire_put16(p - 4, STUN_ATTR_DATA);
    wire_put16(p - 2, (uint16_t)len);
    memset(p + len, 0, wire_pad4(len) - len);
    *start = h;
    return STUN_HEADER_LEN + body;
}
