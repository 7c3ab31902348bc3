/* userdb.h — turnadmin's side of the userdb file (--userdb): users added, replaced, removed
 * and listed, the file rewritten safely (a new file beside it, synced, renamed over it). */
#ifndef AUTH_USERDB_H
#define AUTH_USERDB_H

#include <stddef.h>

/* Every function checks the whole file first as the server reads it (auth_store_load_file):
 * a file the server would refuse is not edited, and err names its line.  Concurrent editors
 * are serialized with flock(2) on the file.  Comments, blank lines and other users' lines
 * stay as they are.  Returns as said, or -1 with the reason in err. */

/* Sets user name's line to "name:value" (value: a password, 0xKEY or 0xMD5:0xSHA256),
 * replacing the user's line where it is, else appending it; a missing file is created with
 * mode 0600.  0 or -1. */
int auth_userdb_set(const char *path, const char *name, const char *value, char *err,
                    size_t errlen);

/* Removes user name's line: 1, or 0 when there was none. */
int auth_userdb_del(const char *path, const char *name, char *err, size_t errlen);

/* Calls fn(arg, name) for each user of the file, in its order.  0 or -1. */
int auth_userdb_list(const char *path, void (*fn)(void *arg, const char *name), void *arg,
                     char *err, size_t errlen);

#endif
