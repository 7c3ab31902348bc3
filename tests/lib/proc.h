/* proc.h — the server under test as a child process: free ports, temp dir, start, stop by PID. */
#ifndef TESTS_LIB_PROC_H
#define TESTS_LIB_PROC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* A running server.  dir is a fresh temporary directory (the child's working directory, removed
 * by proc_stop); log holds everything the child wrote to stdout and stderr. */
struct proc {
    pid_t pid;
    uint16_t port;
    char dir[64];
    char log[96];
};

/* A port free for UDP and TCP on 127.0.0.1 and ::1 at the time of the call, and the one after
 * it too (the alternative port --rfc5780 takes by default). */
uint16_t proc_free_port(void);

/* Path of the binary under test: $TURNPIKE_SERVER, else build/turnserver. */
const char *proc_server_path(void);

/* True when the binary under test runs under AddressSanitizer ($TURNPIKE_SANITIZED=1, set by
 * tests/run --sanitized): its shadow memory and quarantine make resident memory no measure of
 * the server's own, so memory figures are printed but not held to a bound. */
bool proc_sanitized(void);

/* Starts the server on a free port with "-n --log-file stdout --listening-port PORT" followed
 * by args (NULL-terminated; "{port}" in an argument is replaced by the port), and waits up to
 * 10 s for its "listening on" log line.  Returns 0, or -1 after printing why (the log is
 * shown; the child is stopped). */
int proc_start(struct proc *p, const char *const *args);

/* Like proc_start but with "-c conf" (an absolute path) for -n: the server reads that
 * config file, at start and on SIGHUP. */
int proc_start_conf(struct proc *p, const char *conf, const char *const *args);

/* Like proc_start but runs the binary with exactly argv (argv[0] is replaced by the binary)
 * and does not wait for readiness: for tests of start-up failures.  Waits up to timeout_ms
 * for the exit and returns the exit status (or -1 when it did not exit, after killing it). */
int proc_run(struct proc *p, const char *const *argv, int timeout_ms);

/* Sends sig and waits up to timeout_ms for the exit; kills it with SIGKILL after that.  Sets
 * *elapsed_ms when not NULL.  Returns the exit status (0..255), 128 + signal when it died of
 * one, or -1 when it had to be killed; the log is shown when it is not 0.  The log stays
 * readable until proc_cleanup(). */
int proc_stop(struct proc *p, int sig, int timeout_ms, int *elapsed_ms);

/* Kills the child if still running and removes the temporary directory. */
void proc_cleanup(struct proc *p);

/* True when the child's log contains needle (polls for up to timeout_ms). */
bool proc_log_contains(const struct proc *p, const char *needle, int timeout_ms);

/* The number after the last "key" in the child's log ("dtls.sessions=" -> 3), or -1 when the
 * key is not there. */
long proc_log_number(const struct proc *p, const char *key);

/* Prints the child's log to stderr (for a failed test). */
void proc_dump_log(const struct proc *p);

/* Resident set size of the child in KiB, or -1. */
long proc_rss_kib(const struct proc *p);

/* Runs a shell command with a time limit, reading all its stdout and stderr and keeping the
 * last cap-1 bytes in out (the tail holds the summaries tests look for).  Returns its exit
 * status, or -1. */
int proc_capture(const char *cmd, int timeout_s, char *out, size_t cap);

/* Milliseconds of a monotonic clock. */
long long proc_now_ms(void);

#endif
