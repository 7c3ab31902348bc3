/* quota.h — concurrent allocations per user and in all, counted across every worker. */
#ifndef RELAY_QUOTA_H
#define RELAY_QUOTA_H

#include <stdint.h>

struct relay_quota;

/* An empty count.  Shared by all workers: Allocate and deletion are not on the packet path, so
 * a mutex guards the per-user table; the total is one atomic counter. */
int relay_quota_new(struct relay_quota **out);
void relay_quota_free(struct relay_quota *q);

/* Counts one more allocation for user unless that would pass user_quota allocations for the
 * user or total_quota in all (0 = no limit).  Returns 0, or -1 when over a quota (answer 486). */
int relay_quota_take(struct relay_quota *q, const char *user, uint32_t user_quota,
                     uint32_t total_quota);

/* Counts one allocation of user less. */
void relay_quota_put(struct relay_quota *q, const char *user);

/* Allocations counted for user, and in all. */
uint32_t relay_quota_user(struct relay_quota *q, const char *user);
uint32_t relay_quota_total(const struct relay_quota *q);

#endif
