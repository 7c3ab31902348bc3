/* steer.c — relay-port steering with BPF sk_lookup (steer.h), without libbpf: two maps, a
 * program of 26 instructions and a link, through the bpf(2) system call. */
#include "tests/bench/steer.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static long bpf(int cmd, union bpf_attr *a)
{
    return syscall(SYS_bpf, cmd, a, sizeof(*a));
}

static int map_new(enum bpf_map_type type, unsigned value_size, unsigned entries)
{
    union bpf_attr a = {.map_type = type, .key_size = 4, .value_size = value_size,
                        .max_entries = entries};

    return (int)bpf(BPF_MAP_CREATE, &a);
}

static int map_set(int map, uint32_t key, const void *value)
{
    union bpf_attr a = {.map_fd = (uint32_t)map, .key = (uintptr_t)&key,
                        .value = (uintptr_t)value, .flags = BPF_ANY};

    return (int)bpf(BPF_MAP_UPDATE_ELEM, &a);
}

#define INSN(c, d, s, o, i) \
    ((struct bpf_insn){.code = (c), .dst_reg = (d), .src_reg = (s), .off = (o), .imm = (i)})
#define MOV_REG(d, s)      INSN(BPF_ALU64 | BPF_MOV | BPF_X, d, s, 0, 0)
#define MOV_IMM(d, i)      INSN(BPF_ALU64 | BPF_MOV | BPF_K, d, 0, 0, i)
#define ADD_IMM(d, i)      INSN(BPF_ALU64 | BPF_ADD | BPF_K, d, 0, 0, i)
#define LOAD32(d, s, o)    INSN(BPF_LDX | BPF_MEM | BPF_W, d, s, o, 0)
#define STORE32(d, o, s)   INSN(BPF_STX | BPF_MEM | BPF_W, d, s, o, 0)
#define STORE32_IMM(d, o, i) INSN(BPF_ST | BPF_MEM | BPF_W, d, 0, o, i)
#define JUMP_IF(op, d, i, o) INSN(BPF_JMP | (op) | BPF_K, d, 0, o, i)
#define CALL(f)            INSN(BPF_JMP | BPF_CALL, 0, 0, 0, f)
#define EXIT()             INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0)
#define LOAD_MAP(d, fd) \
    INSN(BPF_LD | BPF_DW | BPF_IMM, d, BPF_PSEUDO_MAP_FD, 0, fd), INSN(0, 0, 0, 0, 0)
#define CTX(field)         ((int16_t)offsetof(struct bpf_sk_lookup, field))

/* For a UDP datagram whose local port is marked in ports: the socket at 0 in socks takes it.
 * Anything else goes on to the kernel's own lookup (SK_PASS without a socket).  A jump from
 * instruction i to "pass" skips PASS - (i + 1). */
enum { PASS = 27 };

static int load_program(const struct steer *s, char *log, size_t logsize)
{
    const struct bpf_insn prog[] = {
        MOV_REG(6, 1),                                  /* r6: the context */
        LOAD32(2, 6, CTX(protocol)),                    /*  1 */
        JUMP_IF(BPF_JNE, 2, IPPROTO_UDP, PASS - 3),     /*  2: not UDP -> pass */
        LOAD32(2, 6, CTX(local_port)),                  /*  3 */
        STORE32(10, -4, 2),                             /*  4: key = local port */
        MOV_REG(2, 10),                                 /*  5 */
        ADD_IMM(2, -4),                                 /*  6 */
        LOAD_MAP(1, s->ports),                          /*  7, 8 */
        CALL(BPF_FUNC_map_lookup_elem),                 /*  9 */
        JUMP_IF(BPF_JEQ, 0, 0, PASS - 11),              /* 10: no entry -> pass */
        LOAD32(1, 0, 0),                                /* 11 */
        JUMP_IF(BPF_JEQ, 1, 0, PASS - 13),              /* 12: not steered -> pass */
        STORE32_IMM(10, -8, 0),                         /* 13: key = 0 */
        MOV_REG(2, 10),                                 /* 14 */
        ADD_IMM(2, -8),                                 /* 15 */
        LOAD_MAP(1, s->socks),                          /* 16, 17 */
        CALL(BPF_FUNC_map_lookup_elem),                 /* 18: a referenced socket */
        JUMP_IF(BPF_JEQ, 0, 0, PASS - 20),              /* 19: none -> pass */
        MOV_REG(7, 0),                                  /* 20 */
        MOV_REG(1, 6),                                  /* 21 */
        MOV_REG(2, 7),                                  /* 22 */
        MOV_IMM(3, 0),                                  /* 23 */
        CALL(BPF_FUNC_sk_assign),                       /* 24 */
        MOV_REG(1, 7),                                  /* 25 */
        CALL(BPF_FUNC_sk_release),                      /* 26 */
        MOV_IMM(0, SK_PASS),                            /* 27 = PASS */
        EXIT(),                                         /* 28 */
    };
    union bpf_attr a = {.prog_type = BPF_PROG_TYPE_SK_LOOKUP,
                        .expected_attach_type = BPF_SK_LOOKUP,
                        .insns = (uintptr_t)prog,
                        .insn_cnt = sizeof(prog) / sizeof(prog[0]),
                        .license = (uintptr_t)"GPL",
                        .log_buf = (uintptr_t)log,
                        .log_size = (uint32_t)logsize,
                        .log_level = 1};

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

static int fail(struct steer *s, char *err, size_t errlen, const char *what)
{
    snprintf(err, errlen, "%s: %s", what, strerror(errno));
    steer_close(s);
    return -1;
}

int steer_open(struct steer *s, const union addr *a, char *err, size_t errlen)
{
    static char log[16384];
    union addr any = *a;
    uint64_t fd;
    int on = 1;

    *s = (struct steer){.sock = -1, .ports = -1, .socks = -1, .prog = -1, .link = -1};
    if (a->sa.sa_family != AF_INET) {
        snprintf(err, errlen, "steering is IPv4 only");
        return -1;
    }
    addr_set_port(&any, 0);
    s->sock = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (s->sock < 0 || setsockopt(s->sock, SOL_IP, IP_RECVORIGDSTADDR, &on, sizeof(on)) < 0 ||
        bind(s->sock, &any.sa, addr_len(&any)) < 0)
        return fail(s, err, errlen, "steering socket");
    on = 4 << 20;
    (void)setsockopt(s->sock, SOL_SOCKET, SO_RCVBUF, &on, sizeof(on));
    s->ports = map_new(BPF_MAP_TYPE_ARRAY, 4, 65536);
    s->socks = map_new(BPF_MAP_TYPE_SOCKMAP, 8, 1);
    if (s->ports < 0 || s->socks < 0)
        return fail(s, err, errlen, "BPF maps (CAP_BPF needed)");
    fd = (uint64_t)s->sock;
    if (map_set(s->socks, 0, &fd) < 0)
        return fail(s, err, errlen, "sockmap");
    s->prog = load_program(s, log, sizeof(log));
    if (s->prog < 0) {
        fprintf(stderr, "%s", log);
        return fail(s, err, errlen, "BPF sk_lookup program");
    }
    s->link = attach(s->prog);
    if (s->link < 0)
        return fail(s, err, errlen, "attaching to the network namespace (CAP_NET_ADMIN needed)");
    return 0;
}

uint16_t steer_add(struct steer *s, int fd)
{
    union addr a;
    socklen_t len = sizeof(a);
    uint32_t on = 1;

    if (getsockname(fd, &a.sa, &len) < 0 || map_set(s->ports, addr_port(&a), &on) < 0)
        return 0;
    return addr_port(&a);
}

uint16_t steer_port(const struct msghdr *h)
{
    for (struct cmsghdr *c = CMSG_FIRSTHDR(h); c; c = CMSG_NXTHDR((struct msghdr *)h, c)) {
        struct sockaddr_in sin;
        if (c->cmsg_level != SOL_IP || c->cmsg_type != IP_ORIGDSTADDR ||
            c->cmsg_len < CMSG_LEN(sizeof(sin)))
            continue;
        memcpy(&sin, CMSG_DATA(c), sizeof(sin));
        return ntohs(sin.sin_port);
    }
    return 0;
}

void steer_close(struct steer *s)
{
    int *fds[] = {&s->link, &s->prog, &s->socks, &s->ports, &s->sock};

    for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++) {
        if (*fds[i] >= 0)
            close(*fds[i]);
        *fds[i] = -1;
    }
}
