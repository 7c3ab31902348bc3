/* server.h — the turnserver process: listening addresses, workers, signals, shutdown. */
#ifndef SERVER_SERVER_H
#define SERVER_SERVER_H

#include <stddef.h>

#include "server/config.h"

struct server;

/* Resolves the listening addresses (every --listening-ip, or 0.0.0.0 and :: when none is
 * given), creates one worker per thread with its sockets bound, and the main loop's signal
 * handlers.  cfg is borrowed and must outlive the server.  Returns 0, or -1 with the reason
 * in err (nothing is left open then). */
int server_new(struct server **out, const struct config *cfg, char *err, size_t errlen);

/* The command line the configuration came from, read again (with the config file it names)
 * on SIGHUP; borrowed, must outlive the server.  Without it SIGHUP only reopens the log. */
void server_set_args(struct server *s, int argc, char **argv);

/* Starts the workers and runs until SIGTERM or SIGINT; then stops accepting, stops and joins
 * the workers.  Returns 0, or -1 when a thread could not start. */
int server_run(struct server *s);

/* Logs the summed counters of all workers, one line. */
void server_log_stats(const struct server *s);

/* Closes every socket and frees the server.  Accepts NULL. */
void server_free(struct server *s);

#endif
