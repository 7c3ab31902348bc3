/* procstat.c — another process's CPU time and resident memory, read from /proc. */
#include "tests/bench/procstat.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

int64_t procstat_cpu_us(pid_t pid)
{
    char path[64], buf[1024];
    unsigned long long utime, stime;
    long hz = sysconf(_SC_CLK_TCK);
    const char *p;
    size_t n;
    FILE *f;

    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    f = fopen(path, "r");
    if (f == NULL)
        return -1;
    n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    /* The command name in parentheses may hold spaces: fields are counted after its ')'.
     * Field 3 (state) follows; utime and stime are fields 14 and 15. */
    p = strrchr(buf, ')');
    if (p == NULL || hz <= 0 ||
        sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &utime, &stime) !=
            2)
        return -1;
    return (int64_t)((utime + stime) * 1000000ull / (unsigned long long)hz);
}

long procstat_rss_kib(pid_t pid)
{
    char path[64], line[256];
    long kib = -1;
    FILE *f;

    snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
    f = fopen(path, "r");
    if (f == NULL)
        return -1;
    while (fgets(line, sizeof(line), f))
        if (sscanf(line, "VmRSS: %ld kB", &kib) == 1)
            break;
    fclose(f);
    return kib;
}

int64_t procstat_busy_us(int *ncpus)
{
    unsigned long long v[8] = {0}, busy = 0;
    long hz = sysconf(_SC_CLK_TCK);
    char line[512];
    int n = 0, cpus = 0;
    FILE *f = fopen("/proc/stat", "r");

    if (f == NULL)
        return -1;
    while (fgets(line, sizeof(line), f)) {
        if (strncmp(line, "cpu ", 4) == 0)
            n = sscanf(line + 4, "%llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2],
                       &v[3], &v[4], &v[5], &v[6], &v[7]);
        else if (strncmp(line, "cpu", 3) == 0)
            cpus++;
    }
    fclose(f);
    if (n < 5 || hz <= 0)
        return -1;
    /* user nice system idle iowait irq softirq steal: all but idle (3) and iowait (4). */
    for (int i = 0; i < n; i++)
        if (i != 3 && i != 4)
            busy += v[i];
    if (ncpus)
        *ncpus = cpus;
    return (int64_t)(busy * 1000000ull / (unsigned long long)hz);
}
