/* limits.c — what one realm's allocations are held to (relay_limits), shared by reference. */
#include <stdlib.h>
#include <string.h>

#include "relay/relay_int.h"

int relay_limits_new(struct relay_limits **out, const char *realm)
{
    size_t n = strlen(realm);
    struct relay_limits *l = calloc(1, sizeof *l + n + 1);

    if (l == NULL)
        return -1;
    l->refs = 1;
    memcpy(l->realm, realm, n + 1);
    *out = l;
    return 0;
}

void relay_limits_hold(struct relay_limits *l)
{
    if (l != NULL)
        l->refs++;
}

void relay_limits_release(struct relay_limits *l)
{
    if (l == NULL || --l->refs > 0)
        return;
    relay_policy_free(l->peers);
    free(l);
}

const struct relay_limits *relay_alloc_limits(struct relay *r, const struct relay_client *c)
{
    const struct relay_alloc *a = relay_find(r, c);

    return a ? a->limits : NULL;
}

bool relay_peer_allowed(const struct relay *r, const struct relay_alloc *a,
                        const union addr *peer)
{
    return relay_policy_allows_with(relay_policy_of(r->sh), a->limits ? a->limits->peers : NULL,
                                    peer);
}
