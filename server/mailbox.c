/* mailbox.c — a worker's inbox: a locked list and an event made active from other threads. */
#include "server/mailbox.h"

#include <event2/event.h>
#include <pthread.h>
#include <stdlib.h>

struct mailbox {
    pthread_mutex_t lock;
    struct mail *head;
    struct mail **tail;
    struct event *ev;
    void *owner;
};

/* Takes the whole list under the lock, runs it without: a mail may post mails. */
static void on_mail(evutil_socket_t fd, short what, void *arg)
{
    struct mailbox *mb = arg;
    struct mail *m;

    (void)fd;
    (void)what;
    pthread_mutex_lock(&mb->lock);
    m = mb->head;
    mb->head = NULL;
    mb->tail = &mb->head;
    pthread_mutex_unlock(&mb->lock);
    while (m) {
        struct mail *next = m->next;
        m->run(m, mb->owner);
        m = next;
    }
}

int mailbox_new(struct mailbox **out, struct event_base *base, void *owner)
{
    struct mailbox *mb = calloc(1, sizeof(*mb));

    if (mb == NULL)
        return -1;
    pthread_mutex_init(&mb->lock, NULL);
    mb->tail = &mb->head;
    mb->owner = owner;
    mb->ev = event_new(base, -1, 0, on_mail, mb);
    if (mb->ev == NULL) {
        mailbox_free(mb);
        return -1;
    }
    *out = mb;
    return 0;
}

void mailbox_free(struct mailbox *mb)
{
    if (mb == NULL)
        return;
    while (mb->head) {
        struct mail *m = mb->head;
        mb->head = m->next;
        m->drop(m);
    }
    if (mb->ev)
        event_free(mb->ev);
    pthread_mutex_destroy(&mb->lock);
    free(mb);
}

void mailbox_post(struct mailbox *mb, struct mail *m)
{
    m->next = NULL;
    pthread_mutex_lock(&mb->lock);
    *mb->tail = m;
    mb->tail = &m->next;
    pthread_mutex_unlock(&mb->lock);
    /* Thread-safe with evthread_use_pthreads(); activating an active event is harmless. */
    event_active(mb->ev, 0, 0);
}
