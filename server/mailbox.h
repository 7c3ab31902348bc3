/* mailbox.h — a worker's inbox: other threads post work, the worker's loop runs it. */
#ifndef SERVER_MAILBOX_H
#define SERVER_MAILBOX_H

struct event_base;
struct mailbox;

/* One piece of work.  Embed it first in a larger struct carrying the payload.  run is called
 * on the receiving worker's thread, drop instead when the mailbox goes away unread; each frees
 * the mail. */
struct mail {
    struct mail *next;
    void (*run)(struct mail *m, void *owner);
    void (*drop)(struct mail *m);
};

/* A mailbox whose mails run in base's loop with owner as argument.  0 or -1. */
int mailbox_new(struct mailbox **out, struct event_base *base, void *owner);

/* Drops the mails still waiting, frees the mailbox.  Accepts NULL. */
void mailbox_free(struct mailbox *mb);

/* Posts m (taking it) from any thread; the owner's loop runs it soon, mails in order. */
void mailbox_post(struct mailbox *mb, struct mail *m);

#endif
