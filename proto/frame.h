/* frame.h — first-byte demultiplexing, ChannelData, stream framing and relay framing. */
#ifndef PROTO_FRAME_H
#define PROTO_FRAME_H

#include <stddef.h>
#include <stdint.h>

#include "proto/addr.h"
#include "proto/stun.h"

#define FRAME_CHANDATA_HDR 4
/* Channel numbers a client may bind.  RFC 8656 §12 allots 0x4000-0x4FFF and reserves the
 * rest so that clients can multiplex TURN with QUIC (RFC 9443); RFC 5766 allowed up to 0x7FFF
 * and RFC 5766 clients (coturn's own test client among them) still pick numbers up there.
 * A TURN server's ports carry nothing else whose first byte is 0x50-0x7F, so the server takes
 * the whole RFC 5766 range: no ambiguity for it, and no client refused. */
#define FRAME_CHANNEL_MIN 0x4000
#define FRAME_CHANNEL_MAX 0x7FFF
#define FRAME_CHANNEL_MAX_RFC8656 0x4FFF

/* What a packet is, by its first byte (RFC 7983 §7). */
enum frame_kind {
    FRAME_STUN,     /* 0..3 */
    FRAME_DTLS,     /* 20..63 */
    FRAME_CHANDATA, /* 64..127: 64..79 by RFC 7983, up to 127 for RFC 5766 channels */
    FRAME_OTHER,    /* anything else (RTP/RTCP 128..191, ZRTP, garbage) */
};

enum frame_kind frame_demux(uint8_t first_byte);

/* Parses a ChannelData message at buf[0..len) received as one datagram: *chan gets the channel
 * (0x4000-0x7FFF), *dlen the payload length, which starts at buf + 4.  Trailing bytes (padding)
 * beyond 4 + *dlen are allowed.  Returns 0, STUN_E_SHORT when len is shorter than the header
 * or the announced payload, or STUN_E_CHANNEL. */
int frame_chandata_parse(const uint8_t *buf, size_t len, uint16_t *chan, size_t *dlen);

/* Writes the 4-byte ChannelData header for a payload of dlen bytes. */
void frame_chandata_hdr(uint8_t hdr[FRAME_CHANDATA_HDR], uint16_t chan, uint16_t dlen);

/* Stream framing for TCP and TLS: given the avail bytes at the front of a stream's buffer,
 * returns the total length of the next frame (a STUN message, or a ChannelData message with
 * its padding to a multiple of 4, RFC 8656 §12.5) as soon as its header tells it — the frame
 * itself may not have arrived yet: the caller compares the result with avail.  Returns
 * STUN_E_INCOMPLETE when the header is not complete enough to tell (at most 20 bytes are ever
 * needed), or STUN_E_NOT_FRAME when the stream cannot be STUN/TURN (close it). */
int frame_stream_len(const uint8_t *buf, size_t avail);

/* Relay framing without copying the payload.  The payload lies at p[0..len) with at least
 * FRAME_HEADROOM writable bytes before p and 3 after it (for padding).  Each function writes
 * its header into the headroom, sets *start to the first byte of the framed message and
 * returns its total length, or 0 (nothing written, *start = p) when the payload is too long
 * for the frame's 16-bit length fields (a Data indication holds at most 65516 bytes for an IPv4
 * peer, 65504 for IPv6) or peer has no address.
 *  frame_wrap_chandata: 4-byte ChannelData header; pad=1 adds zero padding to a multiple of 4
 *  (for streams), pad=0 does not (datagrams).
 *  frame_wrap_data_indication: a Data indication with XOR-PEER-ADDRESS(peer) and DATA, with a
 *  fresh transaction ID taken from tid (the caller supplies 12 random or counter bytes). */
#define FRAME_HEADROOM 48
size_t frame_wrap_chandata(uint8_t *p, size_t len, uint16_t chan, int pad, uint8_t **start);
size_t frame_wrap_data_indication(uint8_t *p, size_t len, const union addr *peer,
                                  const uint8_t tid[STUN_TID_LEN], uint8_t **start);

#endif
