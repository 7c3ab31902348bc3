/* main.c — turnserver: load the configuration, run the server, exit cleanly on SIGTERM. */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <event2/thread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "server/config.h"
#include "server/log.h"
#include "server/server.h"

/* --proc-user/--proc-group: privileged ports are bound by now, so root is no longer needed.
 * The group first (a process that is no longer root cannot change it), supplementary groups
 * dropped.  Returns 0, or -1 with the reason in err. */
static int drop_privileges(const struct config *cfg, char *err, size_t errlen)
{
    struct passwd *pw = NULL;
    struct group *gr = NULL;
    gid_t gid;

    if (cfg->proc_user == NULL && cfg->proc_group == NULL)
        return 0;
    if (cfg->proc_user && (pw = getpwnam(cfg->proc_user)) == NULL) {
        snprintf(err, errlen, "--proc-user: no user '%s'", cfg->proc_user);
        return -1;
    }
    if (cfg->proc_group && (gr = getgrnam(cfg->proc_group)) == NULL) {
        snprintf(err, errlen, "--proc-group: no group '%s'", cfg->proc_group);
        return -1;
    }
    gid = gr ? gr->gr_gid : pw->pw_gid;
    if (setgroups(0, NULL) < 0 && errno != EPERM) {
        snprintf(err, errlen, "cannot drop supplementary groups: %s", strerror(errno));
        return -1;
    }
    if (setgid(gid) < 0 || (pw && setuid(pw->pw_uid) < 0)) {
        snprintf(err, errlen, "cannot become %s%s%s: %s", cfg->proc_user ? cfg->proc_user : "",
                 cfg->proc_group ? ":" : "", cfg->proc_group ? cfg->proc_group : "",
                 strerror(errno));
        return -1;
    }
    log_info("running as uid %d, gid %d", (int)getuid(), (int)getgid());
    return 0;
}

static int write_pidfile(const char *path)
{
    FILE *f = fopen(path, "w");

    if (f == NULL)
        return -1;
    fprintf(f, "%ld\n", (long)getpid());
    return fclose(f);
}

int main(int argc, char **argv)
{
    struct config cfg = {0};
    struct server *srv = NULL;
    char err[512];
    int rc;

    signal(SIGPIPE, SIG_IGN);
    rc = config_load(&cfg, argc, argv, stdout, err, sizeof(err));
    if (rc == CONFIG_DONE)
        return 0;
    if (rc != 0) {
        fprintf(stderr, "turnserver: %s\n", err);
        return 1;
    }
    if (log_open(cfg.log_file, log_facility(cfg.syslog_facility),
                 cfg.verbose ? LOG_LVL_DEBUG : LOG_LVL_INFO) < 0) {
        fprintf(stderr, "turnserver: cannot open log file '%s': %s\n", cfg.log_file,
                strerror(errno));
        config_free(&cfg);
        return 1;
    }
    /* Workers are stopped from the main thread: libevent must know about threads. */
    if (evthread_use_pthreads() < 0)
        snprintf(err, sizeof(err), "libevent has no thread support");
    else if (server_new(&srv, &cfg, err, sizeof(err)) == 0)
        err[0] = '\0';
    if (err[0] != '\0') {
        log_error("%s", err);
        if (!log_is_console())
            fprintf(stderr, "turnserver: %s\n", err);
        log_close();
        config_free(&cfg);
        return 1;
    }
    if (cfg.pidfile && write_pidfile(cfg.pidfile) < 0)
        log_warn("cannot write pid file '%s': %s", cfg.pidfile, strerror(errno));
    if (drop_privileges(&cfg, err, sizeof(err)) < 0) {
        log_error("%s", err);
        server_free(srv);
        log_close();
        config_free(&cfg);
        return 1;
    }
    log_info("turnpike %s starting", TURNPIKE_VERSION);
    server_set_args(srv, argc, argv);
    rc = server_run(srv);
    server_log_stats(srv);
    server_free(srv);
    if (cfg.pidfile)
        unlink(cfg.pidfile);
    log_info("stopped");
    log_close();
    config_free(&cfg);
    return rc == 0 ? 0 : 1;
}
