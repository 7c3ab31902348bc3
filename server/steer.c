/* steer.c — relay-port steering (steer.h), without libbpf: three maps, a program of 58
 * instructions and a link, through the bpf(2) system call. */
#include "server/steer.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

/* The key of the program's first map: a relay IP as the sk_lookup context has it (network
 * order; IPv4 in ip[0], the rest zero). */
struct steer_ip {
    uint32_t family;
    uint32_t ip[4];
};

struct steer {
    int ips;   /* BPF hash: steer_ip -> index of its first port in ports */
    int ports; /* BPF array: per relay IP, per port from min_port: 1 + index in socks, or 0 */
    int socks; /* BPF sockmap: 2 * worker + (IPv6 ? 1 : 0) -> that steering socket */
    int prog, link;
    union addr relay_ips[STEER_MAX_IPS];
    size_t nips;
    uint16_t min_port, max_port;
    unsigned nworkers;
    int fds[]; /* the steering sockets, indexed as socks; -1 where the family has no relay IP */
};

static long bpf(int cmd, union bpf_attr *a)
{
    return syscall(SYS_bpf, cmd, a, sizeof(*a));
}

#define INSN(c, d, s, o, i) \
    ((struct bpf_insn){.code = (c), .dst_reg = (d), .src_reg = (s), .off = (o), .imm = (i)})
#define MOV_REG(d, s)        INSN(BPF_ALU64 | BPF_MOV | BPF_X, d, s, 0, 0)
#define MOV_IMM(d, i)        INSN(BPF_ALU64 | BPF_MOV | BPF_K, d, 0, 0, i)
#define ADD_IMM(d, i)        INSN(BPF_ALU64 | BPF_ADD | BPF_K, d, 0, 0, i)
#define ADD_REG(d, s)        INSN(BPF_ALU64 | BPF_ADD | BPF_X, d, s, 0, 0)
#define LOAD32(d, s, o)      INSN(BPF_LDX | BPF_MEM | BPF_W, d, s, o, 0)
#define STORE32(d, o, s)     INSN(BPF_STX | BPF_MEM | BPF_W, d, s, o, 0)
#define STORE32_IMM(d, o, i) INSN(BPF_ST | BPF_MEM | BPF_W, d, 0, o, i)
#define CALL(f)              INSN(BPF_JMP | BPF_CALL, 0, 0, 0, f)
#define EXIT()               INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0)
#define LOAD_MAP(d, fd) \
    INSN(BPF_LD | BPF_DW | BPF_IMM, d, BPF_PSEUDO_MAP_FD, 0, fd), INSN(0, 0, 0, 0, 0)
/* Jumps from instruction `at` to instruction `to` (labels below). */
#define JUMP_IF(op, d, i, at, to) INSN(BPF_JMP | (op) | BPF_K, d, 0, (to) - (at) - 1, i)
#define JUMP(at, to)              INSN(BPF_JMP | BPF_JA, 0, 0, (to) - (at) - 1, 0)
#define CTX(field)                ((int16_t)offsetof(struct bpf_sk_lookup, field))

/* Where the IP key (20 bytes), the index in ports and the index in socks lie on the stack. */
enum { IPKEY = -20, PIDX = -24, SIDX = -28 };
/* Labels: the IPv6 key, the lookups, and SK_PASS (the kernel's own lookup goes on). */
enum { L_V6 = 15, L_LOOKUP = 23, L_PASS = 56 };

/* For a UDP datagram to a port of the range on a relay IP that is marked in ports: the socket
 * at the marked index of socks takes it.  Anything else passes on to the kernel's own lookup.
 * r8 holds the port throughout; an array, not a hash, holds the ports, for one cache line
 * touched per datagram. */
static int load_program(const struct steer *s, char *log, size_t logsize)
{
    const struct bpf_insn prog[] = {
        MOV_REG(6, 1),                                      /*  0: r6 = the context */
        LOAD32(2, 6, CTX(protocol)),                        /*  1 */
        JUMP_IF(BPF_JNE, 2, IPPROTO_UDP, 2, L_PASS),        /*  2 */
        LOAD32(8, 6, CTX(local_port)),                      /*  3 */
        JUMP_IF(BPF_JLT, 8, s->min_port, 4, L_PASS),        /*  4 */
        JUMP_IF(BPF_JGT, 8, s->max_port, 5, L_PASS),        /*  5 */
        LOAD32(2, 6, CTX(family)),                          /*  6 */
        STORE32(10, IPKEY, 2),                              /*  7: key.family */
        JUMP_IF(BPF_JNE, 2, AF_INET, 8, L_V6),              /*  8 */
        LOAD32(3, 6, CTX(local_ip4)),                       /*  9 */
        STORE32(10, IPKEY + 4, 3),                          /* 10: key.ip[0] */
        STORE32_IMM(10, IPKEY + 8, 0),                      /* 11 */
        STORE32_IMM(10, IPKEY + 12, 0),                     /* 12 */
        STORE32_IMM(10, IPKEY + 16, 0),                     /* 13 */
        JUMP(14, L_LOOKUP),                                 /* 14 */
        LOAD32(3, 6, CTX(local_ip6[0])),                    /* 15 = L_V6 */
        STORE32(10, IPKEY + 4, 3),                          /* 16 */
        LOAD32(3, 6, CTX(local_ip6[1])),                    /* 17 */
        STORE32(10, IPKEY + 8, 3),                          /* 18 */
        LOAD32(3, 6, CTX(local_ip6[2])),                    /* 19 */
        STORE32(10, IPKEY + 12, 3),                         /* 20 */
        LOAD32(3, 6, CTX(local_ip6[3])),                    /* 21 */
        STORE32(10, IPKEY + 16, 3),                         /* 22 */
        MOV_REG(2, 10),                                     /* 23 = L_LOOKUP */
        ADD_IMM(2, IPKEY),                                  /* 24 */
        LOAD_MAP(1, s->ips),                                /* 25, 26 */
        CALL(BPF_FUNC_map_lookup_elem),                     /* 27 */
        JUMP_IF(BPF_JEQ, 0, 0, 28, L_PASS),                 /* 28: not a relay IP */
        LOAD32(1, 0, 0),                                    /* 29: its first port's index */
        ADD_REG(1, 8),                                      /* 30 */
        ADD_IMM(1, -(int32_t)s->min_port),                  /* 31 */
        STORE32(10, PIDX, 1),                               /* 32 */
        MOV_REG(2, 10),                                     /* 33 */
        ADD_IMM(2, PIDX),                                   /* 34 */
        LOAD_MAP(1, s->ports),                              /* 35, 36 */
        CALL(BPF_FUNC_map_lookup_elem),                     /* 37 */
        JUMP_IF(BPF_JEQ, 0, 0, 38, L_PASS),                 /* 38 */
        LOAD32(1, 0, 0),                                    /* 39 */
        JUMP_IF(BPF_JEQ, 1, 0, 40, L_PASS),                 /* 40: not steered */
        ADD_IMM(1, -1),                                     /* 41 */
        STORE32(10, SIDX, 1),                               /* 42 */
        MOV_REG(2, 10),                                     /* 43 */
        ADD_IMM(2, SIDX),                                   /* 44 */
        LOAD_MAP(1, s->socks),                              /* 45, 46 */
        CALL(BPF_FUNC_map_lookup_elem),                     /* 47: a referenced socket */
        JUMP_IF(BPF_JEQ, 0, 0, 48, L_PASS),                 /* 48 */
        MOV_REG(7, 0),                                      /* 49 */
        MOV_REG(1, 6),                                      /* 50 */
        MOV_REG(2, 7),                                      /* 51 */
        MOV_IMM(3, 0),                                      /* 52 */
        CALL(BPF_FUNC_sk_assign),                           /* 53 */
        MOV_REG(1, 7),                                      /* 54 */
        CALL(BPF_FUNC_sk_release),                          /* 55 */
        MOV_IMM(0, SK_PASS),                                /* 56 = L_PASS */
        EXIT(),                                             /* 57 */
    };
    union bpf_attr a = {.prog_type = BPF_PROG_TYPE_SK_LOOKUP,
                        .expected_attach_type = BPF_SK_LOOKUP,
                        .insns = (uintptr_t)prog,
                        .insn_cnt = sizeof(prog) / sizeof(prog[0]),
                        .license = (uintptr_t)"GPL",
                        .log_buf = (uintptr_t)log,
                        .log_size = (uint32_t)logsize,
                        .log_level = log ? 1 : 0};

    return (int)bpf(BPF_PROG_LOAD, &a);
}

static int attach(int prog)
{
    int ns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
    union bpf_attr a = {.link_create = {.prog_fd = (uint32_t)prog, .target_fd = (uint32_t)ns,
                                        .attach_type = BPF_SK_LOOKUP}};
    int link;

    if (ns < 0)
        return -1;
    link = (int)bpf(BPF_LINK_CREATE, &a);
    close(ns);
    return link;
}

/* A socket bound to ip (any port) that tells where each datagram was sent. */
static int steering_socket(const union addr *ip)
{
    union addr a = *ip;
    int v6 = ip->sa.sa_family == AF_INET6, on = 1, size = 4 << 20;
    int fd = socket(ip->sa.sa_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

    addr_set_port(&a, 0);
    if (fd < 0)
        return -1;
    if ((v6 && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on)) < 0) ||
        setsockopt(fd, v6 ? IPPROTO_IPV6 : IPPROTO_IP,
                   v6 ? IPV6_RECVORIGDSTADDR : IP_RECVORIGDSTADDR, &on, sizeof(on)) < 0 ||
        bind(fd, &a.sa, addr_len(&a)) < 0) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    /* Every peer of the worker's allocations sends here: a listener's buffer, not a relay
     * socket's (beyond rmem_max when we may). */
    if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) < 0)
        (void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
    return fd;
}

static void close_fd(int fd)
{
    if (fd >= 0)
        close(fd);
}

static int fail(struct steer *s, char *err, size_t errlen, const char *what)
{
    snprintf(err, errlen, "--relay-steering: %s: %s", what, strerror(errno));
    steer_free(s);
    return -1;
}

static int map_new(enum bpf_map_type type, unsigned key_size, unsigned value_size,
                   size_t entries)
{
    union bpf_attr a = {.map_type = type, .key_size = key_size, .value_size = value_size,
                        .max_entries = (uint32_t)entries};

    return (int)bpf(BPF_MAP_CREATE, &a);
}

static int map_set(int map, const void *key, const void *value)
{
    union bpf_attr a = {.map_fd = (uint32_t)map, .key = (uintptr_t)key,
                        .value = (uintptr_t)value, .flags = BPF_ANY};

    return (int)bpf(BPF_MAP_UPDATE_ELEM, &a);
}

static struct steer_ip ip_key(const union addr *a)
{
    struct steer_ip k = {.family = (uint32_t)a->sa.sa_family};

    if (a->sa.sa_family == AF_INET)
        memcpy(k.ip, &a->sin.sin_addr, 4);
    else
        memcpy(k.ip, &a->sin6.sin6_addr, 16);
    return k;
}

static size_t nports(const struct steer *s)
{
    return (size_t)s->max_port - s->min_port + 1;
}

size_t steer_slots(const struct steer *s)
{
    return s->nips * nports(s);
}

/* The maps, with every relay IP in ips and a steering socket per worker and family in socks. */
static int fill_maps(struct steer *s)
{
    static const int families[2] = {AF_INET, AF_INET6};

    s->ips = map_new(BPF_MAP_TYPE_HASH, sizeof(struct steer_ip), 4, STEER_MAX_IPS);
    s->ports = map_new(BPF_MAP_TYPE_ARRAY, 4, 4, steer_slots(s));
    s->socks = map_new(BPF_MAP_TYPE_SOCKMAP, 4, 8, 2 * s->nworkers);
    if (s->ips < 0 || s->ports < 0 || s->socks < 0)
        return -1;
    for (size_t k = 0; k < s->nips; k++) {
        struct steer_ip key = ip_key(&s->relay_ips[k]);
        uint32_t base = (uint32_t)(k * nports(s));

        if (map_set(s->ips, &key, &base) < 0)
            return -1;
    }
    for (unsigned i = 0; i < 2 * s->nworkers; i++) {
        const union addr *ip = NULL;
        uint32_t idx = i;
        uint64_t fd;

        for (size_t k = 0; k < s->nips && ip == NULL; k++)
            if (s->relay_ips[k].sa.sa_family == families[i % 2])
                ip = &s->relay_ips[k];
        if (ip == NULL)
            continue;
        if ((s->fds[i] = steering_socket(ip)) < 0)
            return -1;
        fd = (uint64_t)s->fds[i];
        if (map_set(s->socks, &idx, &fd) < 0)
            return -1;
    }
    return 0;
}

int steer_new(struct steer **out, const union addr *relay_ips, size_t n, uint16_t min_port,
              uint16_t max_port, unsigned nworkers, char *err, size_t errlen)
{
    struct steer *s = calloc(1, sizeof(*s) + 2 * nworkers * sizeof(int));
    char log[8192];

    if (s == NULL || n > STEER_MAX_IPS || min_port > max_port) {
        snprintf(err, errlen, "--relay-steering: %s", s ? "too many relay IPs" : "out of memory");
        free(s);
        return -1;
    }
    s->ips = s->ports = s->socks = s->prog = s->link = -1;
    s->nworkers = nworkers;
    s->nips = n;
    memcpy(s->relay_ips, relay_ips, n * sizeof(*relay_ips));
    s->min_port = min_port;
    s->max_port = max_port;
    for (unsigned i = 0; i < 2 * nworkers; i++)
        s->fds[i] = -1;
    if (fill_maps(s) < 0)
        return fail(s, err, errlen,
                    "cannot set up the BPF maps and steering sockets (CAP_BPF needed)");
    log[0] = '\0';
    s->prog = load_program(s, log, sizeof(log));
    if (s->prog < 0) {
        if (log[0] != '\0')
            fprintf(stderr, "%s", log);
        return fail(s, err, errlen, "the kernel refused the BPF sk_lookup program");
    }
    s->link = attach(s->prog);
    if (s->link < 0)
        return fail(s, err, errlen,
                    "cannot attach to the network namespace (Linux 5.9 and CAP_NET_ADMIN needed)");
    *out = s;
    return 0;
}

void steer_free(struct steer *s)
{
    if (s == NULL)
        return;
    /* The link first: nothing is steered to sockets about to close. */
    close_fd(s->link);
    close_fd(s->prog);
    close_fd(s->socks);
    close_fd(s->ports);
    close_fd(s->ips);
    for (unsigned i = 0; i < 2 * s->nworkers; i++)
        close_fd(s->fds[i]);
    free(s);
}

int steer_socket(const struct steer *s, unsigned worker, int family)
{
    if (worker >= s->nworkers || (family != AF_INET && family != AF_INET6))
        return -1;
    return s->fds[2 * worker + (family == AF_INET6)];
}

/* The index is where the address's port lies in the program's ports map. */
bool steer_index(const struct steer *s, const union addr *a, uint32_t *idx)
{
    uint16_t port = addr_port(a);

    if (port < s->min_port || port > s->max_port)
        return false;
    for (size_t k = 0; k < s->nips; k++) {
        if (addr_ip_equal(&s->relay_ips[k], a)) {
            *idx = (uint32_t)(k * nports(s) + port - s->min_port);
            return true;
        }
    }
    return false;
}

int steer_add(const struct steer *s, unsigned worker, uint32_t idx)
{
    int family = s->relay_ips[idx / nports(s)].sa.sa_family;
    uint32_t sock = 1 + 2 * worker + (family == AF_INET6);

    if (steer_socket(s, worker, family) < 0) {
        errno = EADDRNOTAVAIL;
        return -1;
    }
    return map_set(s->ports, &idx, &sock);
}

void steer_del(const struct steer *s, uint32_t idx)
{
    uint32_t none = 0;

    (void)map_set(s->ports, &idx, &none);
}

bool steer_dst(const struct msghdr *h, union addr *out)
{
    for (struct cmsghdr *c = CMSG_FIRSTHDR(h); c; c = CMSG_NXTHDR((struct msghdr *)h, c)) {
        if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_ORIGDSTADDR &&
            c->cmsg_len >= CMSG_LEN(sizeof(struct sockaddr_in))) {
            memcpy(&out->sin, CMSG_DATA(c), sizeof(out->sin));
            return out->sa.sa_family == AF_INET;
        }
        if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_ORIGDSTADDR &&
            c->cmsg_len >= CMSG_LEN(sizeof(struct sockaddr_in6))) {
            memcpy(&out->sin6, CMSG_DATA(c), sizeof(out->sin6));
            return out->sa.sa_family == AF_INET6;
        }
    }
    return false;
}
