/* stun_vectors.h — published STUN test messages (RFC 5769, RFC 8489 Appendix B), byte for byte. */
#ifndef TESTS_LIB_STUN_VECTORS_H
#define TESTS_LIB_STUN_VECTORS_H

#include <stddef.h>
#include <stdint.h>

/* Credentials of the vectors.  VEC_USER is U+30DE U+30C8 U+30EA U+30C3 U+30AF U+30B9 in UTF-8,
 * which SASLprep and OpaqueString leave unchanged.  VEC_PASSWORD is "The" U+00AD "M" U+00AA "tr"
 * U+2168 (VEC_PASSWORD_RAW) after SASLprep (RFC 5769 §2.4) or OpaqueString (RFC 8489 B.1):
 * the soft hyphen goes, U+00AA becomes "a" and the roman numeral nine "IX". */
#define VEC_SHORT_TERM_PASSWORD "VOkJxbRl1RmTxUk/WvJxBt"
#define VEC_USER "\xe3\x83\x9e\xe3\x83\x88\xe3\x83\xaa\xe3\x83\x83\xe3\x82\xaf\xe3\x82\xb9"
#define VEC_PASSWORD "TheMatrIX"
#define VEC_PASSWORD_RAW "The\xc2\xadM\xc2\xaatr\xe2\x85\xa8"
#define VEC_REALM "example.org"
#define VEC_NONCE_5769 "f//499k954d6OL34oL9FSTvy64sA"
#define VEC_NONCE_8489 "obMatJos2AAACf//499k954d6OL34oL9FSTvy64sA"

/* RFC 5769 §2.1 sample request: Binding request, short-term credentials. */
extern const uint8_t vec_rfc5769_request[108];
/* RFC 5769 §2.2 sample IPv4 response: XOR-MAPPED-ADDRESS 192.0.2.1:32853. */
extern const uint8_t vec_rfc5769_ipv4[80];
/* RFC 5769 §2.3 sample IPv6 response: XOR-MAPPED-ADDRESS
 * [2001:db8:1234:5678:11:2233:4455:6677]:32853. */
extern const uint8_t vec_rfc5769_ipv6[92];
/* RFC 5769 §2.4 sample request with long-term authentication (no FINGERPRINT). */
extern const uint8_t vec_rfc5769_longterm[116];
/* RFC 8489 Appendix B.1 as corrected by erratum 6268: USERHASH, NONCE, REALM,
 * PASSWORD-ALGORITHM (SHA-256), MESSAGE-INTEGRITY-SHA256. */
extern const uint8_t vec_rfc8489_b1[164];
/* RFC 8489 Appendix B.1 as published: its length field (0x9c) counts the header too, so
 * it disagrees with the 136 bytes that follow (erratum 6268). */
extern const uint8_t vec_rfc8489_b1_published[156];

#endif
