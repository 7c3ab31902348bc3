/* coturn.c — coturn's test tools as clients of the server under test: turnutils_peer, an echo
 * peer, and turnutils_uclient, a TURN client whose totals are read from its output. */
#include "tests/lib/coturn.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/lib/check.h"
#include "tests/lib/proc.h"

pid_t coturn_peer_start(const char *ip, uint16_t port)
{
    char portbuf[8];
    pid_t pid;

    snprintf(portbuf, sizeof(portbuf), "%u", port);
    pid = fork();
    if (pid == 0) {
        int null = open("/dev/null", O_WRONLY);

        dup2(null, 1);
        dup2(null, 2);
        execlp("turnutils_peer", "turnutils_peer", "-L", ip, "-p", portbuf, (char *)NULL);
        _exit(127);
    }
    return pid;
}

void coturn_peer_stop(pid_t pid)
{
    if (pid > 0) {
        kill(pid, SIGTERM);
        waitpid(pid, NULL, 0);
    }
}

void coturn_uclient(struct coturn_run *r, const char *flags, uint16_t port, const char *ip,
                    int timeout_s)
{
    char cmd[768];
    const char *p;
    long long t0 = proc_now_ms();

    snprintf(cmd, sizeof(cmd), "turnutils_uclient %s -p %u %s", flags, port, ip);
    r->rc = proc_capture(cmd, timeout_s, r->out, sizeof(r->out));
    r->seconds = (double)(proc_now_ms() - t0) / 1000.0;
    r->sent = r->received = r->lost = -1;
    p = strstr(r->out, "start_mclient: tot_send_msgs=");
    if (p)
        sscanf(p, "start_mclient: tot_send_msgs=%ld, tot_recv_msgs=%ld", &r->sent, &r->received);
    p = strstr(r->out, "Total lost packets ");
    if (p)
        sscanf(p, "Total lost packets %ld", &r->lost);
}

int coturn_all_relayed(const struct coturn_run *r, long want)
{
    if (CHECK_INT(r->rc, 0) && CHECK_INT(r->sent, want) && CHECK_INT(r->received, want) &&
        CHECK_INT(r->lost, 0))
        return 1;
    fprintf(stderr, "uclient said:\n%s\n", r->out);
    return 0;
}

int coturn_relay_all(const struct coturn_target *t, const char *flags, const char *ip,
                     uint16_t port, const char *peer_ip, long n, long m)
{
    static struct coturn_run r;
    char all[768];

    snprintf(all, sizeof(all), "-u %s -w %s -e %s -r %u -n %ld -m %ld -z 2 %s", t->user, t->pass,
             peer_ip, t->peer_port, n, m, flags);
    coturn_uclient(&r, all, port, ip, 60);
    return coturn_all_relayed(&r, n * m);
}
