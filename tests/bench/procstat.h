/* procstat.h — another process's CPU time and resident memory, read from /proc. */
#ifndef TESTS_BENCH_PROCSTAT_H
#define TESTS_BENCH_PROCSTAT_H

#include <stdint.h>
#include <sys/types.h>

/* User plus system CPU time of every thread of pid so far, in microseconds (at the kernel's
 * clock-tick resolution, usually 10 ms), from /proc/PID/stat.  -1 when it cannot be read. */
int64_t procstat_cpu_us(pid_t pid);

/* Resident set size of pid in KiB (VmRSS of /proc/PID/status), or -1. */
long procstat_rss_kib(pid_t pid);

/* Busy time (everything but idle and iowait) summed over every CPU of the machine, and the
 * number of CPUs, from /proc/stat, in microseconds.  -1 when it cannot be read. */
int64_t procstat_busy_us(int *ncpus);

#endif
