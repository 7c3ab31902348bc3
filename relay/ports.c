/* ports.c — the relay port pool: a lock-free bitmap of free ports, one bit a port. */
#include "relay/ports.h"

#include <stdatomic.h>
#include <stdlib.h>

/* Bit i of the map stands for port base + i, and a set bit means "free".  base is min rounded
 * down to an even number, so that an even port always sits on an even bit and its successor
 * on the odd bit after it: 64 being even, such a pair never straddles two words, and taking a
 * pair is one compare-exchange on one word (both bits or neither, with no undo).  The bits
 * outside min..max (the one below min when min is odd, the tail of the last word) stay clear
 * for ever, so they are never handed out and put() refuses them by range. */
struct relay_ports {
    uint16_t min;
    uint16_t max;
    uint32_t base;
    uint32_t nbits; /* max - base + 1 */
    size_t nwords;
    /* Signed, and clamped when read: take() and put() change it just after their bit, so a
     * reader between the two may see it one pair off, even below zero. */
    atomic_long avail;
    _Atomic uint64_t words[];
};

#define EVEN_BITS 0x5555555555555555ull /* the even bits, hence the even ports */

int relay_ports_new(struct relay_ports **out, uint16_t min, uint16_t max)
{
    if (min == 0 || min > max)
        return -1;

    uint32_t base = min & ~1u;
    uint32_t nbits = (uint32_t)max - base + 1;
    size_t nwords = (nbits + 63) / 64;
    struct relay_ports *p = calloc(1, sizeof *p + nwords * sizeof p->words[0]);
    if (p == NULL)
        return -1;
    p->min = min;
    p->max = max;
    p->base = base;
    p->nbits = nbits;
    p->nwords = nwords;
    for (size_t k = 0; k < nwords; k++) {
        uint64_t w = 0;
        for (uint32_t b = 0; b < 64; b++) {
            uint32_t port = base + (uint32_t)k * 64 + b;
            if (port >= min && port <= max)
                w |= 1ull << b;
        }
        atomic_init(&p->words[k], w);
    }
    atomic_init(&p->avail, (long)max - min + 1);
    *out = p;
    return 0;
}

void relay_ports_free(struct relay_ports *p)
{
    free(p);
}

/* The free bits of w at which a port satisfying flags starts. */
static uint64_t candidates(uint64_t w, unsigned flags)
{
    if (flags & RELAY_PORTS_PAIR)
        return w & (w >> 1) & EVEN_BITS; /* bit 2j and bit 2j+1 both free */
    if (flags & RELAY_PORTS_EVEN)
        return w & EVEN_BITS;
    return w;
}

/* Tries to take a port from word k among the bits in mask.  Returns the port, or 0 when the
 * word has none left.  A failed compare-exchange reloads the word and looks again, so a thread
 * only moves on when the word is really exhausted, not because another thread was quicker. */
static uint16_t take_in_word(struct relay_ports *p, size_t k, uint64_t mask, unsigned flags)
{
    uint64_t w = atomic_load_explicit(&p->words[k], memory_order_relaxed);
    long n = (flags & RELAY_PORTS_PAIR) ? 2 : 1;

    for (;;) {
        uint64_t c = candidates(w, flags) & mask;
        if (c == 0)
            return 0;
        int b = __builtin_ctzll(c);
        uint64_t bits = (uint64_t)((flags & RELAY_PORTS_PAIR) ? 3 : 1) << b;
        if (atomic_compare_exchange_weak_explicit(&p->words[k], &w, w & ~bits, memory_order_acq_rel,
                                                  memory_order_relaxed)) {
            atomic_fetch_sub_explicit(&p->avail, n, memory_order_relaxed);
            return (uint16_t)(p->base + k * 64 + (unsigned)b);
        }
    }
}

/* The scan starts at a random bit and takes the first suitable free port at or after it,
 * wrapping once round the map: word k0 from bit b0 up, the words after it, and word k0 again
 * whole (its bits below b0).  That is at most nwords + 1 word visits (1025 for a full 1..65535
 * range), each a load and a count of trailing zeros. */
uint16_t relay_ports_take(struct relay_ports *p, uint64_t rnd, unsigned flags)
{
    uint32_t start = (uint32_t)(rnd % p->nbits);
    size_t k0 = start / 64;
    uint16_t port = take_in_word(p, k0, ~0ull << (start % 64), flags);

    for (size_t i = 1; port == 0 && i <= p->nwords; i++) {
        size_t k = k0 + i;
        port = take_in_word(p, k >= p->nwords ? k - p->nwords : k, ~0ull, flags);
    }
    return port;
}

bool relay_ports_take_exact(struct relay_ports *p, uint16_t port)
{
    if (port < p->min || port > p->max)
        return false;
    uint32_t i = port - p->base;
    uint64_t bit = 1ull << (i % 64);
    uint64_t old = atomic_fetch_and_explicit(&p->words[i / 64], ~bit, memory_order_acq_rel);
    if (!(old & bit))
        return false; /* taken already: the and changed nothing */
    atomic_fetch_sub_explicit(&p->avail, 1, memory_order_relaxed);
    return true;
}

void relay_ports_put(struct relay_ports *p, uint16_t port)
{
    if (port < p->min || port > p->max)
        return;
    uint32_t i = port - p->base;
    uint64_t bit = 1ull << (i % 64);
    uint64_t old = atomic_fetch_or_explicit(&p->words[i / 64], bit, memory_order_acq_rel);
    /* A port put twice was free already: the or changed nothing, and neither does the count. */
    if (!(old & bit))
        atomic_fetch_add_explicit(&p->avail, 1, memory_order_relaxed);
}

size_t relay_ports_available(const struct relay_ports *p)
{
    long n = atomic_load_explicit(&p->avail, memory_order_relaxed);
    long total = (long)p->max - p->min + 1;

    return n < 0 ? 0 : (size_t)(n > total ? total : n);
}
