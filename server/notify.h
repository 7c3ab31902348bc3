/* notify.h — tells systemd (Type=notify) how the service is doing, when it runs under it. */
#ifndef SERVER_NOTIFY_H
#define SERVER_NOTIFY_H

/* Sends state (e.g. "READY=1", "STOPPING=1", "RELOADING=1") to $NOTIFY_SOCKET, a Unix
 * datagram socket (a leading '@' names an abstract one).  Does nothing without the variable,
 * so the server runs the same under systemd and without it.  Returns 0, or -1 when sending
 * failed (never fatal). */
int notify_systemd(const char *state);

#endif
