/* test_nat.c — nat_other() and nat_check(): which address is the other one of each listening
 * address under --rfc5780, and when there is none. */
#include <string.h>

#include "server/nat.h"
#include "tests/lib/check.h"

/* Listening on 192.0.2.1, .2, .3 and 2001:db8::1, ports 3478 and 3479 (TLS on 5349). */
static struct config four_ips(void)
{
    const char *ips[] = {"192.0.2.1", "192.0.2.2", "192.0.2.3", "2001:db8::1"};
    struct config c;

    memset(&c, 0, sizeof c);
    for (size_t i = 0; i < 4; i++)
        addr_parse(&c.listen[c.nlisten++], ips[i], 0);
    c.listen_port = 3478;
    c.alt_listen_port = 3479;
    c.tls_listen_port = 5349;
    c.rfc5780 = true;
    return c;
}

static bool other_is(const struct config *c, const char *local, const char *want)
{
    union addr l, o, w;

    addr_parse(&l, local, 0);
    if (!nat_other(c, &l, &o))
        return want == NULL;
    addr_parse(&w, want, 0);
    return want != NULL && addr_equal(&o, &w);
}

/* Each IPv4 address's other is the next (the last's the first), at the other port. */
static void test_next_ip_other_port(void)
{
    struct config c = four_ips();

    CHECK(other_is(&c, "192.0.2.1:3478", "192.0.2.2:3479"));
    CHECK(other_is(&c, "192.0.2.2:3479", "192.0.2.3:3478"));
    CHECK(other_is(&c, "192.0.2.3:3478", "192.0.2.1:3479"));
    CHECK_INT(nat_check(&c, NULL, 0), 0);
}

/* None for the only IPv6 address, an address not ours, another port, or with the flag off. */
static void test_none(void)
{
    struct config c = four_ips();

    CHECK(other_is(&c, "[2001:db8::1]:3478", NULL));
    CHECK(other_is(&c, "192.0.2.9:3478", NULL));
    CHECK(other_is(&c, "192.0.2.1:5349", NULL));
    c.rfc5780 = false;
    CHECK(other_is(&c, "192.0.2.1:3478", NULL));
}

/* --rfc5780 with one address of each family does not start; without the flag it does. */
static void test_check(void)
{
    struct config c = four_ips();
    char err[256] = "";

    c.listen[1] = c.listen[3];
    c.nlisten = 2;
    CHECK_INT(nat_check(&c, err, sizeof err), -1);
    CHECK_STR(err, "--rfc5780 needs two --listening-ip addresses of one family (each is the "
                   "other address of the other)");
    c.rfc5780 = false;
    CHECK_INT(nat_check(&c, err, sizeof err), 0);
}

int main(void)
{
    RUN(test_next_ip_other_port);
    RUN(test_none);
    RUN(test_check);
    return check_summary();
}
