/* turnc.h — a TURN client for tests, built on proto/: long-term credentials, allocations,
 * permissions, channels, data. */
#ifndef TESTS_LIB_TURNC_H
#define TESTS_LIB_TURNC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "proto/addr.h"
#include "proto/stun.h"

/* One client 5-tuple talking to a server, with the credentials it learnt. */
struct turnc {
    int fd;
    bool stream;
    char user[128];
    char pass[128];
    char realm[128];
    char nonce[128];
    uint8_t key[16];
    bool have_nonce;
    union addr relayed;
    union addr mapped;
    uint32_t lifetime;
    int last_code; /* of the last answer: 0 success, else its ERROR-CODE, -1 none */
};

/* The TURN REST password (--use-auth-secret) of name ("EXPIRY:user"): the base64 of
 * HMAC-SHA1(secret, name), into pass. */
void turnc_rest_password(const char *secret, const char *name, char *pass, size_t cap);

/* Connects to the server (type SOCK_DGRAM or SOCK_STREAM) with these credentials. */
int turnc_open(struct turnc *t, int type, const char *server_ip, uint16_t port,
               const char *user, const char *pass);
void turnc_close(struct turnc *t);

/* Sends a request of method with the attributes already built by add (may be NULL), going
 * through the 401/438 challenge as needed and signing with MESSAGE-INTEGRITY.  The answer is
 * decoded into *resp from buf.  Returns its code (0 success, an ERROR-CODE, -1 no answer). */
struct stun_builder;
int turnc_request(struct turnc *t, uint16_t method,
                  void (*add)(struct stun_builder *b, const void *arg), const void *arg,
                  uint8_t *buf, size_t cap, struct stun_msg *resp);

/* Allocate (UDP relay); fills t->relayed, t->mapped, t->lifetime on success.  Returns the
 * code as turnc_request. */
int turnc_allocate(struct turnc *t);

/* A client of its own (type SOCK_DGRAM or SOCK_STREAM) that allocates as user and goes: the
 * code of the Allocate's answer, or -1 when it could not connect.  Over UDP the allocation
 * stays until it expires. */
int turnc_try_allocate(int type, const char *server_ip, uint16_t port, const char *user,
                       const char *pass);

/* CreatePermission for peer's IP; ChannelBind of num to peer; Refresh with lifetime. */
int turnc_permit(struct turnc *t, const union addr *peer);
int turnc_bind(struct turnc *t, uint16_t num, const union addr *peer);
int turnc_refresh(struct turnc *t, uint32_t lifetime);

/* Sends payload to peer with a Send indication, or on channel num as ChannelData (padded
 * on streams). */
int turnc_send(struct turnc *t, const union addr *peer, const void *payload, size_t len);
int turnc_channel_send(struct turnc *t, uint16_t num, const void *payload, size_t len);

/* Receives relayed data within timeout_ms: a Data indication (peer set from it) or
 * ChannelData (*chan set, peer untouched).  Returns the payload length copied to out, or -1. */
ssize_t turnc_recv(struct turnc *t, uint8_t *out, size_t cap, union addr *peer, uint16_t *chan,
                   int timeout_ms);

/* Makes allocated client t one that reads nothing (a 4 KiB receive buffer), permits peer
 * socket pfd (bound to peer), and floods t from it with 20 MB in 1000-byte datagrams, pausing
 * so that the server keeps up with the peer, not with the client.  Returns how much the
 * resident memory of server srv grew meanwhile, in KiB. */
struct proc;
long turnc_flood_unread(struct turnc *t, int pfd, const union addr *peer, const struct proc *srv);

#endif
