/* wire.h — proto/'s private header: big-endian loads and stores and STUN padding. */
#ifndef PROTO_WIRE_H
#define PROTO_WIRE_H

#include <stddef.h>
#include <stdint.h>

/* Callers check bounds first (`if (end - p < n)`); these only move bytes. */
static inline uint16_t wire_get16(const uint8_t *p)
{
    return (uint16_t)((unsigned)p[0] << 8 | p[1]);
}

static inline uint32_t wire_get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline void wire_put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static inline void wire_put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* A value length rounded up to the 32-bit boundary every STUN attribute (and ChannelData on a
 * stream) ends on (RFC 8489 §14, RFC 8656 §12.5). */
static inline size_t wire_pad4(size_t n)
{
    return (n + 3) & ~(size_t)3;
}

#endif
