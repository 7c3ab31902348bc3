/* seeds.c — writes the fuzz seed corpora: RFC vectors and built messages of every kind.
 *
 *   seeds OUTDIR   fills OUTDIR/stun_decode/, OUTDIR/stream_frame/ and OUTDIR/text/, one file
 *                  per seed (text/ also takes etc/turnserver.conf, read from the top directory) */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "proto/frame.h"
#include "proto/stun_build.h"
#include "proto/stun_integrity.h"
/* The vectors' bytes, compiled in: this program links proto/ alone. */
#include "tests/lib/stun_vectors.c"

static const uint8_t tid[STUN_TID_LEN] = {0x5e, 0xed, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
static const uint8_t key[16] = "fuzzing key 0123";
static int failures;

static void put(const char *dir, const char *name, const uint8_t *p, size_t n)
{
    char path[4096];
    FILE *f;

    snprintf(path, sizeof path, "%s/%s", dir, name);
    f = fopen(path, "wb");
    if (f == NULL || fwrite(p, 1, n, f) != n || fclose(f) != 0) {
        perror(path);
        failures++;
    }
}

static int make_dir(const char *path)
{
    if (mkdir(path, 0777) != 0 && errno != EEXIST) {
        perror(path);
        return -1;
    }
    return 0;
}

/* The attributes a TURN server sees and sends, by method, with every typed appender. */
static void add_attrs(struct stun_builder *b, uint16_t method, enum stun_class cls)
{
    static const uint16_t unknown[2] = {0x0002, 0x7777};
    static const uint8_t pwalgs[8] = {0, 1, 0, 0, 0, 2, 0, 0};
    union addr v4, v6;

    addr_parse(&v4, "203.0.113.5:40000", 0);
    addr_parse(&v6, "[2001:db8::5]:40001", 0);
    if (cls == STUN_CLASS_ERROR) {
        stun_build_error(b, method == STUN_METHOD_ALLOCATE ? 401 : 420, NULL);
        stun_build_unknown(b, unknown, 2);
        stun_build_str(b, STUN_ATTR_REALM, "example.org");
        stun_build_str(b, STUN_ATTR_NONCE, "obMatJos2AAAB0123456789");
        stun_build_attr(b, STUN_ATTR_PASSWORD_ALGORITHMS, pwalgs, sizeof pwalgs);
        stun_build_address_error(b, STUN_ATTR_ADDRESS_ERROR_CODE, STUN_FAMILY_IPV6, 440, NULL);
        return;
    }
    stun_build_str(b, STUN_ATTR_USERNAME, "alice");
    stun_build_u8(b, STUN_ATTR_REQUESTED_TRANSPORT, STUN_TRANSPORT_UDP);
    stun_build_u8(b, STUN_ATTR_REQUESTED_ADDRESS_FAMILY, STUN_FAMILY_IPV4);
    stun_build_u32(b, STUN_ATTR_LIFETIME, 600);
    stun_build_u16(b, STUN_ATTR_CHANNEL_NUMBER, 0x4001);
    stun_build_addr(b, STUN_ATTR_XOR_PEER_ADDRESS, &v4);
    stun_build_addr(b, STUN_ATTR_XOR_PEER_ADDRESS, &v6);
    stun_build_addr(b, STUN_ATTR_XOR_RELAYED_ADDRESS, &v6);
    stun_build_addr(b, STUN_ATTR_XOR_MAPPED_ADDRESS, &v4);
    stun_build_addr(b, STUN_ATTR_MAPPED_ADDRESS, &v6);
    stun_build_attr(b, STUN_ATTR_DATA, "payload", 7);
    stun_build_u32(b, STUN_ATTR_CONNECTION_ID, 0x12345678);
    stun_build_attr(b, STUN_ATTR_EVEN_PORT, "\x80", 1);
    stun_build_attr(b, STUN_ATTR_DONT_FRAGMENT, NULL, 0);
    stun_build_attr(b, STUN_ATTR_RESERVATION_TOKEN, "12345678", 8);
    stun_build_attr(b, STUN_ATTR_PASSWORD_ALGORITHM, pwalgs + 4, 4);
    stun_build_str(b, STUN_ATTR_SOFTWARE, "turnpike seeds");
    stun_build_attr(b, STUN_ATTR_MOBILITY_TICKET, NULL, 0);
}

/* Every method with every class it may have, plain and with integrity and fingerprint. */
static void built_messages(const char *dir)
{
    static const uint16_t methods[] = {
        STUN_METHOD_BINDING,      STUN_METHOD_ALLOCATE,       STUN_METHOD_REFRESH,
        STUN_METHOD_SEND,         STUN_METHOD_DATA,           STUN_METHOD_CREATE_PERMISSION,
        STUN_METHOD_CHANNEL_BIND, STUN_METHOD_CONNECT,        STUN_METHOD_CONNECTION_BIND,
        STUN_METHOD_CONNECTION_ATTEMPT,
    };
    uint8_t buf[1024];
    char name[64];
    struct stun_builder b;
    struct stun_msg m;
    size_t len;

    for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++) {
        for (int c = 0; c < 4; c++) {
            for (int signed_ = 0; signed_ < 2; signed_++) {
                stun_build_start(&b, buf, sizeof buf, stun_type(methods[i], (enum stun_class)c),
                                 tid);
                add_attrs(&b, methods[i], (enum stun_class)c);
                if (signed_) {
                    stun_build_integrity(&b, key, sizeof key);
                    stun_build_integrity_sha256(&b, key, sizeof key);
                    stun_build_fingerprint(&b);
                }
                if (stun_build_end(&b, &len) != STUN_OK ||
                    stun_msg_decode(&m, buf, len, 0) == STUN_E_BAD_CLASS)
                    continue;
                snprintf(name, sizeof name, "%s-%d-%d", stun_method_name(methods[i]), c, signed_);
                put(dir, name, buf, len);
            }
        }
    }
}

static void vectors(const char *dir)
{
    put(dir, "rfc5769-request", vec_rfc5769_request, sizeof vec_rfc5769_request);
    put(dir, "rfc5769-ipv4", vec_rfc5769_ipv4, sizeof vec_rfc5769_ipv4);
    put(dir, "rfc5769-ipv6", vec_rfc5769_ipv6, sizeof vec_rfc5769_ipv6);
    put(dir, "rfc5769-longterm", vec_rfc5769_longterm, sizeof vec_rfc5769_longterm);
    put(dir, "rfc8489-b1", vec_rfc8489_b1, sizeof vec_rfc8489_b1);
    put(dir, "rfc8489-b1-published", vec_rfc8489_b1_published, sizeof vec_rfc8489_b1_published);
}

/* Streams: frames back to back, ChannelData padded, the last frame cut short. */
static void streams(const char *dir)
{
    uint8_t s[2048], *start;
    size_t n = 0, len;
    union addr peer;
    struct stun_builder b;

    addr_parse(&peer, "198.51.100.20:5000", 0);
    for (size_t dlen = 0; dlen < 8; dlen++) {
        memset(s + n + FRAME_CHANDATA_HDR, 'a' + (int)dlen, dlen);
        n += frame_wrap_chandata(s + n + FRAME_CHANDATA_HDR, dlen, (uint16_t)(0x4000 + dlen), 1,
                                 &start);
    }
    put(dir, "chandata-run", s, n);
    memcpy(s + n, vec_rfc5769_request, sizeof vec_rfc5769_request);
    n += sizeof vec_rfc5769_request;
    /* Wrapped with full headroom, then slid down to follow the previous frame. */
    memset(s + n + FRAME_HEADROOM, 'p', 100);
    len = frame_wrap_data_indication(s + n + FRAME_HEADROOM, 100, &peer, tid, &start);
    memmove(s + n, start, len);
    n += len;
    put(dir, "mixed", s, n);
    stun_build_start(&b, s + n, sizeof s - n, stun_type(STUN_METHOD_ALLOCATE, 0), tid);
    add_attrs(&b, STUN_METHOD_ALLOCATE, STUN_CLASS_REQUEST);
    stun_build_end(&b, &len);
    put(dir, "mixed-cut", s, n + len / 2);
    put(dir, "stun-only", vec_rfc5769_ipv6, sizeof vec_rfc5769_ipv6);
}

/* One text for fuzz_text: the parser's number (its enum there), then the text. */
static void put_text(const char *dir, const char *name, uint8_t parser, const char *text,
                     size_t len)
{
    static uint8_t buf[1 << 17];

    if (len + 1 > sizeof buf)
        len = sizeof buf - 1;
    buf[0] = parser;
    memcpy(buf + 1, text, len);
    put(dir, name, buf, len + 1);
}

/* Texts for fuzz_text: the shipped turnserver.conf (read from etc/ when make runs this from
 * the top directory) and a sample of what each parser takes. */
static void texts(const char *dir)
{
    static const struct {
        const char *name;
        uint8_t parser;
        const char *text;
    } t[] = {
        {"config", 0, "listening-port=3478\nrealm example.org\nuser=alice:pw\n# note\nverbose\n"
                      "denied-peer-ip=10.0.0.0-10.255.255.255\nmin-port=49152\n"},
        {"userdb", 1, "# users\nalice:Sesame\nbob:0x0123456789abcdef0123456789abcdef\n\n"},
        {"user", 2, "alice:Sesame-9f3b"},
        {"user-keys", 2, "carol:0x0123456789abcdef0123456789abcdef:0x0123456789abcdef0123456789"
                         "abcdef0123456789abcdef0123456789abcdef"},
        {"redis", 3, "host=127.0.0.1 port=6379 dbname=2 password=x connect_timeout=30"},
        {"redis-unix", 3, "unix_socket=/run/redis/redis.sock db=0 user=turn"},
        {"range-cidr", 4, "2001:db8::/32"},
        {"range-span", 4, "192.0.2.1-192.0.2.99"},
        {"addr-v4", 5, "192.0.2.1:3478"},
        {"addr-v6", 5, "[2001:db8::1]:5349"},
        {"md5", 6, "0123456789abcdef0123456789abcdef"},
        {"count", 6, "4294967295"},
        {"origin", 6, "HTTPS://Example.ORG:443"},
    };
    static char conf[1 << 17];
    FILE *f = fopen("etc/turnserver.conf", "r");

    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        put_text(dir, t[i].name, t[i].parser, t[i].text, strlen(t[i].text));
    if (f) {
        size_t n = fread(conf, 1, sizeof conf, f);
        fclose(f);
        put_text(dir, "turnserver.conf", 0, conf, n);
    }
}

int main(int argc, char **argv)
{
    char a[4096], s[4096], t[4096];

    if (argc != 2) {
        fprintf(stderr, "usage: %s OUTDIR\n", argv[0]);
        return 2;
    }
    snprintf(a, sizeof a, "%s/stun_decode", argv[1]);
    snprintf(s, sizeof s, "%s/stream_frame", argv[1]);
    snprintf(t, sizeof t, "%s/text", argv[1]);
    if (make_dir(argv[1]) != 0 || make_dir(a) != 0 || make_dir(s) != 0 || make_dir(t) != 0)
        return 1;
    vectors(a);
    built_messages(a);
    vectors(s);
    streams(s);
    texts(t);
    return failures == 0 ? 0 : 1;
}
